//! Supervised inputs: LLaVA conversation JSON (a JSON array, the LLaVA-v1.5-665K layout),
//! JSONL of the same records, and Hugging Face parquet files, split into single-turn
//! [`QaUnit`]s with stable ids `<source id>#<turn>`.
//!
//! Reading streams record by record (a JSON array is parsed element by element), so memory
//! stays flat on 665K-record files. A bad record is skipped and counted in the
//! [`ReadReport`] with its file and line (JSON/JSONL) or row (parquet); with
//! [`ReadOptions::strict`] it is an error instead.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use vapr_core::QaUnit;

use crate::error::{DataError, Location};
use crate::images;
use crate::jsonvalue::{
    ImageField, RawRecord, Role, image_from_json, raw_record, strip_image_placeholder,
};
use crate::report::{ReadReport, SkipReason};

mod json_stream;

pub(crate) use json_stream::for_each_json_object;

/// How image references are checked while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImageCheck {
    /// Trust the paths.
    Off,
    /// The file must exist (one `stat` per record).
    #[default]
    Exists,
    /// The file must exist and decode (slow: every image is decoded).
    Decode,
}

/// Options of the supervised-input readers.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Turn every skipped record into an error (naming file and line/row).
    pub strict: bool,
    /// Base directory of relative image paths; default: the input file's directory.
    pub image_root: Option<PathBuf>,
    /// What to check about each referenced image.
    pub check_images: ImageCheck,
    /// Where embedded image bytes (parquet) are written; default: `<input stem>-images/`
    /// next to the input file.
    pub image_dir: Option<PathBuf>,
}

/// Expands directories to the `.json`, `.jsonl` and `.parquet` files below them (sorted,
/// so the order — and therefore a resumed run — is stable); files are kept as given.
pub fn expand_inputs(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DataError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            collect_dir(path, &mut found)?;
            found.sort();
            if found.is_empty() {
                return Err(DataError::UnsupportedFormat { path: path.clone() });
            }
            out.extend(found);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DataError> {
    for entry in std::fs::read_dir(dir).map_err(|e| DataError::open(dir, e))? {
        let path = entry.map_err(|e| DataError::read(dir, e))?.path();
        if path.is_dir() {
            collect_dir(&path, out)?;
        } else if matches!(extension(&path).as_str(), "json" | "jsonl" | "parquet") {
            out.push(path);
        }
    }
    Ok(())
}

pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Streams the single-turn units of every input (directories expanded) into `sink`, in
/// file order then record order. `sink` may stop the read early with `Break`.
pub fn for_each_unit(
    inputs: &[PathBuf],
    options: &ReadOptions,
    mut sink: impl FnMut(QaUnit) -> ControlFlow<()>,
) -> Result<ReadReport, DataError> {
    let mut report = ReadReport::default();
    let mut seen_ids = HashSet::new();
    for file in expand_inputs(inputs)? {
        let mut ctx = UnitCtx {
            file: &file,
            options,
            report: &mut report,
            seen_ids: &mut seen_ids,
        };
        let flow = match extension(&file).as_str() {
            "parquet" => crate::parquet_rows::for_each_row(&file, &mut |row, obj, image| {
                let fallback = fallback_id(&file, row);
                let location = Location::row(&file, row);
                ctx.record(
                    image.and_then(|image| raw_record(&obj, image, &fallback)),
                    location,
                    &mut sink,
                )
            })?,
            "json" | "jsonl" => for_each_json_object(&file, &mut |line, obj| {
                let location = Location::line(&file, line);
                let fallback = fallback_id(&file, line);
                let raw = obj.and_then(|obj| {
                    image_from_json(&obj).and_then(|image| raw_record(&obj, image, &fallback))
                });
                ctx.record(raw, location, &mut sink)
            })?,
            _ => return Err(DataError::UnsupportedFormat { path: file.clone() }),
        };
        if flow.is_break() {
            break;
        }
    }
    Ok(report)
}

/// Reads every unit into memory (small datasets, tests); see [`for_each_unit`].
pub fn read_units(
    inputs: &[PathBuf],
    options: &ReadOptions,
) -> Result<(Vec<QaUnit>, ReadReport), DataError> {
    let mut units = Vec::new();
    let report = for_each_unit(inputs, options, |u| {
        units.push(u);
        ControlFlow::Continue(())
    })?;
    Ok((units, report))
}

/// Id for records without one: `<file stem>-<line or row>`, stable for a given file.
fn fallback_id(file: &Path, pos: u64) -> String {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("record");
    format!("{stem}-{pos}")
}

/// Per-file state of the unit reader.
struct UnitCtx<'a> {
    file: &'a Path,
    options: &'a ReadOptions,
    report: &'a mut ReadReport,
    seen_ids: &'a mut HashSet<String>,
}

impl UnitCtx<'_> {
    /// Checks one record, splits it into units and hands them to `sink`.
    fn record(
        &mut self,
        raw: Result<RawRecord, crate::jsonvalue::Bad>,
        location: Location,
        sink: &mut impl FnMut(QaUnit) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, DataError> {
        self.report.records += 1;
        let strict = self.options.strict;
        let mut raw = match raw {
            Ok(raw) => raw,
            Err(bad) => {
                self.report.skip(strict, location, bad.reason, bad.detail)?;
                return Ok(ControlFlow::Continue(()));
            }
        };
        let pairs = match split_turns(&raw) {
            Ok(pairs) => pairs,
            Err((reason, detail)) => {
                self.report.skip(strict, location, reason, detail)?;
                return Ok(ControlFlow::Continue(()));
            }
        };
        let image = match self
            .resolve_image(std::mem::replace(&mut raw.image, ImageField::None), &raw.id)
        {
            Ok(image) => image,
            Err((reason, detail)) => {
                self.report.skip(strict, location, reason, detail)?;
                return Ok(ControlFlow::Continue(()));
            }
        };
        // Ids must be unique for the run ledger; a repeated source id gets a stable suffix.
        let mut id = raw.id.clone();
        let mut k = 1;
        while !self.seen_ids.insert(id.clone()) {
            k += 1;
            id = format!("{}~{k}", raw.id);
        }
        if k > 1 {
            self.report.renamed_duplicates += 1;
            tracing::debug!("{location}: id `{}` seen before, using `{id}`", raw.id);
        }
        let source = location.to_string();
        for (turn, (question, answer)) in pairs.into_iter().enumerate() {
            self.report.units += 1;
            let unit = QaUnit {
                id: format!("{id}#{turn}"),
                image: image.clone(),
                question,
                answer,
                source: source.clone(),
                category_hint: raw.category,
            };
            if sink(unit).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }

    fn resolve_image(
        &self,
        image: ImageField,
        id: &str,
    ) -> Result<Option<String>, (SkipReason, String)> {
        let check = self.options.check_images;
        match image {
            ImageField::None => Ok(None),
            ImageField::Path(p) => {
                if check != ImageCheck::Off {
                    let base = match &self.options.image_root {
                        Some(root) => root.clone(),
                        None => self
                            .file
                            .parent()
                            .map(Path::to_path_buf)
                            .unwrap_or_default(),
                    };
                    let full = base.join(&p);
                    if !full.is_file() {
                        return Err((
                            SkipReason::ImageMissing,
                            format!("image {} not found", full.display()),
                        ));
                    }
                    if check == ImageCheck::Decode {
                        images::load_rgb(&full)
                            .map_err(|e| (SkipReason::ImageCorrupt, e.to_string()))?;
                    }
                }
                Ok(Some(p))
            }
            ImageField::Embedded { bytes, path } => {
                let name = path.as_deref().unwrap_or(id);
                if check == ImageCheck::Decode {
                    images::decode_rgb(&bytes, Path::new(name))
                        .map_err(|e| (SkipReason::ImageCorrupt, e.to_string()))?;
                } else if image::guess_format(&bytes).is_err() {
                    return Err((
                        SkipReason::ImageCorrupt,
                        format!("embedded image `{name}` has no known image format"),
                    ));
                }
                let dir = self
                    .options
                    .image_dir
                    .clone()
                    .unwrap_or_else(|| default_image_dir(self.file));
                let written = images::materialise(&bytes, id, &dir).map_err(|e| {
                    (
                        SkipReason::ImageCorrupt,
                        format!("cannot materialise `{name}`: {e}"),
                    )
                })?;
                Ok(Some(written.to_string_lossy().into_owned()))
            }
        }
    }
}

/// `<input stem>-images/` next to the input.
pub fn default_image_dir(input: &Path) -> PathBuf {
    let stem = input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("input");
    input.with_file_name(format!("{stem}-images"))
}

/// Pairs each human turn with the assistant turn that follows; system turns are ignored.
fn split_turns(raw: &RawRecord) -> Result<Vec<(String, String)>, (SkipReason, String)> {
    let mut pairs = Vec::new();
    let mut pending: Option<String> = None;
    for (i, t) in raw.turns.iter().enumerate() {
        match (t.role, pending.take()) {
            (Role::System, p) => pending = p,
            (Role::Human, None) => pending = Some(strip_image_placeholder(&t.text)),
            (Role::Human, Some(_)) => {
                return Err((
                    SkipReason::UnpairedTurn,
                    format!("turn {i}: two human turns in a row"),
                ));
            }
            (Role::Assistant, Some(q)) => pairs.push((q, t.text.trim().to_string())),
            (Role::Assistant, None) => {
                return Err((
                    SkipReason::UnpairedTurn,
                    format!("turn {i}: assistant turn without a question"),
                ));
            }
        }
    }
    if pending.is_some() {
        return Err((
            SkipReason::UnpairedTurn,
            "last human turn has no answer".to_string(),
        ));
    }
    if pairs.is_empty() {
        return Err((
            SkipReason::MissingField,
            "conversation has no question/answer turn".to_string(),
        ));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests;
