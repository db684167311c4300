//! Numbers the report derives from the results: the end of each DPO curve, the paper's
//! reading of it, which model plays which role, and the "what this shows" sentences. All
//! of it is computed from the record; nothing here knows what a run "should" show.

use vapr_core::Category;

use super::format::{pct, pp};
use super::results::{ModelResult, QuickstartResults, StepPoint};

/// Share of a curve's logged points averaged into its "final" value (at least one point):
/// one noisy last batch should not decide the reading.
pub const FINAL_WINDOW: f64 = 0.1;

/// The end of one DPO run's reward curve.
#[derive(Debug, Clone, PartialEq)]
pub struct RewardSummary {
    /// Logged points that carry a reward accuracy.
    pub points: usize,
    /// How many of the last points [`Self::final_accuracy`] averages.
    pub window: usize,
    pub first_accuracy: f64,
    /// Mean reward accuracy over the last `window` points.
    pub final_accuracy: f64,
    pub max_accuracy: f64,
    /// Mean reward margin over the same window, when margins were logged.
    pub final_margin: Option<f64>,
}

/// Summarises a training log; `None` when no point has a reward accuracy (not DPO).
pub fn reward_summary(log: &[StepPoint]) -> Option<RewardSummary> {
    let accs: Vec<f64> = log.iter().filter_map(|p| p.rewards_accuracy).collect();
    let first = *accs.first()?;
    let window = ((accs.len() as f64 * FINAL_WINDOW).ceil() as usize).clamp(1, accs.len());
    let tail = &accs[accs.len() - window..];
    let margins: Vec<f64> = log.iter().filter_map(|p| p.rewards_margin).collect();
    let margin_window = window.min(margins.len());
    let final_margin = (margin_window > 0).then(|| {
        margins[margins.len() - margin_window..].iter().sum::<f64>() / margin_window as f64
    });
    Some(RewardSummary {
        points: accs.len(),
        window,
        first_accuracy: first,
        final_accuracy: tail.iter().sum::<f64>() / window as f64,
        max_accuracy: accs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        final_margin,
    })
}

/// Which of the paper's three reward-accuracy shapes (VaPR §7, "DPO dynamics") a final
/// value is closest to. A reading of the number, not a diagnosis of its cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// Near 50%: the paper's DPO collapse (pairs barely separated).
    Collapse,
    /// Climbing to about 90% without saturating: the paper's healthy run.
    Healthy,
    /// Pinned near 100%: the paper's reward hacking on surface cues.
    Hacking,
    /// Between the collapse and healthy reference points.
    Between,
}

/// Final reward accuracies at or below this read as collapse-like.
pub const COLLAPSE_MAX: f64 = 0.65;
/// ... from this up (below [`HACKING_MIN`]) as healthy-like.
pub const HEALTHY_MIN: f64 = 0.80;
/// ... from this up as hacking-like.
pub const HACKING_MIN: f64 = 0.97;

impl Reading {
    /// Cut-offs sit between the paper's reference points (50 / 90 / 100%).
    pub fn of(final_accuracy: f64) -> Self {
        if final_accuracy >= HACKING_MIN {
            Reading::Hacking
        } else if final_accuracy >= HEALTHY_MIN {
            Reading::Healthy
        } else if final_accuracy <= COLLAPSE_MAX {
            Reading::Collapse
        } else {
            Reading::Between
        }
    }

    /// One phrase for the tables.
    pub fn label(self) -> &'static str {
        match self {
            Reading::Collapse => "near 50%: collapse-like",
            Reading::Healthy => "near 90%: healthy-like",
            Reading::Hacking => "near 100%: hacking-like",
            Reading::Between => "between 50% and 90%",
        }
    }

    /// The paper's reading of this shape, for the prose.
    pub fn meaning(self) -> &'static str {
        match self {
            Reading::Collapse => {
                "the paper sees this when chosen and rejected are barely separable (DPO collapse)"
            }
            Reading::Healthy => {
                "the paper sees this with VaPR's hard negatives (a gradual climb that does not saturate)"
            }
            Reading::Hacking => {
                "the paper sees this when pairs differ by surface cues the policy can exploit (reward hacking)"
            }
            Reading::Between => {
                "between the paper's collapse (~50%) and healthy (~90%) reference points"
            }
        }
    }
}

/// A model that was trained with DPO (it logged reward accuracies, or says so by name).
pub fn is_dpo(m: &ModelResult) -> bool {
    m.train_log.iter().any(|p| p.rewards_accuracy.is_some()) || m.name.starts_with("dpo")
}

/// The SFT base: the model named `sft-base`, else the first model trained on no pair set.
pub fn base_model(r: &QuickstartResults) -> Option<&ModelResult> {
    r.models
        .iter()
        .find(|m| m.name == "sft-base")
        .or_else(|| r.models.iter().find(|m| m.trained_on.is_none()))
}

/// The SFT-on-chosen baseline.
pub fn sft_on_chosen(r: &QuickstartResults) -> Option<&ModelResult> {
    r.models.iter().find(|m| m.name == "sft-on-chosen")
}

/// The DPO model trained on the named pair set.
pub fn dpo_on<'a>(r: &'a QuickstartResults, pair_set: &str) -> Option<&'a ModelResult> {
    r.models
        .iter()
        .find(|m| is_dpo(m) && m.trained_on.as_deref() == Some(pair_set))
}

/// The ten categories in the paper's order, then any other name a model reported.
pub fn category_names(r: &QuickstartResults) -> Vec<String> {
    let mut names: Vec<String> = Category::ALL.iter().map(|c| c.to_string()).collect();
    for m in &r.models {
        for c in m.accuracy_by_category.keys() {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
    }
    names
}

/// Accuracy of a uniform guess among each question's candidates, when the run recorded it
/// (`settings.chance_accuracy`).
pub fn chance_accuracy(r: &QuickstartResults) -> Option<f64> {
    r.settings
        .get("chance_accuracy")
        .and_then(serde_json::Value::as_f64)
        .filter(|c| c.is_finite())
}

/// Where the best model stands against chance: the first thing to know before reading any
/// comparison between models.
fn chance_sentence(r: &QuickstartResults) -> Option<String> {
    let chance = chance_accuracy(r)?;
    let best = r
        .models
        .iter()
        .max_by(|a, b| a.accuracy.total_cmp(&b.accuracy))?;
    let band = noise_band(best.accuracy, chance, eval_questions(r))?;
    let diff = best.accuracy - chance;
    let tail = if diff > band {
        "outside the sampling noise, so the models learned something the comparisons can measure."
    } else {
        "within the sampling noise: no model is clearly above chance, so the comparisons below \
         say little."
    };
    Some(format!(
        "Against chance: the best model, `{}`, scored {} where a uniform guess among the \
         candidates scores {} ({}, ±{:.1} pp noise), {tail}",
        best.name,
        pct(best.accuracy),
        pct(chance),
        pp(diff),
        100.0 * band
    ))
}

/// Held-out questions every model answered.
pub fn eval_questions(r: &QuickstartResults) -> usize {
    r.eval.binary_questions + r.eval.short_questions
}

/// Two standard errors of the difference of two accuracies on `n` questions (binomial,
/// treating the two models as independent: conservative for paired answers).
pub fn noise_band(a: f64, b: f64, n: usize) -> Option<f64> {
    (n > 0).then(|| 2.0 * ((a * (1.0 - a) + b * (1.0 - b)) / n as f64).sqrt())
}

/// "higher than" / "lower than" / "equal to".
fn compare_word(diff: f64) -> &'static str {
    if diff > 5e-4 {
        "higher than"
    } else if diff < -5e-4 {
        "lower than"
    } else {
        "equal to"
    }
}

/// One sentence comparing `a` with `b` on overall accuracy, with the noise band.
fn compare(a: &ModelResult, b: &ModelResult, n: usize) -> String {
    let diff = a.accuracy - b.accuracy;
    let mut s = format!(
        "`{}` scored {} overall, {} `{}` ({}; {})",
        a.name,
        pct(a.accuracy),
        compare_word(diff),
        b.name,
        pct(b.accuracy),
        pp(diff),
    );
    match noise_band(a.accuracy, b.accuracy, n) {
        Some(band) => {
            let verdict = if diff.abs() > band {
                "outside"
            } else {
                "within"
            };
            s += &format!(
                ", {verdict} the ±{:.1} pp sampling noise of {n} held-out questions.",
                100.0 * band
            );
        }
        None => s.push('.'),
    }
    s
}

/// The "what this shows" sentences, each computed from the numbers.
pub fn findings(r: &QuickstartResults) -> Vec<String> {
    let n = eval_questions(r);
    let mut out: Vec<String> = chance_sentence(r).into_iter().collect();
    let base = base_model(r);
    let vapr = dpo_on(r, "vapr");
    match (vapr, base) {
        (Some(v), Some(b)) => {
            // "Beat" only outside the noise band: a claim the numbers can carry.
            let diff = v.accuracy - b.accuracy;
            let band = noise_band(v.accuracy, b.accuracy, n).unwrap_or(0.0);
            let verb = if diff > band.max(5e-4) {
                "beat"
            } else if -diff > band.max(5e-4) {
                "fell below"
            } else {
                "did not clearly differ from"
            };
            out.push(format!(
                "DPO on VaPR pairs {verb} the SFT base: {}",
                compare(v, b, n)
            ));
            if let Some(s) = category_extremes(v, b) {
                out.push(s);
            }
            out.push(yes_bias_sentence(r, v, b));
        }
        _ => out.push(
            "The report cannot compare DPO on VaPR pairs with the SFT base: one of them is \
             missing from the results."
                .to_string(),
        ),
    }
    if let (Some(v), Some(c)) = (vapr, sft_on_chosen(r)) {
        out.push(format!(
            "Against supervised training on the same chosen answers: {}",
            compare(v, c, n)
        ));
    }
    if let Some(v) = vapr {
        for set in r.pair_sets.iter().filter(|s| s.name != "vapr") {
            if let Some(m) = dpo_on(r, &set.name) {
                out.push(format!(
                    "Against the `{}` control pairs: {}",
                    set.name,
                    compare(v, m, n)
                ));
            }
        }
    }
    let readings: Vec<String> = r
        .models
        .iter()
        .filter_map(|m| {
            let s = reward_summary(&m.train_log)?;
            Some(format!(
                "`{}` {} ({})",
                m.name,
                pct(s.final_accuracy),
                Reading::of(s.final_accuracy).label()
            ))
        })
        .collect();
    if !readings.is_empty() {
        out.push(format!(
            "Final DPO reward accuracy: {}.",
            readings.join(", ")
        ));
    }
    out
}

/// Largest per-category gain and drop of `a` over `b`.
fn category_extremes(a: &ModelResult, b: &ModelResult) -> Option<String> {
    let diffs: Vec<(&str, f64)> = a
        .accuracy_by_category
        .iter()
        .filter_map(|(c, x)| Some((c.as_str(), x - b.accuracy_by_category.get(c)?)))
        .filter(|(_, d)| d.is_finite())
        .collect();
    let best = diffs.iter().copied().max_by(|x, y| x.1.total_cmp(&y.1))?;
    let worst = diffs.iter().copied().min_by(|x, y| x.1.total_cmp(&y.1))?;
    Some(format!(
        "Per category, the largest change of `{}` over `{}` is {} on {}; the smallest is {} on {}.",
        a.name,
        b.name,
        pp(best.1),
        best.0,
        pp(worst.1),
        worst.0
    ))
}

/// Did DPO move the yes-rate toward the true rate?
fn yes_bias_sentence(r: &QuickstartResults, v: &ModelResult, b: &ModelResult) -> String {
    let truth = r.eval.true_yes_rate;
    let (gap_b, gap_v) = ((b.yes_rate - truth).abs(), (v.yes_rate - truth).abs());
    let direction = if gap_v + 5e-4 < gap_b {
        format!("{} closer to", pp(gap_b - gap_v).trim_start_matches('+'))
    } else if gap_v > gap_b + 5e-4 {
        format!("{} further from", pp(gap_v - gap_b).trim_start_matches('+'))
    } else {
        "as close to".to_string()
    };
    format!(
        "Yes-bias: `{}` answered yes to {} of binary questions and `{}` to {}, against a true \
         yes-rate of {}: DPO on VaPR pairs ended {direction} the true rate.",
        b.name,
        pct(b.yes_rate),
        v.name,
        pct(v.yes_rate),
        pct(truth)
    )
}

/// The "does not show" sentences: the limits of this run, with its own numbers.
pub fn limits(r: &QuickstartResults) -> Vec<String> {
    vec![
        format!(
            "This is one run (seed {}, scale `{}`) of a small model trained from scratch on \
             synthetic scenes and scored on {} held-out questions. It says nothing about \
             pretrained vision-language models, real images or the paper's benchmarks, and does \
             not reproduce the paper's numbers.",
            r.seed,
            r.scale,
            eval_questions(r)
        ),
        "Differences inside the sampling-noise band are not evidence either way; rerun with \
         other seeds to see the spread between runs."
            .to_string(),
        "The reward-accuracy readings compare curve ends with the shapes the paper reports; \
         they do not establish why a run behaved as it did."
            .to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(step: usize, acc: Option<f64>, margin: Option<f64>) -> StepPoint {
        StepPoint {
            step,
            loss: 0.5,
            rewards_accuracy: acc,
            rewards_margin: margin,
        }
    }

    #[test]
    fn final_accuracy_averages_the_last_tenth() {
        let log: Vec<_> = (0..20)
            .map(|i| point(i, Some(i as f64 / 20.0), Some(i as f64)))
            .collect();
        let s = reward_summary(&log).unwrap();
        assert_eq!((s.points, s.window), (20, 2));
        assert!((s.final_accuracy - (0.90 + 0.95) / 2.0).abs() < 1e-12);
        assert_eq!(s.first_accuracy, 0.0);
        assert_eq!(s.max_accuracy, 0.95);
        assert_eq!(s.final_margin, Some(18.5));
        assert_eq!(reward_summary(&[point(0, None, None)]), None);
    }

    #[test]
    fn readings_follow_the_paper_reference_points() {
        assert_eq!(Reading::of(0.52), Reading::Collapse);
        assert_eq!(Reading::of(0.72), Reading::Between);
        assert_eq!(Reading::of(0.90), Reading::Healthy);
        assert_eq!(Reading::of(1.0), Reading::Hacking);
    }

    #[test]
    fn noise_band_shrinks_with_more_questions() {
        let small = noise_band(0.5, 0.5, 100).unwrap();
        assert!((small - 2.0 * (0.5f64 / 100.0).sqrt()).abs() < 1e-12);
        assert!(noise_band(0.5, 0.5, 400).unwrap() < small);
        assert_eq!(noise_band(0.5, 0.5, 0), None);
    }
}
