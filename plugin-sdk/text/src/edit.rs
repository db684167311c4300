//! Span edits on tokenised text: find phrases on token boundaries, replace spans keeping
//! the original's case shape, keep `a`/`an` agreeing with the word that follows, and pick
//! replacements that respect a penalty list (banned substitutes).
//!
//! Rule-mode injectors are built from these pieces: a lexicon finds [`PhraseMatch`]es, the
//! plugin chooses which to change, and [`apply_edits`] writes the rejected answer without
//! touching any other character of the chosen one.

use crate::SeededRng;
use crate::tokens::{match_case, tokenize};

/// A phrase found in a text, on token boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhraseMatch {
    /// Byte offset of the phrase's first character.
    pub start: usize,
    /// Byte offset one past its last character.
    pub end: usize,
    /// Index of the matched phrase in the list given to [`find_phrases`].
    pub entry: usize,
    /// Index of the first matched token in `tokenize(text)`.
    pub first_token: usize,
    /// Number of tokens matched.
    pub token_len: usize,
}

/// Finds `phrases` (lower case, words separated by single spaces, e.g. `to the left of`) in
/// `text`, case-insensitively and on whole tokens. Scans left to right; at each position the
/// longest phrase wins and matches never overlap.
pub fn find_phrases<S: AsRef<str>>(text: &str, phrases: &[S]) -> Vec<PhraseMatch> {
    let toks = tokenize(text);
    let lower: Vec<String> = toks.iter().map(|t| t.text.to_lowercase()).collect();
    let split: Vec<Vec<&str>> = phrases
        .iter()
        .map(|p| p.as_ref().split(' ').collect())
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let mut best: Option<(usize, usize)> = None;
        for (entry, words) in split.iter().enumerate() {
            let n = words.len();
            if n == 0 || i + n > toks.len() || best.is_some_and(|(_, len)| len >= n) {
                continue;
            }
            if words
                .iter()
                .zip(&lower[i..i + n])
                .all(|(w, t)| *w == t.as_str())
            {
                best = Some((entry, n));
            }
        }
        match best {
            Some((entry, n)) => {
                out.push(PhraseMatch {
                    start: toks[i].start,
                    end: toks[i + n - 1].end,
                    entry,
                    first_token: i,
                    token_len: n,
                });
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

/// Replace `text[start..end]` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub replacement: String,
    /// Give the replacement the case shape of the text it replaces (see [`match_case`]).
    pub keep_case: bool,
}

impl Edit {
    /// An edit that keeps the replaced text's case shape.
    pub fn new(start: usize, end: usize, replacement: impl Into<String>) -> Self {
        Edit {
            start,
            end,
            replacement: replacement.into(),
            keep_case: true,
        }
    }

    /// An edit written exactly as given.
    pub fn verbatim(start: usize, end: usize, replacement: impl Into<String>) -> Self {
        Edit {
            start,
            end,
            replacement: replacement.into(),
            keep_case: false,
        }
    }
}

/// Applies non-overlapping edits (an edit overlapping an earlier one is skipped) and then
/// fixes an `a`/`an` directly before each edited span so it agrees with the new word.
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 16);
    let mut cursor = 0;
    // Byte offsets in `out` where an edited span starts.
    let mut starts = Vec::new();
    for e in sorted {
        if e.start < cursor || e.end < e.start || e.end > text.len() {
            continue;
        }
        out.push_str(&text[cursor..e.start]);
        starts.push(out.len());
        let original = &text[e.start..e.end];
        if e.keep_case {
            out.push_str(&match_case(original, &e.replacement));
        } else {
            out.push_str(&e.replacement);
        }
        cursor = e.end;
    }
    out.push_str(&text[cursor..]);
    for &s in starts.iter().rev() {
        out = fix_article_before(&out, s);
    }
    out
}

/// `a` or `an` for the word `next` (by its sound as far as spelling tells).
pub fn indefinite_article(next: &str) -> &'static str {
    let w = next
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    const AN_EXCEPTIONS: [&str; 4] = ["hour", "honest", "honor", "heir"];
    const A_EXCEPTIONS: [&str; 7] = ["uni", "use", "usu", "one", "once", "eu", "ewe"];
    if AN_EXCEPTIONS.iter().any(|p| w.starts_with(p)) {
        return "an";
    }
    if A_EXCEPTIONS.iter().any(|p| w.starts_with(p)) {
        return "a";
    }
    // Digits read as words: 8 and 11/18/80… start with a vowel sound.
    if w.starts_with('8') || w.starts_with("11") || w.starts_with("18") {
        return "an";
    }
    match w.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// If the word right before byte `at` is `a`/`an` (any case), make it agree with the word
/// that starts at `at`.
fn fix_article_before(text: &str, at: usize) -> String {
    let before = &text[..at];
    let trimmed = before.trim_end();
    if trimmed.len() == before.len() && at > 0 {
        return text.to_string(); // no space between: not a separate article
    }
    let word_start = trimmed
        .rfind(|c: char| !c.is_alphabetic())
        .map_or(0, |i| i + 1);
    let prev = &trimmed[word_start..];
    if !(prev.eq_ignore_ascii_case("a") || prev.eq_ignore_ascii_case("an")) {
        return text.to_string();
    }
    let next_word: String = text[at..]
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect();
    if next_word.is_empty() {
        return text.to_string();
    }
    let want = match_case(prev, indefinite_article(&next_word));
    if want == prev {
        return text.to_string();
    }
    format!(
        "{}{}{}",
        &text[..word_start],
        want,
        &text[word_start + prev.len()..]
    )
}

/// Penalty entries, normalised: lower case, trimmed, single spaces, empties dropped.
/// Accepts a list of strings (each may itself hold comma/semicolon/newline separated items
/// or a JSON-like `["a", "b"]` array).
pub fn parse_penalty_list<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    let mut out = Vec::new();
    for item in items {
        for part in item.as_ref().split([',', ';', '\n']) {
            let cleaned = part
                .trim()
                .trim_matches(|c: char| matches!(c, '[' | ']' | '"' | '\'') || c.is_whitespace());
            let norm = cleaned
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if !norm.is_empty() && !out.contains(&norm) {
                out.push(norm);
            }
        }
    }
    out
}

/// True when `candidate` is, or contains as whole words, a banned entry of `penalty`
/// (entries as returned by [`parse_penalty_list`]).
pub fn is_banned(candidate: &str, penalty: &[String]) -> bool {
    if penalty.is_empty() {
        return false;
    }
    let words: Vec<String> = tokenize(candidate)
        .iter()
        .map(|t| t.text.to_lowercase())
        .collect();
    penalty.iter().any(|banned| {
        let b: Vec<&str> = banned.split(' ').collect();
        !b.is_empty()
            && words
                .windows(b.len())
                .any(|w| w.iter().zip(&b).all(|(x, y)| x == y))
    })
}

/// A seeded choice among `candidates` that differs from `original` (case-insensitively), is
/// not banned and is not in `avoid`. `None` when nothing is left.
pub fn choose_replacement<'a, S: AsRef<str>>(
    rng: &mut SeededRng,
    original: &str,
    candidates: &'a [S],
    penalty: &[String],
    avoid: &[String],
) -> Option<&'a str> {
    let orig = original.to_lowercase();
    let allowed: Vec<&str> = candidates
        .iter()
        .map(|c| c.as_ref())
        .filter(|c| c.to_lowercase() != orig)
        .filter(|c| !is_banned(c, penalty))
        .filter(|c| !avoid.iter().any(|a| a.eq_ignore_ascii_case(c)))
        .collect();
    rng.choose(&allowed).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_phrases_prefers_longest_and_is_case_insensitive() {
        let text = "The cat is To the left of the dog, left of the tree.";
        let m = find_phrases(text, &["left of", "to the left of", "left"]);
        assert_eq!(m.len(), 2);
        assert_eq!(&text[m[0].start..m[0].end], "To the left of");
        assert_eq!(m[0].entry, 1);
        assert_eq!(&text[m[1].start..m[1].end], "left of");
    }

    #[test]
    fn find_phrases_respects_token_boundaries() {
        // "top-left" is one token, so "left" alone does not match inside it.
        assert!(find_phrases("the top-left corner", &["left"]).is_empty());
        assert!(find_phrases("leftover pizza", &["left"]).is_empty());
    }

    #[test]
    fn apply_edits_keeps_case_and_fixes_articles() {
        let text = "A red apple and an orange cup.";
        let m = find_phrases(text, &["red", "orange"]);
        let edits = vec![
            Edit::new(m[0].start, m[0].end, "orange"),
            Edit::new(m[1].start, m[1].end, "blue"),
        ];
        assert_eq!(apply_edits(text, &edits), "An orange apple and a blue cup.");
        let text = "Left of it.";
        assert_eq!(
            apply_edits(text, &[Edit::new(0, 4, "right")]),
            "Right of it."
        );
    }

    #[test]
    fn apply_edits_skips_overlaps() {
        let text = "one two three";
        let out = apply_edits(
            text,
            &[
                Edit::new(0, 7, "x"),
                Edit::new(4, 7, "y"),
                Edit::verbatim(8, 13, "Z"),
            ],
        );
        assert_eq!(out, "x Z");
    }

    #[test]
    fn articles_follow_sound() {
        assert_eq!(indefinite_article("apple"), "an");
        assert_eq!(indefinite_article("unicorn"), "a");
        assert_eq!(indefinite_article("hour"), "an");
        assert_eq!(indefinite_article("8-year-old"), "an");
        assert_eq!(indefinite_article("square"), "a");
    }

    #[test]
    fn penalty_list_parsing_and_banning() {
        let p = parse_penalty_list(&["Blue, six; ", "[\"light  gray\"]", "six"]);
        assert_eq!(p, ["blue", "six", "light gray"]);
        assert!(is_banned("blue", &p));
        assert!(is_banned("light blue", &p));
        assert!(is_banned("Light Gray", &p));
        assert!(!is_banned("gray", &p));
        assert!(!is_banned("bluebird", &p));
    }

    #[test]
    fn choose_replacement_filters_original_banned_and_avoided() {
        let mut rng = SeededRng::new(1);
        let cands = ["red", "blue", "green", "yellow"];
        let banned = parse_penalty_list(&["blue"]);
        for _ in 0..50 {
            let c =
                choose_replacement(&mut rng, "Red", &cands, &banned, &["green".into()]).unwrap();
            assert_eq!(c, "yellow");
        }
        assert_eq!(
            choose_replacement(&mut rng, "red", &["red"], &[], &[]),
            None
        );
    }
}
