//! How well a sample asks whether something is there.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words, is_polar_question};
use vapr_plugin_sdk::text::polarity::leading_polarity;

const QUESTION: &[Cue] = &[
    cue("^is there", 0.95),
    cue("^are there", 0.95),
    cue("^was there", 0.95),
    cue("^were there", 0.95),
    cue("do you see", 0.9),
    cue("can you see", 0.9),
    cue("can * be seen", 0.9),
    cue("is * visible", 0.9),
    cue("are * visible", 0.9),
    cue("is * present", 0.9),
    cue("are * present", 0.9),
    cue("^does the image", 0.9),
    cue("^does the picture", 0.9),
    cue("^does the photo", 0.9),
    cue("^does this image", 0.9),
    cue("in the image", 0.85),
    cue("in the picture", 0.85),
    cue("in the photo", 0.85),
    cue("^does * have", 0.8),
    cue("^do * have", 0.8),
];

/// Comparisons ("Are there more circles than squares?") are reasoning, counts counting.
const NOT_EXISTENCE: &[Cue] = &[
    cue("more", 1.0),
    cue("fewer", 1.0),
    cue("less", 1.0),
    cue("as many", 1.0),
    cue("same number", 1.0),
    cue("how many", 1.0),
];

/// Fit in [0, 1]: existence questions; any other polar question answered with yes/no
/// 0.8 (attribute and relation plugins score their polar questions higher); 0.55 for a
/// yes/no answer alone. Comparisons and counts are capped at 0.4.
pub fn score(question: &str, answer: &str) -> f32 {
    let q = fit_words(question);
    let polar = is_polar_question(&q);
    let yes_no = leading_polarity(answer).is_some();
    let mut s = if polar { cue_score(&q, QUESTION) } else { 0.0 };
    if polar && yes_no {
        s = s.max(0.8);
    } else if polar {
        s = s.max(0.4);
    } else if yes_no {
        s = s.max(0.55);
    }
    if cue_score(&q, NOT_EXISTENCE) > 0.0 {
        s = s.min(0.4);
    }
    s
}
