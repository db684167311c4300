//! CV-Bench (Cambrian-1), protocol `cvbench/cambrian-v1`.
//!
//! - Prompt: the dataset's ready-made `prompt` + `"\nAnswer with the option's letter from the
//!   given choices directly."` (cambrian-mllm/cambrian `eval/eval/{ade,coco,omni}`).
//! - Decoding: greedy, `max_new_tokens = 512`, no stop string.
//! - Extraction (Cambrian): lower-case; keep the text after the last "answer is" / "answer:";
//!   strip; drop a trailing "." and surrounding parentheses; the first character is the letter.
//! - Metric: composite = (2D + 3D) / 2 with 2D = mean(acc ADE20K, acc COCO) and 3D = acc Omni3D
//!   (Cambrian paper App. C); plain micro accuracy alongside.

use super::{
    Benchmark, Extracted, LoadReport, Metrics, ScoredItem, Tally, Unit, gold_letter, letters,
    load_rows,
};
use crate::error::Result;
use crate::item::{Bench, GenParams, Item, ItemInfo};
use crate::table::Row;

const SUFFIX: &str = "\nAnswer with the option's letter from the given choices directly.";
const SOURCES_2D: [&str; 2] = ["ADE20K", "COCO"];
const SOURCE_3D: &str = "Omni3D";

/// CV-Bench under the Cambrian protocol.
pub struct CvBench;

impl Benchmark for CvBench {
    fn bench(&self) -> Bench {
        Bench::Cvbench
    }
    fn protocol(&self) -> &'static str {
        "cvbench/cambrian-v1"
    }
    fn gen_params(&self) -> GenParams {
        GenParams {
            max_new_tokens: 512,
            stop: Vec::new(),
        }
    }
    fn headline(&self) -> &'static str {
        "composite"
    }
    fn resampling(&self) -> &'static str {
        "items, stratified by source (ADE20K, COCO, Omni3D)"
    }
    fn summary_keys(&self) -> Vec<&'static str> {
        vec!["composite", "accuracy", "2d", "3d"]
    }

    fn load(&self, rows: &[Row]) -> Result<LoadReport> {
        Ok(load_rows(rows, |row| build(row).map(|i| vec![i])))
    }

    fn extract(&self, gold: &str, info: &ItemInfo, output: &str) -> Extracted {
        let n = info.n_choices.map_or(26, usize::from);
        let pred = cambrian_letter(output).filter(|c| letters(n).any(|l| l == *c));
        Extracted {
            correct: pred.is_some_and(|c| gold.starts_with(c)),
            extracted: pred.is_some(),
            pred: pred.map(String::from),
        }
    }

    fn unit_of(&self, item: &ScoredItem) -> (String, String) {
        (
            item.id.clone(),
            item.info.source.clone().unwrap_or_default(),
        )
    }

    fn metrics(&self, units: &[&Unit<'_>]) -> Metrics {
        let (mut by_source, mut by_task, mut all) =
            (Tally::default(), Tally::default(), Tally::default());
        for item in units.iter().flat_map(|u| u.items.iter()) {
            by_source.add(
                item.info.source.as_deref().unwrap_or("unknown"),
                item.correct,
            );
            if let Some(task) = &item.info.task {
                by_task.add(task, item.correct);
            }
            all.add("accuracy", item.correct);
        }
        let mut m = Metrics::new();
        all.write("", &mut m);
        by_source.write("source/", &mut m);
        by_task.write("task/", &mut m);
        // With a partial run (--limit) a part may be missing: average what is there.
        let parts_2d: Vec<f64> = SOURCES_2D.iter().filter_map(|s| by_source.acc(s)).collect();
        let d2 =
            (!parts_2d.is_empty()).then(|| parts_2d.iter().sum::<f64>() / parts_2d.len() as f64);
        let d3 = by_source.acc(SOURCE_3D);
        if let Some(v) = d2 {
            m.insert("2d".into(), v);
        }
        if let Some(v) = d3 {
            m.insert("3d".into(), v);
        }
        let parts: Vec<f64> = [d2, d3].into_iter().flatten().collect();
        if !parts.is_empty() {
            m.insert(
                "composite".into(),
                parts.iter().sum::<f64>() / parts.len() as f64,
            );
        }
        m
    }
}

fn build(row: &Row) -> Result<Item> {
    let id = row.str(&["idx", "index"])?;
    let images = row.images(&["image"])?;
    let source = row.str(&["source"])?;
    let choices = if row.has(&["choices"]) {
        row.str_list(&["choices"])?
    } else {
        // VLMEvalKit layout: one column per option.
        letters(8)
            .map_while(|l| row.opt_str(&[l.to_string().as_str()]).ok().flatten())
            .collect()
    };
    let prompt = match row.opt_str(&["prompt"])? {
        Some(p) => p,
        None => {
            let question = row.str(&["question"])?;
            let options: Vec<String> = letters(choices.len())
                .zip(&choices)
                .map(|(l, c)| format!("({l}) {c}"))
                .collect();
            format!(
                "{question} Select from the following choices.\n{}",
                options.join("\n")
            )
        }
    };
    let answer = row.str(&["answer"])?;
    let gold = gold_letter(&answer)
        .ok_or_else(|| row.error(format!("answer {answer:?} is not a letter like \"(A)\"")))?;
    if !choices.is_empty() && !letters(choices.len()).any(|l| l == gold) {
        return Err(row.error(format!(
            "answer {answer:?} is outside the {} choices",
            choices.len()
        )));
    }
    Ok(Item {
        id,
        prompt: format!("{prompt}{SUFFIX}"),
        images,
        gold: gold.to_string(),
        info: ItemInfo {
            index: row.opt_str(&["idx", "index"])?,
            source: Some(source),
            kind: row.opt_str(&["type"])?,
            task: row.opt_str(&["task", "category"])?,
            n_choices: (!choices.is_empty()).then_some(choices.len() as u8),
            ..ItemInfo::default()
        },
    })
}

/// Cambrian's extraction: returns the upper-cased first character after the last answer
/// marker, with a trailing period and surrounding parentheses removed.
pub(crate) fn cambrian_letter(output: &str) -> Option<char> {
    let lower = output.to_lowercase();
    let after = ["answer is", "answer:"]
        .iter()
        .filter_map(|m| lower.rfind(m).map(|at| at + m.len()))
        .max()
        .unwrap_or(0);
    let mut text = lower[after..].trim();
    text = text.strip_suffix('.').unwrap_or(text);
    text = text.strip_prefix('(').unwrap_or(text);
    text = text.strip_suffix(')').unwrap_or(text);
    text.chars().next().map(|c| c.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::units;

    fn judge(output: &str, gold: &str) -> Extracted {
        let info = ItemInfo {
            n_choices: Some(4),
            ..ItemInfo::default()
        };
        CvBench.extract(gold, &info, output)
    }

    #[test]
    fn test_cambrian_extraction_forms() {
        assert_eq!(judge("B", "B").pred.as_deref(), Some("B"));
        assert!(judge("(B) 2", "B").correct);
        assert!(judge("(c).", "C").correct);
        assert!(judge("I think the answer is (D).", "D").correct);
        assert!(judge("Answer: a", "A").correct);
        // The first character decides: a chatty start is read as its first letter.
        let e = judge("There are two chairs.", "B");
        assert!(!e.extracted && !e.correct, "'t' is not one of 4 options");
        assert!(!judge("", "A").extracted);
    }

    #[test]
    fn test_composite_is_mean_of_2d_and_3d() {
        let mk = |id: &str, source: &str, correct: bool| ScoredItem {
            id: id.into(),
            gold: "A".into(),
            pred: Some("A".into()),
            extracted: true,
            correct,
            info: ItemInfo {
                source: Some(source.into()),
                ..ItemInfo::default()
            },
        };
        // ADE20K 1/2, COCO 1/1, Omni3D 0/1: 2D = 0.75, 3D = 0, composite 0.375, micro 0.5.
        let items = vec![
            mk("1", "ADE20K", true),
            mk("2", "ADE20K", false),
            mk("3", "COCO", true),
            mk("4", "Omni3D", false),
        ];
        let us = units(&CvBench, &items);
        let refs: Vec<&Unit> = us.iter().collect();
        let m = CvBench.metrics(&refs);
        assert_eq!(m["2d"], 0.75);
        assert_eq!(m["3d"], 0.0);
        assert_eq!(m["composite"], 0.375);
        assert_eq!(m["accuracy"], 0.5);
        assert_eq!(us[3].stratum, "Omni3D");
    }
}
