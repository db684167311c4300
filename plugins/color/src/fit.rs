//! How well a sample asks about colours.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words, is_polar_question};
use vapr_plugin_sdk::text::lexicon;

const QUESTION: &[Cue] = &[
    cue("what color", 0.95),
    cue("what colour", 0.95),
    cue("what colors", 0.95),
    cue("what colours", 0.95),
    cue("which color", 0.95),
    cue("which colour", 0.95),
    cue("what is the color", 0.95),
    cue("what is the colour", 0.95),
    cue("color of", 0.9),
    cue("colour of", 0.9),
    cue("colors", 0.85),
    cue("colours", 0.85),
    cue("colored", 0.8),
    cue("coloured", 0.8),
    cue("color", 0.8),
    cue("colour", 0.8),
];

/// Existence questions mention colours too ("Is there a green square?"); they are not
/// colour questions.
const EXISTENCE: &[Cue] = &[
    cue("^is there", 1.0),
    cue("^are there", 1.0),
    cue("see", 1.0),
    cue("visible", 1.0),
];

/// Fit in [0, 1]: colour questions, and polar questions about an object's colour ("Is the
/// car red?"); half weight when the answer names no colour; 0.3 for colour words alone.
pub fn score(question: &str, answer: &str) -> f32 {
    let q = fit_words(question);
    let mut s = cue_score(&q, QUESTION);
    let polar_colour = is_polar_question(&q)
        && q.iter().any(|w| lexicon::is_color(w))
        && cue_score(&q, EXISTENCE) == 0.0;
    if polar_colour {
        s = s.max(0.85);
    }
    let has_colour = !lexicon::colors().sites(answer).is_empty();
    if has_colour { s.max(0.3) } else { s * 0.5 }
}
