//! Building blocks shared by the rule-mode injectors: question mentions, the yes/no flip
//! of a polar answer, counts, sentence spans and the size of an edit.

use crate::edit::{Edit, find_phrases};
use crate::fit::{fit_words, is_polar_question};
use crate::polarity::flip_leading;
use crate::tokens::{Token, TokenKind, levenshtein_words, token_count, tokenize};
use crate::{number_to_words, parse_number, words_to_number};

/// True when `phrase` occurs in `text` as whole words (case-insensitive).
pub fn mentions(text: &str, phrase: &str) -> bool {
    !find_phrases(text, &[phrase.to_lowercase()]).is_empty()
}

/// The `Yes` ↔ `No` edit for a polar question whose answer leads with yes/no. Category
/// injectors add it to their content edit so the rejected answer stays self-consistent
/// ("Yes, the cup is left of the plate" → "No, the cup is right of the plate").
pub fn polar_flip(question: &str, answer: &str) -> Option<Edit> {
    if !is_polar_question(&fit_words(question)) {
        return None;
    }
    flip_leading(answer).map(|(_, e)| e)
}

/// A whole-number count written as digits or words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberSite<'a> {
    pub text: &'a str,
    pub value: u64,
    pub digits: bool,
    pub start: usize,
    pub end: usize,
}

/// Whole-number counts in `text` (`3`, `three`, `Twenty-one`): no decimals, no years
/// (four-digit numbers from 1000), no pronoun `one` (`the one on the left`).
pub fn numbers(text: &str) -> Vec<NumberSite<'_>> {
    let toks = tokenize(text);
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let value = match t.kind {
            TokenKind::Number if !t.text.contains('.') => {
                parse_number(t.text).filter(|v| *v < 1000)
            }
            TokenKind::Word => words_to_number(t.text),
            _ => None,
        };
        let Some(value) = value else { continue };
        if t.kind == TokenKind::Word && value == 1 && is_pronoun_one(&toks, i) {
            continue;
        }
        out.push(NumberSite {
            text: t.text,
            value,
            digits: t.kind == TokenKind::Number,
            start: t.start,
            end: t.end,
        });
    }
    out
}

fn is_pronoun_one(toks: &[Token<'_>], i: usize) -> bool {
    const BEFORE: [&str; 8] = ["the", "this", "that", "which", "each", "any", "every", "no"];
    i > 0
        && BEFORE
            .iter()
            .any(|w| toks[i - 1].text.eq_ignore_ascii_case(w))
}

/// Words after `no` that make it no count ("no more than three", "no one", "no sign of").
const NO_NOT_A_COUNT: [&str; 22] = [
    "more", "less", "fewer", "longer", "one", "doubt", "matter", "way", "idea", "sign", "signs",
    "evidence", "trace", "need", "other", "such", "further", "it", "there", "they", "the", "not",
];

/// Counts in `text` including zero: the [`numbers`], a determiner `no` ("there are no red
/// circles") and `none` ("there are none", "none of the circles"), in text order. A leading
/// yes/no answer word ("No, there are three") and `no` in "no more than", "no one", … are
/// not counts.
pub fn count_sites(text: &str) -> Vec<NumberSite<'_>> {
    let mut out = numbers(text);
    let lead_end = crate::polarity::leading_polarity(text).map_or(0, |l| l.end);
    let toks = tokenize(text);
    for (i, t) in toks.iter().enumerate() {
        let lower = t.text.to_lowercase();
        let zero = match lower.as_str() {
            "none" => true,
            "no" => toks.get(i + 1).is_some_and(|n| {
                n.kind == TokenKind::Word
                    && !NO_NOT_A_COUNT.contains(&n.text.to_lowercase().as_str())
            }),
            _ => false,
        };
        if zero && t.start >= lead_end {
            out.push(NumberSite {
                text: t.text,
                value: 0,
                digits: false,
                start: t.start,
                end: t.end,
            });
        }
    }
    out.sort_by_key(|n| n.start);
    out
}

/// `value` written like `site` (digits stay digits, words stay words; the edit keeps case).
pub fn write_number_like(site: &NumberSite<'_>, value: u64) -> String {
    if site.digits {
        value.to_string()
    } else {
        number_to_words(value)
    }
}

/// The edit that makes the noun after byte `after` agree with a new count `value`
/// ("one circle" → "four circles", "four red triangles" → "one red triangle"); colour,
/// size and other modifiers are never changed. `None` when the noun already agrees or no
/// noun follows. See [`crate::agreement`], which also fixes the verb.
pub fn noun_agreement(text: &str, after: usize, value: u64) -> Option<Edit> {
    crate::agreement::noun_agreement(text, after, value)
}

/// Colour alternatives that read well after the shade word (if any) before byte `start`:
/// "light blue" may become "light green" but not "light white".
pub fn shade_safe_colors(text: &str, start: usize, alts: &[String]) -> Vec<String> {
    let before = text[..start].trim_end();
    let prev = before
        .rsplit(|c: char| !c.is_alphabetic())
        .next()
        .unwrap_or("")
        .to_lowercase();
    let shaded = matches!(prev.as_str(), "light" | "dark" | "pale" | "bright" | "deep");
    alts.iter()
        .filter(|a| !(shaded && matches!(a.as_str(), "white" | "black" | "gray")))
        .cloned()
        .collect()
}

/// Byte spans of the sentences of `text` (ended by `.`, `!`, `?` or a line break).
pub fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start: Option<usize> = None;
    let toks = tokenize(text);
    for (i, t) in toks.iter().enumerate() {
        if start.is_none() {
            start = Some(t.start);
        }
        let terminal = t.kind == TokenKind::Punct && matches!(t.text, "." | "!" | "?");
        let line_break = toks
            .get(i + 1)
            .is_some_and(|n| text[t.end..n.start].contains('\n'));
        if terminal || line_break {
            spans.push((start.take().unwrap_or(t.start), t.end));
        }
    }
    if let (Some(s), Some(last)) = (start, toks.last()) {
        spans.push((s, last.end));
    }
    spans
}

/// Index of the sentence holding byte `offset` (the last sentence when past the end).
pub fn sentence_of(spans: &[(usize, usize)], offset: usize) -> usize {
    spans
        .iter()
        .position(|&(s, e)| offset >= s && offset < e)
        .unwrap_or(spans.len().saturating_sub(1))
}

/// The size of an edit: (token-count gap, word-level Levenshtein distance).
pub fn edit_size(chosen: &str, rejected: &str) -> (usize, usize) {
    (
        token_count(chosen).abs_diff(token_count(rejected)),
        levenshtein_words(chosen, rejected),
    )
}

/// A short human note of what changed (`left of -> right of; Yes -> No`).
pub fn describe_edits(original: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.start);
    sorted
        .iter()
        .map(|e| {
            let from = original.get(e.start..e.end).unwrap_or("").trim();
            let to = if e.keep_case {
                crate::match_case(from, e.replacement.trim())
            } else {
                e.replacement.trim().to_string()
            };
            let to = to.as_str();
            match (from.is_empty(), to.is_empty()) {
                (true, _) => format!("+{to}"),
                (_, true) => format!("-{from}"),
                _ => format!("{from} -> {to}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply_edits;

    #[test]
    fn polar_flip_only_for_polar_questions() {
        let a = "Yes, the cup is left of the plate.";
        let e = polar_flip("Is the cup left of the plate?", a).unwrap();
        assert_eq!(apply_edits(a, &[e]), "No, the cup is left of the plate.");
        assert!(polar_flip("Where is the cup?", a).is_none());
        assert!(polar_flip("Is it?", "The cup.").is_none());
    }

    #[test]
    fn numbers_skip_pronouns_years_and_decimals() {
        let t = "Two dogs and the one cat in 2019 weigh 2.5 kg; 12 birds, One fish.";
        let v: Vec<u64> = numbers(t).iter().map(|n| n.value).collect();
        assert_eq!(v, [2, 12, 1]);
        let n = numbers("three")[0];
        assert_eq!(write_number_like(&n, 4), "four");
    }

    #[test]
    fn count_sites_read_no_and_none_as_zero() {
        let sites = |t: &str| -> Vec<(String, u64)> {
            count_sites(t)
                .iter()
                .map(|s| (s.text.to_string(), s.value))
                .collect()
        };
        assert_eq!(sites("There are no red circles."), [("no".into(), 0)]);
        assert_eq!(
            sites("No cats, but 2 dogs."),
            [("No".into(), 0), ("2".into(), 2)]
        );
        assert_eq!(sites("None of the circles are red."), [("None".into(), 0)]);
        assert_eq!(sites("There are zero cars."), [("zero".into(), 0)]);
        assert_eq!(sites("No, there are three cats."), [("three".into(), 3)]);
        assert!(sites("No one is there; no more than that.").is_empty());
        assert!(sites("No.").is_empty());
    }

    #[test]
    fn nouns_agree_with_new_counts() {
        let t = "one circle and four red triangles and two boxes";
        let one = numbers(t)[0];
        assert_eq!(
            apply_edits(t, &[noun_agreement(t, one.end, 4).unwrap()]),
            "one circles and four red triangles and two boxes"
        );
        let four = numbers(t)[1];
        assert_eq!(
            apply_edits(t, &[noun_agreement(t, four.end, 1).unwrap()]),
            "one circle and four red triangle and two boxes"
        );
        assert!(noun_agreement(t, four.end, 3).is_none());
        assert!(noun_agreement("two of each", 3, 3).is_none());
        let two = numbers(t)[2];
        assert_eq!(
            apply_edits(t, &[noun_agreement(t, two.end, 1).unwrap()]),
            "one circle and four red triangles and two box"
        );
    }

    #[test]
    fn shades_keep_plausible_colours() {
        let alts: Vec<String> = ["white", "green", "gray"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let t = "a light blue wall and a blue door";
        assert_eq!(
            shade_safe_colors(t, t.find("blue").unwrap(), &alts),
            ["green"]
        );
        assert_eq!(shade_safe_colors(t, t.rfind("blue").unwrap(), &alts), alts);
    }

    #[test]
    fn sentences_split_on_terminators_and_lines() {
        let t = "A red car. A blue bus!\nA tree\nEnd";
        let spans = sentence_spans(t);
        let texts: Vec<&str> = spans.iter().map(|&(s, e)| &t[s..e]).collect();
        assert_eq!(texts, ["A red car.", "A blue bus!", "A tree", "End"]);
        assert_eq!(sentence_of(&spans, t.find("bus").unwrap()), 1);
    }

    #[test]
    fn edit_size_and_notes() {
        assert_eq!(
            edit_size("It is to the left of it.", "It is to the right of it."),
            (0, 1)
        );
        let text = "Yes, it is.";
        let edits = [Edit::new(0, 3, "no"), Edit::verbatim(10, 10, " not")];
        assert_eq!(describe_edits(text, &edits), "Yes -> No; +not");
    }
}
