//! How well a sample asks for a description of the whole image.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};
use vapr_plugin_sdk::text::sentence_count;

const QUESTION: &[Cue] = &[
    cue("describe the image", 0.95),
    cue("describe this image", 0.95),
    cue("describe the picture", 0.95),
    cue("describe this picture", 0.95),
    cue("describe the photo", 0.95),
    cue("describe this photo", 0.95),
    cue("describe the scene", 0.95),
    cue("describe * detail", 0.95),
    cue("caption", 0.95),
    cue("description of the", 0.9),
    cue("description of this", 0.9),
    cue("summary of the", 0.9),
    cue("summarize", 0.9),
    cue("summarise", 0.9),
    cue("explanation of the", 0.85),
    cue("interpretation of the", 0.9),
    cue("account of the", 0.9),
    cue("narrative", 0.85),
    cue("what is happening", 0.85),
    cue("what's happening", 0.85),
    cue("what is going on", 0.85),
    cue("going on in", 0.85),
    cue("what do you see", 0.85),
    cue("what can you see", 0.85),
    cue("what is this photo about", 0.9),
    cue("what is this image about", 0.9),
    cue("what is in the image", 0.85),
    cue("what does the image show", 0.85),
    cue("key elements", 0.9),
    cue("main features", 0.9),
    cue("elaborate on", 0.9),
    cue("visual content", 0.9),
    cue("analyze the image", 0.9),
    cue("analyse the image", 0.9),
    cue("^describe", 0.8),
];

/// Fit in [0, 1]: description requests; a long answer alone scores 0.45 (three sentences)
/// or 0.55 (five or more).
pub fn score(question: &str, answer: &str) -> f32 {
    let s = cue_score(&fit_words(question), QUESTION);
    let n = sentence_count(answer);
    let by_length = if n >= 5 {
        0.55
    } else if n >= 3 {
        0.45
    } else {
        0.0
    };
    s.max(by_length)
}
