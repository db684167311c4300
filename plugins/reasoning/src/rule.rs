//! Rule mode: flip the conclusion (yes/no, comparison) or one or two claims, and keep the
//! supporting counts consistent.

use std::cmp::Ordering;

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, find_phrases, parse_penalty_list,
};
use vapr_plugin_sdk::text::inject::{
    NumberSite, describe_edits, mentions, noun_agreement, numbers, sentence_of, sentence_spans,
    write_number_like,
};
use vapr_plugin_sdk::text::lexicon::{self, Site};
use vapr_plugin_sdk::text::polarity::{Toggle, clause_end, flip_leading, toggle_negation};
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare, token_count, tokenize};

/// Hedges: flipping them makes a claim vaguer rather than wrong, so they are flipped only
/// when an explanation has nothing else to reverse.
const HEDGES: [&str; 6] = [
    "likely",
    "unlikely",
    "possible",
    "impossible",
    "can",
    "cannot",
];

/// Answers longer than this (tokens) get two claims flipped instead of one.
const LONG_ANSWER: usize = 25;

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let mut rng = SeededRng::new(seed);
    let sites = lexicon::antonyms().sites(answer);
    let mut edits: Vec<Span> = Vec::new();
    let mut flipped: Vec<String> = Vec::new();

    let replace_all = |phrase: &str, rep: &str, edits: &mut Vec<Span>| {
        for s in sites.iter().filter(|s| s.entry.phrase == phrase) {
            edits.push(Span::new(s.start, s.end, rep));
        }
    };

    if let Some((lead, flip)) = flip_leading(answer) {
        // The conclusion: yes/no plus the first claim of its clause.
        edits.push(flip);
        let end = clause_end(answer, lead.end);
        let in_clause: Vec<&Site<'_>> = sites
            .iter()
            .filter(|s| s.start >= lead.end && s.end <= end)
            .collect();
        let as_many = find_phrases(&answer[lead.end..end], &["as many"]);
        let toggle = toggle_negation(answer, lead.end, end);
        if let Some(m) = as_many.first() {
            edits.extend(as_many_to_more(
                answer,
                lead.end + m.start,
                lead.end + m.end,
                end,
            ));
            flipped.push("as many".into());
        } else if let Some((Toggle::Affirmed, affirm)) = toggle {
            // "No, it is not safe" → "Yes, it is safe": drop the negation, keep the claim.
            edits.extend(affirm);
        } else if let Some(site) = in_clause.iter().find_map(|s| {
            choose_replacement(&mut rng, &s.entry.phrase, &s.entry.alts, &penalty, &[])
                .map(|r| (s, r))
        }) {
            replace_all(&site.0.entry.phrase, site.1, &mut edits);
            flipped.push(site.0.entry.phrase.clone());
        } else if let Some((_, negate)) = toggle {
            edits.extend(negate);
        }
    } else {
        // A free-form explanation: one or two claims, first-sentence claims first.
        let spans = sentence_spans(answer);
        let wanted = if token_count(answer) > LONG_ANSWER {
            2
        } else {
            1
        };
        let mut phrases: Vec<(&str, usize)> = Vec::new();
        for s in sites
            .iter()
            .filter(|s| !mentions(&sample.question, &s.entry.phrase))
        {
            if !phrases.iter().any(|(p, _)| *p == s.entry.phrase) {
                phrases.push((&s.entry.phrase, sentence_of(&spans, s.start)));
            }
        }
        rng.shuffle(&mut phrases);
        phrases.sort_by_key(|(p, sentence)| (HEDGES.contains(p), *sentence > 0));
        for (phrase, _) in phrases {
            if flipped.len() == wanted {
                break;
            }
            let entry = lexicon::antonyms()
                .get(phrase)
                .expect("phrase comes from the lexicon");
            if let Some(rep) = choose_replacement(&mut rng, phrase, &entry.alts, &penalty, &[]) {
                replace_all(phrase, rep, &mut edits);
                flipped.push(phrase.to_string());
            }
        }
        if flipped.is_empty() {
            match toggle_negation(answer, 0, clause_end(answer, 0)) {
                Some((_, toggle)) => edits.extend(toggle),
                None => {
                    return Err(PluginError::Refused(
                        "the answer has no conclusion or claim this plugin can reverse".into(),
                    ));
                }
            }
        }
    }

    // A flipped comparison is backed by its counts: change one count so they agree with
    // the new comparison (fewest words changed: one count, its noun and verb if needed).
    let relation = edits
        .iter()
        .find_map(|e| match e.replacement.to_lowercase().as_str() {
            "more" | "greater" | "larger" | "bigger" | "higher" | "most" | "different" => {
                Some(Ordering::Greater)
            }
            "fewer" | "less" | "smaller" | "lower" | "least" => Some(Ordering::Less),
            _ => None,
        });
    if let Some(relation) = relation.filter(|_| !flipped.is_empty()) {
        edits.extend(count_edits(answer, relation));
    }
    let rejected = apply_edits(answer, &edits);
    if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
        return Err(PluginError::Refused(
            "the edit would not change the answer".into(),
        ));
    }
    Ok(Edit::new(rejected).note(describe_edits(answer, &edits)))
}

/// "as many X as Y" → "more X than Y" (within the clause ending at `clause_end`).
fn as_many_to_more(answer: &str, start: usize, end: usize, clause_end: usize) -> Vec<Span> {
    let mut out = vec![Span::new(start, end, "more")];
    if let Some(m) = find_phrases(&answer[end..clause_end], &["as"]).first() {
        out.push(Span::new(end + m.start, end + m.end, "than"));
    }
    out
}

/// Makes the first two counts compare as `relation` (first vs second) by changing one of
/// them to the other ± 1, whichever needs fewer words (the noun after a changed count and
/// the verb before the first follow it). Fewer than two counts: nothing to back.
fn count_edits(answer: &str, relation: Ordering) -> Vec<Span> {
    let nums = counts_with_zero(answer);
    if nums.len() < 2 || nums[0].value.cmp(&nums[1].value) == relation {
        return Vec::new();
    }
    let (a, b) = (nums[0], nums[1]);
    let write = |site: &NumberSite<'_>, value: u64| {
        let written = if value == 0 && !site.digits {
            "no".to_string()
        } else {
            write_number_like(site, value)
        };
        let mut out = vec![Span::new(site.start, site.end, written)];
        out.extend(noun_agreement(answer, site.end, value));
        out
    };
    // Change the first count or the second, whichever touches fewer words.
    let first = |value: u64| {
        let mut out = write(&a, value);
        out.extend(verb_agreement(answer, a.start, value));
        out
    };
    let candidates: Vec<Vec<Span>> = match relation {
        Ordering::Greater => {
            let mut c = vec![first(b.value + 1)];
            if a.value >= 1 {
                c.push(write(&b, a.value - 1));
            }
            c
        }
        _ => {
            let mut c = Vec::new();
            if b.value >= 1 {
                c.push(first(b.value - 1));
            }
            c.push(write(&b, a.value + 1));
            c
        }
    };
    candidates
        .into_iter()
        .min_by_key(Vec::len)
        .unwrap_or_default()
}

/// `is` ↔ `are` right before byte `at` so it agrees with a count of `value`.
fn verb_agreement(answer: &str, at: usize, value: u64) -> Option<Span> {
    let prev = tokenize(&answer[..at]).into_iter().last()?;
    let want = if value == 1 { "is" } else { "are" };
    let is_verb = prev.text.eq_ignore_ascii_case("is") || prev.text.eq_ignore_ascii_case("are");
    (is_verb && !prev.text.eq_ignore_ascii_case(want))
        .then(|| Span::new(prev.start, prev.end, want))
}

/// Counts of `answer`, with a determiner `no` ("there are no circles") read as zero. A
/// leading yes/no answer word is not a count.
fn counts_with_zero(answer: &str) -> Vec<NumberSite<'_>> {
    let mut out = numbers(answer);
    let lead_end = flip_leading(answer).map_or(0, |(l, _)| l.end);
    for t in tokenize(answer) {
        let next_is_word = answer[t.end..]
            .trim_start()
            .starts_with(|c: char| c.is_alphabetic());
        if t.start >= lead_end && t.text.eq_ignore_ascii_case("no") && next_is_word {
            out.push(NumberSite {
                text: t.text,
                value: 0,
                digits: false,
                start: t.start,
                end: t.end,
            });
        }
    }
    out.sort_by_key(|n| n.start);
    out
}
