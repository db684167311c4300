//! Errors of the pipeline room. Per-sample problems are not errors: they become counted
//! outcomes in the run summary. These are the failures that stop a run.

use std::path::PathBuf;

/// A failure that stops a generation run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("run ledger {path}: {message}")]
    Ledger { path: PathBuf, message: String },
    #[error(
        "run ledger {path} belongs to a run with other settings ({stored}); now: {current}. \
         Use another --output, or delete the output and its ledger to start over"
    )]
    LedgerMismatch {
        path: PathBuf,
        stored: String,
        current: String,
    },
    #[error(
        "{path} exists but has no run ledger, so it cannot be resumed safely; \
         delete it or choose another --output"
    )]
    OutputWithoutLedger { path: PathBuf },
    #[error(
        "the input changed since this output was started: sample {seq} was `{ledger}`, \
         now `{input}`; use another --output"
    )]
    InputChanged {
        seq: u64,
        ledger: String,
        input: String,
    },
    #[error(
        "stopped: the last {count} samples all failed on the editor (last error: {last}); \
         they are not recorded as done, so re-running the same command retries them"
    )]
    EditorDown { count: u64, last: String },
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("{0}")]
    Setup(String),
}
