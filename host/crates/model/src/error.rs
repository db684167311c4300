//! The error type of the model room. Every message names the file and the field or tensor it
//! is about, so a user with a broken checkpoint folder knows what to fix.

use std::path::PathBuf;

/// Errors raised while loading, running or saving a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file did not parse or a field has the wrong type.
    #[error("{path}: {message}")]
    Json { path: PathBuf, message: String },
    /// A required config field is missing or has an unusable value.
    #[error("{path}: field `{field}`: {message}")]
    Config {
        path: PathBuf,
        field: String,
        message: String,
    },
    /// A safetensors file is malformed.
    #[error("{path}: invalid safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    /// The model expects a tensor that no weight file provides.
    #[error("missing tensor `{name}` (expected shape {expected:?}) in {dir}")]
    MissingTensor {
        name: String,
        expected: Vec<usize>,
        dir: PathBuf,
    },
    /// A tensor exists but its shape does not match the config.
    #[error("{path}: tensor `{name}` has shape {found:?}, the config asks for {expected:?}")]
    ShapeMismatch {
        path: PathBuf,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    /// Tensors in the files that the model has no place for.
    #[error("{dir}: {count} tensor(s) in the weight files are not used by the model: {names}")]
    UnusedTensors {
        dir: PathBuf,
        count: usize,
        names: String,
    },
    /// A tensor has a dtype we cannot read.
    #[error("{path}: tensor `{name}` has unsupported dtype {dtype}")]
    UnsupportedDtype {
        path: PathBuf,
        name: String,
        dtype: String,
    },
    /// The tokenizer file could not be loaded or used.
    #[error("{path}: tokenizer: {message}")]
    Tokenizer { path: PathBuf, message: String },
    /// The chat template failed to parse or render.
    #[error("chat template from {path}: {message}")]
    Template { path: PathBuf, message: String },
    /// An image could not be decoded or is unusable.
    #[error("image {path}: {message}")]
    Image { path: PathBuf, message: String },
    /// Inputs handed to the model are inconsistent (shapes, token counts).
    #[error("invalid input: {0}")]
    Input(String),
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of the model room.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;
