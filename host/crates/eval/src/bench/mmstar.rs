//! MMStar, protocol `mmstar/official-v1`.
//!
//! - Prompt (lmms-eval `mmstar`): `question.strip()` + `"\nAnswer with the option's letter from
//!   the given choices directly"` (no final period, as upstream).
//! - Decoding: greedy, `max_new_tokens = 128`, stop at `"\n\n"` (lmms-eval defaults for Qwen2-VL).
//! - Extraction: the official first-character matcher (MMStar `eval/vlmeval/evaluate/mmstar.py`):
//!   on the lower-cased, stripped output the item is correct if `pred[0] == gt`, or
//!   `pred[0] == "("` and `pred[1] == gt`, or it starts with `"option "` or `"the answer is "`
//!   followed by gt. Nothing else counts.
//! - Metric: micro overall accuracy, per category and per l2 category (official and
//!   VLMEvalKit; lmms-eval macro-averages l2 means, which is a different number).

use super::{
    Benchmark, Extracted, LoadReport, Metrics, ScoredItem, Tally, Unit, letters, load_rows,
};
use crate::error::Result;
use crate::item::{Bench, GenParams, Item, ItemInfo};
use crate::table::Row;

const SUFFIX: &str = "\nAnswer with the option's letter from the given choices directly";

/// MMStar under the official matcher.
pub struct MmStar;

impl Benchmark for MmStar {
    fn bench(&self) -> Bench {
        Bench::Mmstar
    }
    fn protocol(&self) -> &'static str {
        "mmstar/official-v1"
    }
    fn gen_params(&self) -> GenParams {
        GenParams {
            max_new_tokens: 128,
            stop: vec!["\n\n".into()],
        }
    }
    fn headline(&self) -> &'static str {
        "overall"
    }
    fn resampling(&self) -> &'static str {
        "items, stratified by category"
    }
    fn summary_keys(&self) -> Vec<&'static str> {
        vec!["overall"]
    }

    fn load(&self, rows: &[Row]) -> Result<LoadReport> {
        Ok(load_rows(rows, |row| build(row).map(|i| vec![i])))
    }

    fn extract(&self, gold: &str, info: &ItemInfo, output: &str) -> Extracted {
        let n = info.n_choices.map_or(4, usize::from);
        let candidates = official_candidates(output);
        let valid: Vec<char> = candidates
            .into_iter()
            .map(|c| c.to_ascii_uppercase())
            .filter(|c| letters(n).any(|l| l == *c))
            .collect();
        let gold_c = gold.chars().next().unwrap_or(' ');
        let correct = valid.contains(&gold_c);
        let pred = if correct {
            Some(gold_c)
        } else {
            valid.first().copied()
        };
        Extracted {
            pred: pred.map(String::from),
            extracted: pred.is_some(),
            correct,
        }
    }

    fn unit_of(&self, item: &ScoredItem) -> (String, String) {
        (
            item.id.clone(),
            item.info.category.clone().unwrap_or_default(),
        )
    }

    fn metrics(&self, units: &[&Unit<'_>]) -> Metrics {
        let (mut all, mut cat, mut l2) = (Tally::default(), Tally::default(), Tally::default());
        for item in units.iter().flat_map(|u| u.items.iter()) {
            all.add("overall", item.correct);
            if let Some(c) = &item.info.category {
                cat.add(c, item.correct);
            }
            if let Some(c) = &item.info.l2_category {
                l2.add(c, item.correct);
            }
        }
        let mut m = Metrics::new();
        all.write("", &mut m);
        cat.write("category/", &mut m);
        l2.write("l2/", &mut m);
        m
    }
}

/// The characters the official matcher compares with the gold letter.
fn official_candidates(output: &str) -> Vec<char> {
    let pred = output.trim().to_lowercase();
    let chars: Vec<char> = pred.chars().collect();
    let mut out = Vec::new();
    if let Some(&c) = chars.first() {
        out.push(c);
        if c == '(' {
            out.extend(chars.get(1));
        }
    }
    for prefix in ["option ", "the answer is "] {
        if let Some(rest) = pred.strip_prefix(prefix) {
            out.extend(rest.chars().next());
        }
    }
    out
}

fn build(row: &Row) -> Result<Item> {
    let id = row.str(&["index"])?;
    let images = row.images(&["image"])?;
    let mut question = row.str(&["question"])?.trim().to_string();
    // VLMEvalKit's MMStar.tsv keeps options in A..D columns; the HF file has them inline.
    let options: Vec<(char, String)> = letters(4)
        .filter_map(|l| {
            row.opt_str(&[l.to_string().as_str()])
                .ok()
                .flatten()
                .map(|t| (l, t))
        })
        .collect();
    if !options.is_empty() && !question.contains("Options:") {
        let list: Vec<String> = options.iter().map(|(l, t)| format!("{l}: {t}")).collect();
        question = format!("{question}\nOptions: {}", list.join(", "));
    }
    let answer = row.str(&["answer"])?;
    let gold = answer.trim().to_ascii_uppercase();
    if !matches!(gold.as_str(), "A" | "B" | "C" | "D") {
        return Err(row.error(format!("answer {answer:?} is not one of A-D")));
    }
    Ok(Item {
        id,
        prompt: format!("{question}{SUFFIX}"),
        images,
        gold,
        info: ItemInfo {
            index: row.opt_str(&["index"])?,
            category: Some(row.str(&["category"])?),
            l2_category: row.opt_str(&["l2_category", "l2-category"])?,
            n_choices: Some(4),
            ..ItemInfo::default()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge(output: &str, gold: &str) -> Extracted {
        MmStar.extract(gold, &ItemInfo::default(), output)
    }

    #[test]
    fn test_official_matcher_accepts_only_its_forms() {
        assert!(judge("B", "B").correct);
        assert!(judge("b. The suitcase", "B").correct);
        assert!(judge("(C) the cat", "C").correct);
        assert!(judge("  Option D", "D").correct);
        assert!(judge("The answer is A.", "A").correct);
        // Anything else is wrong, even when the right letter is in there.
        assert!(!judge("I think it is B", "B").correct);
        assert!(!judge("The correct option is (B)", "B").correct);
        // The matcher's quirk: an output starting with the article "a" matches gold A.
        assert!(judge("a cat on a mat", "A").correct);
    }

    #[test]
    fn test_failure_when_no_letter_can_be_read() {
        let e = judge("It is the suitcase.", "B");
        assert!(!e.extracted && !e.correct && e.pred.is_none());
        let e = judge("C", "B");
        assert_eq!(
            (e.pred.as_deref(), e.extracted, e.correct),
            (Some("C"), true, false)
        );
    }
}
