//! Rule mode: flip every size word (up to `max-size-edits`) to its opposite.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, parse_penalty_list,
};
use vapr_plugin_sdk::text::inject::{describe_edits, polar_flip};
use vapr_plugin_sdk::text::lexicon;
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare, tokenize};

/// Nouns after which `short` means the opposite of `long`, not of `tall`.
const LENGTH_NOUNS: [&str; 14] = [
    "hair", "sleeves", "sleeve", "sleeved", "skirt", "pants", "distance", "time", "while", "walk",
    "trip", "tail", "stick", "line",
];

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let max_edits = sample.param_f64("max-size-edits", 3.0)?.max(1.0) as usize;
    let mut rng = SeededRng::new(seed);
    let sites = lexicon::sizes().sites(answer);
    if sites.is_empty() {
        return Err(PluginError::Refused(
            "the answer has no size word to flip".into(),
        ));
    }
    let flip = polar_flip(&sample.question, answer);
    let toks = tokenize(answer);
    let mut edits = Vec::new();
    for site in sites.iter().take(max_edits) {
        let mut alts: Vec<&str> = site.entry.alts.iter().map(String::as_str).collect();
        if site.entry.phrase.starts_with("short") {
            let next = toks
                .get(site.first_token + site.token_len)
                .map(|t| t.text.to_lowercase())
                .unwrap_or_default();
            let length = LENGTH_NOUNS.contains(&next.as_str());
            alts.retain(|a| a.starts_with("long") == length);
        }
        if let Some(rep) = choose_replacement(&mut rng, &site.entry.phrase, &alts, &penalty, &[]) {
            edits.push(Span::new(site.start, site.end, rep));
        }
    }
    if edits.is_empty() {
        return Err(PluginError::Refused(
            "every opposite size word is banned by the penalty list".into(),
        ));
    }
    edits.extend(flip);
    let rejected = apply_edits(answer, &edits);
    if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
        return Err(PluginError::Refused(
            "the edit would not change the answer".into(),
        ));
    }
    Ok(Edit::new(rejected).note(describe_edits(answer, &edits)))
}
