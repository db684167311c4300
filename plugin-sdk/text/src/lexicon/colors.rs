//! Colour words. Replacements come from a common palette so a rejected answer names a
//! colour a reader (and a synthetic scene) would plausibly use.

use super::{Entry, Kind, Lexicon};

/// Colours used as replacements, most common first (the synthetic world's six lead).
pub const COLOR_PALETTE: [&str; 11] = [
    "red", "green", "blue", "yellow", "purple", "orange", "pink", "brown", "black", "white", "gray",
];

/// Hue colours (the synthetic world's six).
const CORE: [&str; 6] = ["red", "green", "blue", "yellow", "purple", "orange"];

/// Colour words recognised in answers (the palette plus variants).
const RECOGNISED: [&str; 24] = [
    "red",
    "green",
    "blue",
    "yellow",
    "purple",
    "orange",
    "pink",
    "brown",
    "black",
    "white",
    "gray",
    "grey",
    "silver",
    "gold",
    "golden",
    "beige",
    "tan",
    "teal",
    "navy",
    "maroon",
    "turquoise",
    "violet",
    "cyan",
    "magenta",
];

/// True for a recognised colour word (any case).
pub fn is_color(word: &str) -> bool {
    let w = word.to_lowercase();
    RECOGNISED.contains(&w.as_str())
}

/// Shades that are the same colour for our purposes: replacing one with the other is no edit.
fn same_color(a: &str, b: &str) -> bool {
    fn canon(c: &str) -> &str {
        match c {
            "grey" | "silver" => "gray",
            "golden" | "gold" => "yellow",
            "navy" | "teal" | "turquoise" | "cyan" => "blue",
            "violet" | "magenta" => "purple",
            "maroon" => "red",
            "tan" | "beige" => "brown",
            other => other,
        }
    }
    canon(a) == canon(b)
}

pub(super) fn build() -> Lexicon {
    let entries = RECOGNISED
        .iter()
        .map(|c| Entry {
            phrase: c.to_string(),
            lemma: c.to_string(),
            alts: COLOR_PALETTE
                .iter()
                .filter(|p| !same_color(c, p))
                // Hue colours swap among hues: "red" → "blue", not "red" → "black".
                .filter(|p| !CORE.contains(c) || CORE.contains(*p))
                .map(|p| p.to_string())
                .collect(),
            kind: Kind::Color,
            group: 0,
            plural: false,
        })
        .collect();
    Lexicon::from_entries(entries)
}
