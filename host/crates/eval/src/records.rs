//! The files of a run directory (`OUT/<bench>/`) and their line formats:
//!
//! - `run.json` — what produced the run (benchmark, protocol, model, decoding, data files).
//! - `generations.jsonl` — one [`GenerationRecord`] per finished item, append-only; it holds
//!   the prompt, gold and metadata too, so other scorers can re-score it without the data.
//! - `scores.jsonl` — one [`ScoredItem`](crate::bench::ScoredItem) per item.
//! - `metrics.json` — [`MetricsFile`](crate::score::MetricsFile).
//! - `yes_bias.md`, `yes_bias.png` — NaturalBench and POPE only.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{EvalError, Result};
use crate::item::{Bench, GenParams, ItemInfo};

/// Paths inside one benchmark's run directory.
#[derive(Debug, Clone)]
pub struct RunDir {
    pub dir: PathBuf,
}

impl RunDir {
    /// `out/<bench>`.
    pub fn new(out: &Path, bench: Bench) -> Self {
        Self {
            dir: out.join(bench.name()),
        }
    }
    pub fn run_json(&self) -> PathBuf {
        self.dir.join("run.json")
    }
    pub fn generations(&self) -> PathBuf {
        self.dir.join("generations.jsonl")
    }
    pub fn scores(&self) -> PathBuf {
        self.dir.join("scores.jsonl")
    }
    pub fn metrics(&self) -> PathBuf {
        self.dir.join("metrics.json")
    }
    pub fn bias_table(&self) -> PathBuf {
        self.dir.join("yes_bias.md")
    }
    pub fn bias_plot(&self) -> PathBuf {
        self.dir.join("yes_bias.png")
    }
}

/// `run.json`: the settings a resumed run must match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    pub bench: Bench,
    pub protocol: String,
    pub model: String,
    pub gen_params: GenParams,
    pub data: Vec<PathBuf>,
    pub limit: Option<usize>,
    pub vapr_eval_version: String,
}

/// One line of `generations.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerationRecord {
    pub id: String,
    pub bench: Bench,
    /// Empty for records converted from another harness.
    #[serde(default)]
    pub protocol: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub prompt: String,
    #[serde(default)]
    pub n_images: usize,
    pub gold: String,
    #[serde(default)]
    pub info: ItemInfo,
    /// The model's text after stop-string truncation.
    pub output: String,
}

/// Reads a JSON-lines file. A last line without its newline that does not parse is what a
/// killed writer leaves behind: it is dropped with a warning (and `valid_len` tells how many
/// bytes to keep); a broken line anywhere else is an error naming the line.
pub fn read_jsonl<T: DeserializeOwned>(path: &Path) -> Result<(Vec<T>, u64)> {
    let file = std::fs::File::open(path).map_err(|e| EvalError::io(path, e))?;
    let mut reader = std::io::BufReader::new(file);
    let mut out = Vec::new();
    let mut valid_len = 0u64;
    let mut buf = String::new();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_line(&mut buf)
            .map_err(|e| EvalError::io(path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let complete = buf.ends_with('\n');
        if buf.trim().is_empty() {
            valid_len += n as u64;
            continue;
        }
        match serde_json::from_str::<T>(buf.trim_end()) {
            Ok(v) if complete => {
                out.push(v);
                valid_len += n as u64;
            }
            Ok(v) => {
                // Complete JSON, just no newline: keep it, the appender adds one.
                out.push(v);
                valid_len += n as u64;
            }
            Err(_) if !complete => {
                tracing::warn!(
                    "{}:{line_no}: dropping a partly written last line",
                    path.display()
                );
                break;
            }
            Err(source) => {
                return Err(EvalError::Json {
                    path: path.to_path_buf(),
                    line: line_no,
                    source,
                });
            }
        }
    }
    Ok((out, valid_len))
}

/// An append-only JSON-lines writer that makes every batch durable before returning.
pub struct JsonlAppender {
    path: PathBuf,
    file: std::fs::File,
}

impl JsonlAppender {
    /// Opens `path` for appending after cutting it to `valid_len` bytes (dropping a torn
    /// last line) and making sure it ends with a newline.
    pub fn open(path: &Path, valid_len: u64) -> Result<Self> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(path)
            .map_err(|e| EvalError::io(path, e))?;
        let len = file.metadata().map_err(|e| EvalError::io(path, e))?.len();
        if len > valid_len {
            file.set_len(valid_len)
                .map_err(|e| EvalError::io(path, e))?;
        }
        if valid_len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            file.seek(SeekFrom::Start(valid_len - 1))
                .map_err(|e| EvalError::io(path, e))?;
            file.read_exact(&mut last)
                .map_err(|e| EvalError::io(path, e))?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(|e| EvalError::io(path, e))?;
            }
        }
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Appends records, one per line, and syncs them to disk.
    pub fn append<T: Serialize>(&mut self, records: &[T]) -> Result<()> {
        let mut text = String::new();
        for r in records {
            text.push_str(&serde_json::to_string(r).expect("records serialize"));
            text.push('\n');
        }
        self.file
            .write_all(text.as_bytes())
            .map_err(|e| EvalError::io(&self.path, e))?;
        self.file
            .sync_data()
            .map_err(|e| EvalError::io(&self.path, e))
    }
}

/// Writes a whole JSON-lines file (via a temporary file, so readers never see half of it).
pub fn write_jsonl<T: Serialize>(path: &Path, records: &[T]) -> Result<()> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).expect("records serialize"));
        text.push('\n');
    }
    write_atomic(path, text.as_bytes())
}

/// Writes pretty JSON atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("values serialize");
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Reads a JSON file.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| EvalError::io(path, e))?;
    serde_json::from_str(&text).map_err(|source| EvalError::Json {
        path: path.to_path_buf(),
        line: source.line(),
        source,
    })
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| EvalError::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| EvalError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_torn_last_line_is_dropped_and_file_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.jsonl");
        std::fs::write(&path, "{\"a\":1}\n{\"a\":2}\n{\"a\":").unwrap();
        let (rows, valid) = read_jsonl::<serde_json::Value>(&path).unwrap();
        assert_eq!(rows.len(), 2);
        let mut app = JsonlAppender::open(&path, valid).unwrap();
        app.append(&[serde_json::json!({"a": 3})]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n");
    }

    #[test]
    fn test_broken_middle_line_names_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.jsonl");
        std::fs::write(&path, "{\"a\":1}\nnot json\n{\"a\":2}\n").unwrap();
        let err = read_jsonl::<serde_json::Value>(&path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("g.jsonl:2"), "{err}");
    }
}
