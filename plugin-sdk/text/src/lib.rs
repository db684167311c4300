//! Text helpers shared by plugins (through the SDK) and the host: word tokenisation that
//! keeps punctuation and case, number words <-> digits, a seeded RNG and word-level
//! Levenshtein distance. Pure and dependency-light, so it builds for wasm32-wasip2
//! unchanged and gives the host and the plugins the same token counts.
//!
//! For rule-mode error injection it also has span edits ([`edit`]), word lists
//! ([`lexicon`]), yes/no polarity and negation ([`polarity`]), keyword fit cues ([`fit`])
//! and editor-reply cleaning ([`reply`]).

pub mod agreement;
pub mod edit;
pub mod fit;
pub mod inject;
pub mod lexicon;
mod numbers;
pub mod polarity;
pub mod reply;
mod rng;
mod tokens;

pub use numbers::{number_to_words, parse_number, words_to_number};
pub use rng::SeededRng;
pub use tokens::{
    Token, TokenKind, levenshtein_words, match_case, sentence_count, token_count, tokenize,
    word_strings,
};
