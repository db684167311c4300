//! Keyword cues for category fit scores (Stage 2 categorisation).
//!
//! A cue is a lower-case word pattern with a weight; a text's score for a cue list is the
//! largest weight among the cues it matches. Patterns are words separated by spaces, where
//! `*` stands for a gap of zero to four words and a leading `^` anchors at the first word.
//! Punctuation is ignored, so `what color is the car?` matches `what color`.

use crate::tokens::{TokenKind, tokenize};

/// One weighted pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cue {
    pub pattern: &'static str,
    pub weight: f32,
}

/// Shorthand for a [`Cue`].
pub const fn cue(pattern: &'static str, weight: f32) -> Cue {
    Cue { pattern, weight }
}

/// Words of `text`, lower case, punctuation dropped (`'s` kept on its word).
pub fn fit_words(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Punct)
        .map(|t| t.text.to_lowercase())
        .collect()
}

/// The largest weight among `cues` matching `words` (from [`fit_words`]), 0 when none does.
pub fn cue_score(words: &[String], cues: &[Cue]) -> f32 {
    cues.iter()
        .filter(|c| matches_pattern(words, c.pattern))
        .map(|c| c.weight)
        .fold(0.0, f32::max)
}

/// True when `pattern` (see the module docs) occurs in `words`.
pub fn matches_pattern(words: &[String], pattern: &str) -> bool {
    let (anchored, body) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, pattern),
    };
    let pat: Vec<&str> = body.split_whitespace().collect();
    if pat.is_empty() {
        return false;
    }
    if anchored {
        return match_at(words, 0, &pat);
    }
    (0..words.len()).any(|i| match_at(words, i, &pat))
}

const MAX_GAP: usize = 4;

fn match_at(words: &[String], i: usize, pat: &[&str]) -> bool {
    let Some((&head, rest)) = pat.split_first() else {
        return true;
    };
    if head == "*" {
        return (0..=MAX_GAP)
            .any(|skip| i + skip <= words.len() && match_at(words, i + skip, rest));
    }
    words.get(i).is_some_and(|w| w == head) && match_at(words, i + 1, rest)
}

/// True for a polar (yes/no) question: it starts with an auxiliary verb.
pub fn is_polar_question(words: &[String]) -> bool {
    const AUX: [&str; 20] = [
        "is", "are", "was", "were", "do", "does", "did", "can", "could", "has", "have", "had",
        "will", "would", "should", "may", "might", "must", "isn't", "aren't",
    ];
    words.first().is_some_and(|w| AUX.contains(&w.as_str()))
}

/// Clamps to `[0, 1]`.
pub fn clamp01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str) -> Vec<String> {
        fit_words(t)
    }

    #[test]
    fn patterns_gaps_and_anchors() {
        let q = w("Where is the blue square relative to the green triangle?");
        assert!(matches_pattern(&q, "where is"));
        assert!(matches_pattern(&q, "^where"));
        assert!(!matches_pattern(&q, "^is"));
        assert!(matches_pattern(&q, "where * relative to"));
        assert!(!matches_pattern(&q, "relative * where"));
        assert!(matches_pattern(&w("What color is it?"), "what color"));
        // A gap is at most four words.
        assert!(!matches_pattern(
            &w("what a b c d e f color"),
            "what * color"
        ));
    }

    #[test]
    fn cue_score_takes_the_largest_matching_weight() {
        let cues = [cue("how many", 0.9), cue("many", 0.3), cue("zebra", 1.0)];
        assert_eq!(cue_score(&w("How many cats?"), &cues), 0.9);
        assert_eq!(cue_score(&w("nothing here"), &cues), 0.0);
    }

    #[test]
    fn polar_questions() {
        assert!(is_polar_question(&w("Is there a dog?")));
        assert!(is_polar_question(&w("Does the signal say walk?")));
        assert!(!is_polar_question(&w("What is this?")));
    }
}
