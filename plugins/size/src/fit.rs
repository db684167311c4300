//! How well a sample asks about size.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};
use vapr_plugin_sdk::text::lexicon;

const QUESTION: &[Cue] = &[
    cue("how big", 0.95),
    cue("how large", 0.95),
    cue("how small", 0.95),
    cue("how tall", 0.95),
    cue("how wide", 0.95),
    cue("how long is", 0.8),
    cue("how long are", 0.8),
    cue("what size", 0.95),
    cue("which size", 0.95),
    cue("size of", 0.9),
    cue("same size", 0.95),
    cue("big or small", 0.95),
    cue("large or small", 0.95),
    cue("size", 0.85),
    cue("sized", 0.85),
    cue("bigger", 0.9),
    cue("larger", 0.9),
    cue("smaller", 0.9),
    cue("taller", 0.9),
    cue("shorter", 0.9),
    cue("biggest", 0.9),
    cue("largest", 0.9),
    cue("smallest", 0.9),
    cue("tallest", 0.9),
    cue("height", 0.85),
    cue("width", 0.85),
    cue("tall", 0.8),
    cue("big", 0.8),
    cue("large", 0.8),
    cue("huge", 0.8),
    cue("tiny", 0.8),
    cue("compared with", 0.6),
    cue("compared to", 0.6),
];

/// Fit in [0, 1]: size questions; half weight when the answer has no size word; 0.3 for
/// size words alone.
pub fn score(question: &str, answer: &str) -> f32 {
    let s = cue_score(&fit_words(question), QUESTION);
    let has_size = !lexicon::sizes().sites(answer).is_empty();
    if has_size { s.max(0.3) } else { s * 0.5 }
}
