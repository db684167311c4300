//! The train room's error type: every message names the file, line, field or parameter.

use std::path::PathBuf;

/// A boxed error from a model or encoder implementation (the model room has its own types).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Errors of the trainer, its data and its checkpoints.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: malformed preference record: {source}")]
    BadRecord {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}:{line}: record `{id}`: {source}")]
    Encode {
        path: PathBuf,
        line: usize,
        id: String,
        #[source]
        source: BoxError,
    },
    #[error("{path}: no preference records")]
    EmptyDataset { path: PathBuf },
    #[error("{path}: {message}")]
    BadConfig { path: PathBuf, message: String },
    #[error("invalid training setting `{field}`: {message}")]
    BadSetting {
        field: &'static str,
        message: String,
    },
    #[error("reference log-probs {path}: {message}")]
    RefCache { path: PathBuf, message: String },
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("model: {0}")]
    Model(#[source] BoxError),
    #[error("{path}: safetensors: {source}")]
    Safetensors {
        path: PathBuf,
        #[source]
        source: safetensors::SafeTensorError,
    },
}

impl TrainError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TrainError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = TrainError> = std::result::Result<T, E>;
