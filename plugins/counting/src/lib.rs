//! Counting error injector: changes the count in a correct answer to a different,
//! plausible count (digits stay digits, words stay words, case kept), fixing
//! `is`/`are` and the noun's number when the count crosses one.
//!
//! Params: `max-delta` (default 2): the largest change from the true count.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::{
    SeededRng, Token, TokenKind, match_case, number_to_words, parse_number, tokenize,
};

pub struct Counting;

/// Question openings that ask for a count.
const COUNT_CUES: [&str; 5] = ["how many", "number of", "count", "how much", "total"];

/// Words before `one` that make it a pronoun (`the one on the left`), not a count.
const PRONOUN_BEFORE: [&str; 7] = ["the", "this", "that", "which", "each", "any", "every"];

impl Injector for Counting {
    fn info() -> PluginInfo {
        PluginInfo::new("counting", env!("CARGO_PKG_VERSION"))
            .categories(&["counting"])
            .description("Changes a count to a different plausible count, keeping the sentence.")
            .extra(
                "param.max-delta",
                "largest change from the true count (default 2)",
            )
    }

    fn fit(sample: &Sample) -> f32 {
        let q = sample.question.to_lowercase();
        let mut score = 0.0;
        if COUNT_CUES.iter().any(|c| q.contains(c)) {
            score += 0.6;
        }
        if !counts(&sample.answer).is_empty() {
            score += 0.3;
        }
        if sample
            .category
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("counting"))
        {
            score += 0.1;
        }
        score
    }

    fn parse_reply(reply: &str, sample: &Sample) -> Result<Edit, PluginError> {
        let edit = vapr_plugin_sdk::reply::parse_reply_default(reply, sample)?;
        let before: Vec<u64> = counts(&sample.answer).iter().map(|c| c.value).collect();
        let after: Vec<u64> = counts(&edit.rejected).iter().map(|c| c.value).collect();
        if after.is_empty() {
            return Err(PluginError::BadReply("the reply contains no count".into()));
        }
        if before == after {
            return Err(PluginError::BadReply(format!(
                "the reply keeps the same count ({before:?})"
            )));
        }
        Ok(edit
            .extra("counts-before", join(&before))
            .extra("counts-after", join(&after)))
    }

    fn rule_edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
        let max_delta = sample.param_f64("max-delta", 2.0)?.max(1.0) as u64;
        let found = counts(&sample.answer);
        let target = found
            .first()
            .ok_or_else(|| PluginError::Refused("the answer contains no count".into()))?;
        let n = target.value;
        let mut options: Vec<u64> = (n.saturating_sub(max_delta)..=n + max_delta)
            // Never `1` from a plural (would need singular agreement everywhere) nor `0`.
            .filter(|&m| m != n && m != 0 && (m != 1 || n == 1 || n == 0))
            .filter(|&m| {
                !sample.is_penalised(&m.to_string()) && !sample.is_penalised(&number_to_words(m))
            })
            .collect();
        if options.is_empty() {
            return Err(PluginError::Refused(format!(
                "every alternative to {n} is banned by the penalty list"
            )));
        }
        SeededRng::new(seed).shuffle(&mut options);
        let m = options[0];
        let written = if target.digits {
            m.to_string()
        } else {
            match_case(target.text, &number_to_words(m))
        };
        let mut out = String::with_capacity(sample.answer.len() + 8);
        out.push_str(&sample.answer[..target.start]);
        out.push_str(&written);
        out.push_str(&sample.answer[target.end..]);
        if n == 1 && m > 1 {
            out = pluralise_after(&out, target.start + written.len());
            out = verb_to_plural(&out, target.start);
        }
        log::log(
            Level::Debug,
            "changed count",
            &[("from", &n.to_string()), ("to", &m.to_string())],
        );
        Ok(Edit::new(out)
            .note(format!("{} -> {}", target.text, written))
            .extra("original", n.to_string())
            .extra("replacement", m.to_string()))
    }
}

register_injector!(Counting);

/// A count found in a text.
#[derive(Debug, Clone, Copy)]
struct Count<'a> {
    text: &'a str,
    value: u64,
    digits: bool,
    start: usize,
    end: usize,
}

/// Whole-number counts (`3`, `three`, `Twenty-one`), skipping decimals and pronoun `one`.
fn counts(answer: &str) -> Vec<Count<'_>> {
    let tokens = tokenize(answer);
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let value = match t.kind {
            TokenKind::Number if !t.text.contains('.') => parse_number(t.text),
            TokenKind::Word => vapr_plugin_sdk::text::words_to_number(t.text),
            _ => None,
        };
        let Some(value) = value else { continue };
        if t.kind == TokenKind::Word && value == 1 && is_pronoun_one(&tokens, i) {
            continue;
        }
        out.push(Count {
            text: t.text,
            value,
            digits: t.kind == TokenKind::Number,
            start: t.start,
            end: t.end,
        });
    }
    out
}

fn is_pronoun_one(tokens: &[Token<'_>], i: usize) -> bool {
    i > 0
        && PRONOUN_BEFORE
            .iter()
            .any(|w| tokens[i - 1].text.eq_ignore_ascii_case(w))
}

/// Pluralises the first word after byte `from` (`cat` -> `cats`, `box` -> `boxes`).
fn pluralise_after(text: &str, from: usize) -> String {
    let Some(noun) = tokenize(&text[from..]).into_iter().find(|t| t.is_word()) else {
        return text.to_string();
    };
    let (start, end) = (from + noun.start, from + noun.end);
    let word = noun.text;
    let lower = word.to_lowercase();
    let plural = match lower.as_str() {
        "person" => match_case(word, "people"),
        "man" => match_case(word, "men"),
        "woman" => match_case(word, "women"),
        "child" => match_case(word, "children"),
        "mouse" => match_case(word, "mice"),
        _ if lower.ends_with('s')
            || lower.ends_with('x')
            || lower.ends_with("ch")
            || lower.ends_with("sh") =>
        {
            format!("{word}es")
        }
        _ if lower.ends_with('y')
            && !lower.ends_with("ay")
            && !lower.ends_with("ey")
            && !lower.ends_with("oy") =>
        {
            format!("{}ies", &word[..word.len() - 1])
        }
        _ => format!("{word}s"),
    };
    format!("{}{}{}", &text[..start], plural, &text[end..])
}

/// Turns the last `is`/`was` before byte `before` into `are`/`were`.
fn verb_to_plural(text: &str, before: usize) -> String {
    let verb = tokenize(&text[..before])
        .into_iter()
        .rev()
        .take(3)
        .find(|t| t.text.eq_ignore_ascii_case("is") || t.text.eq_ignore_ascii_case("was"));
    match verb {
        Some(v) => {
            let plural = if v.text.eq_ignore_ascii_case("is") {
                "are"
            } else {
                "were"
            };
            format!(
                "{}{}{}",
                &text[..v.start],
                match_case(v.text, plural),
                &text[v.end..]
            )
        }
        None => text.to_string(),
    }
}

fn join(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(answer: &str) -> Sample {
        Sample::new("t#0", "How many cats are on the sofa?", answer).with_category("counting")
    }

    #[test]
    fn rule_edit_changes_only_the_count_and_keeps_its_form() {
        let e = Counting::rule_edit(&sample("There are three cats on the sofa."), 7).unwrap();
        assert_ne!(e.rejected, "There are three cats on the sofa.");
        let words: Vec<&str> = e.rejected.split(' ').collect();
        assert_eq!(words.len(), 7);
        assert_eq!(words[0..2], ["There", "are"]);
        assert!(
            ["two", "four", "five"].contains(&words[2]),
            "{}",
            e.rejected
        );
        assert_eq!(words[3..], ["cats", "on", "the", "sofa."]);
        let d = Counting::rule_edit(&sample("3 cats."), 7).unwrap();
        assert!(
            ["2 cats.", "4 cats.", "5 cats."].contains(&d.rejected.as_str()),
            "{}",
            d.rejected
        );
    }

    #[test]
    fn rule_edit_is_deterministic_per_seed_and_varies_across_seeds() {
        let s = sample("Five.");
        let a = Counting::rule_edit(&s, 1).unwrap().rejected;
        assert_eq!(a, Counting::rule_edit(&s, 1).unwrap().rejected);
        let all: std::collections::BTreeSet<String> = (0..20)
            .map(|seed| Counting::rule_edit(&s, seed).unwrap().rejected)
            .collect();
        let expected: std::collections::BTreeSet<String> = ["Three.", "Four.", "Six.", "Seven."]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn singular_becomes_plural_with_agreement() {
        let e = Counting::rule_edit(&sample("There is one cat on the sofa."), 3).unwrap();
        assert!(e.rejected.starts_with("There are "), "{}", e.rejected);
        assert!(e.rejected.ends_with(" cats on the sofa."), "{}", e.rejected);
    }

    #[test]
    fn penalty_and_params_are_respected() {
        let s = sample("2")
            .with_penalty("1")
            .with_penalty("3")
            .with_penalty("four")
            .with_param("max-delta", "2");
        // 0 and 1 are never offered from a plural; 3 and 4 are banned.
        assert!(matches!(
            Counting::rule_edit(&s, 0),
            Err(PluginError::Refused(_))
        ));
        let bad = sample("2").with_param("max-delta", "many");
        assert!(matches!(
            Counting::rule_edit(&bad, 0),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn refuses_answers_without_a_count() {
        let e = Counting::rule_edit(&sample("The one on the left is red."), 0).unwrap_err();
        assert_eq!(
            e,
            PluginError::Refused("the answer contains no count".into())
        );
    }

    #[test]
    fn parse_reply_requires_a_changed_count() {
        let s = sample("There are three cats.");
        assert!(matches!(
            Counting::parse_reply("There are three dogs.", &s),
            Err(PluginError::BadReply(_))
        ));
        assert!(matches!(
            Counting::parse_reply("Some cats.", &s),
            Err(PluginError::BadReply(_))
        ));
        let ok = Counting::parse_reply("Answer: There are 4 cats.", &s).unwrap();
        assert_eq!(ok.rejected, "There are 4 cats.");
    }

    #[test]
    fn fit_prefers_count_questions() {
        assert!(Counting::fit(&sample("Three.")) > 0.95);
        let other = Sample::new("x", "What colour is the car?", "It is red.");
        assert_eq!(Counting::fit(&other), 0.0);
    }
}
