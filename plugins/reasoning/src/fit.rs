//! How well a sample asks for an explanation, an inference or a comparison.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};

const QUESTION: &[Cue] = &[
    cue("^why", 0.95),
    cue("why is", 0.95),
    cue("why are", 0.95),
    cue("why do", 0.95),
    cue("why does", 0.95),
    cue("explain why", 0.95),
    cue("what is the reason", 0.95),
    cue("what can be inferred", 0.95),
    cue("infer", 0.9),
    cue("what might", 0.9),
    cue("how might", 0.9),
    cue("what * might * be", 0.9),
    cue("what could", 0.85),
    cue("how could", 0.85),
    cue("what would", 0.85),
    cue("what should", 0.85),
    cue("purpose of", 0.9),
    cue("what is the purpose", 0.9),
    cue("reason", 0.85),
    cue("more * than", 0.9),
    cue("fewer * than", 0.9),
    cue("less * than", 0.85),
    cue("as many * as", 0.9),
    cue("the same number", 0.9),
    cue("what factors", 0.85),
    cue("what precautions", 0.9),
    cue("benefits", 0.85),
    cue("advantages", 0.85),
    cue("disadvantages", 0.85),
    cue("challenges", 0.85),
    cue("how does * affect", 0.85),
    cue("what is unusual", 0.85),
    cue("what is unique", 0.85),
    cue("what is interesting", 0.8),
    cue("potential", 0.8),
    cue("likely", 0.8),
    cue("suggest", 0.8),
    cue("safe to", 0.8),
    cue("imagine", 0.7),
    cue("consider", 0.7),
];

/// Words of an answer that argues.
const ANSWER: &[Cue] = &[
    cue("because", 0.35),
    cue("since", 0.35),
    cue("therefore", 0.35),
    cue("likely", 0.35),
    cue("suggests", 0.35),
    cue("indicates", 0.35),
    cue("probably", 0.35),
    cue("possibly", 0.35),
];

/// Fit in [0, 1]: explanation, inference and comparison questions; 0.35 for an answer
/// that argues. A count question ("how many more …") is capped at 0.5: counting wins.
pub fn score(question: &str, answer: &str) -> f32 {
    let q = fit_words(question);
    let mut s = cue_score(&q, QUESTION).max(cue_score(&fit_words(answer), ANSWER));
    if cue_score(&q, &[cue("how many", 1.0)]) > 0.0 {
        s = s.min(0.5);
    }
    s
}
