//! Rule mode: substitute one object noun (all its occurrences) with a same-group noun.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, is_banned, parse_penalty_list,
};
use vapr_plugin_sdk::text::inject::{describe_edits, polar_flip};
use vapr_plugin_sdk::text::lexicon::{self, Site, plural_of};

use crate::fit::ranked_sites;
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare};

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let mut rng = SeededRng::new(seed);
    let (fresh, repeated) = ranked_sites(&sample.question, answer);
    let all: Vec<Site<'_>> = fresh.iter().chain(repeated.iter()).copied().collect();
    let mut tried: Vec<&str> = Vec::new();
    for site in &all {
        let lemma = site.entry.lemma.as_str();
        if tried.contains(&lemma) {
            continue;
        }
        tried.push(lemma);
        let singular = lexicon::objects().get(lemma).expect("lemma is listed");
        // Both number forms must be allowed: the answer may use either.
        let allowed: Vec<&String> = singular
            .alts
            .iter()
            .filter(|a| !is_banned(a, &penalty) && !is_banned(&plural_of(a), &penalty))
            .collect();
        let Some(rep) = choose_replacement(&mut rng, lemma, &allowed, &penalty, &[]) else {
            continue;
        };
        let mut edits: Vec<Span> = all
            .iter()
            .filter(|s| s.entry.lemma == lemma)
            .map(|s| {
                Span::new(
                    s.start,
                    s.end,
                    if s.entry.plural {
                        plural_of(rep)
                    } else {
                        rep.to_string()
                    },
                )
            })
            .collect();
        edits.extend(polar_flip(&sample.question, answer));
        let rejected = apply_edits(answer, &edits);
        if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
            continue;
        }
        return Ok(Edit::new(rejected)
            .note(describe_edits(answer, &edits))
            .extra("object", format!("{lemma} -> {rep}")));
    }
    if all.is_empty() {
        Err(PluginError::Refused(
            "the answer names no object this plugin knows a substitute for".into(),
        ))
    } else {
        Err(PluginError::Refused(
            "every substitute object is banned by the penalty list".into(),
        ))
    }
}
