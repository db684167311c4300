//! The DPO training subsets: the same questions in all three pair sets, so the three DPO runs
//! (and SFT-on-chosen) differ only in how the rejected answers were made.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::pairs::PairSet;
use super::sft_data::write_jsonl;

/// The files written by [`write_training_subsets`].
#[derive(Debug, Clone)]
pub struct Subsets {
    /// One file per set, in the sets' order.
    pub paths: Vec<PathBuf>,
    /// Pairs in each file.
    pub pairs: usize,
}

/// Writes `DIR/<name>.train.jsonl` per set: the pairs of the first `max` ids (in the first
/// set's order) that every set has.
pub fn write_training_subsets(sets: &[PairSet], max: usize, dir: &Path) -> Result<Subsets> {
    let Some(first) = sets.first() else {
        bail!("no pair sets");
    };
    let shared: BTreeSet<&str> = first
        .records
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| {
            sets[1..]
                .iter()
                .all(|s| s.records.iter().any(|r| r.id == *id))
        })
        .collect();
    let ids: Vec<&str> = first
        .records
        .iter()
        .map(|r| r.id.as_str())
        .filter(|id| shared.contains(id))
        .take(max)
        .collect();
    if ids.is_empty() {
        bail!("the pair sets share no question id");
    }
    let wanted: BTreeSet<&str> = ids.iter().copied().collect();
    let mut paths = Vec::new();
    for s in sets {
        let mut seen = BTreeSet::new();
        let records: Vec<_> = s
            .records
            .iter()
            .filter(|r| wanted.contains(r.id.as_str()) && seen.insert(r.id.clone()))
            .cloned()
            .collect();
        let path = dir.join(format!("{}.train.jsonl", s.name));
        write_jsonl(&path, &records)?;
        paths.push(path);
    }
    Ok(Subsets {
        paths,
        pairs: ids.len(),
    })
}
