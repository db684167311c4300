//! How well a sample asks what an object is.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};

use vapr_plugin_sdk::text::lexicon::{self, Site};

/// Question cues.
const QUESTION: &[Cue] = &[
    cue("what shape", 0.95),
    cue("which shape", 0.95),
    cue("what object", 0.9),
    cue("which object", 0.85),
    cue("what item", 0.85),
    cue("what animal", 0.9),
    cue("what animals", 0.9),
    cue("what vehicle", 0.9),
    cue("what food", 0.85),
    cue("what fruit", 0.85),
    cue("what kind of", 0.85),
    cue("what type of", 0.85),
    cue("what sort of", 0.85),
    cue("what is the object", 0.85),
    cue("what is this", 0.8),
    cue("what is that", 0.8),
    cue("what are these", 0.75),
    cue("what is * holding", 0.85),
    cue("what is * eating", 0.85),
    cue("what is * carrying", 0.85),
    cue("what is * riding", 0.85),
    cue("what is * playing with", 0.85),
    cue("what are * holding", 0.85),
    cue("what are * eating", 0.85),
    cue("what is on the", 0.8),
    cue("what is in the", 0.65),
    cue("what is * wearing", 0.6),
    cue("what sport", 0.75),
    cue("what is * doing", 0.5),
    cue("identify the", 0.7),
    cue("what is the", 0.4),
    cue("who is", 0.4),
    cue("^what", 0.3),
];

/// Fit in [0, 1]: the question cue, full weight when the answer names an object the
/// question does not, less when it only repeats the question's objects or names none.
pub fn score(question: &str, answer: &str) -> f32 {
    let q = fit_words(question);
    let s = cue_score(&q, QUESTION);
    let (fresh, repeated) = key_nouns(question, answer);
    if fresh > 0 {
        s.max(0.3)
    } else if repeated > 0 {
        s * 0.7
    } else {
        s * 0.4
    }
}

/// Object nouns of `answer`, those of a group the question does not mention first.
pub fn ranked_sites<'l>(question: &str, answer: &str) -> (Vec<Site<'l>>, Vec<Site<'l>>) {
    let lex = lexicon::objects();
    let asked: Vec<usize> = lex.sites(question).iter().map(|s| s.entry.group).collect();
    lex.sites(answer)
        .into_iter()
        .partition(|s| !asked.contains(&s.entry.group))
}

/// How many object nouns the answer has outside / inside the question's groups.
pub fn key_nouns(question: &str, answer: &str) -> (usize, usize) {
    let (fresh, repeated) = ranked_sites(question, answer);
    (fresh.len(), repeated.len())
}
