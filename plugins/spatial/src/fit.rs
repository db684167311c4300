//! How well a sample is a spatial-relation question.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};
use vapr_plugin_sdk::text::lexicon;

/// Question cues.
const QUESTION: &[Cue] = &[
    cue("relative to", 0.95),
    cue("in relation to", 0.95),
    cue("left or right", 0.95),
    cue("left or the right", 0.95),
    cue("which side", 0.95),
    cue("what side", 0.95),
    cue("to the left of", 0.9),
    cue("to the right of", 0.9),
    cue("left of", 0.9),
    cue("right of", 0.9),
    cue("on the left", 0.85),
    cue("on the right", 0.85),
    cue("above", 0.85),
    cue("below", 0.85),
    cue("behind", 0.85),
    cue("in front of", 0.85),
    cue("on top of", 0.85),
    cue("underneath", 0.8),
    cue("beneath", 0.8),
    cue("under", 0.75),
    cue("next to", 0.8),
    cue("beside", 0.8),
    cue("between", 0.75),
    cue("closer to", 0.85),
    cue("farther from", 0.85),
    cue("far from", 0.85),
    cue("near", 0.6),
    cue("where is", 0.8),
    cue("where are", 0.8),
    cue("position", 0.85),
    cue("positioned", 0.85),
    cue("located", 0.85),
    cue("location of", 0.85),
    cue("placed", 0.7),
    cue("direction", 0.7),
    cue("facing", 0.6),
];

/// A setting question ("where is this?") is a background question, not a relation.
const SETTING: &[Cue] = &[
    cue("where is this", 1.0),
    cue("where was", 1.0),
    cue("where are they", 0.5),
];

/// Fit in [0, 1]: a relation question scores high when the answer states a relation,
/// half as much when it does not; an answer stating relations alone scores 0.35.
pub fn score(question: &str, answer: &str) -> f32 {
    let q = fit_words(question);
    let mut s = cue_score(&q, QUESTION);
    if cue_score(&q, SETTING) >= 1.0 {
        s = s.min(0.4);
    }
    let has_relation = !lexicon::spatial().sites(answer).is_empty();
    if has_relation { s.max(0.35) } else { s * 0.5 }
}
