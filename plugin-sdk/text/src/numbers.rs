//! Number words <-> numbers, for counts written either way ("three", "3", "twenty-one").

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// English words for `n` (lower case, hyphenated tens: `twenty-one`, `one hundred five`).
pub fn number_to_words(n: u64) -> String {
    match n {
        0..=19 => ONES[n as usize].to_string(),
        20..=99 => {
            let (t, o) = (n / 10, n % 10);
            if o == 0 {
                TENS[t as usize].to_string()
            } else {
                format!("{}-{}", TENS[t as usize], ONES[o as usize])
            }
        }
        100..=999 => {
            let rest = n % 100;
            let head = format!("{} hundred", ONES[(n / 100) as usize]);
            if rest == 0 {
                head
            } else {
                format!("{head} {}", number_to_words(rest))
            }
        }
        _ => {
            let (scale, name) = if n >= 1_000_000 {
                (1_000_000, "million")
            } else {
                (1_000, "thousand")
            };
            let rest = n % scale;
            let head = format!("{} {name}", number_to_words(n / scale));
            if rest == 0 {
                head
            } else {
                format!("{head} {}", number_to_words(rest))
            }
        }
    }
}

/// Parses a number written in words (`three`, `Twenty-One`, `twenty one`, `a dozen`),
/// case-insensitively. Returns `None` for anything else.
pub fn words_to_number(text: &str) -> Option<u64> {
    let lower = text.trim().to_lowercase();
    if lower == "a dozen" || lower == "dozen" {
        return Some(12);
    }
    let mut total = 0u64;
    let mut current = 0u64;
    let mut any = false;
    for part in lower
        .split(|c: char| c == '-' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        if part == "and" && any {
            continue;
        }
        if let Some(v) = ONES.iter().position(|w| *w == part) {
            current += v as u64;
        } else if let Some(v) = TENS.iter().position(|w| !w.is_empty() && *w == part) {
            current += 10 * v as u64;
        } else if part == "hundred" {
            current = current.max(1) * 100;
        } else if part == "thousand" || part == "million" {
            let scale = if part == "thousand" { 1_000 } else { 1_000_000 };
            total += current.max(1) * scale;
            current = 0;
        } else {
            return None;
        }
        any = true;
    }
    any.then_some(total + current)
}

/// A count written as digits (`3`, `1,000`) or as words (`three`).
pub fn parse_number(text: &str) -> Option<u64> {
    let t = text.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return t.replace(',', "").parse().ok();
    }
    words_to_number(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        for n in [
            0, 1, 7, 13, 20, 21, 45, 99, 100, 105, 342, 1000, 2024, 1_000_000,
        ] {
            assert_eq!(words_to_number(&number_to_words(n)), Some(n), "{n}");
        }
        assert_eq!(number_to_words(21), "twenty-one");
    }

    #[test]
    fn parses_digits_words_and_rejects_other_text() {
        assert_eq!(parse_number("3"), Some(3));
        assert_eq!(parse_number("1,000"), Some(1000));
        assert_eq!(parse_number("Three"), Some(3));
        assert_eq!(parse_number("twenty one"), Some(21));
        assert_eq!(parse_number("a dozen"), Some(12));
        assert_eq!(parse_number("planes"), None);
        assert_eq!(parse_number(""), None);
    }
}
