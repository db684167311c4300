//! The data room's error type. Every message names the file and, where there is one, the
//! line or row, so a user can open the file at the right place.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::report::SkipReason;

/// Where in an input a record sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub position: Position,
}

/// A line (JSON, JSONL: 1-based) or a row (parquet: 0-based, as pandas/datasets count).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Line(u64),
    Row(u64),
}

impl Location {
    pub fn line(file: &Path, line: u64) -> Self {
        Location {
            file: file.to_path_buf(),
            position: Position::Line(line),
        }
    }

    pub fn row(file: &Path, row: u64) -> Self {
        Location {
            file: file.to_path_buf(),
            position: Position::Row(row),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Position::Line(l) => write!(f, "{}:{l}", self.file.display()),
            Position::Row(r) => write!(f, "{} row {r}", self.file.display()),
        }
    }
}

/// Errors of the data room.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// A record that `strict` mode refuses to skip.
    #[error("{location}: {reason}: {detail}")]
    Malformed {
        location: Location,
        reason: SkipReason,
        detail: String,
    },
    /// The JSON document itself is broken, so no later record can be found.
    #[error("{}:{line}:{column}: invalid JSON: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: parquet: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    /// A file whose columns or layout this reader does not understand.
    #[error("{}: {detail}", path.display())]
    Layout { path: PathBuf, detail: String },
    #[error("image {}: {detail}", path.display())]
    Image { path: PathBuf, detail: String },
    #[error("{}: unsupported input (expected .json, .jsonl or .parquet, or a directory of them)", path.display())]
    UnsupportedFormat { path: PathBuf },
    #[error("{0}")]
    Invalid(String),
}

impl DataError {
    pub(crate) fn open(path: &Path, source: io::Error) -> Self {
        DataError::Open {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn read(path: &Path, source: io::Error) -> Self {
        DataError::Read {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn write(path: &Path, source: io::Error) -> Self {
        DataError::Write {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn parquet(path: &Path, err: impl fmt::Display) -> Self {
        DataError::Parquet {
            path: path.to_path_buf(),
            message: err.to_string(),
        }
    }
}
