//! [`EditorClient`] on `vapr-editor`'s cached, rate-limited, retrying client.

use vapr_editor::{Editor, EditorPrompt};

use crate::ports::{BoxFuture, EditorClient, EditorRequest, PortError};

/// The OpenAI-compatible editor.
#[derive(Debug, Clone)]
pub struct OpenAiEditor {
    editor: Editor,
}

impl OpenAiEditor {
    pub fn new(editor: Editor) -> Self {
        OpenAiEditor { editor }
    }

    /// The underlying client (for its counters).
    pub fn inner(&self) -> &Editor {
        &self.editor
    }
}

impl EditorClient for OpenAiEditor {
    fn model(&self) -> String {
        self.editor.config().model.clone()
    }

    fn complete<'a>(
        &'a self,
        request: &'a EditorRequest,
    ) -> BoxFuture<'a, Result<String, PortError>> {
        Box::pin(async move {
            // Each retry asks for its own draw, so a cached reply is never repeated.
            let prompt = EditorPrompt::new(
                request.system.clone().unwrap_or_default(),
                request.user.clone(),
            )
            .with_sample(request.attempt);
            self.editor
                .complete(&prompt)
                .await
                .map(|reply| reply.text)
                .map_err(|e| PortError::new(e.to_string()))
        })
    }
}
