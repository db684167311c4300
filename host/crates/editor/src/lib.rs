//! The editor room: talking to an editor LLM over the OpenAI chat-completions protocol
//! (GPT-4o, or a local vLLM, Ollama, llama.cpp server or SGLang endpoint).
//!
//! Plugins build the prompt; this crate only delivers it and brings back the text, with
//! what a long generation run needs around it:
//!
//! - **bounded concurrency** (`concurrency` requests in flight, a semaphore),
//! - a **requests-per-minute** limiter spacing request starts evenly,
//! - **retries** with exponential backoff and full jitter on HTTP 429, 5xx and 408,
//!   timeouts and connection errors, honouring `Retry-After` (seconds or HTTP date, and
//!   OpenAI's `retry-after-ms`) — a `Retry-After` pauses *every* task, since the limit is
//!   shared; other 4xx statuses fail at once;
//! - malformed replies (bad JSON, no choices, no content) are retried at most
//!   `retry.max_malformed_retries` times: a proxy may garble one reply, but an endpoint
//!   that always answers garbage is misconfigured, and retrying it only costs money;
//! - a persistent **response cache** (SQLite) keyed by sha256 of the request body — model,
//!   messages, temperature, max tokens, every other sampling field — and the prompt's
//!   sample index, but not the base URL; only successful replies are stored, so a re-run
//!   costs nothing and a failed prompt is tried again; identical prompts in flight at once
//!   are sent once;
//! - **counters** ([`EditorStats`]): requests sent, cache hits, retries by reason, failures.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo() -> Result<(), vapr_editor::EditorError> {
//! use vapr_editor::{Editor, EditorConfig, EditorPrompt};
//!
//! let mut config = EditorConfig::new("http://127.0.0.1:8000/v1", "Qwen/Qwen3-32B");
//! config.cache_path = Some("runs/editor-cache.sqlite".into());
//! let editor = Editor::new(config)?; // reads the key from $OPENAI_API_KEY if set
//! let reply = editor
//!     .complete(&EditorPrompt::new("You edit answers.", "Answer: two dogs"))
//!     .await?;
//! println!("{} (from cache: {})", reply.text, reply.cached);
//! println!("{:?}", editor.stats());
//! # Ok(()) }
//! ```
//!
//! [`Editor`] is cheap to clone and meant to be shared by every task of a run.
//! [`BlockingEditor`] wraps it for synchronous callers. A prompt's `sample` field asks for
//! another draw of the same prompt (cached separately), for retries after a failed
//! validation. With the `testing` feature, [`testing::FakeOpenAi`] is a local scripted
//! server for tests. `docs/editor.md` describes configuration and behaviour in full.

mod backoff;
mod blocking;
mod cache;
mod client;
mod config;
mod editor;
mod error;
mod flight;
mod prompt;
mod rate;
mod stats;
mod wire;

#[cfg(feature = "testing")]
pub mod testing;

pub use blocking::BlockingEditor;
pub use cache::{CachedReply, ResponseCache};
pub use config::{
    DEFAULT_API_KEY_ENV, DEFAULT_BASE_URL, DEFAULT_MODEL, EditorConfig, RetryPolicy, is_local_url,
};
pub use editor::Editor;
pub use error::{CacheError, ConfigError, EditorError, RetryReason};
pub use prompt::{EditorPrompt, EditorReply, Usage};
pub use stats::{EditorStats, RetryCounts};
