//! VLMEvalKit TSV files (pandas `to_csv(sep="\t")`) and plain CSV files → rows.
//!
//! VLMEvalKit's `image` cell is base64 of the encoded image file, or — when it is at most
//! 64 characters long — the `index` of another row whose image is reused
//! (`vlmeval/dataset/image_base.py`), or a stringified Python list of base64 strings for
//! multi-image items. All three are resolved here into [`Value::Images`].

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use base64::Engine as _;

use super::{Row, Value, parse_py_str_list};
use crate::error::{EvalError, Result};
use crate::image_data::ImageData;

/// A cell this short is a reference to another row's image, not an image.
const MAX_REFERENCE_LEN: usize = 64;

/// Reads a VLMEvalKit TSV and resolves its image cells.
pub fn read_tsv(path: &Path) -> Result<Vec<Row>> {
    let mut rows = read_delimited(path, b'\t')?;
    resolve_images(&mut rows);
    Ok(rows)
}

/// Reads a comma-separated file (no image decoding).
pub fn read_csv(path: &Path) -> Result<Vec<Row>> {
    read_delimited(path, b',')
}

fn read_delimited(path: &Path, delimiter: u8) -> Result<Vec<Row>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_path(path)
        .map_err(|source| EvalError::Csv {
            path: path.to_path_buf(),
            row: 0,
            source,
        })?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|source| EvalError::Csv {
            path: path.to_path_buf(),
            row: 0,
            source,
        })?
        .iter()
        // pandas writes the unnamed index column as an empty header.
        .map(|h| h.trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|source| EvalError::Csv {
            path: path.to_path_buf(),
            row,
            source,
        })?;
        let cells = headers
            .iter()
            .zip(record.iter())
            .filter(|(h, _)| !h.is_empty())
            .map(|(h, v)| {
                let value = if v.is_empty() {
                    Value::Null
                } else {
                    Value::Str(v.to_string())
                };
                (h.clone(), value)
            })
            .collect();
        rows.push(Row {
            path: path.to_path_buf(),
            row,
            cells,
        });
    }
    Ok(rows)
}

/// Replaces each `image` text cell by the decoded image(s); references to other rows are
/// followed. Cells that cannot be decoded become [`Value::Unsupported`] with the reason, so
/// the benchmark reports that row (with file and row) and skips it.
fn resolve_images(rows: &mut [Row]) {
    let by_index: HashMap<String, usize> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.cells.get("index") {
            Some(Value::Str(s)) => Some((s.trim().to_string(), i)),
            _ => None,
        })
        .collect();
    let raw: Vec<Option<String>> = rows
        .iter()
        .map(|r| match r.cells.get("image") {
            Some(Value::Str(s)) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let mut cache: BTreeMap<usize, Value> = BTreeMap::new();
    for i in 0..rows.len() {
        let Some(cell) = &raw[i] else { continue };
        let value = if cell.len() <= MAX_REFERENCE_LEN {
            match by_index.get(cell.trim()) {
                Some(&target)
                    if raw[target]
                        .as_ref()
                        .is_some_and(|c| c.len() > MAX_REFERENCE_LEN) =>
                {
                    cache
                        .entry(target)
                        .or_insert_with(|| decode_cell(raw[target].as_deref().unwrap_or_default()))
                        .clone()
                }
                Some(_) => Value::Unsupported(format!(
                    "image cell refers to row with index {cell:?}, which holds no image itself"
                )),
                None => Value::Unsupported(format!("image cell refers to unknown index {cell:?}")),
            }
        } else {
            cache.entry(i).or_insert_with(|| decode_cell(cell)).clone()
        };
        rows[i].cells.insert("image".to_string(), value);
    }
}

/// Decodes a base64 image cell or a stringified list of them.
fn decode_cell(cell: &str) -> Value {
    let trimmed = cell.trim();
    let parts: Vec<String> = if trimmed.starts_with('[') {
        match parse_py_str_list(trimmed) {
            Some(parts) => parts,
            None => return Value::Unsupported("image cell is a malformed list literal".into()),
        }
    } else {
        vec![trimmed.to_string()]
    };
    let mut images = Vec::with_capacity(parts.len());
    for (k, part) in parts.iter().enumerate() {
        match base64::engine::general_purpose::STANDARD.decode(part.trim()) {
            Ok(bytes) => images.push(ImageData::Encoded(bytes)),
            Err(e) => return Value::Unsupported(format!("image {k} is not valid base64 ({e})")),
        }
    }
    Value::Images(images)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[test]
    fn test_short_image_cell_reuses_referenced_rows_image() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tsv");
        let big = vec![7u8; 80];
        let text = format!(
            "index\tquestion\timage\n0\tq0\t{}\n1\tq1\t0\n2\tq2\t['{}', '{}']\n3\tq3\t99\n",
            b64(&big),
            b64(&big),
            b64(&[1u8; 60])
        );
        std::fs::write(&path, text).unwrap();
        let rows = read_tsv(&path).unwrap();
        assert_eq!(
            rows[1].images(&["image"]).unwrap(),
            vec![ImageData::Encoded(big.clone())]
        );
        assert_eq!(rows[2].images(&["image"]).unwrap().len(), 2);
        let err = rows[3].images(&["image"]).unwrap_err().to_string();
        assert!(
            err.contains("row 3") && err.contains("unknown index"),
            "{err}"
        );
    }
}
