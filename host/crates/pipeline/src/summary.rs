//! The run summary: counts by category and by drop/failure reason, and the bias means of
//! what was written. Built from the ledger, so a resumed run reports the whole run, and
//! free of timings, so an interrupted + resumed run summarises exactly like an
//! uninterrupted one.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ledger::LedgerRow;

/// Per-category outcome counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryCounts {
    pub written: u64,
    pub failed: u64,
    pub skipped: u64,
}

/// What a generation run did, written to `OUT.summary.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// `rule` or the editor model.
    pub editor: String,
    /// Single-turn units read from the inputs.
    pub units_read: u64,
    /// Input problems reported by the readers and skipped (`malformed`, …).
    pub input_errors: BTreeMap<String, u64>,
    /// Where the first input problems are (`file:line: reason: detail`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_issues: Vec<String>,
    /// Stage 1 drops by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Units that passed Stage 1 (after `--limit`).
    pub eligible: u64,
    pub written: u64,
    pub failed: u64,
    pub skipped: u64,
    /// Failures by reason (`validation:<validator>`, `refused`, `editor_error`, …).
    pub failures: BTreeMap<String, u64>,
    /// Skips by reason (`category_not_selected`).
    pub skips: BTreeMap<String, u64>,
    pub by_category: BTreeMap<String, CategoryCounts>,
    /// How categories were decided: `hint`, `fit`, `llm`, `llm_fallback`.
    pub categorised_by: BTreeMap<String, u64>,
    /// Written records that needed more than one attempt.
    pub retried: u64,
    /// Mean |tokens(chosen) − tokens(rejected)| over written records (vapr-text tokens).
    pub mean_token_gap: Option<f64>,
    /// Mean word-level Levenshtein distance over written records.
    pub mean_levenshtein: Option<f64>,
}

impl Summary {
    /// Folds the ledger rows into the summary's outcome fields.
    pub fn add_rows(&mut self, rows: &[LedgerRow]) {
        let (mut gap, mut lev) = (0u64, 0u64);
        for row in rows {
            let cat = row.category.clone().unwrap_or_else(|| "none".into());
            let counts = self.by_category.entry(cat).or_default();
            let reason = row.reason.clone().unwrap_or_default();
            match row.status.as_str() {
                "written" => {
                    self.written += 1;
                    counts.written += 1;
                    gap += row.token_gap.unwrap_or(0);
                    lev += row.levenshtein.unwrap_or(0);
                    if row.attempts > 1 {
                        self.retried += 1;
                    }
                }
                "skipped" => {
                    self.skipped += 1;
                    counts.skipped += 1;
                    *self.skips.entry(reason).or_default() += 1;
                }
                _ => {
                    self.failed += 1;
                    counts.failed += 1;
                    *self.failures.entry(reason).or_default() += 1;
                }
            }
            if let Some(how) = &row.decided_by {
                *self
                    .categorised_by
                    .entry(decision_kind(how).into())
                    .or_default() += 1;
            }
        }
        if self.written > 0 {
            self.mean_token_gap = Some(gap as f64 / self.written as f64);
            self.mean_levenshtein = Some(lev as f64 / self.written as f64);
        }
    }
}

/// `fit:counting=0.83` -> `fit`; `fit:… (llm fallback: …)` -> `llm_fallback`.
fn decision_kind(decided_by: &str) -> &'static str {
    if decided_by.contains("llm fallback") {
        "llm_fallback"
    } else if decided_by.starts_with("llm:") {
        "llm"
    } else if decided_by.starts_with("fit:") {
        "fit"
    } else {
        "hint"
    }
}

fn counts_line(map: &BTreeMap<String, u64>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "editor:        {}", self.editor)?;
        writeln!(f, "units read:    {}", self.units_read)?;
        writeln!(f, "input errors:  {}", counts_line(&self.input_errors))?;
        writeln!(f, "dropped:       {}", counts_line(&self.dropped))?;
        writeln!(f, "eligible:      {}", self.eligible)?;
        writeln!(
            f,
            "written:       {} ({} after a retry)   failed: {}   skipped: {}",
            self.written, self.retried, self.failed, self.skipped
        )?;
        writeln!(f, "failures:      {}", counts_line(&self.failures))?;
        writeln!(f, "categorised:   {}", counts_line(&self.categorised_by))?;
        writeln!(
            f,
            "{:<13}  {:>7} {:>6} {:>7}",
            "category", "written", "failed", "skipped"
        )?;
        for (cat, c) in &self.by_category {
            writeln!(
                f,
                "{cat:<13}  {:>7} {:>6} {:>7}",
                c.written, c.failed, c.skipped
            )?;
        }
        let mean = |m: Option<f64>| m.map_or("-".to_string(), |v| format!("{v:.2}"));
        write!(
            f,
            "mean token gap {}   mean word Levenshtein {}",
            mean(self.mean_token_gap),
            mean(self.mean_levenshtein)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        status: &str,
        category: &str,
        reason: Option<&str>,
        gap: u64,
        lev: u64,
        attempts: u32,
        how: &str,
    ) -> LedgerRow {
        LedgerRow {
            seq: 0,
            id: "x".into(),
            status: status.into(),
            category: Some(category.into()),
            reason: reason.map(Into::into),
            detail: None,
            offset_end: 0,
            token_gap: Some(gap),
            levenshtein: Some(lev),
            attempts,
            decided_by: Some(how.into()),
        }
    }

    #[test]
    fn folds_rows_into_counts_and_means() {
        let mut s = Summary::default();
        s.add_rows(&[
            row("written", "color", None, 1, 2, 1, "hint"),
            row("written", "color", None, 3, 6, 2, "fit:color=0.90"),
            row(
                "failed",
                "counting",
                Some("validation:length-gap"),
                0,
                0,
                3,
                "fit:counting=0.80",
            ),
            row(
                "skipped",
                "size",
                Some("category_not_selected"),
                0,
                0,
                0,
                "llm:gpt-4o",
            ),
        ]);
        assert_eq!((s.written, s.failed, s.skipped, s.retried), (2, 1, 1, 1));
        assert_eq!(s.mean_token_gap, Some(2.0));
        assert_eq!(s.mean_levenshtein, Some(4.0));
        assert_eq!(s.failures["validation:length-gap"], 1);
        assert_eq!(
            s.by_category["color"],
            CategoryCounts {
                written: 2,
                failed: 0,
                skipped: 0
            }
        );
        assert_eq!(s.categorised_by["fit"], 2);
        assert_eq!(s.categorised_by["llm"], 1);
        let text = s.to_string();
        assert!(text.contains("mean token gap 2.00"), "{text}");
    }
}
