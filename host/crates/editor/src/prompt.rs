//! What the pipeline hands the editor and what it gets back.

use serde::{Deserialize, Serialize};

/// One editor call: a system and a user message, built by an injector plugin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EditorPrompt {
    /// The system message; when empty, no system message is sent (some chat templates
    /// reject the system role).
    pub system: String,
    /// The user message.
    pub user: String,
    /// Which draw of this exact prompt this is. Replies are cached per `(prompt, sample)`,
    /// so a caller that needs a *different* answer to the same prompt (a retry after a
    /// failed validation whose template cannot carry the reason) asks for sample 1, 2, …
    /// Not sent to the server.
    #[serde(default)]
    pub sample: u32,
}

impl EditorPrompt {
    /// A prompt with both messages, sample 0.
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            user: user.into(),
            sample: 0,
        }
    }

    /// The same prompt, asking for draw `sample`.
    pub fn with_sample(mut self, sample: u32) -> Self {
        self.sample = sample;
        self
    }
}

/// Token accounting reported by the server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Usage {
    /// Tokens in the prompt.
    pub prompt_tokens: u64,
    /// Tokens generated.
    pub completion_tokens: u64,
    /// Their sum, as the server reports it.
    pub total_tokens: u64,
}

/// The editor's answer to one prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorReply {
    /// The assistant message text, exactly as received (plugins strip quotes and fences).
    pub text: String,
    /// The model that answered, as the server named it (e.g. `gpt-4o-2024-08-06`); the
    /// configured model when the server did not say.
    pub model: String,
    /// Token usage, when the server reported it.
    pub usage: Option<Usage>,
    /// Why generation stopped (`stop`, `length`, …), when the server said; `length` means
    /// the text was cut at `max_tokens`.
    pub finish_reason: Option<String>,
    /// Whether the reply came from the response cache (no request was sent).
    pub cached: bool,
    /// HTTP attempts this call made (0 for a cache hit).
    pub attempts: u32,
}
