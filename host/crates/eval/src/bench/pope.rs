//! POPE, protocol `pope/official-v1`.
//!
//! - Prompt: `question + "\nAnswer the question using a single word or phrase."` (lmms-eval and
//!   the LLaVA scripts).
//! - Decoding: greedy, `max_new_tokens = 128`.
//! - Extraction: the official parser (RUCAIBox/POPE `evaluate.py`, LLaVA `eval_pope.py`): keep
//!   the text before the first ".", drop commas, split on single spaces; the tokens `No`, `no`
//!   or `not` mean no, anything else yes.
//! - Metrics, positive = yes, per split (adversarial, popular, random) and averaged over the
//!   splits present: accuracy, precision, recall, F1, and the predicted-yes ratio (not the gold
//!   one, which lmms-eval reports under that name). Headline: F1 averaged over splits, as
//!   LLaVA-1.5 reports it.

use std::collections::BTreeMap;

use super::{Benchmark, Extracted, LoadReport, Metrics, ScoredItem, Unit, load_rows, ratio};
use crate::error::Result;
use crate::item::{Bench, GenParams, Item, ItemInfo};
use crate::table::Row;

const SUFFIX: &str = "\nAnswer the question using a single word or phrase.";

/// POPE under the official parser.
pub struct Pope;

impl Benchmark for Pope {
    fn bench(&self) -> Bench {
        Bench::Pope
    }
    fn protocol(&self) -> &'static str {
        "pope/official-v1"
    }
    fn gen_params(&self) -> GenParams {
        GenParams {
            max_new_tokens: 128,
            stop: Vec::new(),
        }
    }
    fn headline(&self) -> &'static str {
        "f1"
    }
    fn resampling(&self) -> &'static str {
        "questions, stratified by split"
    }
    fn summary_keys(&self) -> Vec<&'static str> {
        vec!["f1", "accuracy", "precision", "recall", "yes_ratio"]
    }

    fn load(&self, rows: &[Row]) -> Result<LoadReport> {
        Ok(load_rows(rows, build))
    }

    fn extract(&self, gold: &str, _info: &ItemInfo, output: &str) -> Extracted {
        let (yes, explicit) = pope_parse(output);
        let pred = if yes { "yes" } else { "no" };
        Extracted {
            pred: Some(pred.to_string()),
            extracted: explicit,
            correct: pred == gold,
        }
    }

    fn unit_of(&self, item: &ScoredItem) -> (String, String) {
        (item.id.clone(), item.info.split.clone().unwrap_or_default())
    }

    fn metrics(&self, units: &[&Unit<'_>]) -> Metrics {
        // Confusion counts per split: [tp, fp, tn, fn].
        let mut per: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
        for item in units.iter().flat_map(|u| u.items.iter()) {
            let split = item.info.split.as_deref().unwrap_or("all");
            let c = per.entry(split).or_default();
            let (p, g) = (item.pred.as_deref() == Some("yes"), item.gold == "yes");
            c[match (p, g) {
                (true, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (false, true) => 3,
            }] += 1;
        }
        let mut m = Metrics::new();
        let names = [
            "accuracy",
            "precision",
            "recall",
            "f1",
            "yes_ratio",
            "true_yes_ratio",
        ];
        let mut sums = [0.0; 6];
        for (split, [tp, fp, tn, fn_]) in &per {
            let n = tp + fp + tn + fn_;
            let p = ratio(*tp, tp + fp);
            let r = ratio(*tp, tp + fn_);
            let f1 = if p + r > 0.0 {
                2.0 * p * r / (p + r)
            } else {
                0.0
            };
            let values = [
                ratio(tp + tn, n),
                p,
                r,
                f1,
                ratio(tp + fp, n),
                ratio(tp + fn_, n),
            ];
            for (k, v) in names.iter().zip(values) {
                m.insert(format!("{split}/{k}"), v);
            }
            for (s, v) in sums.iter_mut().zip(values) {
                *s += v;
            }
        }
        if !per.is_empty() {
            for (k, s) in names.iter().zip(sums) {
                m.insert((*k).to_string(), s / per.len() as f64);
            }
        }
        m
    }

    fn is_yes_no(&self, _item: &ScoredItem) -> bool {
        true
    }
}

/// The official POPE parser. Returns (answer is yes, the first sentence said yes/no/not
/// explicitly); the second is false where the parser fell back to its default "yes".
pub fn pope_parse(output: &str) -> (bool, bool) {
    let first = output.split('.').next().unwrap_or("");
    let text = first.replace(',', "");
    let words: Vec<&str> = text.split(' ').collect();
    let no = words.iter().any(|w| matches!(*w, "No" | "no" | "not"));
    let explicit = no
        || words.iter().any(|w| {
            let w = w
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase();
            matches!(w.as_str(), "yes" | "no" | "not")
        });
    (!no, explicit)
}

fn build(row: &Row) -> Result<Vec<Item>> {
    let qid = row.str(&["question_id", "id", "index"])?;
    let question = row.str(&["question"])?;
    let images = row.images(&["image"])?;
    let answer = row.str(&["answer"])?;
    let gold = match answer.trim().to_ascii_lowercase().trim_end_matches('.') {
        "yes" => "yes",
        "no" => "no",
        _ => return Err(row.error(format!("answer {answer:?} is not yes/no"))),
    };
    // VLMEvalKit stores shared questions once with `category` as a comma list: explode it.
    let category = row.str(&["category"])?;
    let splits: Vec<String> = category
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    Ok(splits
        .into_iter()
        .map(|split| Item {
            id: format!("{split}/{qid}"),
            prompt: format!("{question}{SUFFIX}"),
            images: images.clone(),
            gold: gold.to_string(),
            info: ItemInfo {
                index: Some(qid.clone()),
                split: Some(split),
                ..ItemInfo::default()
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::units;

    #[test]
    fn test_official_parser_edge_cases() {
        assert_eq!(pope_parse("Yes."), (true, true));
        assert_eq!(pope_parse("Yes, there is a dog."), (true, true));
        assert_eq!(pope_parse("There is no dog in the image."), (false, true));
        assert_eq!(pope_parse("No"), (false, true));
        assert_eq!(pope_parse("not sure"), (false, true));
        // Only the first sentence counts.
        assert_eq!(pope_parse("There is a cat. No dog."), (true, false));
        // Commas are dropped, so "no," is the token "no".
        assert_eq!(pope_parse("no, there is none"), (false, true));
        // Upstream quirks kept on purpose: exact-case tokens, split on single spaces.
        assert_eq!(
            pope_parse("NO"),
            (true, true),
            "'NO' is not one of No/no/not"
        );
        assert_eq!(pope_parse("Maybe"), (true, false), "fallback is yes");
        assert_eq!(
            pope_parse("There is no…"),
            (true, true),
            "'no…' is not the token 'no'"
        );
    }

    #[test]
    fn test_metrics_per_split_and_true_yes_ratio() {
        let mk = |id: &str, split: &str, gold: &str, pred: &str| ScoredItem {
            id: id.into(),
            gold: gold.into(),
            pred: Some(pred.into()),
            extracted: true,
            correct: gold == pred,
            info: ItemInfo {
                split: Some(split.into()),
                ..ItemInfo::default()
            },
        };
        let items = vec![
            // random: tp, fp, tn, tn → acc .75, P .5, R 1, F1 2/3, yes ratio .5
            mk("1", "random", "yes", "yes"),
            mk("2", "random", "no", "yes"),
            mk("3", "random", "no", "no"),
            mk("4", "random", "no", "no"),
            // popular: all yes on 1 yes/1 no → acc .5, P .5, R 1, F1 2/3, yes ratio 1
            mk("5", "popular", "yes", "yes"),
            mk("6", "popular", "no", "yes"),
        ];
        let us = units(&Pope, &items);
        let refs: Vec<&Unit> = us.iter().collect();
        let m = Pope.metrics(&refs);
        assert_eq!(m["random/accuracy"], 0.75);
        assert!((m["random/f1"] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m["popular/yes_ratio"], 1.0);
        assert_eq!(m["random/true_yes_ratio"], 0.25);
        assert_eq!(m["yes_ratio"], 0.75);
        assert_eq!(m["accuracy"], 0.625);
    }
}
