//! Preference data: our JSONL of [`PreferenceRecord`]s (an append-friendly writer that
//! flushes each record, and a reader that names file:line on bad lines), and a generic
//! `chosen`/`rejected` reader for other trainers' datasets (JSON, JSONL, parquet; plain
//! strings, message objects or message lists), used by `vapr stats`.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use vapr_core::PreferenceRecord;

use crate::error::{DataError, Location};
use crate::inputs::{expand_inputs, extension, for_each_json_object};
use crate::jsonvalue::{Bad, ImageField, answer_text, bad, image_from_json, prompt_text};
use crate::report::{ReadReport, SkipReason};

/// Writes preference records as JSON lines, one `write` + flush per record, so a killed
/// process leaves at most one torn last line (which [`PreferenceWriter::append`] repairs).
pub struct PreferenceWriter {
    path: PathBuf,
    file: File,
    written: u64,
}

impl PreferenceWriter {
    /// Creates (or truncates) `path`.
    pub fn create(path: &Path) -> Result<Self, DataError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DataError::write(dir, e))?;
        }
        let file = File::create(path).map_err(|e| DataError::write(path, e))?;
        Ok(PreferenceWriter {
            path: path.to_path_buf(),
            file,
            written: 0,
        })
    }

    /// Opens `path` for appending (creating it if missing). A torn last line — bytes after
    /// the last newline, left by a killed writer — is cut off first, because it is an
    /// incomplete record and would corrupt the next one.
    pub fn append(path: &Path) -> Result<Self, DataError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| DataError::write(dir, e))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| DataError::write(path, e))?;
        let keep = complete_prefix_len(&mut file).map_err(|e| DataError::read(path, e))?;
        let len = file.metadata().map_err(|e| DataError::read(path, e))?.len();
        if keep < len {
            tracing::warn!(
                "{}: cutting a torn last line ({} bytes) before appending",
                path.display(),
                len - keep
            );
            file.set_len(keep).map_err(|e| DataError::write(path, e))?;
        }
        Ok(PreferenceWriter {
            path: path.to_path_buf(),
            file,
            written: 0,
        })
    }

    /// Appends one record and flushes it to the OS.
    pub fn write(&mut self, record: &PreferenceRecord) -> Result<(), DataError> {
        let mut line = serde_json::to_vec(record).map_err(|e| {
            DataError::Invalid(format!(
                "{}: cannot serialise record `{}`: {e}",
                self.path.display(),
                record.id
            ))
        })?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .map_err(|e| DataError::write(&self.path, e))?;
        self.file
            .flush()
            .map_err(|e| DataError::write(&self.path, e))?;
        self.written += 1;
        Ok(())
    }

    /// Forces the written records to disk (fsync); call at checkpoints, not per record.
    pub fn sync(&mut self) -> Result<(), DataError> {
        self.file
            .sync_data()
            .map_err(|e| DataError::write(&self.path, e))
    }

    /// Records written through this writer.
    pub fn written(&self) -> u64 {
        self.written
    }
}

/// Length of the file up to and including its last newline.
fn complete_prefix_len(file: &mut File) -> std::io::Result<u64> {
    let len = file.metadata()?.len();
    let mut pos = len;
    let mut buf = [0u8; 4096];
    while pos > 0 {
        let start = pos.saturating_sub(buf.len() as u64);
        let n = (pos - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        pos = start;
    }
    Ok(0)
}

/// Reads our preference JSONL line by line. Each item is a record or an error naming
/// `file:line` ([`DataError::Malformed`]) so callers can skip or stop.
pub struct PreferenceReader {
    path: PathBuf,
    lines: std::io::Lines<BufReader<File>>,
    line: u64,
}

impl PreferenceReader {
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let file = File::open(path).map_err(|e| DataError::open(path, e))?;
        Ok(PreferenceReader {
            path: path.to_path_buf(),
            lines: BufReader::new(file).lines(),
            line: 0,
        })
    }
}

impl Iterator for PreferenceReader {
    type Item = Result<PreferenceRecord, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let line = match self.lines.next()? {
                Ok(line) => line,
                Err(e) => return Some(Err(DataError::read(&self.path, e))),
            };
            self.line += 1;
            if line.trim().is_empty() {
                continue;
            }
            return Some(
                serde_json::from_str::<PreferenceRecord>(&line).map_err(|e| DataError::Malformed {
                    location: Location::line(&self.path, self.line),
                    reason: match e.classify() {
                        serde_json::error::Category::Data
                            if e.to_string().starts_with("missing field") =>
                        {
                            SkipReason::MissingField
                        }
                        serde_json::error::Category::Data => SkipReason::WrongType,
                        _ => SkipReason::InvalidJson,
                    },
                    detail: e.to_string(),
                }),
            );
        }
    }
}

/// Reads a whole preference JSONL file; bad lines are skipped and counted (or, `strict`,
/// returned as the error).
pub fn read_preferences(
    path: &Path,
    strict: bool,
) -> Result<(Vec<PreferenceRecord>, ReadReport), DataError> {
    let mut report = ReadReport::default();
    let mut out = Vec::new();
    for item in PreferenceReader::open(path)? {
        report.records += 1;
        match item {
            Ok(rec) => {
                report.units += 1;
                out.push(rec);
            }
            Err(DataError::Malformed {
                location,
                reason,
                detail,
            }) => report.skip(strict, location, reason, detail)?,
            Err(e) => return Err(e),
        }
    }
    Ok((out, report))
}

/// One preference pair in any layout, reduced to its texts.
#[derive(Debug, Clone, PartialEq)]
pub struct PairText {
    /// `id` if the source has one.
    pub id: Option<String>,
    /// The question (`prompt` or `question`), `<image>` placeholder removed.
    pub prompt: Option<String>,
    pub chosen: String,
    pub rejected: String,
    /// The image path, if the source names one (embedded parquet bytes are not read).
    pub image: Option<String>,
}

/// Streams the (chosen, rejected) pairs of preference datasets: our JSONL, TRL or
/// LLaMA-Factory exports, RLAIF-V-style parquet — anything with `chosen` and `rejected`
/// columns holding strings, messages or message lists. Directories are expanded.
pub fn for_each_pair(
    inputs: &[PathBuf],
    strict: bool,
    mut sink: impl FnMut(PairText) -> ControlFlow<()>,
) -> Result<ReadReport, DataError> {
    let mut report = ReadReport::default();
    for file in expand_inputs(inputs)? {
        let mut handle = |location: Location,
                          obj: Result<Map<String, Value>, Bad>,
                          image: Result<ImageField, Bad>| {
            report.records += 1;
            match obj.and_then(|o| pair_from(&o, image)) {
                Ok(pair) => {
                    report.units += 1;
                    Ok(sink(pair))
                }
                Err(b) => report
                    .skip(strict, location, b.reason, b.detail)
                    .map(|_| ControlFlow::Continue(())),
            }
        };
        let flow = match extension(&file).as_str() {
            "parquet" => {
                crate::parquet_rows::for_each_row_with(&file, false, &mut |row, obj, image| {
                    handle(Location::row(&file, row), Ok(obj), image)
                })?
            }
            "json" | "jsonl" => for_each_json_object(&file, &mut |line, obj| {
                let image = obj.as_ref().map_err(Clone::clone).and_then(image_from_json);
                handle(Location::line(&file, line), obj, image)
            })?,
            _ => return Err(DataError::UnsupportedFormat { path: file.clone() }),
        };
        if flow.is_break() {
            break;
        }
    }
    Ok(report)
}

fn pair_from(obj: &Map<String, Value>, image: Result<ImageField, Bad>) -> Result<PairText, Bad> {
    let text = |field: &str| -> Result<String, Bad> {
        match obj.get(field) {
            None | Some(Value::Null) => {
                Err(bad(SkipReason::MissingField, format!("no `{field}` field")))
            }
            Some(v) => answer_text(v).ok_or_else(|| {
                bad(
                    SkipReason::WrongType,
                    format!("`{field}` holds no answer text"),
                )
            }),
        }
    };
    let chosen = text("chosen")?;
    let rejected = text("rejected")?;
    let prompt = ["prompt", "question", "conversations"]
        .iter()
        .find_map(|k| obj.get(*k))
        .and_then(prompt_text);
    let id = match obj.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    // An unusable image reference does not matter for text statistics.
    let image = match image {
        Ok(ImageField::Path(p)) => Some(p),
        _ => None,
    };
    Ok(PairText {
        id,
        prompt,
        chosen,
        rejected,
        image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str) -> PreferenceRecord {
        PreferenceRecord::new(
            id,
            Some("img/a.png".into()),
            "How many?",
            "There are two cats.",
            "There are three cats.",
        )
    }

    #[test]
    fn writer_round_trips_and_append_repairs_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out/pairs.jsonl");
        let mut w = PreferenceWriter::create(&path).unwrap();
        w.write(&rec("a#0")).unwrap();
        w.write(&rec("b#0")).unwrap();
        drop(w);
        // A killed writer leaves half a record behind.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"id\":\"c#0\",\"ima")
            .unwrap();
        let mut w = PreferenceWriter::append(&path).unwrap();
        w.write(&rec("c#0")).unwrap();
        drop(w);
        let (records, report) = read_preferences(&path, true).unwrap();
        let ids: Vec<_> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a#0", "b#0", "c#0"]);
        assert_eq!(records[0], rec("a#0"));
        assert_eq!(report.skipped_total(), 0);
    }

    #[test]
    fn reader_names_file_and_line_of_a_bad_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        let good = serde_json::to_string(&rec("a#0")).unwrap();
        std::fs::write(
            &path,
            format!("{good}\n\n{{\"id\": \"c\", \"ima\n{{\"id\":\"x\"}}\n{{\"id\":3}}\n{good}\n"),
        )
        .unwrap();
        let (records, report) = read_preferences(&path, false).unwrap();
        assert_eq!(records.len(), 2, "{report:?}");
        assert_eq!(report.skipped[&SkipReason::InvalidJson], 1);
        assert_eq!(report.skipped[&SkipReason::MissingField], 1);
        assert_eq!(report.skipped[&SkipReason::WrongType], 1);
        assert!(
            report.issues[0].location.ends_with("p.jsonl:3"),
            "{:?}",
            report.issues
        );
        assert!(report.issues[1].location.ends_with("p.jsonl:4"));
        let err = read_preferences(&path, true).unwrap_err().to_string();
        assert!(err.contains("p.jsonl:3"), "{err}");
    }

    #[test]
    fn generic_pairs_read_rlaif_v_style_parquet_without_decoding_images() {
        use std::sync::Arc;

        use arrow::array::{ArrayRef, BinaryArray, StringArray, StructArray};
        use arrow::datatypes::{DataType, Field, Fields};
        use arrow::record_batch::RecordBatch;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rlaif.parquet");
        let fields = Fields::from(vec![
            Field::new("bytes", DataType::Binary, true),
            Field::new("path", DataType::Utf8, true),
        ]);
        let image = StructArray::new(
            fields,
            vec![
                Arc::new(BinaryArray::from(vec![&b"junk"[..], &b"junk"[..]])) as ArrayRef,
                Arc::new(StringArray::from(vec!["a.jpg", "b.jpg"])),
            ],
            None,
        );
        let batch = RecordBatch::try_from_iter(vec![
            ("image", Arc::new(image) as ArrayRef),
            (
                "question",
                Arc::new(StringArray::from(vec!["Q1?", "Q2?"])) as ArrayRef,
            ),
            (
                "chosen",
                Arc::new(StringArray::from(vec![Some("c1"), None])) as ArrayRef,
            ),
            (
                "rejected",
                Arc::new(StringArray::from(vec!["r1", "r2"])) as ArrayRef,
            ),
        ])
        .unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            File::create(&path).unwrap(),
            batch.schema(),
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let mut pairs = Vec::new();
        let report = for_each_pair(&[path], false, |p| {
            pairs.push(p);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(pairs.len(), 1);
        assert_eq!(
            (pairs[0].prompt.as_deref(), pairs[0].chosen.as_str()),
            (Some("Q1?"), "c1")
        );
        assert_eq!(report.skipped[&SkipReason::MissingField], 1);
        assert!(
            report.issues[0].location.ends_with("rlaif.parquet row 1"),
            "{:?}",
            report.issues
        );
    }

    #[test]
    fn generic_pairs_read_plain_and_message_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("other.json");
        let data = serde_json::json!([
            {"question": "Q1?", "chosen": "yes it is", "rejected": "no it is not", "image": "a.jpg"},
            {"prompt": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Q2?"}]}],
             "chosen": [{"role": "assistant", "content": [{"type": "text", "text": "c2"}]}],
             "rejected": [{"role": "assistant", "content": [{"type": "text", "text": "r2"}]}]},
            {"chosen": "only chosen"}
        ]);
        std::fs::write(&path, serde_json::to_string_pretty(&data).unwrap()).unwrap();
        let mut pairs = Vec::new();
        let report = for_each_pair(std::slice::from_ref(&path), false, |p| {
            pairs.push(p);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[0].prompt.as_deref(), Some("Q1?"));
        assert_eq!(pairs[0].image.as_deref(), Some("a.jpg"));
        assert_eq!(
            (pairs[1].chosen.as_str(), pairs[1].rejected.as_str()),
            ("c2", "r2")
        );
        assert_eq!(pairs[1].prompt.as_deref(), Some("Q2?"));
        assert_eq!(report.skipped[&SkipReason::MissingField], 1);
        // The pretty-printed array's third element starts on the line before its only key.
        let text = std::fs::read_to_string(&path).unwrap();
        let key_line = text
            .lines()
            .position(|l| l.contains("only chosen"))
            .unwrap()
            + 1;
        assert!(
            report.issues[0]
                .location
                .ends_with(&format!(":{}", key_line - 1)),
            "{:?}",
            report.issues[0]
        );
    }
}
