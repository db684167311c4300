//! MMVP, protocol `mmvp/letter-v1`.
//!
//! - Prompt (lmms-eval, 2026): `Question\nA. opt1\nB. opt2\nAnswer with the option's letter from
//!   the given choices directly.`; options parsed from `"(a) Open (b) Closed"`.
//! - Decoding: greedy, `max_new_tokens = 16`. (Official MMVP samples at T = 0.2 and asks a
//!   GPT-4 judge; neither is reproducible offline.)
//! - Extraction, in order: the whole output is a letter (`B`, `(b)`, `B.`); an upper-case
//!   letter (or any letter in parentheses) at the start; "answer is X" / "option X"; exactly one
//!   option text contained in the output (Cambrian); exactly one distinct standalone upper-case
//!   `A`/`B`. Lower-case bare letters count only in the first form, so the article "a" is not
//!   an answer.
//! - Metrics: pair accuracy (both items of a pair right; the official number) and per-question
//!   accuracy.
//! - Gold corrections: the original `Questions.csv` has the answers of Index 99/100 and 279/280
//!   swapped (tsb0601/MMVP#14, #30; lmms-eval#1018). They are swapped back only when the file
//!   still has the original values — (a),(b) on both pairs, with the expected questions — so a
//!   corrected copy (`lmms-lab-eval/MMVP`) is never flipped back.

use regex::Regex;
use std::sync::LazyLock;

use super::{
    Benchmark, Extracted, LoadReport, Metrics, ScoredItem, Tally, Unit, gold_letter, load_rows,
    ratio,
};
use crate::error::Result;
use crate::item::{Bench, GenParams, Item, ItemInfo};
use crate::table::Row;

const SUFFIX: &str = "\nAnswer with the option's letter from the given choices directly.";

/// The known wrong pairs: 1-based Index of the first item, and a word its question contains.
const CORRECTIONS: [(i64, &str); 2] = [(99, "elephant"), (279, "elderly")];

/// MMVP with a letter prompt.
pub struct Mmvp;

impl Benchmark for Mmvp {
    fn bench(&self) -> Bench {
        Bench::Mmvp
    }
    fn protocol(&self) -> &'static str {
        "mmvp/letter-v1"
    }
    fn gen_params(&self) -> GenParams {
        GenParams {
            max_new_tokens: 16,
            stop: Vec::new(),
        }
    }
    fn headline(&self) -> &'static str {
        "pair_accuracy"
    }
    fn resampling(&self) -> &'static str {
        "pairs"
    }
    fn summary_keys(&self) -> Vec<&'static str> {
        vec!["pair_accuracy", "accuracy"]
    }

    fn load(&self, rows: &[Row]) -> Result<LoadReport> {
        // VLMEvalKit-style files may count from 0; HF and Questions.csv count from 1.
        let zero_based = rows
            .iter()
            .any(|r| r.int(&["Index", "index"]).ok() == Some(0));
        let mut report = load_rows(rows, |row| build(row, zero_based).map(|i| vec![i]));
        apply_corrections(&mut report);
        Ok(report)
    }

    fn extract(&self, gold: &str, info: &ItemInfo, output: &str) -> Extracted {
        let pred = letter_of(output, &info.choices);
        Extracted {
            correct: pred.is_some_and(|p| gold.starts_with(p)),
            extracted: pred.is_some(),
            pred: pred.map(String::from),
        }
    }

    fn unit_of(&self, item: &ScoredItem) -> (String, String) {
        (item.info.group.unwrap_or(-1).to_string(), String::new())
    }

    fn metrics(&self, units: &[&Unit<'_>]) -> Metrics {
        let mut all = Tally::default();
        let (mut pairs, mut pairs_ok) = (0usize, 0usize);
        for unit in units {
            for item in &unit.items {
                all.add("accuracy", item.correct);
            }
            if unit.items.len() == 2 {
                pairs += 1;
                pairs_ok += usize::from(unit.items.iter().all(|i| i.correct));
            }
        }
        let mut m = Metrics::new();
        all.write("", &mut m);
        if pairs > 0 {
            m.insert("pair_accuracy".into(), ratio(pairs_ok, pairs));
        }
        m
    }
}

/// Splits `"(a) Open (b) Closed"` into `["Open", "Closed"]`.
fn parse_options(text: &str) -> Vec<String> {
    static MARK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\(([a-zA-Z])\)").expect("valid regex"));
    let marks: Vec<_> = MARK.find_iter(text).collect();
    marks
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let end = marks.get(k + 1).map_or(text.len(), |n| n.start());
            text[m.end()..end].trim().to_string()
        })
        .collect()
}

fn build(row: &Row, zero_based: bool) -> Result<Item> {
    let index = row.int(&["Index", "index"])?;
    let pos = if zero_based { index } else { index - 1 };
    if pos < 0 {
        return Err(row.error(format!("Index {index} is below 1")));
    }
    let question = row.str(&["Question", "question"])?;
    let options = match row.opt_str(&["Options", "options"])? {
        Some(text) => parse_options(&text),
        None => ["A", "B"]
            .iter()
            .filter_map(|c| row.opt_str(&[*c]).ok().flatten())
            .collect(),
    };
    if options.len() != 2 {
        return Err(row.error(format!("expected 2 options, found {}", options.len())));
    }
    let images = if row.has(&["image", "Image"]) {
        row.images(&["image", "Image"])?
    } else {
        // The official MMVP/MMVP folder: Questions.csv next to "MMVP Images/{Index}.jpg".
        let path = row.resolve(&format!("MMVP Images/{index}.jpg"));
        if !path.exists() {
            return Err(row.error(format!(
                "no image column and no image file {}",
                path.display()
            )));
        }
        vec![crate::image_data::ImageData::File(path)]
    };
    let answer = row.str(&["Correct Answer", "answer", "Answer"])?;
    let gold = gold_letter(&answer)
        .filter(|c| matches!(c, 'A' | 'B'))
        .ok_or_else(|| row.error(format!("answer {answer:?} is not (a)/(b)")))?;
    Ok(Item {
        id: (pos + 1).to_string(),
        prompt: format!("{question}\nA. {}\nB. {}{SUFFIX}", options[0], options[1]),
        images,
        gold: gold.to_string(),
        info: ItemInfo {
            index: Some(index.to_string()),
            group: Some(pos / 2),
            slot: Some((pos % 2) as u8),
            n_choices: Some(2),
            choices: options,
            ..ItemInfo::default()
        },
    })
}

/// Swaps the known wrong golds back, only where the file still has the original values.
fn apply_corrections(report: &mut LoadReport) {
    for (first, word) in CORRECTIONS {
        let find = |items: &[Item], id: i64| items.iter().position(|i| i.id == id.to_string());
        let (Some(a), Some(b)) = (find(&report.items, first), find(&report.items, first + 1))
        else {
            continue;
        };
        let (ga, gb) = (report.items[a].gold.clone(), report.items[b].gold.clone());
        let on_topic = report.items[a].prompt.to_lowercase().contains(word);
        let note = match (ga.as_str(), gb.as_str(), on_topic) {
            ("A", "B", true) => {
                report.items[a].gold = "B".into();
                report.items[b].gold = "A".into();
                report.items[a].info.gold_corrected = true;
                report.items[b].info.gold_corrected = true;
                format!(
                    "gold of Index {first}/{} swapped to (b)/(a) (uncorrected source)",
                    first + 1
                )
            }
            ("B", "A", true) => format!(
                "Index {first}/{} already corrected in the source",
                first + 1
            ),
            _ => format!(
                "Index {first}/{}: gold {ga}/{gb}, question mentions {word:?}: {on_topic}; not the known error, left as is",
                first + 1
            ),
        };
        tracing::info!("mmvp: {note}");
        report.notes.push(note);
    }
}

/// The pinned MMVP letter extraction (see the module docs).
pub(crate) fn letter_of(output: &str, choices: &[String]) -> Option<char> {
    static WHOLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)^\(?([ab])\)?\.?$").expect("valid regex"));
    static LEAD: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:\(([ABab])\)|([AB])(?:[.:,)\s]|$))").expect("valid regex")
    });
    static PHRASE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i:answer is|option)\s*:?\s*(?:\(([ABab])\)|([AB])\b)").expect("valid regex")
    });
    static BARE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b([AB])\b").expect("valid regex"));
    let text = output.trim();
    if let Some(c) = WHOLE.captures(text).and_then(first_letter) {
        return Some(c);
    }
    if let Some(c) = LEAD.captures(text).and_then(first_letter) {
        return Some(c);
    }
    if let Some(c) = PHRASE.captures(text).and_then(first_letter) {
        return Some(c);
    }
    let lower = text.to_lowercase();
    let hits: Vec<usize> = choices
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_empty() && lower.contains(&c.to_lowercase()))
        .map(|(k, _)| k)
        .collect();
    if let [k] = hits.as_slice() {
        return Some((b'A' + *k as u8) as char);
    }
    let mut bare: Vec<char> = BARE
        .captures_iter(text)
        .filter_map(|c| c.get(1).and_then(|m| m.as_str().chars().next()))
        .collect();
    bare.dedup();
    bare.sort_unstable();
    bare.dedup();
    match bare.as_slice() {
        [c] => Some(*c),
        _ => None,
    }
}

/// The letter of the first participating group among 1 and 2, upper-cased.
fn first_letter(c: regex::Captures<'_>) -> Option<char> {
    c.get(1)
        .or_else(|| c.get(2))
        .and_then(|m| m.as_str().chars().next())
        .map(|l| l.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_options_parse() {
        assert_eq!(parse_options("(a) Open (b) Closed"), vec!["Open", "Closed"]);
        assert_eq!(parse_options("(a) Yes(b) No"), vec!["Yes", "No"]);
    }

    #[test]
    fn test_letter_extraction() {
        let ch = vec!["Open".to_string(), "Closed".to_string()];
        assert_eq!(letter_of("B", &ch), Some('B'));
        assert_eq!(letter_of("(a)", &ch), Some('A'));
        assert_eq!(letter_of("b.", &ch), Some('B'));
        assert_eq!(letter_of("A. Open", &ch), Some('A'));
        assert_eq!(letter_of("The answer is (B).", &ch), Some('B'));
        assert_eq!(letter_of("The door is closed.", &ch), Some('B'));
        // The article "a" is not an answer; a mention of both options is ambiguous.
        assert_eq!(letter_of("a door that is open or closed", &ch), None);
        assert_eq!(letter_of("I would pick B here", &ch), Some('B'));
        assert_eq!(letter_of("A or B", &ch), Some('A'), "leading letter wins");
        assert_eq!(letter_of("either A or B", &ch), None);
    }
}
