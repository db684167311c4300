//! Length/edit validator: a hard negative must keep the chosen answer's length and
//! wording, so the pair fails when the token-count gap or the word-level edit distance
//! is out of bounds (the style-similarity checks of the VaPR paper).
//!
//! Params (sample params, all optional):
//! - `max-length-gap` (default 3): largest |tokens(chosen) - tokens(rejected)|;
//! - `min-edit-distance` (default 1): smallest word-level Levenshtein distance (0 would
//!   let an unchanged answer through);
//! - `max-edit-distance` (default 6): largest word-level Levenshtein distance;
//! - `max-edit-ratio` (default 0.5): largest distance relative to the chosen token count.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::{levenshtein_words, token_count};

pub struct LengthEdit;

/// Thresholds read from the sample's params.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Limits {
    max_length_gap: f64,
    min_edit_distance: f64,
    max_edit_distance: f64,
    max_edit_ratio: f64,
}

impl Limits {
    fn from_sample(sample: &Sample) -> Result<Self, PluginError> {
        Ok(Limits {
            max_length_gap: sample.param_f64("max-length-gap", 3.0)?,
            min_edit_distance: sample.param_f64("min-edit-distance", 1.0)?,
            max_edit_distance: sample.param_f64("max-edit-distance", 6.0)?,
            max_edit_ratio: sample.param_f64("max-edit-ratio", 0.5)?,
        })
    }
}

impl Validator for LengthEdit {
    fn info() -> PluginInfo {
        PluginInfo::new("length-edit", env!("CARGO_PKG_VERSION"))
            .description(
                "Fails pairs whose token-length gap or word-level edit distance is out of bounds.",
            )
            .extra(
                "param.max-length-gap",
                "largest token-count gap (default 3)",
            )
            .extra(
                "param.min-edit-distance",
                "smallest word edit distance (default 1)",
            )
            .extra(
                "param.max-edit-distance",
                "largest word edit distance (default 6)",
            )
            .extra(
                "param.max-edit-ratio",
                "largest edit distance / chosen tokens (default 0.5)",
            )
    }

    fn validate(sample: &Sample, chosen: &str, rejected: &str) -> Verdict {
        let limits = match Limits::from_sample(sample) {
            Ok(l) => l,
            Err(e) => return Verdict::default().fail(e.to_string()),
        };
        let (nc, nr) = (token_count(chosen) as f64, token_count(rejected) as f64);
        let gap = (nc - nr).abs();
        let dist = levenshtein_words(chosen, rejected) as f64;
        let ratio = if nc > 0.0 { dist / nc } else { dist };
        let mut v = Verdict::pass()
            .metric("chosen-tokens", nc)
            .metric("rejected-tokens", nr)
            .metric("length-gap", gap)
            .metric("edit-distance", dist)
            .metric("edit-ratio", ratio);
        if gap > limits.max_length_gap {
            v = v.fail(format!(
                "length gap of {gap} tokens exceeds max-length-gap {}",
                limits.max_length_gap
            ));
        }
        if dist < limits.min_edit_distance {
            v = v.fail(if dist == 0.0 {
                "the rejected answer is identical to the chosen one (word level)".to_string()
            } else {
                format!(
                    "edit distance {dist} is below min-edit-distance {}",
                    limits.min_edit_distance
                )
            });
        }
        if dist > limits.max_edit_distance {
            v = v.fail(format!(
                "word edit distance {dist} exceeds max-edit-distance {}",
                limits.max_edit_distance
            ));
        }
        if ratio > limits.max_edit_ratio && dist > limits.min_edit_distance {
            v = v.fail(format!(
                "edit ratio {ratio:.2} exceeds max-edit-ratio {}",
                limits.max_edit_ratio
            ));
        }
        // Score: 1 for a one-token swap with no length change, falling towards 0 at the limits.
        let gap_part = 1.0 - (gap / (limits.max_length_gap + 1.0)).min(1.0);
        let dist_part = 1.0 - ((dist - 1.0).max(0.0) / limits.max_edit_distance.max(1.0)).min(1.0);
        let score = if dist == 0.0 {
            0.0
        } else {
            0.5 * gap_part + 0.5 * dist_part
        };
        v.score(score as f32)
    }
}

register_validator!(LengthEdit);

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sample {
        Sample::new("t#0", "How many cats?", "There are three cats on the sofa.")
    }

    fn metric(v: &Verdict, name: &str) -> f64 {
        v.metrics.iter().find(|(k, _)| k == name).unwrap().1
    }

    #[test]
    fn one_word_swap_passes_with_top_score() {
        let s = sample();
        let v = LengthEdit::validate(&s, &s.answer, "There are five cats on the sofa.");
        assert!(v.pass, "{:?}", v.reasons);
        assert_eq!(v.score, 1.0);
        assert_eq!(metric(&v, "length-gap"), 0.0);
        assert_eq!(metric(&v, "edit-distance"), 1.0);
        assert_eq!(metric(&v, "chosen-tokens"), 8.0);
    }

    #[test]
    fn identical_answer_fails() {
        let s = sample();
        let v = LengthEdit::validate(&s, &s.answer, &s.answer);
        assert!(!v.pass);
        assert_eq!(v.score, 0.0);
        assert!(v.reasons[0].contains("identical"), "{:?}", v.reasons);
    }

    #[test]
    fn long_rewrite_fails_on_gap_and_distance() {
        let s = sample();
        let v = LengthEdit::validate(
            &s,
            &s.answer,
            "I think there might be around five or six small cats sitting on the big old sofa today.",
        );
        assert!(!v.pass);
        assert!(
            v.reasons
                .iter()
                .any(|r| r.contains("length gap of 11 tokens")),
            "{:?}",
            v.reasons
        );
        assert!(
            v.reasons.iter().any(|r| r.contains("max-edit-distance")),
            "{:?}",
            v.reasons
        );
    }

    #[test]
    fn thresholds_come_from_params() {
        let s = sample()
            .with_param("max-length-gap", "20")
            .with_param("max-edit-distance", "30")
            .with_param("max-edit-ratio", "5");
        let v = LengthEdit::validate(
            &s,
            &s.answer,
            "I think there might be around five or six small cats sitting on the big old sofa today.",
        );
        assert!(v.pass, "{:?}", v.reasons);
        let strict = sample().with_param("max-length-gap", "0");
        let v = LengthEdit::validate(
            &strict,
            &strict.answer,
            "There are five cats on the old sofa.",
        );
        assert!(!v.pass);
        let bad = sample().with_param("max-length-gap", "wide");
        let v = LengthEdit::validate(&bad, &bad.answer, "There are five cats on the sofa.");
        assert!(
            !v.pass && v.reasons[0].contains("max-length-gap"),
            "{:?}",
            v.reasons
        );
    }
}
