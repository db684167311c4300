//! Word lists for rule-mode error injection: colours, sizes, spatial relations, object
//! nouns, scene terms (lighting, weather, time, setting, pattern) and general antonyms.
//!
//! Each list becomes a [`Lexicon`]: phrases (lower case, on token boundaries) with the
//! phrases that contradict them. Lists are built once per process; a plugin call finds
//! [`Site`]s with [`Lexicon::sites`] and picks a replacement from the site's alternatives.

mod antonyms;
mod colors;
mod objects;
mod scene;
mod sizes;
mod spatial;

use std::sync::OnceLock;

use crate::edit::{PhraseMatch, find_phrases};

pub use colors::{COLOR_PALETTE, is_color};
pub use objects::plural_of;
pub use spatial::WEAK_RELATIONS;

/// True for a vague relation (see [`WEAK_RELATIONS`]).
pub fn is_weak_relation(phrase: &str) -> bool {
    WEAK_RELATIONS.contains(&phrase.to_lowercase().as_str())
}

/// What kind of content a lexicon entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Color,
    Size,
    Spatial,
    Object,
    Lighting,
    Weather,
    Time,
    Setting,
    /// Background pattern or texture (`plain`, `striped`, `gradient`).
    Pattern,
    /// General opposites used for reasoning (`more`/`fewer`, `safe`/`dangerous`).
    Antonym,
}

/// One phrase and its contradicting alternatives.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Lower case, single spaces.
    pub phrase: String,
    /// Replacements, in preference order (lower case).
    pub alts: Vec<String>,
    pub kind: Kind,
    /// Dictionary form: the singular for object nouns, else the phrase itself.
    pub lemma: String,
    /// Entries from the same group (e.g. all vehicle nouns) share this number.
    pub group: usize,
    /// A plural noun form (objects only), so replacements keep the number.
    pub plural: bool,
}

/// A set of entries searchable in a text.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    entries: Vec<Entry>,
    phrases: Vec<String>,
}

/// Where an entry occurs in a text.
#[derive(Debug, Clone, Copy)]
pub struct Site<'l> {
    pub start: usize,
    pub end: usize,
    /// Index of the first token (in `tokenize(text)`).
    pub first_token: usize,
    pub token_len: usize,
    pub entry: &'l Entry,
}

impl Lexicon {
    fn from_entries(entries: Vec<Entry>) -> Self {
        let phrases = entries.iter().map(|e| e.phrase.clone()).collect();
        Lexicon { entries, phrases }
    }

    /// Entries from `(phrase, alternatives)` pairs; each pair is its own group.
    fn from_swaps(kind: Kind, swaps: &[(&str, &[&str])]) -> Self {
        let entries = swaps
            .iter()
            .enumerate()
            .map(|(group, (phrase, alts))| Entry {
                phrase: phrase.to_string(),
                lemma: phrase.to_string(),
                alts: alts.iter().map(|a| a.to_string()).collect(),
                kind,
                group,
                plural: false,
            })
            .collect();
        Lexicon::from_entries(entries)
    }

    /// All entries, in definition order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry for `phrase` (lower case), if listed.
    pub fn get(&self, phrase: &str) -> Option<&Entry> {
        let p = phrase.to_lowercase();
        self.entries.iter().find(|e| e.phrase == p)
    }

    /// Every occurrence of an entry in `text`, left to right, longest phrase first.
    pub fn sites<'l>(&'l self, text: &str) -> Vec<Site<'l>> {
        find_phrases(text, &self.phrases)
            .into_iter()
            .map(
                |PhraseMatch {
                     start,
                     end,
                     entry,
                     first_token,
                     token_len,
                 }| Site {
                    start,
                    end,
                    first_token,
                    token_len,
                    entry: &self.entries[entry],
                },
            )
            .collect()
    }

    /// This lexicon followed by `other` (on a shared phrase, `self`'s entry wins for
    /// equally long matches).
    pub fn merged(&self, other: &Lexicon) -> Lexicon {
        let offset = self.entries.iter().map(|e| e.group + 1).max().unwrap_or(0);
        let mut entries = self.entries.clone();
        entries.extend(other.entries.iter().cloned().map(|mut e| {
            e.group += offset;
            e
        }));
        Lexicon::from_entries(entries)
    }
}

macro_rules! cached {
    ($(#[$doc:meta])* $name:ident, $build:expr) => {
        $(#[$doc])*
        pub fn $name() -> &'static Lexicon {
            static CELL: OnceLock<Lexicon> = OnceLock::new();
            CELL.get_or_init(|| $build)
        }
    };
}

cached!(
    /// Colour words; alternatives are the other palette colours.
    colors, colors::build()
);
cached!(
    /// Size words and their opposites (`larger`/`smaller`, `tall`/`short`, `the same size as`).
    sizes, Lexicon::from_swaps(Kind::Size, sizes::SWAPS)
);
cached!(
    /// Spatial relations and contradicting ones (`left of`/`right of`, `next to`/`far from`).
    spatial, Lexicon::from_swaps(Kind::Spatial, spatial::SWAPS)
);
cached!(
    /// Object nouns (singular and plural) grouped by kind: shapes, animals, vehicles, food…
    objects, objects::build()
);
cached!(
    /// Scene terms: lighting, weather, time of day, setting and background pattern.
    scene, scene::build()
);
cached!(
    /// General opposites for reasoning answers (`more`/`fewer`, `safe`/`dangerous`).
    antonyms, Lexicon::from_swaps(Kind::Antonym, antonyms::SWAPS)
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_has_alternatives_and_no_self_alternative() {
        for lex in [colors(), sizes(), spatial(), objects(), scene(), antonyms()] {
            for e in lex.entries() {
                assert!(!e.alts.is_empty(), "{} has no alternatives", e.phrase);
                assert!(!e.alts.contains(&e.phrase), "{} lists itself", e.phrase);
                assert_eq!(
                    e.phrase,
                    e.phrase.to_lowercase(),
                    "{} not lower case",
                    e.phrase
                );
            }
        }
    }

    #[test]
    fn sites_find_multiword_relations_and_plural_nouns() {
        let s = spatial().sites("The cup is to the left of the plate.");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].entry.phrase, "to the left of");
        assert_eq!(s[0].entry.alts, ["to the right of"]);
        let o = objects().sites("Two dogs chase a cat.");
        assert_eq!(o.len(), 2);
        assert!(o[0].entry.plural && o[0].entry.alts.contains(&"cats".to_string()));
        assert!(!o[1].entry.plural);
    }

    #[test]
    fn merged_keeps_groups_apart() {
        let m = colors().merged(sizes());
        let s = m.sites("a small red ball");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].entry.kind, Kind::Size);
        assert_eq!(s[1].entry.kind, Kind::Color);
        assert_ne!(s[0].entry.group, s[1].entry.group);
    }
}
