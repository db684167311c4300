//! The one error type of the eval room. Every message names the file and, where there is
//! one, the row or line and the field, so that a user can find the culprit in a 9,000-row
//! benchmark file.

use std::path::PathBuf;

/// Errors of loading, running, scoring and comparing evaluations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: cannot read parquet: {source}", path.display())]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },
    #[error("{}: cannot read arrow batch: {source}", path.display())]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow::error::ArrowError,
    },
    #[error("{}: row {row}: cannot parse delimited text: {source}", path.display())]
    Csv {
        path: PathBuf,
        row: usize,
        #[source]
        source: csv::Error,
    },
    #[error("{}:{line}: invalid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: unsupported file type (expected .parquet, .tsv or .csv)", path.display())]
    UnsupportedFile { path: PathBuf },
    #[error("{}: no .parquet, .tsv or .csv files in this directory", path.display())]
    EmptyDirectory { path: PathBuf },
    #[error("{} row {row}: {message}", path.display())]
    BadRow {
        path: PathBuf,
        row: usize,
        message: String,
    },
    #[error("{bench}: no usable items in {files} file(s) ({skipped} bad rows skipped)")]
    NoItems {
        bench: &'static str,
        files: usize,
        skipped: usize,
    },
    #[error(
        "naturalbench group {group} ({} row {row}): gold answers are {found:?} but the \
         official scorer assumes [q0_i0, q0_i1, q1_i0, q1_i1] = [1, 0, 0, 1] \
         (1 = Yes/A, 0 = No/B); the file is not the official NaturalBench layout",
        path.display()
    )]
    NaturalBenchPattern {
        group: i64,
        path: PathBuf,
        row: usize,
        found: [i8; 4],
    },
    #[error("naturalbench {}: flattened group {group} has {rows} rows, expected 4 (rows 4g..4g+3)", path.display())]
    NaturalBenchIncompleteGroup {
        path: PathBuf,
        group: i64,
        rows: usize,
    },
    #[error(
        "unknown benchmark {name:?} (expected one of cvbench, mmstar, naturalbench, pope, mmvp)"
    )]
    UnknownBench { name: String },
    #[error(
        "{}: this run was started with {field} = {existing:?}, now {requested:?}; \
         use a fresh --out directory or the same settings",
        path.display()
    )]
    RunMismatch {
        path: PathBuf,
        field: &'static str,
        existing: String,
        requested: String,
    },
    #[error("{}:{line}: generation record is for benchmark {found:?}, expected {expected:?}", path.display())]
    WrongBench {
        path: PathBuf,
        line: usize,
        found: String,
        expected: String,
    },
    #[error("generation failed for the batch starting at item {first_id}: {source}")]
    Generation {
        first_id: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("generator returned {got} outputs for a batch of {expected}")]
    GenerationCount { expected: usize, got: usize },
    #[error("{}: not an evaluation run (no metrics.json / scores.jsonl in it or in a benchmark subfolder)", path.display())]
    NotARun { path: PathBuf },
    #[error("{bench}: runs share no items (A has {a} items, B has {b})")]
    NothingInCommon { bench: String, a: usize, b: usize },
    #[error("runs {} and {} have no benchmark in common", a.display(), b.display())]
    NoCommonBench { a: PathBuf, b: PathBuf },
    #[error("plot {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    #[error("cannot decode image {what}: {source}")]
    Image {
        what: String,
        #[source]
        source: image::ImageError,
    },
}

impl EvalError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        EvalError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias of the eval room.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;
