//! The summary table `vapr quickstart` prints when it finishes: one aligned row per model.

use super::analysis::reward_summary;
use super::format::{MISSING, opt_pct, pct};
use super::results::QuickstartResults;

const HEADER: [&str; 7] = [
    "model",
    "trained on",
    "overall",
    "binary",
    "short",
    "yes-rate vs true",
    "final reward acc",
];

/// Columns 0 and 1 are text (left-aligned); the rest are numbers (right-aligned).
const TEXT_COLUMNS: usize = 2;

/// The terminal table: model, pair set it was trained on, accuracy overall / binary /
/// short, yes-rate against the true yes-rate, and the final DPO reward accuracy (mean of
/// the last tenth of the logged steps; `–` for models not trained with DPO). Rates are
/// percentages with one decimal. Ends with a newline.
pub fn summary_table(results: &QuickstartResults) -> String {
    let truth = pct(results.eval.true_yes_rate);
    let rows: Vec<[String; 7]> = results
        .models
        .iter()
        .map(|m| {
            [
                m.name.clone(),
                m.trained_on.clone().unwrap_or_else(|| MISSING.to_string()),
                pct(m.accuracy),
                pct(m.binary_accuracy),
                pct(m.short_accuracy),
                format!("{} vs {truth}", pct(m.yes_rate)),
                opt_pct(reward_summary(&m.train_log).map(|s| s.final_accuracy)),
            ]
        })
        .collect();
    let mut widths = HEADER.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                let pad = " ".repeat(w - cell.chars().count());
                if i < TEXT_COLUMNS {
                    format!("{cell}{pad}")
                } else {
                    format!("{pad}{cell}")
                }
            })
            .collect();
        out.push_str(parts.join("  ").trim_end());
        out.push('\n');
    };
    line(&HEADER.map(String::from));
    line(&widths.map(|w| "-".repeat(w)));
    for row in &rows {
        line(row);
    }
    out
}
