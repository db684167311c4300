//! What a quickstart run measured: the one record the orchestrator fills and the report
//! writer renders (`report.md`, `report.html`, plots) and serialises (`metrics.json`).

use std::collections::BTreeMap;

use crate::stats::BiasStats;
use serde::Serialize;

/// Everything `metrics.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct QuickstartResults {
    /// `vapr` version that produced the run.
    pub vapr_version: String,
    /// Preset name (`tiny`, `small`, ...).
    pub scale: String,
    /// `cpu` or `cuda`.
    pub device: String,
    /// The one seed every step derives its own from.
    pub seed: u64,
    /// Wall time of the whole run.
    pub wall_seconds: f64,
    /// Wall time per step (`synth`, `tokenizer`, `sft`, `pairs`, `dpo-vapr`, ..., `eval`).
    pub step_seconds: BTreeMap<String, f64>,
    /// Model size, training hyper-parameters, scene counts: whatever a reader needs to
    /// reproduce the run (free-form, written as given).
    pub settings: serde_json::Value,
    /// How answers were chosen, in one sentence (e.g. "likelihood ranking over the
    /// candidate answers: the candidate with the highest summed log-probability").
    pub eval_method: String,
    /// The held-out split.
    pub eval: EvalSplit,
    /// One entry per evaluated model, in the order the report shows them:
    /// `sft-base`, `sft-on-chosen`, `dpo-vapr`, `dpo-length-biased`, `dpo-style-biased`.
    pub models: Vec<ModelResult>,
    /// The three pair sets (`vapr`, `length-biased`, `style-biased`).
    pub pair_sets: Vec<PairSetResult>,
}

/// The held-out evaluation questions.
#[derive(Debug, Clone, Serialize)]
pub struct EvalSplit {
    pub binary_questions: usize,
    pub short_questions: usize,
    /// Fraction of binary questions whose true answer is yes.
    pub true_yes_rate: f64,
}

/// One model's scores on the held-out split and, when it was trained with DPO, its training
/// curve.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// Short stable name (`sft-base`, `dpo-vapr`, ...).
    pub name: String,
    /// One line for the report ("DPO on VaPR pairs from the SFT base").
    pub description: String,
    /// Name of the pair set it was trained on, if any.
    pub trained_on: Option<String>,
    /// Accuracy over all held-out questions, in [0, 1].
    pub accuracy: f64,
    /// Accuracy over binary (yes/no) questions.
    pub binary_accuracy: f64,
    /// Accuracy over short-answer questions.
    pub short_accuracy: f64,
    /// Accuracy per category name (the ten exact names), over both kinds.
    pub accuracy_by_category: BTreeMap<String, f64>,
    /// Fraction of binary questions the model answered yes.
    pub yes_rate: f64,
    /// Training curve (empty for models not trained in this run).
    pub train_log: Vec<StepPoint>,
}

/// One optimiser step of a training run (TRL metric names).
#[derive(Debug, Clone, Serialize)]
pub struct StepPoint {
    pub step: usize,
    pub loss: f64,
    /// `rewards/accuracies` (DPO only).
    pub rewards_accuracy: Option<f64>,
    /// `rewards/margins` (DPO only).
    pub rewards_margin: Option<f64>,
}

/// One pair set and its bias statistics (`vapr stats`).
#[derive(Debug, Clone, Serialize)]
pub struct PairSetResult {
    /// `vapr`, `length-biased` or `style-biased`.
    pub name: String,
    /// One line: how its rejected answers were made.
    pub description: String,
    /// File holding the pairs, relative to the run directory.
    pub path: String,
    pub pairs: usize,
    pub stats: BiasStats,
}
