//! Cleaning editor-model replies: the default `parse-reply` of every injector.

use crate::{Edit, PluginError, Sample};

/// Labels editor models like to put before the answer; stripped case-insensitively.
const LABELS: [&str; 6] = [
    "rejected answer:",
    "edited answer:",
    "modified answer:",
    "new answer:",
    "answer:",
    "rejected:",
];

/// Removes code fences, a leading label (`Rejected answer:`) and surrounding quotes.
pub fn clean_reply(reply: &str) -> String {
    let mut text = reply.trim();
    if let Some(inner) = text.strip_prefix("```") {
        // Drop an info string (```text) and the closing fence.
        let inner = inner.split_once('\n').map_or(inner, |(_, body)| body);
        text = inner.trim_end().strip_suffix("```").unwrap_or(inner).trim();
    }
    for label in LABELS {
        if text.len() >= label.len()
            && text.is_char_boundary(label.len())
            && text[..label.len()].eq_ignore_ascii_case(label)
        {
            text = text[label.len()..].trim_start();
            break;
        }
    }
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\'')] {
        if text.len() >= 2 && text.starts_with(open) && text.ends_with(close) {
            let inner = &text[open.len_utf8()..text.len() - close.len_utf8()];
            // Only strip when the quotes wrap the whole reply, not two quoted phrases.
            if !inner.contains(close) {
                text = inner.trim();
            }
            break;
        }
    }
    text.to_string()
}

/// The default reply parser: the cleaned reply is the rejected answer, unless it is empty,
/// identical to the correct answer, or uses a banned substitute.
pub fn parse_reply_default(reply: &str, sample: &Sample) -> Result<Edit, PluginError> {
    let rejected = clean_reply(reply);
    if rejected.is_empty() {
        return Err(PluginError::BadReply("the editor's reply is empty".into()));
    }
    if rejected == sample.answer.trim() {
        return Err(PluginError::BadReply(
            "the editor's reply is identical to the correct answer".into(),
        ));
    }
    if let Some(banned) = sample
        .penalty
        .iter()
        .find(|p| !p.trim().is_empty() && contains_word(&rejected, p))
    {
        return Err(PluginError::BadReply(format!(
            "the editor used the banned substitute `{banned}`"
        )));
    }
    Ok(Edit::new(rejected).note("editor reply"))
}

/// Whether `needle` occurs in `text` as whole tokens (case-insensitive).
fn contains_word(text: &str, needle: &str) -> bool {
    let hay: Vec<String> = vapr_text::word_strings(text)
        .into_iter()
        .map(|w| w.to_lowercase())
        .collect();
    let pat: Vec<String> = vapr_text::word_strings(needle)
        .into_iter()
        .map(|w| w.to_lowercase())
        .collect();
    !pat.is_empty() && hay.windows(pat.len()).any(|w| w == pat.as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_fences_labels_and_quotes() {
        assert_eq!(
            clean_reply("  Rejected answer: \"There are five cats.\"  "),
            "There are five cats."
        );
        assert_eq!(
            clean_reply("```text\nThere are five cats.\n```"),
            "There are five cats."
        );
        assert_eq!(clean_reply("“Two dogs.”"), "Two dogs.");
        assert_eq!(clean_reply("\"a\" and \"b\""), "\"a\" and \"b\"");
    }

    #[test]
    fn default_parser_rejects_unusable_replies() {
        let s = Sample::new("a", "How many?", "There are three cats.").with_penalty("five");
        assert!(matches!(
            parse_reply_default("  ", &s),
            Err(PluginError::BadReply(_))
        ));
        assert!(matches!(
            parse_reply_default("There are three cats.", &s),
            Err(PluginError::BadReply(_))
        ));
        assert!(
            matches!(parse_reply_default("There are Five cats.", &s), Err(PluginError::BadReply(m)) if m.contains("five"))
        );
        assert_eq!(
            parse_reply_default("There are four cats.", &s)
                .unwrap()
                .rejected,
            "There are four cats."
        );
    }
}
