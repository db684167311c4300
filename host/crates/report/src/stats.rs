//! The paper's bias statistics of a preference dataset (VaPR §2): how often the chosen
//! answer is longer or shorter than the rejected one, by how many tokens, and how far
//! apart the two are in word-level edit distance — over all pairs, short pairs and long
//! pairs.
//!
//! Choices the paper leaves open, fixed here (documented in `docs/data.md`):
//! - **Tokens** are [`vapr_text::token_count`]: words, numbers and punctuation marks. It is
//!   tokenizer-free, so the numbers do not depend on a model's vocabulary and plugins (which
//!   share vapr-text) measure exactly what the statistics measure.
//! - **Levenshtein** is [`vapr_text::levenshtein_words`], over the same tokens.
//! - **Buckets** go by the *chosen* answer's length: short < [`LONG_TOKENS`] ≤ long. The
//!   chosen answer is the ground truth shared by every way of making a rejected answer,
//!   so datasets built from the same supervised data bucket identically.
//! - An **empty bucket** (or a direction no pair takes, for the mean deltas) gives `None`
//!   (`null` in JSON, `–` in the table), never a made-up 0.

use std::fmt::Write as _;

use serde::Serialize;
use vapr_core::PreferenceRecord;
use vapr_text::{levenshtein_words, token_count};

/// Chosen answers of this many tokens or more are "long".
pub const LONG_TOKENS: usize = 100;

/// One value per bucket.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Buckets<T> {
    pub all: T,
    pub short: T,
    pub long: T,
}

impl<T> Buckets<T> {
    fn map<U>(&self, f: impl Fn(&T) -> U) -> Buckets<U> {
        Buckets {
            all: f(&self.all),
            short: f(&self.short),
            long: f(&self.long),
        }
    }
}

/// The bias table. Serialises with exactly the keys `vapr stats --json` documents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasStats {
    /// 100 · #{L_c > L_r} / #pairs.
    pub pct_chosen_longer: Buckets<Option<f64>>,
    /// 100 · #{L_r > L_c} / #pairs (ties count in neither).
    pub pct_chosen_shorter: Buckets<Option<f64>>,
    /// Mean of L_c − L_r over pairs with L_c > L_r.
    pub mean_delta_chosen_longer: Buckets<Option<f64>>,
    /// Mean of L_r − L_c over pairs with L_r > L_c.
    pub mean_delta_rejected_longer: Buckets<Option<f64>>,
    /// Mean word-level Levenshtein distance between chosen and rejected.
    pub mean_levenshtein: Buckets<Option<f64>>,
    /// Number of pairs per bucket.
    pub pairs: Buckets<u64>,
}

/// Running sums of one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sums {
    pairs: u64,
    chosen_longer: u64,
    rejected_longer: u64,
    delta_chosen_longer: u64,
    delta_rejected_longer: u64,
    levenshtein: u64,
    abs_gap: u64,
}

impl Sums {
    fn add(&mut self, lc: usize, lr: usize, lev: usize) {
        self.pairs += 1;
        if lc > lr {
            self.chosen_longer += 1;
            self.delta_chosen_longer += (lc - lr) as u64;
        } else if lr > lc {
            self.rejected_longer += 1;
            self.delta_rejected_longer += (lr - lc) as u64;
        }
        self.levenshtein += lev as u64;
        self.abs_gap += lc.abs_diff(lr) as u64;
    }
}

fn ratio(num: u64, den: u64, scale: f64) -> Option<f64> {
    (den > 0).then(|| scale * num as f64 / den as f64)
}

/// Streaming accumulator: add pairs one by one (constant memory), then [`finish`](Self::finish).
#[derive(Debug, Clone, Default)]
pub struct BiasAccumulator {
    sums: Buckets<Sums>,
}

impl BiasAccumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one (chosen, rejected) pair.
    pub fn add(&mut self, chosen: &str, rejected: &str) {
        let (lc, lr) = (token_count(chosen), token_count(rejected));
        let lev = levenshtein_words(chosen, rejected);
        self.sums.all.add(lc, lr, lev);
        if lc < LONG_TOKENS {
            self.sums.short.add(lc, lr, lev);
        } else {
            self.sums.long.add(lc, lr, lev);
        }
    }

    /// Pairs added so far.
    pub fn pairs(&self) -> u64 {
        self.sums.all.pairs
    }

    /// Mean |L_c − L_r| over all pairs (the paper's "token gap"; not part of the JSON table).
    pub fn mean_abs_token_gap(&self) -> Option<f64> {
        ratio(self.sums.all.abs_gap, self.sums.all.pairs, 1.0)
    }

    pub fn finish(&self) -> BiasStats {
        let s = &self.sums;
        BiasStats {
            pct_chosen_longer: s.map(|b| ratio(b.chosen_longer, b.pairs, 100.0)),
            pct_chosen_shorter: s.map(|b| ratio(b.rejected_longer, b.pairs, 100.0)),
            mean_delta_chosen_longer: s.map(|b| ratio(b.delta_chosen_longer, b.chosen_longer, 1.0)),
            mean_delta_rejected_longer: s
                .map(|b| ratio(b.delta_rejected_longer, b.rejected_longer, 1.0)),
            mean_levenshtein: s.map(|b| ratio(b.levenshtein, b.pairs, 1.0)),
            pairs: s.map(|b| b.pairs),
        }
    }
}

/// Statistics of (chosen, rejected) pairs.
pub fn bias_stats<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> BiasStats {
    let mut acc = BiasAccumulator::new();
    for (c, r) in pairs {
        acc.add(c, r);
    }
    acc.finish()
}

/// Statistics of preference records (what the quickstart report calls per pair set).
pub fn bias_stats_of_records(records: &[PreferenceRecord]) -> BiasStats {
    bias_stats(
        records
            .iter()
            .map(|r| (r.chosen.as_str(), r.rejected.as_str())),
    )
}

fn cell(v: Option<f64>, suffix: &str) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{v:.2}{suffix}"))
}

impl BiasStats {
    /// The table as Markdown (also readable as plain text).
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| metric | all | short (<{LONG_TOKENS} tok) | long (≥{LONG_TOKENS} tok) |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|");
        let p = &self.pairs;
        let _ = writeln!(out, "| pairs | {} | {} | {} |", p.all, p.short, p.long);
        let rows: [(&str, &Buckets<Option<f64>>, &str); 5] = [
            ("% chosen longer", &self.pct_chosen_longer, "%"),
            ("% chosen shorter", &self.pct_chosen_shorter, "%"),
            (
                "mean Δ tokens, chosen longer",
                &self.mean_delta_chosen_longer,
                "",
            ),
            (
                "mean Δ tokens, rejected longer",
                &self.mean_delta_rejected_longer,
                "",
            ),
            ("mean Levenshtein (words)", &self.mean_levenshtein, ""),
        ];
        for (name, b, suffix) in rows {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} |",
                cell(b.all, suffix),
                cell(b.short, suffix),
                cell(b.long, suffix)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_table() {
        // Token counts: "There are two cats ." = 5.
        let long_chosen = "word ".repeat(120);
        let long_rejected = "word ".repeat(110);
        let pairs = [
            ("There are two cats.", "There are three cats."), // tie, lev 1
            ("The dog is big.", "The dog is very big."),      // rejected longer by 1, lev 1
            ("Yes, it is red.", "No."), // 6 vs 2 tokens: chosen longer by 4, lev 5
            (long_chosen.as_str(), long_rejected.as_str()), // long: chosen longer by 10, lev 10
        ];
        let s = bias_stats(pairs);
        assert_eq!(
            s.pairs,
            Buckets {
                all: 4,
                short: 3,
                long: 1
            }
        );
        assert_eq!(s.pct_chosen_longer.all, Some(50.0));
        assert!((s.pct_chosen_longer.short.unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.pct_chosen_longer.long, Some(100.0));
        assert_eq!(s.pct_chosen_shorter.all, Some(25.0));
        assert_eq!(s.pct_chosen_shorter.long, Some(0.0));
        assert_eq!(s.mean_delta_chosen_longer.all, Some(7.0));
        assert_eq!(s.mean_delta_chosen_longer.short, Some(4.0));
        assert_eq!(s.mean_delta_rejected_longer.all, Some(1.0));
        assert_eq!(
            s.mean_delta_rejected_longer.long, None,
            "no pair in that direction"
        );
        assert_eq!(s.mean_levenshtein.all, Some(17.0 / 4.0));
        assert_eq!(s.mean_levenshtein.short, Some(7.0 / 3.0));
    }

    #[test]
    fn empty_buckets_are_null_and_keys_are_exact() {
        let s = bias_stats([("a b c", "a b d")]);
        let json = serde_json::to_value(&s).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "mean_delta_chosen_longer",
                "mean_delta_rejected_longer",
                "mean_levenshtein",
                "pairs",
                "pct_chosen_longer",
                "pct_chosen_shorter"
            ]
        );
        assert_eq!(json["pct_chosen_longer"]["long"], serde_json::Value::Null);
        assert_eq!(json["pct_chosen_longer"]["all"], 0.0);
        assert_eq!(json["pairs"]["short"], 1);
        assert!(s.to_markdown().contains("| pairs | 1 | 1 | 0 |"));
    }

    #[test]
    fn records_and_accumulator_agree() {
        let recs = vec![
            PreferenceRecord::new("a", None, "q", "There is one cat.", "There are two cats."),
            PreferenceRecord::new("b", None, "q", "It is red.", "It is blue."),
        ];
        let mut acc = BiasAccumulator::new();
        acc.add("There is one cat.", "There are two cats.");
        acc.add("It is red.", "It is blue.");
        assert_eq!(acc.finish(), bias_stats_of_records(&recs));
        assert_eq!(acc.mean_abs_token_gap(), Some(0.0));
        assert_eq!(acc.pairs(), 2);
    }
}
