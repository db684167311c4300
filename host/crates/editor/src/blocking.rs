//! [`BlockingEditor`]: the [`Editor`] for synchronous callers, on its own tokio runtime.

use crate::config::EditorConfig;
use crate::editor::Editor;
use crate::error::EditorError;
use crate::prompt::{EditorPrompt, EditorReply};
use crate::stats::EditorStats;

/// An [`Editor`] with a private multi-threaded tokio runtime. Do not call its methods from
/// inside another tokio runtime (tokio forbids blocking there); use [`Editor`] directly.
#[derive(Debug)]
pub struct BlockingEditor {
    editor: Editor,
    runtime: tokio::runtime::Runtime,
}

impl BlockingEditor {
    /// Builds the editor as [`Editor::new`] does, plus a two-worker runtime (the work is
    /// waiting on the network, not computing).
    pub fn new(config: EditorConfig) -> Result<Self, EditorError> {
        Self::from_editor(Editor::new(config)?)
    }

    /// Wraps an existing editor (sharing its cache, limits and counters).
    pub fn from_editor(editor: Editor) -> Result<Self, EditorError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("vapr-editor")
            .enable_all()
            .build()
            .map_err(EditorError::Runtime)?;
        Ok(Self { editor, runtime })
    }

    /// The async editor inside.
    pub fn editor(&self) -> &Editor {
        &self.editor
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> EditorStats {
        self.editor.stats()
    }

    /// [`Editor::complete`], blocking.
    pub fn complete(&self, prompt: &EditorPrompt) -> Result<EditorReply, EditorError> {
        self.runtime.block_on(self.editor.complete(prompt))
    }

    /// [`Editor::complete_all`], blocking.
    pub fn complete_all(&self, prompts: &[EditorPrompt]) -> Vec<Result<EditorReply, EditorError>> {
        self.runtime.block_on(self.editor.complete_all(prompts))
    }
}
