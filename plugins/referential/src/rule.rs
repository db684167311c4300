//! Rule mode: change one or two attributes (of different kinds) of the referent.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, parse_penalty_list,
};
use vapr_plugin_sdk::text::inject::{describe_edits, polar_flip};
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare};

use crate::fit::{Attr, attribute_sites};

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let wanted = sample.param_f64("attributes", 2.0)?.clamp(1.0, 2.0) as usize;
    let mut rng = SeededRng::new(seed);
    let sites = attribute_sites(&sample.question, answer);
    if sites.is_empty() {
        return Err(PluginError::Refused(
            "the answer gives no colour, size, kind or count of the referent".into(),
        ));
    }
    let mut kinds: Vec<Attr> = Vec::new();
    for s in &sites {
        if !kinds.contains(&s.attr) {
            kinds.push(s.attr);
        }
    }
    rng.shuffle(&mut kinds);
    let colours_now: Vec<String> = sites
        .iter()
        .filter(|s| s.attr == Attr::Color)
        .map(|s| s.phrase.clone())
        .collect();
    let mut edits = Vec::new();
    for attr in kinds {
        if edits.len() == wanted {
            break;
        }
        // The first site of this kind is the one nearest the referent's head.
        for site in sites.iter().filter(|s| s.attr == attr) {
            let alts = &site.alts;
            let avoid = if attr == Attr::Color {
                colours_now.clone()
            } else {
                Vec::new()
            };
            if let Some(rep) = choose_replacement(&mut rng, &site.phrase, alts, &penalty, &avoid) {
                edits.push(Span::new(site.start, site.end, rep));
                break;
            }
        }
    }
    if edits.is_empty() {
        return Err(PluginError::Refused(
            "every replacement attribute is banned by the penalty list".into(),
        ));
    }
    edits.extend(polar_flip(&sample.question, answer));
    let rejected = apply_edits(answer, &edits);
    if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
        return Err(PluginError::Refused(
            "the edit would not change the answer".into(),
        ));
    }
    Ok(Edit::new(rejected).note(describe_edits(answer, &edits)))
}
