//! The pipeline's view of the rooms it calls: injector and validator plugins, prompt
//! templates and the editor LLM. The stages are written against these small traits so
//! they can be tested with in-process fakes; `adapters` implements them on the real
//! plugin runtime and editor client.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use vapr_core::Category;

/// A boxed future, so the editor trait stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the pipeline hands a plugin: one single-turn sample.
#[derive(Debug, Clone, PartialEq)]
pub struct EditSample {
    pub id: String,
    pub question: String,
    /// The correct answer (becomes `chosen`).
    pub answer: String,
    /// Category decided in Stage 2 (or the source's hint before that).
    pub category: Option<Category>,
    /// Why the previous attempt was rejected, fed back to the editor on a retry.
    pub feedback: Option<String>,
    /// Banned substitutes the editor must not use (the paper's optional penalty list).
    pub penalty: Vec<String>,
}

/// Identity of one loaded injector plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectorInfo {
    pub id: String,
    pub version: String,
    pub categories: Vec<Category>,
}

/// Identity of one loaded validator plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatorInfo {
    pub id: String,
    pub version: String,
}

/// An injector's answer to a rule edit or a reply parse.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// The rejected answer, and the plugin version that produced it.
    Rejected {
        text: String,
        plugin_version: String,
    },
    /// The plugin declined (e.g. nothing to edit, reply identical to the input).
    Refused { reason: String },
}

/// A prompt built by an injector from a template.
#[derive(Debug, Clone, PartialEq)]
pub struct BuiltPrompt {
    pub system: Option<String>,
    pub user: String,
}

/// A validator's verdict on one (chosen, rejected) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub pass: bool,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// A prompt template with the hash recorded in every output record.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub text: Arc<str>,
    pub sha256: String,
}

/// A failed call into another room (trap, transport error, missing plugin…).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PortError(pub String);

impl PortError {
    pub fn new(msg: impl Into<String>) -> Self {
        PortError(msg.into())
    }
}

/// The loaded injector plugins. Calls are synchronous and short (sandboxed Wasm).
pub trait Injectors: Send + Sync {
    /// The injectors currently loaded (hot reload may change versions between calls).
    fn list(&self) -> Vec<InjectorInfo>;
    /// How well `sample` fits the plugin's category, in `[0, 1]`.
    fn fit(&self, plugin: &str, sample: &EditSample) -> Result<f64, PortError>;
    /// Deterministic edit without an LLM.
    fn rule_edit(&self, plugin: &str, sample: &EditSample, seed: u64) -> Result<Edit, PortError>;
    /// Editor prompt from a template text.
    fn build_prompt(
        &self,
        plugin: &str,
        template: &str,
        sample: &EditSample,
    ) -> Result<BuiltPrompt, PortError>;
    /// The rejected answer from the editor's reply.
    fn parse_reply(
        &self,
        plugin: &str,
        sample: &EditSample,
        reply: &str,
    ) -> Result<Edit, PortError>;
}

/// The loaded validator plugins.
pub trait Validators: Send + Sync {
    fn list(&self) -> Vec<ValidatorInfo>;
    fn validate(
        &self,
        validator: &str,
        sample: &EditSample,
        rejected: &str,
    ) -> Result<Verdict, PortError>;
}

/// Prompt templates by name (`counting`, `classify`, …), hot-reloaded by their owner.
pub trait Templates: Send + Sync {
    fn get(&self, name: &str) -> Option<Template>;
}

/// One chat completion request.
#[derive(Debug, Clone, PartialEq)]
pub struct EditorRequest {
    pub system: Option<String>,
    pub user: String,
    /// Which attempt at this sample (0 = first). A retry asks the editor for a fresh
    /// draw even when the prompt text did not change, instead of a cached repeat.
    pub attempt: u32,
}

/// The editor LLM.
pub trait EditorClient: Send + Sync {
    /// The model name recorded in `editor`.
    fn model(&self) -> String;
    fn complete<'a>(
        &'a self,
        request: &'a EditorRequest,
    ) -> BoxFuture<'a, Result<String, PortError>>;
}
