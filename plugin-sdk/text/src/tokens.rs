//! Word tokenisation with byte spans, so an edit can replace one token and keep every
//! other character (spacing, punctuation, case) exactly as it was.

/// What a token is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters, possibly with inner apostrophes or hyphens (`don't`, `top-left`).
    Word,
    /// Digits, possibly with inner `.` or `,` (`3`, `1,000`, `2.5`).
    Number,
    /// Any single other visible character (`.`, `,`, `?`, `(`, …).
    Punct,
}

/// One token of a text, with its byte span in that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    pub text: &'a str,
    pub kind: TokenKind,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
}

impl Token<'_> {
    pub fn is_word(&self) -> bool {
        self.kind == TokenKind::Word
    }
}

/// Splits `text` into words, numbers and punctuation marks; whitespace separates tokens
/// and is not a token. Case is kept.
pub fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let kind = if c.is_alphabetic() {
            TokenKind::Word
        } else if c.is_ascii_digit() {
            TokenKind::Number
        } else {
            out.push(Token {
                text: &text[start..end_of(i + 1)],
                kind: TokenKind::Punct,
                start,
                end: end_of(i + 1),
            });
            i += 1;
            continue;
        };
        let mut j = i + 1;
        while j < chars.len() {
            let c = chars[j].1;
            let same = match kind {
                TokenKind::Word => c.is_alphanumeric(),
                _ => c.is_ascii_digit(),
            };
            // Inner joiners: `don't`, `top-left`, `1,000`, `2.5` stay one token.
            let joiner = match kind {
                TokenKind::Word => c == '\'' || c == '-' || c == '’',
                _ => c == '.' || c == ',',
            };
            let next_continues = chars.get(j + 1).is_some_and(|&(_, n)| match kind {
                TokenKind::Word => n.is_alphabetic(),
                _ => n.is_ascii_digit(),
            });
            if same || (joiner && next_continues) {
                j += 1;
            } else {
                break;
            }
        }
        out.push(Token {
            text: &text[start..end_of(j)],
            kind,
            start,
            end: end_of(j),
        });
        i = j;
    }
    out
}

/// Number of tokens (words, numbers and punctuation marks): the length unit of the
/// bias statistics and the length-gap validator.
pub fn token_count(text: &str) -> usize {
    tokenize(text).len()
}

/// The tokens as owned strings.
pub fn word_strings(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .map(|t| t.text.to_string())
        .collect()
}

/// Word-level Levenshtein distance: insertions, deletions and substitutions of whole
/// tokens (case-sensitive), the paper's style-similarity measure.
pub fn levenshtein_words(a: &str, b: &str) -> usize {
    let a: Vec<&str> = tokenize(a).into_iter().map(|t| t.text).collect();
    let b: Vec<&str> = tokenize(b).into_iter().map(|t| t.text).collect();
    strsim::generic_levenshtein(&a, &b)
}

/// Number of sentences: runs of text ended by `.`, `!` or `?` (a trailing run without a
/// terminator counts too).
pub fn sentence_count(text: &str) -> usize {
    let mut count = 0;
    let mut open = false;
    for t in tokenize(text) {
        if t.kind == TokenKind::Punct && matches!(t.text, "." | "!" | "?") {
            if open {
                count += 1;
            }
            open = false;
        } else {
            open = true;
        }
    }
    count + usize::from(open)
}

/// Gives `replacement` the case shape of `original`: `Three`→`Five`, `THREE`→`FIVE`,
/// `three`→`five`.
pub fn match_case(original: &str, replacement: &str) -> String {
    let letters: Vec<char> = original.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() > 1 && letters.iter().all(|c| c.is_uppercase()) {
        return replacement.to_uppercase();
    }
    if letters.first().is_some_and(|c| c.is_uppercase()) {
        let mut chars = replacement.chars();
        return match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        };
    }
    replacement.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_keeps_punctuation_case_and_spans() {
        let text = "There are Three red circles, don't you think? 1,000 top-left.";
        let toks: Vec<&str> = tokenize(text).iter().map(|t| t.text).collect();
        assert_eq!(
            toks,
            [
                "There", "are", "Three", "red", "circles", ",", "don't", "you", "think", "?",
                "1,000", "top-left", "."
            ]
        );
        for t in tokenize(text) {
            assert_eq!(&text[t.start..t.end], t.text);
        }
    }

    #[test]
    fn trailing_joiners_are_not_swallowed() {
        let toks: Vec<&str> = tokenize("It is 3. Yes-").iter().map(|t| t.text).collect();
        assert_eq!(toks, ["It", "is", "3", ".", "Yes", "-"]);
    }

    #[test]
    fn levenshtein_counts_whole_tokens() {
        assert_eq!(
            levenshtein_words("There are four planes.", "There are six planes."),
            1
        );
        assert_eq!(levenshtein_words("a b c", "a b c"), 0);
        assert_eq!(levenshtein_words("", "one two"), 2);
    }

    #[test]
    fn sentences_and_case() {
        assert_eq!(sentence_count("One. Two! Three"), 3);
        assert_eq!(sentence_count("Yes."), 1);
        assert_eq!(sentence_count(""), 0);
        assert_eq!(match_case("Three", "five"), "Five");
        assert_eq!(match_case("THREE", "five"), "FIVE");
        assert_eq!(match_case("three", "Five"), "Five");
    }
}
