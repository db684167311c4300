//! Number agreement for count edits: when a count changes between one and not-one, the
//! head noun of the counted phrase and the verb that agrees with the count change number
//! too ("There is one blue triangle" → "There are three blue triangles"), and nothing
//! else does: colour, size and other modifiers stay as they are.
//!
//! The head noun is found by shape, not by a dictionary of every English noun: the words
//! after the count up to a preposition, conjunction, verb, participle or punctuation form
//! the noun phrase; its plural noun (going to one) or its last non-modifier word (going to
//! several) is the head. Known object nouns and irregular plurals come from the lexicon.

use crate::edit::Edit;
use crate::lexicon::{colors, objects, plural_of, sizes};
use crate::tokens::{Token, TokenKind, tokenize};

/// Words that end the noun phrase after a count (prepositions, conjunctions, determiners,
/// verbs, relative pronouns and adjectives that follow the noun).
const PHRASE_END: [&str; 58] = [
    "of",
    "each",
    "and",
    "or",
    "but",
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "to",
    "into",
    "onto",
    "with",
    "without",
    "near",
    "by",
    "for",
    "from",
    "under",
    "over",
    "above",
    "below",
    "behind",
    "beside",
    "between",
    "inside",
    "outside",
    "around",
    "more",
    "less",
    "fewer",
    "than",
    "other",
    "is",
    "are",
    "was",
    "were",
    "has",
    "have",
    "had",
    "do",
    "does",
    "can",
    "could",
    "that",
    "which",
    "who",
    "times",
    "per",
    "visible",
    "present",
    "shown",
    "here",
    "there",
    "total",
    "altogether",
];

/// Irregular plurals and their singulars (besides what `plural_of` derives by rule).
const IRREGULAR: [(&str, &str); 26] = [
    ("people", "person"),
    ("men", "man"),
    ("women", "woman"),
    ("children", "child"),
    ("mice", "mouse"),
    ("geese", "goose"),
    ("feet", "foot"),
    ("teeth", "tooth"),
    ("knives", "knife"),
    ("leaves", "leaf"),
    ("shelves", "shelf"),
    ("wolves", "wolf"),
    ("halves", "half"),
    ("loaves", "loaf"),
    ("scarves", "scarf"),
    ("calves", "calf"),
    ("wives", "wife"),
    ("cacti", "cactus"),
    ("buses", "bus"),
    ("lenses", "lens"),
    ("potatoes", "potato"),
    ("tomatoes", "tomato"),
    ("heroes", "hero"),
    ("mangoes", "mango"),
    ("volcanoes", "volcano"),
    ("dominoes", "domino"),
];

/// Words ending in `s` that are not plurals.
const NOT_PLURAL: [&str; 14] = [
    "christmas",
    "canvas",
    "atlas",
    "lens",
    "series",
    "species",
    "news",
    "gas",
    "bus",
    "this",
    "its",
    "his",
    "yes",
    "plus",
];

/// Nouns ending in `ing` (other `-ing` words after a count are participles: "one cat
/// sitting on the sofa").
const ING_NOUNS: [&str; 16] = [
    "building", "painting", "ceiling", "thing", "ring", "string", "wing", "king", "swing",
    "sibling", "railing", "awning", "earring", "dumpling", "pudding", "sapling",
];

/// Words ending in `ed` that are nouns or colours, not participles.
const ED_WORDS: [&str; 4] = ["bed", "shed", "sled", "red"];

/// True when `word` (any case) looks like a plural noun: a known plural object, an
/// irregular plural, or a regular `-s` plural.
pub fn is_plural_noun(word: &str) -> bool {
    let w = word.to_lowercase();
    if IRREGULAR.iter().any(|(p, _)| *p == w) {
        return true;
    }
    if let Some(e) = objects().get(&w) {
        return e.plural;
    }
    w.len() > 3
        && w.ends_with('s')
        && !NOT_PLURAL.contains(&w.as_str())
        && !["ss", "us", "is", "ous"].iter().any(|s| w.ends_with(s))
}

/// The singular of a plural noun (lower case): "triangles" → "triangle", "boxes" → "box",
/// "strawberries" → "strawberry", "people" → "person". Other words come back unchanged.
pub fn singular_of(noun: &str) -> String {
    let w = noun.to_lowercase();
    if let Some((_, s)) = IRREGULAR.iter().find(|(p, _)| *p == w) {
        return s.to_string();
    }
    if let Some(e) = objects().get(&w).filter(|e| e.plural) {
        return e.lemma.clone();
    }
    if !is_plural_noun(&w) {
        return w;
    }
    const IES_AS_S: [&str; 9] = [
        "movies", "cookies", "pies", "ties", "lies", "brownies", "zombies", "selfies", "calories",
    ];
    if let Some(stem) = w.strip_suffix("ies")
        && stem.len() >= 2
        && !IES_AS_S.contains(&w.as_str())
    {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes", "zzes"] {
        if w.ends_with(suffix) {
            return w[..w.len() - 2].to_string();
        }
    }
    w[..w.len() - 1].to_string()
}

/// A colour, size or number word: it modifies a noun and is never the head.
fn is_modifier(word: &str) -> bool {
    !colors().sites(word).is_empty()
        || !sizes().sites(word).is_empty()
        || crate::words_to_number(word).is_some()
}

/// The words of the noun phrase that starts at byte `after` (at most four).
fn phrase_words<'t>(text: &'t str, after: usize) -> Vec<Token<'t>> {
    let mut out = Vec::new();
    for t in tokenize(&text[after..]).into_iter().take(5) {
        let lower = t.text.to_lowercase();
        let participle = (lower.ends_with("ing") && !ING_NOUNS.contains(&lower.as_str()))
            || (!out.is_empty() && lower.ends_with("ed") && !ED_WORDS.contains(&lower.as_str()));
        let known = objects().get(&lower).is_some();
        if t.kind != TokenKind::Word
            || PHRASE_END.contains(&lower.as_str())
            || (participle && !known)
            || out.len() == 4
        {
            break;
        }
        out.push(Token {
            start: after + t.start,
            end: after + t.end,
            ..t
        });
        // A plural noun closes the phrase ("three cars parked …").
        if is_plural_noun(t.text) && !is_modifier(t.text) {
            break;
        }
    }
    out
}

/// The edit that makes the head noun after byte `after` (the end of a count) agree with a
/// new count `value`: "one blue triangle" → "three blue triangles", "four red triangles" →
/// "one red triangle"; zero reads as plural ("no red circles"). `None` when the noun
/// already agrees or no noun follows ("two of each", "one red.").
pub fn noun_agreement(text: &str, after: usize, value: u64) -> Option<Edit> {
    let words = phrase_words(text, after);
    if value == 1 {
        let head = words
            .iter()
            .find(|t| is_plural_noun(t.text) && !is_modifier(t.text))?;
        let singular = singular_of(head.text);
        (!singular.eq_ignore_ascii_case(head.text))
            .then(|| Edit::new(head.start, head.end, singular))
    } else {
        let head = words.last().filter(|t| !is_modifier(t.text))?;
        if is_plural_noun(head.text) {
            return None;
        }
        let lower = head.text.to_lowercase();
        let plural = plural_of(&lower);
        (plural != lower).then(|| Edit::new(head.start, head.end, plural))
    }
}

/// Singular and plural forms of the verbs that agree with a count.
const VERB_FORMS: [(&str, &str); 6] = [
    ("is", "are"),
    ("was", "were"),
    ("has", "have"),
    ("isn't", "aren't"),
    ("wasn't", "weren't"),
    ("doesn't", "don't"),
];

/// Words allowed between an existential `there is` and its count ("there are only three").
const BEFORE_COUNT: [&str; 14] = [
    "only",
    "exactly",
    "just",
    "about",
    "around",
    "approximately",
    "roughly",
    "nearly",
    "almost",
    "precisely",
    "probably",
    "likely",
    "clearly",
    "at",
];

/// Determiners that may open a counted subject ("the three cats", "all four dogs").
const DETERMINERS: [&str; 14] = [
    "the", "these", "those", "all", "both", "my", "your", "his", "her", "its", "our", "their",
    "only", "exactly",
];

/// The agreeing form of `verb` for `value` (case kept), when it is one of [`VERB_FORMS`]
/// and differs.
fn agreeing(verb: &str, value: u64) -> Option<String> {
    let lower = verb.to_lowercase().replace('’', "'");
    let (sing, plur) = VERB_FORMS
        .iter()
        .find(|(s, p)| *s == lower || *p == lower)?;
    let want = if value == 1 { sing } else { plur };
    (*want != lower).then(|| want.to_string())
}

/// The edits that make the verb governed by a count agree with its new value `value`:
/// the existential verb before it ("There is one" → "There are three", "There's one" →
/// "There are three"), or, when the count starts a clause, the first verb after its noun
/// phrase ("One cat is asleep" → "Two cats are asleep", "Two of the circles are red" →
/// "One of the circles is red"), and a relative clause's verb right after the noun ("one
/// cat that is asleep"). `count` is the count's byte span, `phrase_end` the end of its noun
/// phrase (the count's end when there is none).
pub fn verb_agreement(
    text: &str,
    count: (usize, usize),
    phrase_end: usize,
    value: u64,
) -> Vec<Edit> {
    let toks = tokenize(text);
    let Some(ci) = toks.iter().position(|t| t.start == count.0) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Before: [there|here] VERB [modifiers…] COUNT.
    let mut i = ci;
    while i > 0 && i + 2 > ci && BEFORE_COUNT.contains(&toks[i - 1].text.to_lowercase().as_str()) {
        i -= 1;
    }
    let verb_before = i.checked_sub(1).map(|v| &toks[v]);
    let existential = verb_before.and_then(|v| {
        let lower = v.text.to_lowercase().replace('’', "'");
        if let Some(subject) = lower.strip_suffix("'s")
            && matches!(subject, "there" | "here")
        {
            // "There's one" → "There are three".
            let want = agreeing("is", value)?;
            return Some(Edit::verbatim(
                v.start,
                v.end,
                format!("{} {want}", &v.text[..subject.len()]),
            ));
        }
        let subject = (i >= 2).then(|| toks[i - 2].text.to_lowercase())?;
        if !matches!(subject.as_str(), "there" | "here") {
            return None;
        }
        agreeing(v.text, value).map(|w| Edit::new(v.start, v.end, w))
    });
    // The count starts its clause, maybe after a determiner ("The three cats are …").
    let mut k = i;
    while k > 0 && i - k < 2 && DETERMINERS.contains(&toks[k - 1].text.to_lowercase().as_str()) {
        k -= 1;
    }
    let subject_position = k == 0 || {
        let v = &toks[k - 1];
        v.kind == TokenKind::Punct && matches!(v.text, "." | "!" | "?" | "," | ":" | ";")
    };
    if let Some(e) = existential {
        out.push(e);
    } else if subject_position {
        // After: the first agreeing verb within four tokens of the phrase, in the clause.
        let after = toks
            .iter()
            .filter(|t| t.start >= phrase_end)
            .take(4)
            .take_while(|t| t.kind == TokenKind::Word)
            .find(|t| agreeing(t.text, 0).is_some() || agreeing(t.text, 1).is_some());
        out.extend(
            after.and_then(|t| agreeing(t.text, value).map(|w| Edit::new(t.start, t.end, w))),
        );
        return out;
    }
    // A relative clause right after the noun: "one cat that is asleep".
    let rel: Vec<&Token<'_>> = toks
        .iter()
        .filter(|t| t.start >= phrase_end)
        .take(2)
        .collect();
    if let [pronoun, verb] = rel.as_slice()
        && matches!(
            pronoun.text.to_lowercase().as_str(),
            "that" | "which" | "who"
        )
        && let Some(w) = agreeing(verb.text, value)
    {
        out.push(Edit::new(verb.start, verb.end, w));
    }
    out
}

/// End of the noun phrase after byte `after` (`after` itself when none follows).
pub fn phrase_end(text: &str, after: usize) -> usize {
    phrase_words(text, after).last().map_or(after, |t| t.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply_edits;

    #[test]
    fn singulars_and_plurals() {
        for (p, s) in [
            ("triangles", "triangle"),
            ("boxes", "box"),
            ("glasses", "glass"),
            ("strawberries", "strawberry"),
            ("cookies", "cookie"),
            ("people", "person"),
            ("knives", "knife"),
            ("buses", "bus"),
            ("benches", "bench"),
            ("houses", "house"),
        ] {
            assert!(is_plural_noun(p), "{p}");
            assert_eq!(singular_of(p), s, "{p}");
            assert!(!is_plural_noun(s), "{s}");
        }
        for w in ["blue", "glass", "bus", "famous", "this", "gas", "christmas"] {
            assert!(!is_plural_noun(w), "{w}");
        }
    }

    /// Re-counts `count` (a word in `text`) as `value` with noun and verb agreement.
    fn recount(text: &str, count: &str, value: &str, n: u64) -> String {
        let start = text.find(count).unwrap();
        let end = start + count.len();
        let mut edits = vec![Edit::new(start, end, value)];
        edits.extend(noun_agreement(text, end, n));
        edits.extend(verb_agreement(text, (start, end), phrase_end(text, end), n));
        apply_edits(text, &edits)
    }

    #[test]
    fn realistic_answers_agree_after_a_recount() {
        let table: [(&str, &str, &str, u64, &str); 23] = [
            (
                "There is one blue triangle.",
                "one",
                "three",
                3,
                "There are three blue triangles.",
            ),
            (
                "There are three blue triangles.",
                "three",
                "one",
                1,
                "There is one blue triangle.",
            ),
            (
                "There is one small orange square.",
                "one",
                "two",
                2,
                "There are two small orange squares.",
            ),
            (
                "There's one cat on the sofa.",
                "one",
                "two",
                2,
                "There are two cats on the sofa.",
            ),
            (
                "There are two cats on the sofa.",
                "two",
                "one",
                1,
                "There is one cat on the sofa.",
            ),
            (
                "There were 3 dogs on the grass.",
                "3",
                "1",
                1,
                "There was 1 dog on the grass.",
            ),
            (
                "There are only two people here.",
                "two",
                "one",
                1,
                "There is only one person here.",
            ),
            (
                "There is exactly one wooden chair in the room.",
                "one",
                "four",
                4,
                "There are exactly four wooden chairs in the room.",
            ),
            (
                "One cat is sleeping on the bed.",
                "One",
                "Two",
                2,
                "Two cats are sleeping on the bed.",
            ),
            (
                "Three boxes are stacked.",
                "Three",
                "One",
                1,
                "One box is stacked.",
            ),
            (
                "Two of the circles are red.",
                "Two",
                "One",
                1,
                "One of the circles is red.",
            ),
            (
                "Yes, one man has a hat.",
                "one",
                "two",
                2,
                "Yes, two men have a hat.",
            ),
            (
                "I can see one bus parked outside.",
                "one",
                "three",
                3,
                "I can see three buses parked outside.",
            ),
            (
                "There are three cars parked on the street.",
                "three",
                "one",
                1,
                "There is one car parked on the street.",
            ),
            (
                "There is one cat that is asleep.",
                "one",
                "two",
                2,
                "There are two cats that are asleep.",
            ),
            (
                "There are four dog beds.",
                "four",
                "one",
                1,
                "There is one dog bed.",
            ),
            (
                "There is one dog bed.",
                "one",
                "four",
                4,
                "There are four dog beds.",
            ),
            (
                "The table has three legs.",
                "three",
                "one",
                1,
                "The table has one leg.",
            ),
            (
                "The number of cats is three.",
                "three",
                "one",
                1,
                "The number of cats is one.",
            ),
            (
                "There is one strawberry.",
                "one",
                "two",
                2,
                "There are two strawberries.",
            ),
            (
                "There are no red circles.",
                "no",
                "two",
                2,
                "There are two red circles.",
            ),
            (
                "There is one red circle.",
                "one",
                "no",
                0,
                "There are no red circles.",
            ),
            (
                "The three cats are asleep.",
                "three",
                "one",
                1,
                "The one cat is asleep.",
            ),
        ];
        for (text, count, value, n, want) in table {
            assert_eq!(recount(text, count, value, n), want, "{text}");
        }
    }

    #[test]
    fn modifiers_are_never_the_head() {
        assert!(noun_agreement("There is one blue.", 12, 3).is_none());
        assert!(noun_agreement("two of each", 3, 1).is_none());
        assert_eq!(phrase_end("one red.", 3), 7);
    }
}
