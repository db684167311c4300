//! Polarity validator: for a yes/no answer, the hard negative of an existence question is
//! the opposite answer, so the pair passes only when the rejected answer's leading yes/no
//! is the flipped one. Answers without a leading yes/no pass neutrally (nothing to check).
//!
//! Params: `categories` (default `existence`): comma-separated categories the check applies
//! to, `*` for all; a sample whose category is not listed passes neutrally. A sample
//! without a category is checked.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::polarity::leading_polarity;

pub struct PolarityCheck;

/// Whether the check applies to `sample`'s category.
fn applies(sample: &Sample) -> bool {
    let listed = sample.param("categories").unwrap_or("existence");
    match sample.category.as_deref() {
        None => true,
        Some(c) => listed
            .split(',')
            .map(str::trim)
            .any(|l| l == "*" || l.eq_ignore_ascii_case(c)),
    }
}

impl Validator for PolarityCheck {
    fn info() -> PluginInfo {
        PluginInfo::new("polarity-check", env!("CARGO_PKG_VERSION"))
            .categories(&["existence"])
            .description(
                "For yes/no answers, passes only when the leading yes/no polarity flipped.",
            )
            .extra(
                "param.categories",
                "categories checked, comma-separated or * (default existence)",
            )
    }

    fn validate(sample: &Sample, chosen: &str, rejected: &str) -> Verdict {
        if !applies(sample) {
            return Verdict::pass().metric("checked", 0.0);
        }
        let Some(c) = leading_polarity(chosen) else {
            return Verdict::pass().metric("checked", 0.0);
        };
        let v = Verdict::pass().metric("checked", 1.0);
        match leading_polarity(rejected) {
            None => v.score(0.0).fail(format!(
                "the chosen answer starts with `{}` but the rejected one has no leading yes/no",
                c.polarity.word()
            )),
            Some(r) if r.polarity == c.polarity => v.score(0.0).fail(format!(
                "the yes/no polarity did not flip: both answers start with `{}`",
                c.polarity.word()
            )),
            Some(_) => v,
        }
    }
}

register_validator!(PolarityCheck);

#[cfg(test)]
mod tests {
    use super::*;

    fn check(category: Option<&str>, chosen: &str, rejected: &str) -> Verdict {
        let mut s = Sample::new("t#0", "Is there a dog?", chosen);
        s.category = category.map(str::to_string);
        PolarityCheck::validate(&s, chosen, rejected)
    }

    #[test]
    fn flipped_polarity_passes() {
        let v = check(
            Some("existence"),
            "Yes, there is a dog.",
            "No, there is no dog.",
        );
        assert!(v.pass && v.score == 1.0);
        assert!(check(None, "no", "Yes.").pass);
    }

    #[test]
    fn unflipped_or_dropped_polarity_fails() {
        let v = check(
            Some("existence"),
            "Yes, there is a dog.",
            "Yes, there is a cat.",
        );
        assert!(!v.pass && v.reasons[0].contains("did not flip"));
        let v = check(Some("existence"), "No, there is no dog.", "There is a dog.");
        assert!(!v.pass && v.reasons[0].contains("no leading yes/no"));
    }

    #[test]
    fn answers_without_polarity_and_other_categories_pass_neutrally() {
        let v = check(Some("existence"), "There is a dog.", "There is no dog.");
        assert!(v.pass && v.metrics == [("checked".to_string(), 0.0)]);
        let v = check(Some("color"), "Yes, it is red.", "Yes, it is blue.");
        assert!(v.pass);
    }

    #[test]
    fn categories_param_widens_the_check() {
        let s = Sample::new("t#0", "Is it red?", "Yes, it is red.")
            .with_category("color")
            .with_param("categories", "existence, color");
        assert!(!PolarityCheck::validate(&s, "Yes, it is red.", "Yes, it is blue.").pass);
        let s = s.with_param("categories", "*");
        assert!(PolarityCheck::validate(&s, "Yes, it is red.", "No, it is blue.").pass);
    }
}
