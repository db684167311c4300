//! Rule mode: pick the scene aspect the question asks about and flip up to two of its
//! terms (all occurrences of each).

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::{
    Edit as Span, apply_edits, choose_replacement, parse_penalty_list,
};
use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};
use vapr_plugin_sdk::text::inject::{describe_edits, polar_flip, shade_safe_colors};
use vapr_plugin_sdk::text::lexicon::Kind;
use vapr_plugin_sdk::text::{SeededRng, reply::normalize_for_compare};

use crate::fit::scene_sites;

/// Most terms flipped in one answer.
const MAX_TERMS: usize = 2;

/// Which aspects a question asks about.
const ASPECTS: &[(Kind, &[Cue])] = &[
    (
        Kind::Lighting,
        &[
            cue("light", 1.0),
            cue("lighting", 1.0),
            cue("lit", 1.0),
            cue("bright", 1.0),
            cue("dark", 1.0),
            cue("illuminated", 1.0),
            cue("shadow", 1.0),
            cue("shadows", 1.0),
        ],
    ),
    (
        Kind::Weather,
        &[
            cue("weather", 1.0),
            cue("sunny", 1.0),
            cue("rain", 1.0),
            cue("raining", 1.0),
            cue("cloudy", 1.0),
            cue("snow", 1.0),
            cue("snowing", 1.0),
            cue("sky", 1.0),
        ],
    ),
    (
        Kind::Time,
        &[
            cue("time", 1.0),
            cue("day", 1.0),
            cue("night", 1.0),
            cue("season", 1.0),
            cue("morning", 1.0),
            cue("evening", 1.0),
        ],
    ),
    (
        Kind::Setting,
        &[
            cue("where", 1.0),
            cue("setting", 1.0),
            cue("location", 1.0),
            cue("place", 1.0),
            cue("environment", 1.0),
            cue("surroundings", 1.0),
            cue("indoors", 1.0),
            cue("outdoors", 1.0),
            cue("room", 1.0),
            cue("taken", 1.0),
            cue("scene", 1.0),
            cue("scenery", 1.0),
        ],
    ),
    (
        Kind::Pattern,
        &[
            cue("background", 1.0),
            cue("backdrop", 1.0),
            cue("look like", 1.0),
            cue("wall", 1.0),
            cue("walls", 1.0),
            cue("pattern", 1.0),
        ],
    ),
    (
        Kind::Color,
        &[
            cue("background", 1.0),
            cue("backdrop", 1.0),
            cue("look like", 1.0),
            cue("wall", 1.0),
            cue("walls", 1.0),
            cue("color", 1.0),
            cue("colour", 1.0),
        ],
    ),
];

pub fn edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let penalty = parse_penalty_list(&sample.penalty);
    let mut rng = SeededRng::new(seed);
    let sites = scene_sites(&sample.question, answer);
    if sites.is_empty() {
        return Err(PluginError::Refused(
            "the answer says nothing about lighting, weather, time, setting or background".into(),
        ));
    }
    let q = fit_words(&sample.question);
    let asked: Vec<Kind> = ASPECTS
        .iter()
        .filter(|(_, cues)| cue_score(&q, cues) > 0.0)
        .map(|(k, _)| *k)
        .collect();
    let mut kinds: Vec<Kind> = Vec::new();
    for s in &sites {
        if !kinds.contains(&s.entry.kind) {
            kinds.push(s.entry.kind);
        }
    }
    // Asked-about aspects first, the specific ones (lighting, weather, time) before the
    // setting and the backdrop; seeded order among equals; then the rest.
    let (mut first, mut rest): (Vec<Kind>, Vec<Kind>) =
        kinds.into_iter().partition(|k| asked.contains(k));
    rng.shuffle(&mut first);
    rng.shuffle(&mut rest);
    first.sort_by_key(|k| match k {
        Kind::Lighting | Kind::Weather | Kind::Time => 0,
        Kind::Setting => 1,
        _ => 2,
    });
    for kind in first.into_iter().chain(rest) {
        // Up to MAX_TERMS distinct terms of this aspect, each with its replacement.
        let mut chosen: Vec<(&str, String)> = Vec::new();
        for site in sites.iter().filter(|s| s.entry.kind == kind) {
            if chosen.len() == MAX_TERMS {
                break;
            }
            if chosen.iter().any(|(p, _)| *p == site.entry.phrase) {
                continue;
            }
            let alts = shade_safe_colors(answer, site.start, &site.entry.alts);
            if let Some(rep) =
                choose_replacement(&mut rng, &site.entry.phrase, &alts, &penalty, &[])
            {
                chosen.push((site.entry.phrase.as_str(), rep.to_string()));
            }
        }
        let mut edits: Vec<Span> = sites
            .iter()
            .filter(|s| s.entry.kind == kind)
            .filter_map(|s| {
                chosen
                    .iter()
                    .find(|(p, _)| *p == s.entry.phrase)
                    .map(|(_, r)| Span::new(s.start, s.end, r.clone()))
            })
            .collect();
        if edits.is_empty() {
            continue;
        }
        edits.extend(polar_flip(&sample.question, answer));
        let rejected = apply_edits(answer, &edits);
        if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
            continue;
        }
        let aspect = format!("{kind:?}").to_lowercase();
        return Ok(Edit::new(rejected)
            .note(describe_edits(answer, &edits))
            .extra("aspect", aspect));
    }
    Err(PluginError::Refused(
        "every replacement scene term is banned by the penalty list".into(),
    ))
}
