//! Exports of our preference JSONL to other trainers' layouts.
//!
//! - **TRL** (`DPOTrainer`, vision conversational format, as in
//!   `HuggingFaceH4/rlaif-v_formatted`): JSONL with `images` (a list of paths),
//!   `prompt` = `[{"role":"user","content":[{"type":"image"},{"type":"text","text":Q}]}]`,
//!   `chosen`/`rejected` = `[{"role":"assistant","content":[{"type":"text","text":A}]}]`.
//! - **LLaMA-Factory** (sharegpt preference format): records with `conversations`
//!   (`[{"from":"human","value":"<image>Q"}]`), `chosen`/`rejected` (`{"from":"gpt","value":A}`)
//!   and `images`, plus the `dataset_info.json` entry (`formatting: sharegpt`, `ranking: true`)
//!   written — merged with any existing entries — beside the output.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::{Value, json};
use vapr_core::PreferenceRecord;

use crate::error::{DataError, Location};
use crate::preference::PreferenceReader;
use crate::report::ReadReport;

/// Target layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Trl,
    LlamaFactory,
}

impl FromStr for ExportFormat {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "trl" => Ok(ExportFormat::Trl),
            "llamafactory" | "llama-factory" | "llama_factory" => Ok(ExportFormat::LlamaFactory),
            other => Err(DataError::Invalid(format!(
                "unknown export format `{other}` (expected trl or llamafactory)"
            ))),
        }
    }
}

/// Options of [`export`].
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Prefix for relative image paths (e.g. the absolute images directory), so the
    /// trainer finds the files from wherever it runs.
    pub image_root: Option<PathBuf>,
    /// Name of the LLaMA-Factory dataset entry; default: the output file's stem.
    pub dataset_name: Option<String>,
    /// Stop at the first malformed input line instead of skipping it.
    pub strict: bool,
}

/// What [`export`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportSummary {
    pub written: u64,
    pub report: ReadReport,
    /// The `dataset_info.json` written (LLaMA-Factory only).
    pub dataset_info: Option<PathBuf>,
}

fn image_path(rec: &PreferenceRecord, root: Option<&Path>) -> Option<String> {
    rec.image.as_ref().map(|p| match root {
        Some(root) if Path::new(p).is_relative() => root.join(p).to_string_lossy().into_owned(),
        _ => p.clone(),
    })
}

/// One record in TRL's vision DPO layout.
pub fn to_trl(rec: &PreferenceRecord, image_root: Option<&Path>) -> Value {
    let image = image_path(rec, image_root);
    let mut content = Vec::new();
    if image.is_some() {
        content.push(json!({"type": "image"}));
    }
    content.push(json!({"type": "text", "text": rec.prompt}));
    let answer =
        |text: &str| json!([{"role": "assistant", "content": [{"type": "text", "text": text}]}]);
    json!({
        "images": image.into_iter().collect::<Vec<_>>(),
        "prompt": [{"role": "user", "content": content}],
        "chosen": answer(&rec.chosen),
        "rejected": answer(&rec.rejected),
    })
}

/// One record in LLaMA-Factory's sharegpt preference layout.
pub fn to_llamafactory(rec: &PreferenceRecord, image_root: Option<&Path>) -> Value {
    let image = image_path(rec, image_root);
    let question = if image.is_some() {
        format!("<image>{}", rec.prompt)
    } else {
        rec.prompt.clone()
    };
    json!({
        "conversations": [{"from": "human", "value": question}],
        "chosen": {"from": "gpt", "value": rec.chosen},
        "rejected": {"from": "gpt", "value": rec.rejected},
        "images": image.into_iter().collect::<Vec<_>>(),
    })
}

/// The `dataset_info.json` entry LLaMA-Factory needs for `file_name`.
pub fn llamafactory_dataset_info(file_name: &str) -> Value {
    json!({
        "file_name": file_name,
        "formatting": "sharegpt",
        "ranking": true,
        "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected", "images": "images"},
    })
}

/// Converts our preference JSONL `input` to `format` at `output`. TRL output is JSONL;
/// LLaMA-Factory output is a JSON array when `output` ends in `.json`, else JSONL.
pub fn export(
    input: &Path,
    output: &Path,
    format: ExportFormat,
    options: &ExportOptions,
) -> Result<ExportSummary, DataError> {
    if let Some(dir) = output.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(|e| DataError::write(dir, e))?;
    }
    let file = fs::File::create(output).map_err(|e| DataError::write(output, e))?;
    let mut out = BufWriter::new(file);
    let werr = |e: std::io::Error| DataError::write(output, e);
    let as_array =
        format == ExportFormat::LlamaFactory && crate::inputs::extension(output) == "json";
    let root = options.image_root.as_deref();
    let mut report = ReadReport::default();
    let mut written = 0u64;
    if as_array {
        out.write_all(b"[\n").map_err(werr)?;
    }
    for item in PreferenceReader::open(input)? {
        report.records += 1;
        let rec = match item {
            Ok(rec) => rec,
            Err(DataError::Malformed {
                location,
                reason,
                detail,
            }) => {
                report.skip(options.strict, location, reason, detail)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let value = match format {
            ExportFormat::Trl => to_trl(&rec, root),
            ExportFormat::LlamaFactory => to_llamafactory(&rec, root),
        };
        if as_array && written > 0 {
            out.write_all(b",\n").map_err(werr)?;
        }
        serde_json::to_writer(&mut out, &value).map_err(|e| werr(e.into()))?;
        if !as_array {
            out.write_all(b"\n").map_err(werr)?;
        }
        written += 1;
        report.units += 1;
    }
    if as_array {
        out.write_all(b"\n]\n").map_err(werr)?;
    }
    out.flush().map_err(werr)?;
    let dataset_info = match format {
        ExportFormat::Trl => None,
        ExportFormat::LlamaFactory => {
            Some(write_dataset_info(output, options.dataset_name.as_deref())?)
        }
    };
    Ok(ExportSummary {
        written,
        report,
        dataset_info,
    })
}

/// Adds (or replaces) this dataset's entry in `dataset_info.json` beside `output`,
/// keeping every other entry.
fn write_dataset_info(output: &Path, name: Option<&str>) -> Result<PathBuf, DataError> {
    let dir = output
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = dir.join("dataset_info.json");
    let file_name = output
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("data.json");
    let stem = output
        .file_stem()
        .and_then(|n| n.to_str())
        .unwrap_or("vapr");
    let mut info = if path.is_file() {
        let text = fs::read_to_string(&path).map_err(|e| DataError::read(&path, e))?;
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(DataError::Layout {
                    path,
                    detail: "is not a JSON object".into(),
                });
            }
            Err(e) => {
                return Err(DataError::Malformed {
                    location: Location::line(&path, e.line() as u64),
                    reason: crate::SkipReason::InvalidJson,
                    detail: e.to_string(),
                });
            }
        }
    } else {
        serde_json::Map::new()
    };
    info.insert(
        name.unwrap_or(stem).to_string(),
        llamafactory_dataset_info(file_name),
    );
    let text = serde_json::to_string_pretty(&Value::Object(info)).expect("JSON object serialises");
    fs::write(&path, text + "\n").map_err(|e| DataError::write(&path, e))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use super::*;
    use crate::preference::{PairText, PreferenceWriter, for_each_pair};

    fn sample(dir: &Path) -> (PathBuf, Vec<PreferenceRecord>) {
        let mut a = PreferenceRecord::new(
            "a#0",
            Some("images/a.png".into()),
            "How many cats?",
            "There are two cats.",
            "There are three cats.",
        );
        a.category = Some(vapr_core::Category::Counting);
        let b = PreferenceRecord::new("b#0", None, "Say \"hi\".", "Hi.", "Bye.");
        let path = dir.join("pairs.jsonl");
        let mut w = PreferenceWriter::create(&path).unwrap();
        w.write(&a).unwrap();
        w.write(&b).unwrap();
        (path, vec![a, b])
    }

    fn read_back(path: &Path) -> Vec<PairText> {
        let mut out = Vec::new();
        for_each_pair(&[path.to_path_buf()], true, |p| {
            out.push(p);
            ControlFlow::Continue(())
        })
        .unwrap();
        out
    }

    #[test]
    fn trl_export_round_trips_prompt_answers_and_images() {
        let dir = tempfile::tempdir().unwrap();
        let (input, recs) = sample(dir.path());
        let out = dir.path().join("trl/train.jsonl");
        let summary = export(&input, &out, ExportFormat::Trl, &ExportOptions::default()).unwrap();
        assert_eq!(summary.written, 2);
        let first: Value =
            serde_json::from_str(fs::read_to_string(&out).unwrap().lines().next().unwrap())
                .unwrap();
        assert_eq!(first["images"], json!(["images/a.png"]));
        assert_eq!(first["prompt"][0]["content"][0], json!({"type": "image"}));
        assert_eq!(first["chosen"][0]["role"], "assistant");
        let back = read_back(&out);
        for (p, r) in back.iter().zip(&recs) {
            assert_eq!(p.prompt.as_deref(), Some(r.prompt.as_str()));
            assert_eq!(
                (p.chosen.as_str(), p.rejected.as_str()),
                (r.chosen.as_str(), r.rejected.as_str())
            );
        }
        assert_eq!(back[0].image.as_deref(), Some("images/a.png"));
        assert_eq!(back[1].image, None);
    }

    #[test]
    fn llamafactory_export_round_trips_and_merges_dataset_info() {
        let dir = tempfile::tempdir().unwrap();
        let (input, recs) = sample(dir.path());
        fs::write(
            dir.path().join("dataset_info.json"),
            r#"{"other": {"file_name": "x.json"}}"#,
        )
        .unwrap();
        let out = dir.path().join("vapr_pairs.json");
        let options = ExportOptions {
            image_root: Some(PathBuf::from("/data/imgs")),
            ..ExportOptions::default()
        };
        let summary = export(&input, &out, ExportFormat::LlamaFactory, &options).unwrap();
        let all: Value = serde_json::from_str(&fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(all[0]["conversations"][0]["value"], "<image>How many cats?");
        assert_eq!(all[0]["images"], json!(["/data/imgs/images/a.png"]));
        assert_eq!(all[1]["conversations"][0]["value"], "Say \"hi\".");
        let info: Value =
            serde_json::from_str(&fs::read_to_string(summary.dataset_info.unwrap()).unwrap())
                .unwrap();
        assert_eq!(info["other"]["file_name"], "x.json");
        assert_eq!(info["vapr_pairs"]["file_name"], "vapr_pairs.json");
        assert_eq!(info["vapr_pairs"]["ranking"], true);
        assert_eq!(info["vapr_pairs"]["columns"]["messages"], "conversations");
        let back = read_back(&out);
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].prompt.as_deref(), Some("How many cats?"));
        assert_eq!(back[1].rejected, recs[1].rejected);
    }
}
