//! Scoring: generation records → per-item scores, metrics and the yes-bias report, written
//! into the run directory. Used at the end of `vapr eval` and by `vapr eval score`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bench::{Benchmark, Metrics, ScoredItem, benchmark, metrics_with_failures, units};
use crate::bias::{BiasRow, bias_rows, bias_table, write_bias_plot};
use crate::error::{EvalError, Result};
use crate::item::Bench;
use crate::records::{GenerationRecord, RunDir, write_json, write_jsonl};

/// `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricsFile {
    pub bench: Bench,
    /// The pinned protocol that scored the run.
    pub protocol: String,
    pub model: String,
    /// The key of `metrics` that leads comparisons.
    pub headline: String,
    pub metrics: Metrics,
    pub items: usize,
    pub extraction_failures: usize,
    /// Rows of the benchmark files that were skipped as bad (0 when re-scoring).
    #[serde(default)]
    pub skipped_rows: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub yes_bias: Vec<BiasRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Scores each record under the benchmark's pinned protocol.
pub fn score_records(bench: &dyn Benchmark, records: &[GenerationRecord]) -> Vec<ScoredItem> {
    records
        .iter()
        .map(|r| {
            let e = bench.extract(&r.gold, &r.info, &r.output);
            ScoredItem {
                id: r.id.clone(),
                gold: r.gold.clone(),
                pred: e.pred,
                extracted: e.extracted,
                correct: e.correct,
                info: r.info.clone(),
            }
        })
        .collect()
}

/// Computes the metrics of scored items.
pub fn compute_metrics(bench: &dyn Benchmark, scored: &[ScoredItem]) -> Metrics {
    let us = units(bench, scored);
    let refs: Vec<_> = us.iter().collect();
    metrics_with_failures(bench, &refs)
}

/// What to record besides the scores.
#[derive(Debug, Clone, Default)]
pub struct ScoreContext {
    pub skipped_rows: usize,
    /// Where the records came from, for error messages (default: the run's generations.jsonl).
    pub source: Option<std::path::PathBuf>,
    pub notes: Vec<String>,
}

/// Scores `records` (all of `bench`) and writes `scores.jsonl`, `metrics.json` and, for
/// yes/no benchmarks, `yes_bias.md` and `yes_bias.png` into `dir`.
pub fn write_scores(
    bench: Bench,
    records: &[GenerationRecord],
    dir: &RunDir,
    ctx: ScoreContext,
) -> Result<MetricsFile> {
    let b = benchmark(bench);
    std::fs::create_dir_all(&dir.dir).map_err(|e| EvalError::io(&dir.dir, e))?;
    // Later records win: a re-run of an item replaces its earlier generation.
    let mut latest: BTreeMap<&str, &GenerationRecord> = BTreeMap::new();
    let mut order = Vec::new();
    for (line, r) in records.iter().enumerate() {
        if r.bench != bench {
            return Err(EvalError::WrongBench {
                path: ctx.source.clone().unwrap_or_else(|| dir.generations()),
                line: line + 1,
                found: r.bench.to_string(),
                expected: bench.to_string(),
            });
        }
        if latest.insert(&r.id, r).is_none() {
            order.push(r.id.as_str());
        }
    }
    let unique: Vec<GenerationRecord> = order.iter().map(|id| latest[id].clone()).collect();
    let mut notes = ctx.notes;
    let old: Vec<&str> = unique
        .iter()
        .map(|r| r.protocol.as_str())
        .filter(|p| *p != b.protocol())
        .collect();
    if let Some(p) = old.first() {
        let made = if p.is_empty() {
            "without a protocol name (converted from another harness?)".to_string()
        } else {
            format!("under protocol {p}")
        };
        notes.push(format!(
            "{} generation(s) were made {made}; scored under {}",
            old.len(),
            b.protocol()
        ));
    }
    let scored = score_records(b, &unique);
    write_jsonl(&dir.scores(), &scored)?;
    let metrics = compute_metrics(b, &scored);
    let yes_bias = bias_rows(b, &scored);
    if !yes_bias.is_empty() {
        let model = unique.first().map(|r| r.model.as_str()).unwrap_or("");
        let table = bias_table(&yes_bias);
        crate::records::write_atomic(
            &dir.bias_table(),
            format!("# Yes-bias: {bench} ({model})\n\n{table}").as_bytes(),
        )?;
        if let Err(e) = write_bias_plot(&yes_bias, &format!("Yes-bias: {bench}"), &dir.bias_plot())
        {
            // A missing font must not cost the scores: the table has the same numbers.
            tracing::warn!("yes-bias plot not written: {e}");
            notes.push(format!("yes-bias plot not written: {e}"));
        }
    }
    let file = MetricsFile {
        bench,
        protocol: b.protocol().to_string(),
        model: unique.first().map(|r| r.model.clone()).unwrap_or_default(),
        headline: b.headline().to_string(),
        items: scored.len(),
        extraction_failures: scored.iter().filter(|s| !s.extracted).count(),
        metrics,
        skipped_rows: ctx.skipped_rows,
        yes_bias,
        notes,
    };
    write_json(&dir.metrics(), &file)?;
    Ok(file)
}

/// A short human-readable summary of a metrics file.
pub fn summary(file: &MetricsFile) -> String {
    let b = benchmark(file.bench);
    let mut out = format!("{} ({}), {} items", file.bench, file.protocol, file.items);
    for key in b.summary_keys() {
        if let Some(v) = file.metrics.get(key) {
            out.push_str(&format!(", {key} {:.2}%", v * 100.0));
        }
    }
    let rate = file
        .metrics
        .get("extraction_failure_rate")
        .copied()
        .unwrap_or(0.0);
    out.push_str(&format!(", extraction failures {:.2}%", rate * 100.0));
    out
}
