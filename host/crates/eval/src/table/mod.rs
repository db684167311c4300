//! Benchmark files as rows of named cells, whatever the format: Hugging Face parquet shards,
//! VLMEvalKit TSV (base64 images) and plain CSV (MMVP's `Questions.csv`). Benchmarks read
//! cells through [`Row`]'s typed accessors, which accept the spelling variants of a column
//! and name file, row and column when something is missing.

mod parquet_file;
mod tsv;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{EvalError, Result};
use crate::image_data::ImageData;

pub use self::parquet_file::read_parquet;
pub use self::tsv::{read_csv, read_tsv};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Struct(BTreeMap<String, Value>),
    /// Decoded image cells (VLMEvalKit TSV after resolving base64 and row references).
    Images(Vec<ImageData>),
    /// A column type the loaders do not interpret; kept so that errors can name it.
    Unsupported(String),
}

/// One data row of a benchmark file.
#[derive(Debug, Clone)]
pub struct Row {
    /// The file it came from.
    pub path: PathBuf,
    /// 0-based data row within that file (header excluded).
    pub row: usize,
    /// Cells by column name.
    pub cells: BTreeMap<String, Value>,
}

impl Row {
    /// A row-level error that names file and row.
    pub fn error(&self, message: impl Into<String>) -> EvalError {
        EvalError::BadRow {
            path: self.path.clone(),
            row: self.row,
            message: message.into(),
        }
    }

    /// The first of `names` that is present and not null.
    pub fn get(&self, names: &[&str]) -> Option<&Value> {
        names
            .iter()
            .filter_map(|n| self.cells.get(*n))
            .find(|v| !matches!(v, Value::Null))
    }

    /// Whether any of `names` is a column of this row (even if null).
    pub fn has(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.cells.contains_key(*n))
    }

    fn missing(&self, names: &[&str]) -> EvalError {
        self.error(format!("missing or empty column {}", names.join(" / ")))
    }

    /// A text cell (numbers are rendered, so a TSV `index` reads as text too).
    pub fn str(&self, names: &[&str]) -> Result<String> {
        self.opt_str(names)?.ok_or_else(|| self.missing(names))
    }

    /// A text cell that may be absent.
    pub fn opt_str(&self, names: &[&str]) -> Result<Option<String>> {
        match self.get(names) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s.clone())),
            Some(Value::Int(i)) => Ok(Some(i.to_string())),
            Some(Value::Float(f)) => Ok(Some(f.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(self.error(format!(
                "column {} should be text, found {}",
                names[0],
                kind(other)
            ))),
        }
    }

    /// An integer cell (text cells are parsed; TSV stores everything as text).
    pub fn int(&self, names: &[&str]) -> Result<i64> {
        match self.get(names) {
            None => Err(self.missing(names)),
            Some(Value::Int(i)) => Ok(*i),
            Some(Value::Float(f)) if f.fract() == 0.0 => Ok(*f as i64),
            Some(Value::Str(s)) => s.trim().parse::<i64>().or_else(|_| {
                // pandas writes integer columns with NaNs as floats ("12.0").
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.fract() == 0.0)
                    .map(|f| f as i64)
                    .ok_or_else(|| {
                        self.error(format!(
                            "column {} should be an integer, found {s:?}",
                            names[0]
                        ))
                    })
            }),
            Some(other) => Err(self.error(format!(
                "column {} should be an integer, found {}",
                names[0],
                kind(other)
            ))),
        }
    }

    /// A list-of-text cell (parquet `list<str>`, or a Python-style list literal in text).
    pub fn str_list(&self, names: &[&str]) -> Result<Vec<String>> {
        match self.get(names) {
            None => Err(self.missing(names)),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| match v {
                    Value::Str(s) => Ok(s.clone()),
                    other => Err(self.error(format!(
                        "column {} should hold text items, found {}",
                        names[0],
                        kind(other)
                    ))),
                })
                .collect(),
            Some(Value::Str(s)) => Ok(parse_py_str_list(s).ok_or_else(|| {
                self.error(format!("column {}: not a list literal: {s:?}", names[0]))
            })?),
            Some(other) => Err(self.error(format!(
                "column {} should be a list, found {}",
                names[0],
                kind(other)
            ))),
        }
    }

    /// The images of an image cell: an HF `{bytes, path}` struct (bytes first, else the path
    /// relative to the file), raw bytes, or TSV images already resolved by the TSV reader.
    pub fn images(&self, names: &[&str]) -> Result<Vec<ImageData>> {
        let value = self.get(names).ok_or_else(|| self.missing(names))?;
        self.images_of(value, names[0])
    }

    fn images_of(&self, value: &Value, column: &str) -> Result<Vec<ImageData>> {
        match value {
            Value::Images(images) if !images.is_empty() => Ok(images.clone()),
            Value::Bytes(bytes) if !bytes.is_empty() => Ok(vec![ImageData::Encoded(bytes.clone())]),
            Value::Struct(fields) => {
                if let Some(Value::Bytes(bytes)) = fields.get("bytes")
                    && !bytes.is_empty()
                {
                    return Ok(vec![ImageData::Encoded(bytes.clone())]);
                }
                match fields.get("path") {
                    Some(Value::Str(p)) if !p.is_empty() => {
                        Ok(vec![ImageData::File(self.resolve(p))])
                    }
                    _ => Err(self.error(format!(
                        "column {column}: image struct has neither bytes nor path"
                    ))),
                }
            }
            Value::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.extend(self.images_of(item, column)?);
                }
                if out.is_empty() {
                    return Err(self.error(format!("column {column}: empty image list")));
                }
                Ok(out)
            }
            other => Err(self.error(format!("column {column} is not an image ({})", kind(other)))),
        }
    }

    /// A path relative to the directory of this row's file.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        let p = Path::new(relative);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }
}

fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Str(_) => "text".into(),
        Value::Int(_) => "integer".into(),
        Value::Float(_) => "float".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Bytes(_) => "binary".into(),
        Value::List(_) => "list".into(),
        Value::Struct(_) => "struct".into(),
        Value::Images(_) => "image".into(),
        Value::Unsupported(t) => format!("unsupported type {t}"),
    }
}

/// Parses a Python list literal of strings such as `['a', "b"]` (VLMEvalKit stores lists
/// of options and of base64 images this way). Returns `None` if it is not one.
pub fn parse_py_str_list(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let Some(quote) = chars.next() else { break };
        if quote != '\'' && quote != '"' {
            return None;
        }
        let mut item = String::new();
        loop {
            match chars.next()? {
                '\\' => item.push(chars.next()?),
                c if c == quote => break,
                c => item.push(c),
            }
        }
        out.push(item);
    }
    Some(out)
}

/// Benchmark file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Tsv,
    Csv,
}

impl Format {
    fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "parquet" => Some(Format::Parquet),
            "tsv" => Some(Format::Tsv),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

/// Expands `--data` arguments into files: a file stays as given, a directory contributes its
/// `.parquet`/`.tsv`/`.csv` files (recursively) in name order, so HF shards
/// `train-00000-of-00003.parquet`, … keep their order.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|e| EvalError::io(path, e))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            collect_dir(path, &mut found)?;
            if found.is_empty() {
                return Err(EvalError::EmptyDirectory { path: path.clone() });
            }
            found.sort();
            out.extend(found);
        } else if Format::of(path).is_some() {
            out.push(path.clone());
        } else {
            return Err(EvalError::UnsupportedFile { path: path.clone() });
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| EvalError::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| EvalError::io(dir, e))?.path();
        if path.is_dir() {
            collect_dir(&path, out)?;
        } else if Format::of(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads every row of `paths` (files or directories), in order.
pub fn read_rows(paths: &[PathBuf]) -> Result<Vec<Row>> {
    let files = expand_paths(paths)?;
    let mut rows = Vec::new();
    for file in &files {
        let before = rows.len();
        match Format::of(file) {
            Some(Format::Parquet) => rows.extend(read_parquet(file)?),
            Some(Format::Tsv) => rows.extend(read_tsv(file)?),
            Some(Format::Csv) => rows.extend(read_csv(file)?),
            None => return Err(EvalError::UnsupportedFile { path: file.clone() }),
        }
        tracing::debug!(file = %file.display(), rows = rows.len() - before, "read benchmark file");
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_py_list_literal_parses_quotes_and_escapes() {
        assert_eq!(
            parse_py_str_list(r#"['a b', "c'd", 'e\'f']"#).unwrap(),
            vec!["a b", "c'd", "e'f"]
        );
        assert_eq!(parse_py_str_list("[]").unwrap(), Vec::<String>::new());
        assert!(parse_py_str_list("abc").is_none());
        assert!(parse_py_str_list("[1, 2]").is_none());
    }

    #[test]
    fn test_int_accepts_pandas_float_text() {
        let mut cells = BTreeMap::new();
        cells.insert("index".to_string(), Value::Str("12.0".into()));
        let row = Row {
            path: "x.tsv".into(),
            row: 3,
            cells,
        };
        assert_eq!(row.int(&["index"]).unwrap(), 12);
        let err = row.int(&["idx"]).unwrap_err().to_string();
        assert!(err.contains("x.tsv row 3") && err.contains("idx"), "{err}");
    }
}
