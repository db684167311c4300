//! Rule mode: swap one relation (every occurrence of it) for a contradicting one.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, parse_penalty_list,
};
use vapr_plugin_sdk::text::inject::{describe_edits, mentions, polar_flip};
use vapr_plugin_sdk::text::lexicon::{self, Site};
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare};

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let mut rng = SeededRng::new(seed);
    let sites = lexicon::spatial().sites(answer);
    let flip = polar_flip(&sample.question, answer);

    // Preference: clear relations the question does not already state, then clear ones it
    // does, then the weak ones in the same order.
    let tier = |s: &Site<'_>| {
        let weak = lexicon::is_weak_relation(&s.entry.phrase);
        let asked = mentions(&sample.question, &s.entry.phrase);
        usize::from(weak) * 2 + usize::from(asked)
    };
    for t in 0..4 {
        let mut phrases: Vec<&str> = Vec::new();
        for s in sites.iter().filter(|s| tier(s) == t) {
            if !phrases.contains(&s.entry.phrase.as_str()) {
                phrases.push(&s.entry.phrase);
            }
        }
        rng.shuffle(&mut phrases);
        for phrase in phrases {
            let entry = lexicon::spatial()
                .get(phrase)
                .expect("phrase comes from the lexicon");
            let Some(rep) = choose_replacement(&mut rng, phrase, &entry.alts, &penalty, &[]) else {
                continue;
            };
            let mut edits: Vec<Span> = sites
                .iter()
                .filter(|s| s.entry.phrase == phrase)
                .map(|s| Span::new(s.start, s.end, rep))
                .collect();
            edits.extend(flip.clone());
            return finish(answer, &edits)
                .map(|e| e.extra("relation", format!("{phrase} -> {rep}")));
        }
    }
    if let Some(f) = flip {
        return finish(answer, &[f]);
    }
    if sites.is_empty() {
        Err(PluginError::Refused(
            "the answer states no spatial relation to contradict".into(),
        ))
    } else {
        Err(PluginError::Refused(
            "every contradicting relation is banned by the penalty list".into(),
        ))
    }
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
