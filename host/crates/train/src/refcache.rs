//! Reference log-probs: scoring pairs without gradients (`vapr score`) and the cache file kept
//! beside the dataset, keyed by the dataset's and the reference model's hashes.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::batch::{EncodedPair, PairBatch};
use crate::error::{Result, TrainError};
use crate::model::PreferenceModel;

/// One line of `vapr score` output (and of the cache).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRow {
    pub id: String,
    /// Σ log p over the chosen completion tokens.
    pub chosen_logps: f32,
    /// Σ log p over the rejected completion tokens.
    pub rejected_logps: f32,
}

/// Scores every pair with `model` in batches of `batch_size`; `progress` gets pairs done.
pub fn score_pairs<B: Backend, M: PreferenceModel<B>>(
    model: &M,
    pairs: &[EncodedPair<M::Image>],
    batch_size: usize,
    pad_id: u32,
    mut progress: impl FnMut(usize),
) -> Result<Vec<ScoreRow>> {
    let mut rows = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(batch_size.max(1)) {
        let refs: Vec<&EncodedPair<M::Image>> = chunk.iter().collect();
        rows.extend(score_batch(model, &PairBatch::new(&refs, pad_id, false))?);
        progress(rows.len());
    }
    Ok(rows)
}

/// Scores one batch (chosen and rejected sequences).
pub fn score_batch<B: Backend, M: PreferenceModel<B>>(
    model: &M,
    batch: &PairBatch<M::Image>,
) -> Result<Vec<ScoreRow>> {
    let out = model.sequence_logps(batch).map_err(TrainError::Model)?;
    let v: Vec<f32> = out
        .logps
        .detach()
        .into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 data");
    let n = batch.num_pairs();
    Ok((0..n)
        .map(|i| ScoreRow {
            id: batch.ids[i].clone(),
            chosen_logps: v[i],
            rejected_logps: v[n + i],
        })
        .collect())
}

/// Writes rows as JSONL through a temporary file and a rename (never a half-written file).
pub fn write_scores(path: &Path, rows: &[ScoreRow]) -> Result<()> {
    let tmp = path.with_extension("jsonl.tmp");
    let write = || -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for r in rows {
            serde_json::to_writer(&mut f, r)?;
            f.write_all(b"\n")?;
        }
        f.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| TrainError::io(path, e))
}

/// Reads a score file (a malformed line names the file and line).
pub fn read_scores(path: &Path) -> Result<Vec<ScoreRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| TrainError::RefCache {
                path: path.to_path_buf(),
                message: format!("line {}: {e}", i + 1),
            })
        })
        .collect()
}

/// Reference `[chosen, rejected]` per pair, in the pairs' order; every pair must be scored.
pub fn align_scores<I>(
    rows: &[ScoreRow],
    pairs: &[EncodedPair<I>],
    origin: &Path,
) -> Result<Vec<[f32; 2]>> {
    let by_id: std::collections::HashMap<&str, &ScoreRow> =
        rows.iter().map(|r| (r.id.as_str(), r)).collect();
    pairs
        .iter()
        .map(|p| {
            by_id
                .get(p.id.as_str())
                .map(|r| [r.chosen_logps, r.rejected_logps])
                .ok_or_else(|| TrainError::RefCache {
                    path: origin.to_path_buf(),
                    message: format!("no reference log-probs for pair `{}`", p.id),
                })
        })
        .collect()
}

/// The cache file for a dataset and a reference model:
/// `<dataset stem>.ref-logps.<dataset hash[..12]>-<model hash[..12]>.jsonl` beside the dataset.
pub fn cache_path(dataset: &Path, dataset_sha256: &str, model_sha256: &str) -> PathBuf {
    let stem = dataset
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pairs".into());
    let name = format!(
        "{stem}.ref-logps.{}-{}.jsonl",
        &dataset_sha256[..12.min(dataset_sha256.len())],
        &model_sha256[..12.min(model_sha256.len())]
    );
    dataset.with_file_name(name)
}

/// Hash of a model folder: names and bytes of its `.json` and `.safetensors` files, sorted.
pub fn model_dir_sha256(dir: &Path) -> Result<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| TrainError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("json" | "safetensors")
                )
        })
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for f in files {
        hasher.update(f.file_name().unwrap().to_string_lossy().as_bytes());
        let mut file = std::fs::File::open(&f).map_err(|e| TrainError::io(&f, e))?;
        std::io::copy(&mut file, &mut hasher).map_err(|e| TrainError::io(&f, e))?;
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_and_align_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let rows = vec![
            ScoreRow {
                id: "b".into(),
                chosen_logps: -1.5,
                rejected_logps: -2.25,
            },
            ScoreRow {
                id: "a".into(),
                chosen_logps: -3.0,
                rejected_logps: -0.125,
            },
        ];
        write_scores(&path, &rows).unwrap();
        let back = read_scores(&path).unwrap();
        assert_eq!(back, rows);
        let pair = |id: &str| EncodedPair::<()> {
            id: id.into(),
            prompt: vec![],
            chosen: vec![],
            rejected: vec![],
            image: None,
        };
        let aligned = align_scores(&back, &[pair("a"), pair("b")], &path).unwrap();
        assert_eq!(aligned, vec![[-3.0, -0.125], [-1.5, -2.25]]);
        let err = align_scores(&back, &[pair("c")], &path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`c`"), "{err}");
    }

    #[test]
    fn cache_path_is_keyed_by_both_hashes() {
        let p = cache_path(
            Path::new("/d/pairs.jsonl"),
            "0123456789abcdef",
            "fedcba9876543210",
        );
        assert_eq!(
            p,
            Path::new("/d/pairs.ref-logps.0123456789ab-fedcba987654.jsonl")
        );
    }
}
