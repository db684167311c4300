//! Rule mode: pick 2–4 detail sites, one per sentence in turn, and change each.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, parse_penalty_list,
};
use vapr_plugin_sdk::text::inject::{
    describe_edits, numbers, sentence_of, sentence_spans, shade_safe_colors, write_number_like,
};
use vapr_plugin_sdk::text::lexicon;
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare, sentence_count};

/// A detail that can change.
#[derive(Debug, Clone)]
struct Detail {
    start: usize,
    end: usize,
    phrase: String,
    alts: Vec<String>,
    /// `color`, `size`, `object`, `count`, `spatial`, `scene`.
    kind: &'static str,
}

fn details(answer: &str) -> Vec<Detail> {
    let mut out = Vec::new();
    let lexicons = [
        ("color", lexicon::colors()),
        ("size", lexicon::sizes()),
        ("object", lexicon::objects()),
        ("spatial", lexicon::spatial()),
        ("scene", lexicon::scene()),
    ];
    for (kind, lex) in lexicons {
        for s in lex.sites(answer) {
            if kind == "spatial" && lexicon::is_weak_relation(&s.entry.phrase) {
                continue;
            }
            out.push(Detail {
                start: s.start,
                end: s.end,
                phrase: s.entry.phrase.clone(),
                alts: s.entry.alts.clone(),
                kind,
            });
        }
    }
    for n in numbers(answer) {
        if n.value >= 2 {
            let alts = [n.value + 1, n.value - 1]
                .into_iter()
                .filter(|v| *v >= 2)
                .map(|v| write_number_like(&n, v))
                .collect();
            out.push(Detail {
                start: n.start,
                end: n.end,
                phrase: n.text.to_lowercase(),
                alts,
                kind: "count",
            });
        }
    }
    // Where lexicons overlap, the earlier-starting (then longer) detail wins.
    out.sort_by_key(|d| (d.start, std::cmp::Reverse(d.end)));
    let mut kept: Vec<Detail> = Vec::new();
    for d in out {
        if kept.last().is_none_or(|k| d.start >= k.end) {
            kept.push(d);
        }
    }
    kept
}

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let min_edits = sample.param_f64("min-edits", 2.0)?.max(1.0) as usize;
    let max_edits = (sample.param_f64("max-edits", 4.0)?.max(1.0) as usize).max(min_edits);
    let target = sentence_count(answer).clamp(min_edits, max_edits);
    let mut rng = SeededRng::new(seed);
    let all = details(answer);
    if all.is_empty() {
        return Err(PluginError::Refused(
            "the caption has no colour, size, object, count, relation or scene detail".into(),
        ));
    }
    let spans = sentence_spans(answer);
    let mut by_sentence: Vec<Vec<&Detail>> = vec![Vec::new(); spans.len().max(1)];
    for d in &all {
        by_sentence[sentence_of(&spans, d.start)].push(d);
    }
    for group in &mut by_sentence {
        rng.shuffle(group);
    }
    // Round-robin over sentences: one detail per sentence per round, preferring a kind not
    // used yet, until the target is reached or the details run out.
    let mut used_kinds: Vec<&str> = Vec::new();
    let mut edits: Vec<Span> = Vec::new();
    loop {
        let before = edits.len();
        for group in by_sentence.iter_mut() {
            if edits.len() == target {
                break;
            }
            let pick = group
                .iter()
                .position(|d| !used_kinds.contains(&d.kind))
                .unwrap_or(0);
            while !group.is_empty() {
                let d = group.remove(if pick < group.len() { pick } else { 0 });
                if let Some(rep) = choose_replacement(
                    &mut rng,
                    &d.phrase,
                    &shade_safe_colors(answer, d.start, &d.alts),
                    &penalty,
                    &[],
                ) {
                    edits.push(Span::new(d.start, d.end, rep));
                    used_kinds.push(d.kind);
                    break;
                }
            }
        }
        if edits.len() == target || edits.len() == before {
            break;
        }
    }
    if edits.is_empty() {
        return Err(PluginError::Refused(
            "every replacement detail is banned by the penalty list".into(),
        ));
    }
    let rejected = apply_edits(answer, &edits);
    if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
        return Err(PluginError::Refused(
            "the edit would not change the caption".into(),
        ));
    }
    Ok(Edit::new(rejected)
        .note(describe_edits(answer, &edits))
        .extra("details", edits.len().to_string()))
}
