//! Rule mode: recolour one colour phrase (a list like "red, green and purple" counts as
//! one), each colour to a different palette colour.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, parse_penalty_list,
};
use vapr_plugin_sdk::text::fit::{fit_words, is_polar_question};
use vapr_plugin_sdk::text::inject::{describe_edits, mentions, shade_safe_colors};
use vapr_plugin_sdk::text::lexicon::{self, Site};
use vapr_plugin_sdk::text::polarity::{Polarity, flip_leading};
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare, tokenize};

/// Words that may sit between the colours of one list ("light blue and dark green").
const JOINERS: [&str; 12] = [
    ",", "and", "or", "/", "&", "-", "light", "dark", "bright", "pale", "deep", "with",
];

/// Colour sites grouped into lists of adjacent colours.
pub fn colour_lists<'l>(answer: &str) -> Vec<Vec<Site<'l>>> {
    let toks = tokenize(answer);
    let mut lists: Vec<Vec<Site<'l>>> = Vec::new();
    for site in lexicon::colors().sites(answer) {
        let joined = lists.last().and_then(|l| l.last()).is_some_and(|prev| {
            let between = &toks[prev.first_token + prev.token_len..site.first_token];
            between.len() <= 3
                && between
                    .iter()
                    .all(|t| JOINERS.contains(&t.text.to_lowercase().as_str()))
        });
        match lists.last_mut() {
            Some(list) if joined => list.push(site),
            _ => lists.push(vec![site]),
        }
    }
    lists
}

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let question = sample.question.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let mut rng = SeededRng::new(seed);
    let lists = colour_lists(answer);
    if lists.is_empty() {
        return Err(PluginError::Refused("the answer names no colour".into()));
    }
    let asked = |s: &Site<'_>| mentions(question, &s.entry.phrase);
    let polar = is_polar_question(&fit_words(question));
    let lead = if polar { flip_leading(answer) } else { None };

    // "Is the car red?" / "No, the car is blue." → "Yes, the car is red.": the asked colour
    // is the consistent wrong answer.
    if let Some((l, flip)) = &lead {
        let asked_colours: Vec<String> = lexicon::colors()
            .sites(question)
            .iter()
            .map(|s| s.entry.phrase.clone())
            .collect();
        if l.polarity == Polarity::No
            && !asked_colours.is_empty()
            && let Some(list) = lists.iter().find(|list| list.iter().all(|s| !asked(s)))
        {
            let rep = &asked_colours[0];
            if !vapr_plugin_sdk::text::edit::is_banned(rep, &penalty) {
                let recolour = Span::new(list[0].start, list[list.len() - 1].end, rep.clone());
                return finish(answer, &[recolour, flip.clone()]);
            }
        }
    }

    // The first list with a colour the question does not name (any list for a polar answer).
    let list = lists
        .iter()
        .find(|list| list.iter().any(|s| !asked(s)))
        .or_else(|| if lead.is_some() { lists.first() } else { None })
        .ok_or_else(|| {
            PluginError::Refused("the answer's only colours are the ones the question names".into())
        })?;
    let originals: Vec<String> = list.iter().map(|s| s.entry.phrase.clone()).collect();
    let mut avoid = originals.clone();
    let mut edits = Vec::new();
    for site in list {
        if !polar && asked(site) {
            continue;
        }
        if let Some(rep) = choose_replacement(
            &mut rng,
            &site.entry.phrase,
            &shade_safe_colors(answer, site.start, &site.entry.alts),
            &penalty,
            &avoid,
        ) {
            avoid.push(rep.to_string());
            edits.push(Span::new(site.start, site.end, rep));
        }
    }
    if edits.is_empty() {
        return Err(PluginError::Refused(
            "every other colour is banned by the penalty list".into(),
        ));
    }
    if let Some((_, flip)) = lead {
        edits.push(flip);
    }
    finish(answer, &edits)
}

fn finish(answer: &str, edits: &[Span]) -> Result<Edit, PluginError> {
    let rejected = apply_edits(answer, edits);
    if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
        return Err(PluginError::Refused(
            "the edit would not change the answer".into(),
        ));
    }
    Ok(Edit::new(rejected).note(describe_edits(answer, edits)))
}
