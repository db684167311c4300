//! NaturalBench, protocol `naturalbench/official-v1`.
//!
//! - Rows: either one row per group (HF `BaiqiL/NaturalBench`: `Image_0/1`, `Question_0/1`,
//!   `Image_i_Question_q` answers) flattened here, or already flattened rows
//!   (`BaiqiL/NaturalBench-lmms-eval`, VLMEvalKit TSV) whose `Index` is 4g + slot. Either way
//!   group g is items 4g..4g+3 = (q0,i0), (q0,i1), (q1,i0), (q1,i1) — the order the official
//!   scorer relies on.
//! - Prompt: `question + " " + suffix`, suffix "Please answer Yes or No." (yes_no) or "Please
//!   output the letter corresponding to the correct option." (multiple_choice).
//! - Decoding: greedy, `max_new_tokens = 16`.
//! - Extraction (official, lmms-eval and VLMEvalKit agree): the first case-insensitive
//!   whole-word match of yes/no (A/B); neither → -1; both → the earlier one.
//! - Metrics: Q-Acc, I-Acc (÷2N), Acc (÷4N), G-Acc (÷N). The scorer assumes the gold pattern
//!   q0_i0 = 1, q0_i1 = 0, q1_i0 = 0, q1_i1 = 1, which [`NaturalBench::load`] checks.

use std::collections::BTreeMap;

use super::{Benchmark, Extracted, LoadReport, Metrics, ScoredItem, Unit, ratio};
use crate::error::{EvalError, Result};
use crate::item::{Bench, GenParams, Item, ItemInfo};
use crate::table::Row;

const YES_NO: &str = "yes_no";
const MCQ: &str = "multiple_choice";
/// The gold encoding the official scorer assumes for slots 0..3.
const PATTERN: [i8; 4] = [1, 0, 0, 1];

/// NaturalBench under the official protocol.
pub struct NaturalBench;

impl Benchmark for NaturalBench {
    fn bench(&self) -> Bench {
        Bench::Naturalbench
    }
    fn protocol(&self) -> &'static str {
        "naturalbench/official-v1"
    }
    fn gen_params(&self) -> GenParams {
        GenParams {
            max_new_tokens: 16,
            stop: Vec::new(),
        }
    }
    fn headline(&self) -> &'static str {
        "g_acc"
    }
    fn resampling(&self) -> &'static str {
        "groups of 4 (2 questions x 2 images)"
    }
    fn summary_keys(&self) -> Vec<&'static str> {
        vec!["g_acc", "q_acc", "i_acc", "acc"]
    }

    fn load(&self, rows: &[Row]) -> Result<LoadReport> {
        let mut report = LoadReport::default();
        let (grouped, flat): (Vec<&Row>, Vec<&Row>) =
            rows.iter().partition(|r| r.has(&["Image_0"]));
        for row in grouped {
            match group_row(row) {
                Ok(items) => {
                    check_pattern(row, &items)?;
                    report.items.extend(items);
                }
                Err(e @ EvalError::NaturalBenchPattern { .. }) => return Err(e),
                Err(e) => report.skip(e),
            }
        }
        load_flat(&flat, &mut report)?;
        Ok(report)
    }

    fn extract(&self, gold: &str, info: &ItemInfo, output: &str) -> Extracted {
        let mcq = info.question_type.as_deref() == Some(MCQ);
        let code = naturalbench_extract(output, mcq);
        let pred = decode(code, mcq);
        Extracted {
            correct: pred.is_some_and(|p| p == gold),
            extracted: pred.is_some(),
            pred: pred.map(String::from),
        }
    }

    fn unit_of(&self, item: &ScoredItem) -> (String, String) {
        (item.info.group.unwrap_or(-1).to_string(), String::new())
    }

    fn metrics(&self, units: &[&Unit<'_>]) -> Metrics {
        let mut m = group_metrics(units.iter().copied(), "");
        for qtype in [YES_NO, MCQ] {
            let subset = units.iter().copied().filter(|u| {
                u.items
                    .first()
                    .and_then(|i| i.info.question_type.as_deref())
                    == Some(qtype)
            });
            m.extend(group_metrics(subset, &format!("{qtype}/")));
        }
        m
    }

    fn is_yes_no(&self, item: &ScoredItem) -> bool {
        item.info.question_type.as_deref() == Some(YES_NO)
    }
}

/// The official extractor: 1 = yes/A, 0 = no/B, -1 = neither found.
pub fn naturalbench_extract(output: &str, mcq: bool) -> i8 {
    let (pos_word, neg_word) = if mcq { ("A", "B") } else { ("yes", "no") };
    match (find_word(output, pos_word), find_word(output, neg_word)) {
        (None, None) => -1,
        (Some(p), Some(n)) => i8::from(p < n),
        (Some(_), None) => 1,
        (None, Some(_)) => 0,
    }
}

/// First case-insensitive match of `word` delimited by `\b` as in Python's `re` (word
/// characters are alphanumerics and `_`).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let lower = text.to_lowercase();
    let word = word.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = lower[from..].find(&word) {
        let start = from + at;
        let end = start + word.len();
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_word(c));
        let after_ok = lower[end..].chars().next().is_none_or(|c| !is_word(c));
        if before_ok && after_ok {
            return Some(start);
        }
        from = start + lower[start..].chars().next().map_or(1, char::len_utf8);
    }
    None
}

fn decode(code: i8, mcq: bool) -> Option<&'static str> {
    match (code, mcq) {
        (1, false) => Some("yes"),
        (0, false) => Some("no"),
        (1, true) => Some("A"),
        (0, true) => Some("B"),
        _ => None,
    }
}

fn suffix(qtype: &str) -> &'static str {
    if qtype == MCQ {
        "Please output the letter corresponding to the correct option."
    } else {
        "Please answer Yes or No."
    }
}

/// Normalises the question type column, or infers it from a gold answer.
fn question_type(row: &Row, gold_sample: &str) -> Result<&'static str> {
    let raw = row.opt_str(&["Question_Type", "Question Type", "question_type", "type"])?;
    let t = raw.unwrap_or_default().to_ascii_lowercase();
    if t.contains("yes") || t == "y/n" {
        Ok(YES_NO)
    } else if t.contains("multi") || t.contains("choice") || t == "mcq" {
        Ok(MCQ)
    } else {
        match gold_sample
            .trim()
            .to_ascii_lowercase()
            .trim_end_matches('.')
        {
            "yes" | "no" => Ok(YES_NO),
            "a" | "b" => Ok(MCQ),
            other => Err(row.error(format!(
                "cannot tell the question type (type {t:?}, answer {other:?})"
            ))),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn item(
    group: i64,
    slot: u8,
    question: &str,
    qtype: &'static str,
    images: Vec<crate::image_data::ImageData>,
    gold: &str,
    row: &Row,
    source: Option<String>,
) -> Result<Item> {
    let code = naturalbench_extract(gold, qtype == MCQ);
    let gold = decode(code, qtype == MCQ).ok_or_else(|| {
        row.error(format!(
            "gold answer {gold:?} is not {}",
            if qtype == MCQ { "A/B" } else { "Yes/No" }
        ))
    })?;
    Ok(Item {
        id: (group * 4 + i64::from(slot)).to_string(),
        prompt: format!("{} {}", question.trim_end(), suffix(qtype)),
        images,
        gold: gold.to_string(),
        info: ItemInfo {
            index: Some(group.to_string()),
            source,
            question_type: Some(qtype.to_string()),
            group: Some(group),
            slot: Some(slot),
            ..ItemInfo::default()
        },
    })
}

/// One HF row = one group → its 4 items in the mandatory order.
fn group_row(row: &Row) -> Result<Vec<Item>> {
    let group = row.int(&["Index", "index"])?;
    let i0 = row.images(&["Image_0"])?;
    let i1 = row.images(&["Image_1"])?;
    let q0 = row.str(&["Question_0"])?;
    let q1 = row.str(&["Question_1"])?;
    let golds = [
        row.str(&["Image_0_Question_0"])?,
        row.str(&["Image_1_Question_0"])?,
        row.str(&["Image_0_Question_1"])?,
        row.str(&["Image_1_Question_1"])?,
    ];
    let qtype = question_type(row, &golds[0])?;
    let source = row.opt_str(&["Source", "source"])?;
    let specs = [(&q0, &i0), (&q0, &i1), (&q1, &i0), (&q1, &i1)];
    specs
        .iter()
        .zip(&golds)
        .enumerate()
        .map(|(slot, ((q, img), gold))| {
            item(
                group,
                slot as u8,
                q,
                qtype,
                (*img).clone(),
                gold,
                row,
                source.clone(),
            )
        })
        .collect()
}

/// Fails, naming the group, unless the gold answers follow the pattern the scorer assumes.
fn check_pattern(row: &Row, items: &[Item]) -> Result<()> {
    let found: Vec<i8> = items
        .iter()
        .map(|i| naturalbench_extract(&i.gold, i.info.question_type.as_deref() == Some(MCQ)))
        .collect();
    if found.as_slice() != PATTERN {
        let mut arr = [-1i8; 4];
        arr[..found.len().min(4)].copy_from_slice(&found[..found.len().min(4)]);
        return Err(EvalError::NaturalBenchPattern {
            group: items.first().and_then(|i| i.info.group).unwrap_or(-1),
            path: row.path.clone(),
            row: row.row,
            found: arr,
        });
    }
    Ok(())
}

/// Flattened rows (`Index` = 4g + slot) → groups; every group must be complete.
fn load_flat(rows: &[&Row], report: &mut LoadReport) -> Result<()> {
    let mut groups: BTreeMap<i64, Vec<(i64, &Row)>> = BTreeMap::new();
    for &row in rows {
        match row.int(&["Index", "index"]) {
            Ok(flat) => groups
                .entry(flat.div_euclid(4))
                .or_default()
                .push((flat, row)),
            Err(e) => report.skip(e),
        }
    }
    for (group, mut members) in groups {
        members.sort_by_key(|(flat, _)| *flat);
        let slots: Vec<i64> = members.iter().map(|(f, _)| f - group * 4).collect();
        if slots != [0, 1, 2, 3] {
            return Err(EvalError::NaturalBenchIncompleteGroup {
                path: members[0].1.path.clone(),
                group,
                rows: members.len(),
            });
        }
        let built: Result<Vec<Item>> = members
            .iter()
            .map(|(flat, row)| {
                let gold = row.str(&["answer", "Answer", "Gold", "gold", "label"])?;
                let qtype = question_type(row, &gold)?;
                let question = row.str(&["Question", "question"])?;
                let images = row.images(&["Image", "image"])?;
                let source = row.opt_str(&["Source", "source"])?;
                item(
                    group,
                    (flat - group * 4) as u8,
                    &question,
                    qtype,
                    images,
                    &gold,
                    row,
                    source,
                )
            })
            .collect();
        match built {
            Ok(items) => {
                check_pattern(members[0].1, &items)?;
                report.items.extend(items);
            }
            // One bad row spoils the group: its metrics need all four.
            Err(e) => report.skip(e),
        }
    }
    Ok(())
}

/// Q-Acc, I-Acc, Acc and G-Acc over complete groups (slots 0..3 present).
fn group_metrics<'a, 'b: 'a>(units: impl Iterator<Item = &'a Unit<'b>>, prefix: &str) -> Metrics {
    let (mut n, mut q, mut i, mut a, mut g) = (0usize, 0usize, 0usize, 0usize, 0usize);
    for unit in units {
        let slots: Vec<u8> = unit
            .items
            .iter()
            .map(|it| it.info.slot.unwrap_or(9))
            .collect();
        if slots != [0, 1, 2, 3] {
            continue;
        }
        let s: Vec<i8> = unit
            .items
            .iter()
            .map(|it| match it.pred.as_deref() {
                Some("yes") | Some("A") => 1,
                Some("no") | Some("B") => 0,
                _ => -1,
            })
            .collect();
        let q0 = s[0] == 1 && s[1] == 0;
        let q1 = s[3] == 1 && s[2] == 0;
        let im0 = s[0] == 1 && s[2] == 0;
        let im1 = s[3] == 1 && s[1] == 0;
        n += 1;
        q += usize::from(q0) + usize::from(q1);
        i += usize::from(im0) + usize::from(im1);
        a += s.iter().zip(PATTERN).filter(|(x, p)| **x == *p).count();
        g += usize::from(q0 && q1 && im0 && im1);
    }
    let mut m = Metrics::new();
    if n > 0 {
        m.insert(format!("{prefix}q_acc"), ratio(q, 2 * n));
        m.insert(format!("{prefix}i_acc"), ratio(i, 2 * n));
        m.insert(format!("{prefix}acc"), ratio(a, 4 * n));
        m.insert(format!("{prefix}g_acc"), ratio(g, n));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::units;

    #[test]
    fn test_extractor_first_whole_word_wins() {
        assert_eq!(naturalbench_extract("Yes, it is.", false), 1);
        assert_eq!(naturalbench_extract("No. Yes.", false), 0);
        assert_eq!(
            naturalbench_extract("I know yes", false),
            1,
            "'know' is not the word 'no'"
        );
        assert_eq!(naturalbench_extract("Nope", false), -1);
        assert_eq!(naturalbench_extract("B", true), 0);
        assert_eq!(naturalbench_extract("The answer is A.", true), 1);
        assert_eq!(naturalbench_extract("Apple", true), -1);
    }

    fn group(g: i64, preds: [&str; 4]) -> Vec<ScoredItem> {
        let golds = ["yes", "no", "no", "yes"];
        (0..4)
            .map(|s| ScoredItem {
                id: (g * 4 + s as i64).to_string(),
                gold: golds[s].into(),
                pred: (!preds[s].is_empty()).then(|| preds[s].to_string()),
                extracted: !preds[s].is_empty(),
                correct: preds[s] == golds[s],
                info: ItemInfo {
                    group: Some(g),
                    slot: Some(s as u8),
                    question_type: Some(YES_NO.into()),
                    ..ItemInfo::default()
                },
            })
            .collect()
    }

    #[test]
    fn test_group_metrics_by_hand() {
        let mut items = group(0, ["yes", "no", "no", "yes"]); // all right
        items.extend(group(1, ["yes", "yes", "no", "yes"])); // q0 wrong, i1 wrong
        items.extend(group(2, ["yes", "yes", "yes", "yes"])); // always-yes: only Acc 2/4
        items.extend(group(3, ["", "no", "no", "yes"])); // failure in slot 0
        // Give the items out of order: units sort by slot.
        items.reverse();
        let us = units(&NaturalBench, &items);
        let refs: Vec<&Unit> = us.iter().collect();
        let m = NaturalBench.metrics(&refs);
        // Q: g0 2, g1 1 (q1), g2 0, g3 1 (q1) = 4/8. I: g0 2, g1 1 (i0), g2 0, g3 1 (i1) = 4/8.
        assert_eq!(m["q_acc"], 0.5);
        assert_eq!(m["i_acc"], 0.5);
        // Acc: 4 + 3 + 2 + 3 = 12/16. G: only g0.
        assert_eq!(m["acc"], 0.75);
        assert_eq!(m["g_acc"], 0.25);
        assert_eq!(m["yes_no/g_acc"], 0.25);
    }
}
