//! How well a sample refers to one object (by region or by where it is) and asks what it
//! is like.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};

use vapr_plugin_sdk::text::inject::{mentions, numbers, write_number_like};
use vapr_plugin_sdk::text::lexicon;

const QUESTION: &[Cue] = &[
    cue("description for this region", 0.97),
    cue("this region", 0.95),
    cue("the region", 0.9),
    cue("region", 0.85),
    cue("what is the shape in the", 0.95),
    cue("what is the object in the", 0.95),
    cue("what is the item in the", 0.95),
    cue("what is the * in the * corner", 0.95),
    cue("what is the shape at the", 0.95),
    cue("what is the object at the", 0.95),
    cue("what is the object on the", 0.9),
    cue("what is the shape on the", 0.9),
    cue("what is the item on the", 0.9),
    cue("describe the * in the", 0.9),
    cue("describe the * on the", 0.9),
    cue("the one on the", 0.85),
    cue("the one in the", 0.85),
    cue("corner", 0.8),
    cue("the person wearing", 0.7),
    cue("the man wearing", 0.7),
    cue("the woman wearing", 0.7),
];

/// Fit in [0, 1]: referring questions (including region boxes such as
/// `[0.12, 0.3, 0.45, 0.88]`); half weight when the answer has no attribute to change.
pub fn score(question: &str, answer: &str) -> f32 {
    let q = fit_words(question);
    let mut s = cue_score(&q, QUESTION);
    if has_region_box(question) {
        s = s.max(0.97);
    }
    if attribute_sites(question, answer).is_empty() {
        s * 0.5
    } else {
        s
    }
}

/// A bracketed list of four numbers: a region given as a bounding box.
fn has_region_box(question: &str) -> bool {
    question.split('[').skip(1).any(|part| {
        let inner = part.split(']').next().unwrap_or("");
        let nums: Vec<&str> = inner.split(',').map(str::trim).collect();
        nums.len() == 4
            && nums
                .iter()
                .all(|n| !n.is_empty() && n.parse::<f64>().is_ok())
    })
}

/// The kind of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Color,
    Size,
    Kind,
    Count,
}

/// An attribute occurrence the question does not use.
#[derive(Debug, Clone)]
pub struct AttrSite {
    pub attr: Attr,
    pub start: usize,
    pub end: usize,
    /// What it is now (lower case) and what it may become.
    pub phrase: String,
    pub alts: Vec<String>,
}

/// Colour, size, object-kind and count sites of `answer` that the question does not name.
pub fn attribute_sites(question: &str, answer: &str) -> Vec<AttrSite> {
    let mut out = Vec::new();
    for (attr, lex) in [
        (Attr::Color, lexicon::colors()),
        (Attr::Size, lexicon::sizes()),
        (Attr::Kind, lexicon::objects()),
    ] {
        for s in lex.sites(answer) {
            if mentions(question, &s.entry.phrase) || mentions(question, &s.entry.lemma) {
                continue;
            }
            out.push(AttrSite {
                attr,
                start: s.start,
                end: s.end,
                phrase: s.entry.phrase.clone(),
                alts: s.entry.alts.clone(),
            });
        }
    }
    for n in numbers(answer) {
        // Counts of two or more stay plural when they change (no "one layers").
        if n.value >= 2 && !mentions(question, n.text) {
            let alts = [n.value + 1, n.value - 1]
                .into_iter()
                .filter(|v| *v >= 2)
                .map(|v| write_number_like(&n, v))
                .collect();
            out.push(AttrSite {
                attr: Attr::Count,
                start: n.start,
                end: n.end,
                phrase: n.text.to_lowercase(),
                alts,
            });
        }
    }
    out.sort_by_key(|s| s.start);
    out
}
