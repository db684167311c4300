//! No-op validator: a rejected answer that says the same as the chosen one in the same
//! words is no preference signal at all. The pair fails when the two are equal after
//! normalisation: case, spacing and (by default) punctuation are ignored.
//!
//! Params: `ignore-punctuation` (default `true`), `ignore-case` (default `true`).

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::{TokenKind, tokenize};

pub struct NoopCheck;

/// A boolean param: `true`/`false`/`1`/`0`/`yes`/`no`.
fn flag(sample: &Sample, key: &str, default: bool) -> Result<bool, String> {
    match sample.param(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes") => Ok(true),
        Some(v) if matches!(v.as_str(), "false" | "0" | "no") => Ok(false),
        Some(v) => Err(format!(
            "param `{key}` = `{v}` is not a boolean (true/false)"
        )),
    }
}

/// The tokens that count for the comparison.
fn normalised(text: &str, ignore_punctuation: bool, ignore_case: bool) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|t| !(ignore_punctuation && t.kind == TokenKind::Punct))
        .map(|t| {
            if ignore_case {
                t.text.to_lowercase()
            } else {
                t.text.to_string()
            }
        })
        .collect()
}

impl Validator for NoopCheck {
    fn info() -> PluginInfo {
        PluginInfo::new("noop-check", env!("CARGO_PKG_VERSION"))
            .description(
                "Fails pairs whose rejected answer equals the chosen one after normalisation.",
            )
            .extra(
                "param.ignore-punctuation",
                "ignore punctuation when comparing (default true)",
            )
            .extra(
                "param.ignore-case",
                "ignore letter case when comparing (default true)",
            )
    }

    fn validate(sample: &Sample, chosen: &str, rejected: &str) -> Verdict {
        let (punct, case) = match (
            flag(sample, "ignore-punctuation", true),
            flag(sample, "ignore-case", true),
        ) {
            (Ok(p), Ok(c)) => (p, c),
            (Err(e), _) | (_, Err(e)) => return Verdict::default().fail(e),
        };
        let (c, r) = (
            normalised(chosen, punct, case),
            normalised(rejected, punct, case),
        );
        let changed = vapr_plugin_sdk::text::levenshtein_words(&c.join(" "), &r.join(" "));
        let v = Verdict::pass().metric("changed-tokens", changed as f64);
        if c == r {
            let what = match (punct, case) {
                (true, true) => "case, spacing and punctuation",
                (true, false) => "spacing and punctuation",
                (false, true) => "case and spacing",
                (false, false) => "spacing",
            };
            return v.score(0.0).fail(format!(
                "the rejected answer equals the chosen one (ignoring {what})"
            ));
        }
        v
    }
}

register_validator!(NoopCheck);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(chosen: &str, rejected: &str) -> Verdict {
        NoopCheck::validate(&Sample::new("t#0", "q", chosen), chosen, rejected)
    }

    #[test]
    fn identical_and_cosmetic_changes_fail() {
        let a = "There are three red circles.";
        for r in [
            a,
            "there are three red circles",
            "There  are three red circles!",
            "THERE ARE THREE RED CIRCLES.",
        ] {
            let v = check(a, r);
            assert!(!v.pass && v.score == 0.0, "{r}");
            assert!(
                v.reasons[0].contains("equals the chosen"),
                "{:?}",
                v.reasons
            );
        }
    }

    #[test]
    fn a_real_edit_passes_with_its_size() {
        let v = check(
            "There are three red circles.",
            "There are five red circles.",
        );
        assert!(v.pass && v.score == 1.0 && v.reasons.is_empty());
        assert_eq!(v.metrics, [("changed-tokens".to_string(), 1.0)]);
    }

    #[test]
    fn params_make_case_or_punctuation_count() {
        let s = Sample::new("t#0", "q", "Yes.").with_param("ignore-punctuation", "false");
        assert!(NoopCheck::validate(&s, "Yes.", "Yes!").pass);
        let s = Sample::new("t#0", "q", "Yes.").with_param("ignore-case", "no");
        assert!(NoopCheck::validate(&s, "yes.", "Yes.").pass);
        let bad = Sample::new("t#0", "q", "Yes.").with_param("ignore-case", "maybe");
        let v = NoopCheck::validate(&bad, "Yes.", "No.");
        assert!(!v.pass && v.reasons[0].contains("ignore-case"));
    }
}
