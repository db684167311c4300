//! The five benchmarks behind one trait, each with exactly one pinned protocol (prompt,
//! decoding settings, answer extraction, metric) whose name is written into every result file.
//! `docs/eval.md` records each protocol and where it differs from lmms-eval and VLMEvalKit.

mod cvbench;
mod mmstar;
mod mmvp;
mod naturalbench;
mod pope;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::item::{Bench, GenParams, Item, ItemInfo};
use crate::table::Row;

pub use cvbench::CvBench;
pub use mmstar::MmStar;
pub use mmvp::Mmvp;
pub use naturalbench::{NaturalBench, naturalbench_extract};
pub use pope::{Pope, pope_parse};

/// Named metric values of one run (fractions in 0..=1).
pub type Metrics = BTreeMap<String, f64>;

/// What the extractor made of one output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The normalised answer read from the output (`None`: nothing could be read).
    pub pred: Option<String>,
    /// False when the protocol had to fall back (nothing readable, or POPE's default "yes").
    pub extracted: bool,
    /// Whether the item counts as correct under the pinned protocol.
    pub correct: bool,
}

/// One line of `scores.jsonl`: an item's gold, what was read from the output, correctness.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredItem {
    pub id: String,
    pub gold: String,
    pub pred: Option<String>,
    pub extracted: bool,
    pub correct: bool,
    #[serde(default)]
    pub info: ItemInfo,
}

/// A resampling unit of the metric (an item, a NaturalBench group, an MMVP pair) within its
/// stratum (CV-Bench source, POPE split, MMStar category).
#[derive(Debug, Clone)]
pub struct Unit<'a> {
    pub key: String,
    pub stratum: String,
    /// The unit's items, ordered by slot.
    pub items: Vec<&'a ScoredItem>,
}

/// A row that could not be turned into an item, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRow {
    pub path: PathBuf,
    pub row: usize,
    pub reason: String,
}

/// The items of a benchmark and what was skipped on the way.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub items: Vec<Item>,
    pub skipped: Vec<SkippedRow>,
    /// Facts worth recording with the results (e.g. MMVP gold corrections).
    pub notes: Vec<String>,
}

impl LoadReport {
    /// Records a bad row (logged with file and row) and moves on.
    pub fn skip(&mut self, err: crate::error::EvalError) {
        tracing::warn!("skipping bad row: {err}");
        let (path, row) = match &err {
            crate::error::EvalError::BadRow { path, row, .. } => (path.clone(), *row),
            _ => (PathBuf::new(), 0),
        };
        let reason = match err {
            crate::error::EvalError::BadRow { message, .. } => message,
            other => other.to_string(),
        };
        self.skipped.push(SkippedRow { path, row, reason });
    }
}

/// One benchmark under its pinned protocol.
pub trait Benchmark: Send + Sync {
    /// Which benchmark this is.
    fn bench(&self) -> Bench;
    /// The pinned protocol's name, e.g. `cvbench/cambrian-v1`.
    fn protocol(&self) -> &'static str;
    /// Decoding settings of the protocol.
    fn gen_params(&self) -> GenParams;
    /// The metric key that `compare` and the summary lead with.
    fn headline(&self) -> &'static str;
    /// How the bootstrap resamples, in words (recorded in compare output).
    fn resampling(&self) -> &'static str;
    /// Builds items from the rows of the benchmark files.
    fn load(&self, rows: &[Row]) -> Result<LoadReport>;
    /// Reads the answer from one output and judges it.
    fn extract(&self, gold: &str, info: &ItemInfo, output: &str) -> Extracted;
    /// Resampling unit key and stratum of a scored item.
    fn unit_of(&self, item: &ScoredItem) -> (String, String) {
        (item.id.clone(), String::new())
    }
    /// The metrics over a set of units (possibly a bootstrap resample with repeats).
    fn metrics(&self, units: &[&Unit<'_>]) -> Metrics;
    /// Whether the item is a yes/no question for the yes-bias report.
    fn is_yes_no(&self, _item: &ScoredItem) -> bool {
        false
    }
    /// Keys shown in the human-readable summary (the JSON has all of them).
    fn summary_keys(&self) -> Vec<&'static str>;
}

/// The pinned benchmark implementation.
pub fn benchmark(bench: Bench) -> &'static dyn Benchmark {
    match bench {
        Bench::Cvbench => &CvBench,
        Bench::Mmstar => &MmStar,
        Bench::Naturalbench => &NaturalBench,
        Bench::Pope => &Pope,
        Bench::Mmvp => &Mmvp,
    }
}

/// Groups scored items into resampling units (items of a unit ordered by slot), units in
/// first-seen order.
pub fn units<'a>(bench: &dyn Benchmark, items: &'a [ScoredItem]) -> Vec<Unit<'a>> {
    let mut order: Vec<Unit<'a>> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for item in items {
        let (key, stratum) = bench.unit_of(item);
        let at = *index.entry(key.clone()).or_insert_with(|| {
            order.push(Unit {
                key,
                stratum,
                items: Vec::new(),
            });
            order.len() - 1
        });
        order[at].items.push(item);
    }
    for unit in &mut order {
        unit.items.sort_by_key(|i| i.info.slot.unwrap_or(0));
    }
    order
}

/// The benchmark's metrics plus the extraction-failure rate, which every protocol reports.
pub fn metrics_with_failures(bench: &dyn Benchmark, units: &[&Unit<'_>]) -> Metrics {
    let mut m = bench.metrics(units);
    let (mut n, mut failed) = (0usize, 0usize);
    for unit in units {
        for item in &unit.items {
            n += 1;
            failed += usize::from(!item.extracted);
        }
    }
    m.insert("extraction_failure_rate".into(), ratio(failed, n));
    m
}

/// `num / den`, 0 for an empty denominator.
pub(crate) fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Counts correct/total per key.
#[derive(Default)]
pub(crate) struct Tally(BTreeMap<String, (usize, usize)>);

impl Tally {
    pub(crate) fn add(&mut self, key: &str, correct: bool) {
        // No allocation for keys already seen: this runs per item per bootstrap resample.
        if !self.0.contains_key(key) {
            self.0.insert(key.to_string(), (0, 0));
        }
        if let Some(e) = self.0.get_mut(key) {
            e.0 += usize::from(correct);
            e.1 += 1;
        }
    }
    pub(crate) fn acc(&self, key: &str) -> Option<f64> {
        self.0.get(key).map(|(c, n)| ratio(*c, *n))
    }
    pub(crate) fn write(&self, prefix: &str, out: &mut Metrics) {
        for (k, (c, n)) in &self.0 {
            out.insert(format!("{prefix}{k}"), ratio(*c, *n));
        }
    }
}

/// Parses a letter answer such as `(A)`, `A`, `a`, `(a)`, `A.` into an upper-case letter.
pub(crate) fn gold_letter(answer: &str) -> Option<char> {
    let t = answer.trim().trim_start_matches('(');
    let c = t.chars().next()?;
    let rest = &t[c.len_utf8()..];
    let clean_rest = rest.trim_start_matches([')', '.', ':']).trim().is_empty();
    (c.is_ascii_alphabetic() && clean_rest).then(|| c.to_ascii_uppercase())
}

/// Letters `A..` for `n` options.
pub(crate) fn letters(n: usize) -> impl Iterator<Item = char> {
    (0..n as u8).map(|i| (b'A' + i) as char)
}

/// Loads rows into items, one row at a time, skipping bad rows.
pub(crate) fn load_rows(
    rows: &[Row],
    mut build: impl FnMut(&Row) -> Result<Vec<Item>>,
) -> LoadReport {
    let mut report = LoadReport::default();
    for row in rows {
        match build(row) {
            Ok(items) => report.items.extend(items),
            Err(e) => report.skip(e),
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_gold_letter_forms() {
        assert_eq!(gold_letter("(A)"), Some('A'));
        assert_eq!(gold_letter("b"), Some('B'));
        assert_eq!(gold_letter("(c)"), Some('C'));
        assert_eq!(gold_letter("D."), Some('D'));
        assert_eq!(gold_letter("Open"), None);
        assert_eq!(gold_letter(""), None);
    }
}
