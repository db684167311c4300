//! How well a sample asks about the background, lighting, weather, time or setting.

use vapr_plugin_sdk::text::fit::{Cue, cue, cue_score, fit_words};

use vapr_plugin_sdk::text::inject::{sentence_of, sentence_spans};
use vapr_plugin_sdk::text::lexicon::{self, Site};

const QUESTION: &[Cue] = &[
    cue("color * background", 0.97),
    cue("colour * background", 0.97),
    cue("background", 0.9),
    cue("backdrop", 0.9),
    cue("lighting", 0.95),
    cue("light source", 0.9),
    cue("lit", 0.85),
    cue("illuminated", 0.85),
    cue("weather", 0.95),
    cue("time of day", 0.95),
    cue("what time", 0.85),
    cue("day or night", 0.95),
    cue("daytime or nighttime", 0.95),
    cue("season", 0.9),
    cue("setting", 0.85),
    cue("environment", 0.85),
    cue("surroundings", 0.9),
    cue("take place", 0.9),
    cue("where is this", 0.85),
    cue("where was", 0.9),
    cue("where are they", 0.8),
    cue("indoors or outdoors", 0.95),
    cue("inside or outside", 0.95),
    cue("indoor or outdoor", 0.95),
    cue("what room", 0.9),
    cue("which room", 0.9),
    cue("type of room", 0.9),
    cue("what kind of room", 0.95),
    cue("atmosphere", 0.85),
    cue("ambiance", 0.85),
    cue("sky", 0.75),
    cue("scenery", 0.9),
];

/// Fit in [0, 1]: scene questions; 0.6 of the weight when the answer has no scene term;
/// 0.4 for an answer that talks about its background, 0.2 for scene words alone.
pub fn score(question: &str, answer: &str) -> f32 {
    let s = cue_score(&fit_words(question), QUESTION);
    let a = fit_words(answer);
    let mut base = if scene_sites(question, answer).is_empty() {
        s * 0.6
    } else {
        s.max(0.2)
    };
    if a.iter().any(|w| w == "background") {
        base = base.max(0.4);
    }
    base
}

/// Words that make a colour a background colour when they share its sentence.
const BACKDROP_WORDS: [&str; 6] = ["background", "backdrop", "wall", "walls", "sky", "ceiling"];

/// Scene terms of `answer`, plus its colours when they describe the backdrop.
pub fn scene_sites<'l>(question: &str, answer: &str) -> Vec<Site<'l>> {
    let q = fit_words(question);
    let asks_backdrop = BACKDROP_WORDS.iter().any(|w| q.iter().any(|x| x == w));
    let spans = sentence_spans(answer);
    let mut sites = lexicon::scene().sites(answer);
    for c in lexicon::colors().sites(answer) {
        let (s, e) = spans[sentence_of(&spans, c.start)];
        let sentence = fit_words(&answer[s..e]);
        if asks_backdrop
            || sentence
                .iter()
                .any(|w| BACKDROP_WORDS.contains(&w.as_str()))
        {
            sites.push(c);
        }
    }
    sites.sort_by_key(|s| s.start);
    sites
}
