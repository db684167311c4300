//! Cleaning an editor LLM's reply into a bare rejected answer.
//!
//! Chat models wrap the one thing we asked for in many ways: quotes, code fences, a
//! `{"answer": …}` object, "Here is the edited answer:" preambles, `<think>` blocks, and
//! explanations after the answer. [`parse_edited_answer`] strips all of that and refuses a
//! reply that is empty, is the unchanged input, or is the model declining the task.

use std::fmt;

/// Why a reply gives no usable rejected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyRefusal {
    /// Nothing is left after cleaning.
    Empty,
    /// The reply equals the correct answer (modulo whitespace, case and final punctuation).
    Unchanged,
    /// The model declined ("I'm sorry, I can't …"); holds the first words of the reply.
    Declined(String),
}

impl fmt::Display for ReplyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyRefusal::Empty => f.write_str("the editor reply is empty after cleaning"),
            ReplyRefusal::Unchanged => {
                f.write_str("the editor reply is identical to the correct answer")
            }
            ReplyRefusal::Declined(start) => write!(f, "the editor declined the edit: \"{start}\""),
        }
    }
}

impl std::error::Error for ReplyRefusal {}

/// Cleans `reply` and checks it against `original` (the correct answer).
pub fn parse_edited_answer(reply: &str, original: &str) -> Result<String, ReplyRefusal> {
    let cleaned = clean_reply(reply, original);
    if cleaned.trim().is_empty() {
        return Err(ReplyRefusal::Empty);
    }
    if normalize_for_compare(&cleaned) == normalize_for_compare(original) {
        return Err(ReplyRefusal::Unchanged);
    }
    if is_declining(&cleaned) && !is_declining(original) {
        let head: String = cleaned.chars().take(60).collect();
        return Err(ReplyRefusal::Declined(head));
    }
    Ok(cleaned)
}

/// [`parse_edited_answer`] plus the penalty list: a reply that brings in a banned
/// substitute (one the correct answer does not already contain) is refused too. The error
/// is a human-readable reason, ready to be fed back to the editor.
pub fn parse_checked<S: AsRef<str>>(
    reply: &str,
    original: &str,
    penalty: &[S],
) -> Result<String, String> {
    let rejected = parse_edited_answer(reply, original).map_err(|e| e.to_string())?;
    match banned_substitute(&rejected, original, penalty) {
        Some(banned) => Err(format!("the reply uses the banned substitute `{banned}`")),
        None => Ok(rejected),
    }
}

/// The first penalty entry that `rejected` uses and `original` does not.
pub fn banned_substitute<S: AsRef<str>>(
    rejected: &str,
    original: &str,
    penalty: &[S],
) -> Option<String> {
    crate::edit::parse_penalty_list(penalty)
        .into_iter()
        .find(|b| {
            let one = [b.clone()];
            crate::edit::is_banned(rejected, &one) && !crate::edit::is_banned(original, &one)
        })
}

/// Lower case, single spaces, no surrounding quotes and no final `.`/`!`/`?`: two texts
/// that normalise equally say the same thing in the same words.
pub fn normalize_for_compare(text: &str) -> String {
    let joined = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    let unquoted = joined.trim_matches(|c: char| QUOTES.contains(&c));
    unquoted.trim_end_matches(['.', '!', '?', ' ']).to_string()
}

const QUOTES: [char; 7] = ['"', '\'', '“', '”', '‘', '’', '`'];

/// Strips wrappers and commentary from `reply`. `original` (the correct answer) keeps
/// cleaning from removing something the answer itself has (a leading quote, a label, a
/// second paragraph).
pub fn clean_reply(reply: &str, original: &str) -> String {
    let mut text = reply.replace("\r\n", "\n");
    for _ in 0..8 {
        let before = text.clone();
        text = strip_think(&text);
        text = text.trim().to_string();
        text = strip_code_fence(&text);
        text = extract_json_field(&text).unwrap_or(text);
        text = strip_preamble(&text, original);
        text = strip_trailing_explanation(&text, original);
        text = strip_wrapping(&text, original);
        if text == before {
            break;
        }
    }
    text.trim().to_string()
}

/// Removes `<think>…</think>` blocks (reasoning models put their thoughts there).
fn strip_think(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(open) = out.find("<think>") {
        match out[open..].find("</think>") {
            Some(close) => out.replace_range(open..open + close + "</think>".len(), ""),
            None => {
                out.truncate(open);
                break;
            }
        }
    }
    out
}

/// The content of the first fenced code block, if the text has one.
fn strip_code_fence(text: &str) -> String {
    let Some(open) = text.find("```") else {
        return text.to_string();
    };
    let after = &text[open + 3..];
    // Skip an info string (```json, ```text) up to the end of the line.
    let body_start = match after.find('\n') {
        Some(nl)
            if after[..nl]
                .trim()
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_') =>
        {
            nl + 1
        }
        _ => 0,
    };
    let body = &after[body_start..];
    let body = match body.find("```") {
        Some(close) => &body[..close],
        None => body,
    };
    body.trim().to_string()
}

/// Keys whose value is the edited answer in a JSON reply.
const ANSWER_KEYS: [&str; 10] = [
    "rejected",
    "rejected_answer",
    "edited_answer",
    "answer",
    "edited",
    "output",
    "text",
    "response",
    "result",
    "hard_negative",
];

/// The answer from a JSON object reply: its only string field, or a field named like an
/// answer.
fn extract_json_field(text: &str) -> Option<String> {
    let t = text.trim();
    if !(t.starts_with('{') && t.ends_with('}')) {
        return None;
    }
    let fields = parse_flat_json_object(t)?;
    let strings: Vec<&(String, String)> = fields.iter().collect();
    if strings.len() == 1 {
        return Some(strings[0].1.clone());
    }
    ANSWER_KEYS.iter().find_map(|k| {
        strings
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    })
}

/// Parses `{"k": "v", "n": 1, ...}` keeping the string-valued fields. Nested values make
/// it give up (`None`); it is a reply cleaner, not a JSON library.
fn parse_flat_json_object(text: &str) -> Option<Vec<(String, String)>> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 1; // after '{'
    let mut fields = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        match chars.get(i)? {
            '}' => return Some(fields),
            ',' => {
                i += 1;
                continue;
            }
            '"' => {}
            _ => return None,
        }
        let key = parse_json_string(&chars, &mut i)?;
        skip_ws(&mut i);
        if chars.get(i) != Some(&':') {
            return None;
        }
        i += 1;
        skip_ws(&mut i);
        match chars.get(i)? {
            '"' => {
                let value = parse_json_string(&chars, &mut i)?;
                fields.push((key, value));
            }
            '{' | '[' => return None,
            _ => {
                while i < chars.len() && !matches!(chars[i], ',' | '}') {
                    i += 1;
                }
            }
        }
    }
}

/// Parses a JSON string starting at `chars[*i] == '"'`, leaving `*i` after the closing quote.
fn parse_json_string(chars: &[char], i: &mut usize) -> Option<String> {
    *i += 1;
    let mut out = String::new();
    while *i < chars.len() {
        let c = chars[*i];
        *i += 1;
        match c {
            '"' => return Some(out),
            '\\' => {
                let e = *chars.get(*i)?;
                *i += 1;
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let hex: String = chars.get(*i..*i + 4)?.iter().collect();
                        *i += 4;
                        out.push(
                            char::from_u32(u32::from_str_radix(&hex, 16).ok()?)
                                .unwrap_or('\u{fffd}'),
                        );
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// Lower-case starts of a line that introduces the answer rather than being it.
const PREAMBLE_STARTS: [&str; 16] = [
    "sure",
    "certainly",
    "of course",
    "okay",
    "ok,",
    "ok!",
    "absolutely",
    "here is",
    "here's",
    "below is",
    "the edited",
    "the modified",
    "the rejected",
    "this is the",
    "great",
    "alright",
];
/// Labels that may prefix the answer on the same line (`Rejected answer: …`).
const LABELS: [&str; 14] = [
    "rejected answer",
    "edited answer",
    "modified answer",
    "incorrect answer",
    "new answer",
    "hard negative",
    "rejected",
    "edited",
    "answer",
    "output",
    "response",
    "result",
    "final answer",
    "rewritten answer",
];

fn strip_preamble(text: &str, original: &str) -> String {
    let orig_lower = original.trim().to_lowercase();
    let mut t = text.trim().to_string();
    // A first line that only introduces what follows.
    if let Some(nl) = t.find('\n') {
        let first = t[..nl].trim().to_lowercase();
        let rest = t[nl + 1..].trim();
        let first_is_intro =
            first.ends_with(':') || PREAMBLE_STARTS.iter().any(|p| first.starts_with(p));
        if !rest.is_empty() && first_is_intro && !orig_lower.starts_with(&first) {
            t = rest.to_string();
        }
    }
    // "Sure! Here is the edited answer: X" on one line.
    let lower = t.to_lowercase();
    if PREAMBLE_STARTS.iter().any(|p| lower.starts_with(p))
        && !PREAMBLE_STARTS.iter().any(|p| orig_lower.starts_with(p))
    {
        if let Some(colon) = t.find(':') {
            if !t[colon + 1..].trim().is_empty() {
                t = t[colon + 1..].trim().to_string();
            }
        } else if let Some(end) = t.find(['!', '.', ',']) {
            // "Sure! The cat is on the right." → drop the interjection.
            let head = t[..end].to_lowercase();
            if head.split_whitespace().count() <= 2 && !t[end + 1..].trim().is_empty() {
                t = t[end + 1..].trim().to_string();
            }
        }
    }
    // "Rejected answer: X" / "**Edited answer:** X".
    let plain = t.trim_start_matches(['*', '#', ' ']).to_string();
    let lower = plain.to_lowercase();
    for label in LABELS {
        if let Some(rest) = lower.strip_prefix(label) {
            let rest_trim = rest.trim_start_matches(['*', ' ']);
            if rest_trim.starts_with(':') && !orig_lower.starts_with(label) {
                let offset = plain.len() - rest_trim.len() + 1;
                let after = plain[offset..].trim_start_matches(['*', ' ']).trim();
                if !after.is_empty() {
                    return after.to_string();
                }
            }
        }
    }
    t
}

/// Lower-case starts of a line that explains the edit instead of being the answer.
const EXPLANATION_STARTS: [&str; 22] = [
    "explanation",
    "note",
    "changes",
    "changed",
    "change:",
    "edit:",
    "edits:",
    "i changed",
    "i've changed",
    "i have changed",
    "i replaced",
    "i swapped",
    "i modified",
    "this edit",
    "the edit",
    "in this edit",
    "here, i",
    "reason",
    "rationale",
    "this introduces",
    "this changes",
    "(",
];

fn strip_trailing_explanation(text: &str, original: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let orig_lines = original.trim().lines().count().max(1);
    let mut keep = lines.len();
    for (i, line) in lines.iter().enumerate().skip(1) {
        let l = line
            .trim()
            .trim_start_matches(['*', '_', '-', '#', ' '])
            .to_lowercase();
        if EXPLANATION_STARTS.iter().any(|p| l.starts_with(p)) {
            keep = i;
            break;
        }
    }
    let mut kept: Vec<&str> = lines[..keep].to_vec();
    // A one-line answer followed by more lines: the extra lines are commentary.
    if orig_lines == 1 && kept.iter().filter(|l| !l.trim().is_empty()).count() > 1 {
        let first = kept
            .iter()
            .find(|l| !l.trim().is_empty())
            .copied()
            .unwrap_or("");
        let (a, b) = (
            crate::token_count(first) as f64,
            crate::token_count(original) as f64,
        );
        if a >= 0.5 * b && a <= 2.0 * b + 2.0 {
            kept = vec![first];
        }
    }
    let mut out = kept.join("\n").trim().to_string();
    // A trailing "(changed X to Y)" the original does not have.
    if out.ends_with(')')
        && !original.trim_end().ends_with(')')
        && let Some(open) = out.rfind('(')
    {
        let inner = out[open..].to_lowercase();
        let commentary = [
            "changed", "edit", "replaced", "swapped", "→", "->", "instead", "error", "was ",
        ];
        if open > 0 && commentary.iter().any(|w| inner.contains(w)) {
            out = out[..open].trim_end().to_string();
        }
    }
    out
}

/// Removes quotes, bold markers or a list bullet around the whole answer.
fn strip_wrapping(text: &str, original: &str) -> String {
    let t = text.trim();
    let o = original.trim();
    let pairs = [
        ("\"", "\""),
        ("'", "'"),
        ("“", "”"),
        ("‘", "’"),
        ("«", "»"),
        ("`", "`"),
        ("**", "**"),
        ("*", "*"),
    ];
    for (open, close) in pairs {
        if t.len() >= open.len() + close.len()
            && t.starts_with(open)
            && t.ends_with(close)
            && !o.starts_with(open)
        {
            let inner = &t[open.len()..t.len() - close.len()];
            // Only a true wrapper: no further occurrence of the quote inside.
            if !inner.contains(close) || open == "**" {
                return inner.trim().to_string();
            }
        }
    }
    for bullet in ["- ", "* ", "• ", "> "] {
        if let Some(rest) = t.strip_prefix(bullet)
            && !o.starts_with(bullet)
        {
            return rest.trim().to_string();
        }
    }
    t.to_string()
}

/// A reply in which the model declines the task.
fn is_declining(text: &str) -> bool {
    let l = text.trim().to_lowercase().replace('’', "'");
    [
        "i'm sorry",
        "i am sorry",
        "sorry,",
        "i cannot",
        "i can't",
        "as an ai",
        "i apologize",
        "i'm unable",
        "i am unable",
        "i won't",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORIG: &str = "The blue square is to the left of the green triangle.";
    const EDIT: &str = "The blue square is to the right of the green triangle.";

    fn ok(reply: &str) -> String {
        parse_edited_answer(reply, ORIG).unwrap_or_else(|e| panic!("{reply:?}: {e}"))
    }

    #[test]
    fn plain_reply_passes_through() {
        assert_eq!(ok(EDIT), EDIT);
        assert_eq!(ok(&format!("  {EDIT}\n")), EDIT);
    }

    #[test]
    fn strips_quotes_bold_and_bullets() {
        assert_eq!(ok(&format!("\"{EDIT}\"")), EDIT);
        assert_eq!(ok(&format!("“{EDIT}”")), EDIT);
        assert_eq!(ok(&format!("'{EDIT}'")), EDIT);
        assert_eq!(ok(&format!("**{EDIT}**")), EDIT);
        assert_eq!(ok(&format!("- {EDIT}")), EDIT);
        assert_eq!(ok(&format!("`{EDIT}`")), EDIT);
    }

    #[test]
    fn strips_preambles_and_labels() {
        assert_eq!(ok(&format!("Here is the edited answer:\n{EDIT}")), EDIT);
        assert_eq!(ok(&format!("Here is the edited answer: {EDIT}")), EDIT);
        assert_eq!(
            ok(&format!("Sure! Here's the rejected answer:\n\n\"{EDIT}\"")),
            EDIT
        );
        assert_eq!(ok(&format!("Rejected answer: {EDIT}")), EDIT);
        assert_eq!(ok(&format!("**Edited answer:** {EDIT}")), EDIT);
        assert_eq!(ok(&format!("Sure! {EDIT}")), EDIT);
        assert_eq!(ok(&format!("Certainly.\n{EDIT}")), EDIT);
        assert_eq!(ok(&format!("Output:\n```\n{EDIT}\n```")), EDIT);
    }

    #[test]
    fn strips_code_fences_json_and_think_blocks() {
        assert_eq!(ok(&format!("```\n{EDIT}\n```")), EDIT);
        assert_eq!(
            ok(&format!("```text\n{EDIT}\n```\nI swapped left for right.")),
            EDIT
        );
        assert_eq!(ok(&format!("{{\"answer\": \"{EDIT}\"}}")), EDIT);
        assert_eq!(
            ok(&format!(
                "```json\n{{\"rejected_answer\": \"{EDIT}\", \"changed\": 1}}\n```"
            )),
            EDIT
        );
        assert_eq!(
            ok(&format!(
                "{{\"why\": \"swap\", \"edited_answer\": \"{EDIT}\"}}"
            )),
            EDIT
        );
        assert_eq!(
            ok("{\"answer\": \"Line \\\"one\\\"\\u0021\"}"),
            "Line \"one\"!"
        );
        assert_eq!(
            ok(&format!("<think>left becomes right</think>\n{EDIT}")),
            EDIT
        );
    }

    #[test]
    fn strips_trailing_explanations() {
        assert_eq!(
            ok(&format!("{EDIT}\n\nExplanation: the relation was swapped.")),
            EDIT
        );
        assert_eq!(ok(&format!("{EDIT}\nNote: only one span changed.")), EDIT);
        assert_eq!(ok(&format!("{EDIT} (changed \"left\" to \"right\")")), EDIT);
        assert_eq!(
            ok(&format!("{EDIT}\nThis introduces a spatial error.")),
            EDIT
        );
        assert_eq!(
            ok(&format!(
                "{EDIT}\n\nI changed left to right so the relation is wrong."
            )),
            EDIT
        );
    }

    #[test]
    fn keeps_what_the_answer_itself_has() {
        let orig = "Answer: there are two dogs.\nBoth are brown.";
        let reply = "Answer: there are three dogs.\nBoth are brown.";
        assert_eq!(parse_edited_answer(reply, orig).unwrap(), reply);
        let orig = "\"Stop\" is written on the sign.";
        let reply = "\"Go\" is written on the sign.";
        assert_eq!(parse_edited_answer(reply, orig).unwrap(), reply);
        let orig =
            "No, there are fewer circles than squares: there are two circles and three squares.";
        let reply =
            "Yes, there are more circles than squares: there are three circles and two squares.";
        assert_eq!(parse_edited_answer(reply, orig).unwrap(), reply);
    }

    #[test]
    fn refuses_empty_unchanged_and_declined() {
        assert_eq!(parse_edited_answer("", ORIG), Err(ReplyRefusal::Empty));
        assert_eq!(
            parse_edited_answer("```\n```", ORIG),
            Err(ReplyRefusal::Empty)
        );
        assert_eq!(
            parse_edited_answer(&format!("\"{ORIG}\""), ORIG),
            Err(ReplyRefusal::Unchanged)
        );
        assert_eq!(
            parse_edited_answer(&ORIG.to_uppercase(), ORIG),
            Err(ReplyRefusal::Unchanged)
        );
        assert_eq!(
            parse_edited_answer(
                "the blue square is  to the left of the green triangle",
                ORIG
            ),
            Err(ReplyRefusal::Unchanged)
        );
        assert!(matches!(
            parse_edited_answer("I'm sorry, but I can't help with that.", ORIG),
            Err(ReplyRefusal::Declined(_))
        ));
    }

    #[test]
    fn penalty_list_refuses_new_banned_words_only() {
        let banned = ["right", "far from"];
        assert_eq!(
            parse_checked(EDIT, ORIG, &banned).unwrap_err(),
            "the reply uses the banned substitute `right`"
        );
        let far = "The blue square is far from the green triangle.";
        assert!(
            parse_checked(far, ORIG, &banned)
                .unwrap_err()
                .contains("far from")
        );
        let above = "The blue square is above the green triangle.";
        assert_eq!(parse_checked(above, ORIG, &banned).unwrap(), above);
        // Already in the correct answer: not a substitute.
        assert_eq!(parse_checked(EDIT, ORIG, &["green"]).unwrap(), EDIT);
    }

    #[test]
    fn multi_line_answers_keep_their_lines() {
        let orig = "A red car.\n\nA blue bus.";
        let reply = "A green car.\n\nA blue bus.";
        assert_eq!(parse_edited_answer(reply, orig).unwrap(), reply);
        let with_note = format!("{reply}\n\nNote: car colour changed.");
        assert_eq!(parse_edited_answer(&with_note, orig).unwrap(), reply);
    }
}
