//! One training run of the quickstart through the same trainer as `vapr train`: a
//! [`TrainConfig`] built in code, full fine-tuning (nothing frozen: the base model is trained
//! from scratch, vision tower included), TRL metrics kept for the report's curves.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use vapr_train::config::{
    DataSection, FreezeSection, ModelSection, OutputSection, ReferenceMode, TrainConfig,
    TrainingSection,
};
use vapr_train::run::{TrainEvent, train};
use vapr_train::{LossType, Mode, StepMetrics};

use super::scale::Phase;

/// What to train.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    pub mode: Mode,
    /// Model folder to start from.
    pub base: &'a Path,
    /// Preference JSONL (SFT reads only `chosen`).
    pub data: &'a Path,
    /// Directory the records' images are relative to.
    pub images: &'a Path,
    pub out: &'a Path,
    pub phase: Phase,
    pub beta: f64,
    pub seed: u64,
    /// `cpu` or `cuda`.
    pub device: &'a str,
}

impl Job<'_> {
    /// The run as a `vapr train` config (also written beside the run as `train.toml`).
    pub fn config(&self) -> Result<TrainConfig> {
        // Through serde, so options added to `[model]` later keep their documented defaults.
        let model: ModelSection = serde_json::from_value(serde_json::json!({
            "path": self.base,
            "device": self.device,
            "dtype": "f32",
        }))
        .with_context(|| format!("model path {}", self.base.display()))?;
        Ok(TrainConfig {
            model,
            data: DataSection {
                train: self.data.to_path_buf(),
                images: Some(self.images.to_path_buf()),
            },
            training: TrainingSection {
                mode: self.mode,
                loss: vec![LossType::Sigmoid],
                beta: self.beta,
                reference: ReferenceMode::Precompute,
                learning_rate: self.phase.learning_rate,
                warmup_ratio: 0.1,
                batch_size: self.phase.batch_size,
                gradient_accumulation_steps: 1,
                epochs: self.phase.epochs,
                // A model trained from scratch has no pre-trained weights to keep close to.
                weight_decay: 0.0,
                seed: self.seed,
                ..TrainingSection::default()
            },
            lora: None,
            freeze: FreezeSection {
                vision_tower: false,
                projector: false,
                language_model: false,
                ..FreezeSection::default()
            },
            output: OutputSection {
                dir: self.out.to_path_buf(),
                save_steps: 0,
            },
        })
    }
}

/// Trains `job`; `on_step(metrics, total_steps)` sees every optimizer step. Returns the final
/// model folder and the per-step metrics.
pub fn run(
    job: &Job<'_>,
    on_step: &mut dyn FnMut(&StepMetrics, usize),
) -> Result<(PathBuf, Vec<StepMetrics>)> {
    let cfg = job.config()?;
    std::fs::create_dir_all(job.out).with_context(|| format!("creating {}", job.out.display()))?;
    let toml_path = job.out.join("train.toml");
    std::fs::write(&toml_path, toml::to_string(&cfg)?)
        .with_context(|| format!("writing {}", toml_path.display()))?;
    let mut steps = Vec::new();
    let mut total = 0;
    let final_dir = train(&cfg, None, &mut |e| match e {
        TrainEvent::Started { total_steps, .. } => total = total_steps,
        TrainEvent::Prepared {
            summary,
            trainable,
            pairs,
            ..
        } => {
            tracing::debug!(
                "{}: {pairs} examples, {trainable} trainable parameters ({summary})",
                job.out.display()
            );
        }
        TrainEvent::Step(m) => {
            on_step(&m, total);
            steps.push(m);
        }
        _ => {}
    })
    .with_context(|| format!("training into {}", job.out.display()))?;
    Ok((final_dir, steps))
}
