//! Errors of the plugin room: loading a component, building a crate, calling a plugin.
//! Every message names the plugin (`id@version`, or the file while the id is unknown).

use std::path::PathBuf;
use std::time::Duration;

use crate::types::{GuestError, PluginKind};

/// Why a component could not be loaded (or reloaded; the old version keeps serving).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("{path}: cannot read plugin: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: plugin is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{path}: not a WebAssembly component ({reason})")]
    NotAComponent { path: PathBuf, reason: String },
    #[error(
        "{path}: plugin has no `vapr:api-version` section; build it with vapr-plugin-sdk \
         (its register_injector!/register_validator! macro stamps the API version)"
    )]
    MissingApiVersion { path: PathBuf },
    #[error(
        "{path}: plugin `{plugin}` was built for plugin API {found}, but this vapr supports {supported}; \
         rebuild it against the current vapr-plugin-sdk"
    )]
    IncompatibleApi {
        path: PathBuf,
        plugin: String,
        found: String,
        supported: String,
    },
    #[error(
        "{path}: plugin exports neither `vapr:plugin/injection` nor `vapr:plugin/validation` (0.1.x)"
    )]
    UnknownWorld { path: PathBuf },
    #[error("{path}: cannot compile plugin: {message}")]
    Compile { path: PathBuf, message: String },
    #[error("{path}: cannot link plugin (unknown import or wrong export shape): {message}")]
    Link { path: PathBuf, message: String },
    #[error("{path}: smoke call `describe` failed: {source}")]
    Smoke {
        path: PathBuf,
        source: Box<CallError>,
    },
    #[error("{path}: plugin `{id}` is already loaded from {other}")]
    DuplicateId {
        path: PathBuf,
        id: String,
        other: PathBuf,
    },
    #[error("{path}: plugin id `{id}` is invalid (use lower-case letters, digits and `-`)")]
    BadId { path: PathBuf, id: String },
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error("cannot create the wasmtime engine: {0}")]
    Engine(String),
}

/// Why `cargo build` of a plugin crate failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error("{crate_dir}: cannot run `{program}`: {source}")]
    Spawn {
        crate_dir: PathBuf,
        program: String,
        source: std::io::Error,
    },
    #[error("{crate_dir}: `rustup target add wasm32-wasip2` failed:\n{stderr}")]
    Target { crate_dir: PathBuf, stderr: String },
    #[error("{crate_dir}: cargo build failed:\n{stderr}")]
    Cargo { crate_dir: PathBuf, stderr: String },
    #[error("{crate_dir}: cargo built no .wasm component (is `crate-type = [\"cdylib\"]` set?)")]
    NoArtifact { crate_dir: PathBuf },
    #[error("{crate_dir}: bad Cargo.toml: {message}")]
    Manifest { crate_dir: PathBuf, message: String },
}

/// What went wrong in one plugin call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CallErrorKind {
    /// The plugin returned its own error (`refused`, `bad-reply`, ...).
    #[error("{0}")]
    Guest(GuestError),
    /// The per-call deadline expired; the instance was killed.
    #[error("timed out after {0:?} (per-call deadline)")]
    Timeout(Duration),
    /// A memory.grow beyond the cap; the instance was killed.
    #[error("exceeded the memory limit of {limit} bytes (asked for {requested})")]
    MemoryLimit { limit: usize, requested: usize },
    #[error("stack overflow")]
    StackOverflow,
    /// The plugin panicked; `message` is the panic text from its stderr.
    #[error("panicked: {message}")]
    Panic { message: String },
    /// Any other trap.
    #[error("trapped: {0}")]
    Trap(String),
    /// The returned text is larger than the host accepts.
    #[error("returned {len} bytes, over the output limit of {limit}")]
    OutputTooLarge { len: usize, limit: usize },
    #[error("logged more than the per-call limit ({limit})")]
    LogFlood { limit: String },
    #[error("wrote more than {capacity} bytes to stderr")]
    StderrFlood { capacity: usize },
    #[error("no plugin `{0}` is loaded")]
    NotFound(String),
    #[error("is a {found}, not a {expected}")]
    WrongKind {
        expected: PluginKind,
        found: PluginKind,
    },
    #[error("cannot instantiate: {0}")]
    Instantiate(String),
}

/// A failed plugin call, tagged with the plugin and function, with captured stderr.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("plugin {plugin}: {function}: {kind}{}", stderr_tail(.stderr))]
pub struct CallError {
    /// `id@version` of the plugin that failed.
    pub plugin: String,
    /// The WIT function (`rule-edit`, `validate`, ...).
    pub function: &'static str,
    pub kind: CallErrorKind,
    /// What the plugin wrote to stderr (bounded by the pipe capacity).
    pub stderr: String,
}

impl CallError {
    pub(crate) fn new(
        plugin: impl Into<String>,
        function: &'static str,
        kind: CallErrorKind,
    ) -> Self {
        CallError {
            plugin: plugin.into(),
            function,
            kind,
            stderr: String::new(),
        }
    }

    /// The plugin's own error, when it returned one (not a trap or limit).
    pub fn guest(&self) -> Option<&GuestError> {
        match &self.kind {
            CallErrorKind::Guest(g) => Some(g),
            _ => None,
        }
    }

    /// Whether the plugin declined the sample (`refused`): skip, not a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self.kind, CallErrorKind::Guest(GuestError::Refused(_)))
    }

    /// Whether the sandbox killed the call (deadline, memory, stack, panic, floods).
    pub fn is_trap(&self) -> bool {
        matches!(
            self.kind,
            CallErrorKind::Timeout(_)
                | CallErrorKind::MemoryLimit { .. }
                | CallErrorKind::StackOverflow
                | CallErrorKind::Panic { .. }
                | CallErrorKind::Trap(_)
                | CallErrorKind::LogFlood { .. }
                | CallErrorKind::StderrFlood { .. }
        )
    }
}

/// The last few lines of stderr for the one-line error message (the full text stays in
/// `CallError::stderr`).
fn stderr_tail(stderr: &str) -> String {
    let text = stderr.trim();
    if text.is_empty() {
        return String::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(3)..].join(" | ");
    let tail: String = tail.chars().take(400).collect();
    format!(" (stderr: {tail})")
}
