//! Yes/no polarity and negation: the leading `Yes`/`No` of an answer, and the one place in a
//! clause whose change reverses what it claims (`there is a` ↔ `there is no`, `is` ↔
//! `is not`, `can` ↔ `cannot`). Used by the existence injector, the reasoning injector and
//! the polarity-flip validator.

use crate::edit::{Edit, indefinite_article};
use crate::tokens::{Token, TokenKind, tokenize};

/// The polarity of a yes/no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    Yes,
    No,
}

impl Polarity {
    /// The other polarity.
    pub fn flipped(self) -> Polarity {
        match self {
            Polarity::Yes => Polarity::No,
            Polarity::No => Polarity::Yes,
        }
    }

    /// The canonical word (`yes` / `no`).
    pub fn word(self) -> &'static str {
        match self {
            Polarity::Yes => "yes",
            Polarity::No => "no",
        }
    }
}

/// An answer's leading yes/no word and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leading {
    pub polarity: Polarity,
    pub start: usize,
    pub end: usize,
}

const YES_WORDS: [&str; 4] = ["yes", "yeah", "yep", "yup"];
const NO_WORDS: [&str; 2] = ["no", "nope"];
/// Words after which a leading `No` is still an answer (`No it is not`), not a determiner
/// (`No people are visible`).
const AFTER_NO: [&str; 14] = [
    "it", "there", "they", "he", "she", "i", "we", "you", "this", "that", "these", "those", "the",
    "not",
];

/// The leading `Yes`/`No` of `text`, skipping opening quotes or brackets.
pub fn leading_polarity(text: &str) -> Option<Leading> {
    let toks = tokenize(text);
    let idx = toks.iter().position(|t| {
        t.kind != TokenKind::Punct || !matches!(t.text, "\"" | "'" | "(" | "[" | "*" | "“" | "‘")
    })?;
    let first = &toks[idx];
    let lower = first.text.to_lowercase();
    let polarity = if YES_WORDS.contains(&lower.as_str()) {
        Polarity::Yes
    } else if NO_WORDS.contains(&lower.as_str()) {
        match toks.get(idx + 1) {
            None => Polarity::No,
            Some(next) if next.kind == TokenKind::Punct => Polarity::No,
            Some(next) if AFTER_NO.contains(&next.text.to_lowercase().as_str()) => Polarity::No,
            Some(_) => return None,
        }
    } else {
        return None;
    };
    Some(Leading {
        polarity,
        start: first.start,
        end: first.end,
    })
}

/// The edit that turns the leading `Yes` into `No` or back (case kept).
pub fn flip_leading(text: &str) -> Option<(Leading, Edit)> {
    let lead = leading_polarity(text)?;
    Some((
        lead,
        Edit::new(lead.start, lead.end, lead.polarity.flipped().word()),
    ))
}

/// Byte offset where the sentence containing byte `from` ends (after its `.`, `!`, `?`), or
/// the text's end. A `:` or `;` also ends the clause, so a justification after a colon
/// stays separate from the statement before it.
pub fn clause_end(text: &str, from: usize) -> usize {
    tokenize(text)
        .into_iter()
        .find(|t| {
            t.start >= from
                && t.kind == TokenKind::Punct
                && matches!(t.text, "." | "!" | "?" | ":" | ";")
        })
        .map_or(text.len(), |t| t.end)
}

/// Which way a negation edit went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggle {
    /// A positive claim was negated (`is` → `is not`).
    Negated,
    /// A negation was removed (`is not` → `is`).
    Affirmed,
}

const AUX: [&str; 19] = [
    "is", "are", "was", "were", "am", "can", "could", "does", "do", "did", "has", "have", "had",
    "will", "would", "should", "may", "might", "must",
];
const CONTRACTED: [(&str, &str); 16] = [
    ("isn't", "is"),
    ("aren't", "are"),
    ("wasn't", "was"),
    ("weren't", "were"),
    ("doesn't", "does"),
    ("don't", "do"),
    ("didn't", "did"),
    ("can't", "can"),
    ("cannot", "can"),
    ("won't", "will"),
    ("hasn't", "has"),
    ("haven't", "have"),
    ("hadn't", "had"),
    ("shouldn't", "should"),
    ("couldn't", "could"),
    ("wouldn't", "would"),
];
const DETERMINERS: [&str; 12] = [
    "a", "an", "one", "some", "several", "many", "two", "three", "four", "five", "multiple", "any",
];
const PRONOUN_BE: [&str; 8] = [
    "it's", "that's", "he's", "she's", "they're", "we're", "there's", "you're",
];

/// The first place in `text[from..to]` whose change reverses the clause's claim, as edits.
/// `None` when the clause has nothing to negate or affirm (e.g. a bare noun phrase).
pub fn toggle_negation(text: &str, from: usize, to: usize) -> Option<(Toggle, Vec<Edit>)> {
    let all = tokenize(text);
    let toks: Vec<Token<'_>> = all
        .into_iter()
        .filter(|t| t.start >= from && t.end <= to)
        .collect();
    let low: Vec<String> = toks
        .iter()
        .map(|t| t.text.to_lowercase().replace('’', "'"))
        .collect();
    let word = |i: usize| low.get(i).map_or("", |s| s.as_str());
    for i in 0..toks.len() {
        let w = word(i);
        // Negative forms: remove the negation.
        if let Some((_, pos)) = CONTRACTED.iter().find(|(neg, _)| *neg == w) {
            return Some((
                Toggle::Affirmed,
                vec![Edit::new(toks[i].start, toks[i].end, *pos)],
            ));
        }
        if w == "not" && i > 0 && (AUX.contains(&word(i - 1)) || PRONOUN_BE.contains(&word(i - 1)))
        {
            return Some((
                Toggle::Affirmed,
                vec![Edit::verbatim(toks[i - 1].end, toks[i].end, "")],
            ));
        }
        if w == "no" {
            if word(i + 1) == "one" {
                return Some((
                    Toggle::Affirmed,
                    vec![Edit::new(toks[i].start, toks[i + 1].end, "someone")],
                ));
            }
            let singular = i > 0 && matches!(word(i - 1), "is" | "was" | "there's" | "has");
            let next = toks.get(i + 1).map_or("", |t| t.text);
            let rep = if singular && !next.is_empty() {
                indefinite_article(next)
            } else {
                "some"
            };
            return Some((
                Toggle::Affirmed,
                vec![Edit::new(toks[i].start, toks[i].end, rep)],
            ));
        }
        if let Some(rep) = match w {
            "nobody" => Some("somebody"),
            "nothing" => Some("something"),
            "none" => Some("some"),
            "never" => Some("always"),
            _ => None,
        } {
            return Some((
                Toggle::Affirmed,
                vec![Edit::new(toks[i].start, toks[i].end, rep)],
            ));
        }
        // Positive forms: negate.
        let next = word(i + 1);
        if matches!(next, "not" | "no" | "never" | "nothing" | "none" | "nobody") {
            continue; // the negation itself is handled at the next token
        }
        if w == "there" && matches!(next, "is" | "are" | "was" | "were") || w == "there's" {
            let det = if w == "there's" { i + 1 } else { i + 2 };
            if matches!(
                word(det),
                "no" | "not" | "never" | "nothing" | "none" | "nobody"
            ) {
                continue;
            }
            if DETERMINERS.contains(&word(det)) {
                return Some((
                    Toggle::Negated,
                    vec![Edit::new(toks[det].start, toks[det].end, "no")],
                ));
            }
            let verb = if w == "there's" { i } else { i + 1 };
            if verb < toks.len() {
                return Some((
                    Toggle::Negated,
                    vec![Edit::verbatim(toks[verb].end, toks[verb].end, " no")],
                ));
            }
        }
        if matches!(w, "has" | "have" | "had") && DETERMINERS.contains(&next) {
            return Some((
                Toggle::Negated,
                vec![Edit::new(toks[i + 1].start, toks[i + 1].end, "no")],
            ));
        }
        if w == "can" {
            return Some((
                Toggle::Negated,
                vec![Edit::new(toks[i].start, toks[i].end, "cannot")],
            ));
        }
        if AUX.contains(&w) || PRONOUN_BE.contains(&w) {
            return Some((
                Toggle::Negated,
                vec![Edit::verbatim(toks[i].end, toks[i].end, " not")],
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply_edits;

    fn toggle(text: &str) -> String {
        let (_, edits) = toggle_negation(text, 0, text.len()).expect("a site");
        apply_edits(text, &edits)
    }

    #[test]
    fn leading_polarity_reads_yes_no_but_not_determiner_no() {
        assert_eq!(
            leading_polarity("Yes, there is a dog.").unwrap().polarity,
            Polarity::Yes
        );
        assert_eq!(leading_polarity("no").unwrap().polarity, Polarity::No);
        assert_eq!(
            leading_polarity("\"No, it is not.\"").unwrap().polarity,
            Polarity::No
        );
        assert_eq!(
            leading_polarity("No it isn't").unwrap().polarity,
            Polarity::No
        );
        assert!(leading_polarity("No people are visible.").is_none());
        assert!(leading_polarity("The dog is brown.").is_none());
        assert!(leading_polarity("").is_none());
    }

    #[test]
    fn flip_leading_keeps_case() {
        let text = "YES, it is.";
        let (lead, edit) = flip_leading(text).unwrap();
        assert_eq!(lead.polarity, Polarity::Yes);
        assert_eq!(apply_edits(text, &[edit]), "NO, it is.");
    }

    #[test]
    fn negates_there_is_and_aux_verbs() {
        assert_eq!(
            toggle("there is a green square in the image."),
            "there is no green square in the image."
        );
        assert_eq!(toggle("there are three dogs"), "there are no dogs");
        assert_eq!(toggle("there are people here"), "there are no people here");
        assert_eq!(
            toggle("the signal says it is safe to walk"),
            "the signal says it is not safe to walk"
        );
        assert_eq!(toggle("I can see a dog"), "I cannot see a dog");
        assert_eq!(toggle("the man has a hat"), "the man has no hat");
        assert_eq!(toggle("it's open"), "it's not open");
    }

    #[test]
    fn affirms_negations() {
        assert_eq!(
            toggle("there is no green square"),
            "there is a green square"
        );
        assert_eq!(toggle("there is no apple"), "there is an apple");
        assert_eq!(
            toggle("there are no red circles"),
            "there are some red circles"
        );
        assert_eq!(toggle("it is not safe to walk"), "it is safe to walk");
        assert_eq!(toggle("it doesn't"), "it does");
        assert_eq!(toggle("It Isn't here"), "It Is here");
        assert_eq!(toggle("I saw no one there"), "I saw someone there");
        assert_eq!(toggle("No people are visible."), "Some people are visible.");
        assert_eq!(toggle("I see nothing"), "I see something");
    }

    #[test]
    fn clause_end_stops_at_sentence_or_colon() {
        let t = "No, fewer: two and three. Next.";
        assert_eq!(&t[..clause_end(t, 0)], "No, fewer:");
        assert_eq!(clause_end("no terminator", 0), 13);
    }
}
