//! Style validator: a hard negative keeps the chosen answer's form, so a pair fails when
//! the rejected answer changes the sentence count, the final punctuation mark, the casing
//! of the first letter, the line structure or (beyond a tolerance) the inner punctuation.
//! The score is the share of checks that pass.
//!
//! Params: `max-sentence-diff` (default 0), `max-punctuation-diff` (default 2: total
//! difference in the counts of `,` `;` `:` `(` `)` `"` `-`), `min-score` (default 1: every
//! check must pass).

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::{sentence_count, tokenize};

pub struct StyleCheck;

/// The punctuation marks whose counts form the profile.
const MARKS: [&str; 7] = [",", ";", ":", "(", ")", "\"", "-"];

/// The final mark of a text (`.`, `!`, `?`, `…`) or `none`.
fn terminal(text: &str) -> &'static str {
    match text
        .trim_end()
        .trim_end_matches(['"', '\'', ')', '”', '’', '*'])
        .chars()
        .last()
    {
        Some('.') => ".",
        Some('!') => "!",
        Some('?') => "?",
        Some('…') => "…",
        _ => "none",
    }
}

/// Whether the first letter is upper case (`None` without letters).
fn first_upper(text: &str) -> Option<bool> {
    text.chars()
        .find(|c| c.is_alphabetic())
        .map(char::is_uppercase)
}

fn punctuation_profile(text: &str) -> [usize; 7] {
    let mut counts = [0; 7];
    for t in tokenize(text) {
        if let Some(i) = MARKS.iter().position(|m| *m == t.text) {
            counts[i] += 1;
        }
    }
    counts
}

fn line_count(text: &str) -> usize {
    text.trim().lines().filter(|l| !l.trim().is_empty()).count()
}

impl Validator for StyleCheck {
    fn info() -> PluginInfo {
        PluginInfo::new("style-check", env!("CARGO_PKG_VERSION"))
            .description("Checks that sentence count, final punctuation, punctuation profile and first-letter casing are preserved.")
            .extra("param.max-sentence-diff", "largest sentence-count difference (default 0)")
            .extra("param.max-punctuation-diff", "largest total difference in inner punctuation counts (default 2)")
            .extra("param.min-score", "share of checks that must pass (default 1)")
    }

    fn validate(sample: &Sample, chosen: &str, rejected: &str) -> Verdict {
        let params = (
            sample.param_f64("max-sentence-diff", 0.0),
            sample.param_f64("max-punctuation-diff", 2.0),
            sample.param_f64("min-score", 1.0),
        );
        let (max_sent, max_punct, min_score) = match params {
            (Ok(a), Ok(b), Ok(c)) => (a, b, c),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                return Verdict::default().fail(e.to_string());
            }
        };
        let (sc, sr) = (sentence_count(chosen), sentence_count(rejected));
        let (pc, pr) = (punctuation_profile(chosen), punctuation_profile(rejected));
        let punct_diff: usize = pc.iter().zip(&pr).map(|(a, b)| a.abs_diff(*b)).sum();
        let mut failures = Vec::new();
        if sc.abs_diff(sr) as f64 > max_sent {
            failures.push(format!("sentence count changed: {sc} -> {sr}"));
        }
        if terminal(chosen) != terminal(rejected) {
            failures.push(format!(
                "final punctuation changed: `{}` -> `{}`",
                terminal(chosen),
                terminal(rejected)
            ));
        }
        if first_upper(chosen) != first_upper(rejected) {
            let case = |u: Option<bool>| match u {
                Some(true) => "upper case",
                Some(false) => "lower case",
                None => "no letter",
            };
            failures.push(format!(
                "first letter changed from {} to {}",
                case(first_upper(chosen)),
                case(first_upper(rejected))
            ));
        }
        if line_count(chosen) != line_count(rejected) {
            failures.push(format!(
                "line count changed: {} -> {}",
                line_count(chosen),
                line_count(rejected)
            ));
        }
        if punct_diff as f64 > max_punct {
            failures.push(format!(
                "inner punctuation changed by {punct_diff} marks (max {max_punct})"
            ));
        }
        const CHECKS: f32 = 5.0;
        let score = (CHECKS - failures.len() as f32) / CHECKS;
        let mut v = Verdict::pass()
            .score(score)
            .metric("sentences-chosen", sc as f64)
            .metric("sentences-rejected", sr as f64)
            .metric("punctuation-diff", punct_diff as f64);
        if (score as f64) < min_score {
            for f in failures {
                v = v.fail(f);
            }
        }
        v
    }
}

register_validator!(StyleCheck);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(chosen: &str, rejected: &str) -> Verdict {
        StyleCheck::validate(&Sample::new("t#0", "q", chosen), chosen, rejected)
    }

    #[test]
    fn hard_negatives_from_the_paper_pass() {
        // Counting and spatial hard negatives: same sentence, one span changed.
        assert!(
            check(
                "There are four planes in the sky.",
                "There are six planes in the sky."
            )
            .pass
        );
        let v = check(
            "The man is standing next to the baby elephant.",
            "The man is standing far from the baby elephant, near the water's edge.",
        );
        assert!(v.pass && v.score == 1.0, "{:?}", v.reasons);
    }

    #[test]
    fn style_biased_rewrites_fail_with_reasons() {
        // Passive rewrite in two sentences, lower-case start, no final period.
        let v = check(
            "There are four planes in the sky.",
            "five planes can be seen. They fly over the city",
        );
        assert!(!v.pass);
        assert!((v.score - 0.4).abs() < 1e-6, "{}", v.score);
        let all = v.reasons.join(" | ");
        assert!(all.contains("sentence count changed: 1 -> 2"), "{all}");
        assert!(
            all.contains("final punctuation changed: `.` -> `none`"),
            "{all}"
        );
        assert!(
            all.contains("first letter changed from upper case to lower case"),
            "{all}"
        );
    }

    #[test]
    fn punctuation_profile_and_lines() {
        let v = check("Red, green, and blue.", "Red; green: and (blue).");
        assert!(
            !v.pass && v.reasons[0].contains("inner punctuation"),
            "{:?}",
            v.reasons
        );
        let v = check("One.\nTwo.", "One. Two.");
        assert!(!v.pass && v.reasons[0].contains("line count"));
    }

    #[test]
    fn thresholds_come_from_params() {
        let s = Sample::new("t#0", "q", "a")
            .with_param("max-sentence-diff", "1")
            .with_param("min-score", "0.5");
        let v = StyleCheck::validate(&s, "One sentence.", "One sentence. Two");
        // Sentence diff allowed; final punctuation fails; 4 of 5 checks pass >= 0.5.
        assert!(v.pass && (v.score - 0.8).abs() < 1e-6, "{v:?}");
        let bad = Sample::new("t#0", "q", "a").with_param("min-score", "high");
        assert!(!StyleCheck::validate(&bad, "a", "b").pass);
    }
}
