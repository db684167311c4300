//! `vapr train --config FILE.toml`: the run configuration, with unknown keys rejected.
//!
//! Relative paths are taken relative to the current directory (as TRL and LLaMA-Factory do).
//! `configs/train/*.toml` are commented examples.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use vapr_model::AnyProcessor;

use crate::error::{Result, TrainError};
use crate::loss::{LossConfig, LossType};
use crate::optim::AdamWConfig;
use crate::schedule::ScheduleKind;
use crate::trainer::{Mode, TrainSettings};

/// The whole file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub model: ModelSection,
    pub data: DataSection,
    #[serde(default)]
    pub training: TrainingSection,
    #[serde(default)]
    pub lora: Option<LoraSection>,
    #[serde(default)]
    pub freeze: FreezeSection,
    pub output: OutputSection,
}

/// `[model]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// A Hugging Face model folder (config.json, safetensors, tokenizer, processor config).
    pub path: PathBuf,
    /// `cpu` or `cuda`.
    #[serde(default = "default_device")]
    pub device: String,
    /// Parameter dtype: `f32`, `bf16` or `f16`.
    #[serde(default = "default_dtype")]
    pub dtype: String,
    /// LLaVA only: the original LLaVA-1.5 preprocessing (pad to a square with the mean colour
    /// before resizing). `false` keeps what the folder's preprocessor config says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pad_to_square: bool,
}

impl ModelSection {
    /// Applies this section's preprocessing options to the loaded folder's processor. Errors
    /// when an option does not exist for the folder's family.
    pub fn configure_processor(&self, processor: AnyProcessor) -> Result<AnyProcessor> {
        match processor {
            AnyProcessor::Llava(p) if self.pad_to_square => {
                Ok(AnyProcessor::Llava(p.with_pad_to_square(true)))
            }
            AnyProcessor::Qwen2Vl(_) if self.pad_to_square => Err(TrainError::BadSetting {
                field: "model.pad_to_square",
                message: format!(
                    "only LLaVA folders support it; {} is a Qwen2-VL / Qwen2.5-VL folder",
                    self.path.display()
                ),
            }),
            p => Ok(p),
        }
    }
}

/// `[data]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// Preference JSONL (`id`, `image`, `prompt`, `chosen`, `rejected`).
    pub train: PathBuf,
    /// Directory the records' `image` paths are relative to (default: the JSONL's directory).
    #[serde(default)]
    pub images: Option<PathBuf>,
}

/// How reference log-probs are obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ReferenceMode {
    /// Scored once before training and cached beside the dataset.
    #[default]
    Precompute,
    /// Scored per batch by a frozen copy kept in memory.
    Online,
}

/// `[training]` (defaults are TRL's where TRL has one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingSection {
    pub mode: Mode,
    pub loss: Vec<LossType>,
    /// One weight per loss (default: all 1).
    pub loss_weights: Option<Vec<f64>>,
    pub beta: f64,
    pub label_smoothing: f64,
    /// Weight of an added SFT (NLL on chosen) term.
    pub sft_weight: f64,
    pub reference: ReferenceMode,
    pub learning_rate: f64,
    pub schedule: ScheduleKind,
    pub warmup_ratio: f64,
    pub warmup_steps: Option<usize>,
    pub batch_size: usize,
    pub gradient_accumulation_steps: usize,
    pub epochs: usize,
    pub max_steps: Option<usize>,
    /// Global gradient-norm clip; 0 disables.
    pub max_grad_norm: f64,
    pub weight_decay: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_epsilon: f64,
    pub seed: u64,
    pub shuffle: bool,
}

impl Default for TrainingSection {
    fn default() -> Self {
        let s = TrainSettings::default();
        let o = AdamWConfig::default();
        TrainingSection {
            mode: Mode::Dpo,
            loss: vec![LossType::Sigmoid],
            loss_weights: None,
            beta: 0.1,
            label_smoothing: 0.0,
            sft_weight: 0.0,
            reference: ReferenceMode::Precompute,
            learning_rate: s.learning_rate,
            schedule: s.schedule,
            warmup_ratio: s.warmup_ratio,
            warmup_steps: None,
            batch_size: s.batch_size,
            gradient_accumulation_steps: s.grad_accum,
            epochs: s.epochs,
            max_steps: None,
            max_grad_norm: 1.0,
            weight_decay: o.weight_decay,
            adam_beta1: o.beta1,
            adam_beta2: o.beta2,
            adam_epsilon: o.eps,
            seed: s.seed,
            shuffle: true,
        }
    }
}

/// `[lora]`: adapters `x·A·B·(alpha/rank)` on the named linear layers; the base is frozen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoraSection {
    pub rank: usize,
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    /// Linear layer names (`q_proj`, `v_proj`, …).
    #[serde(default = "default_targets")]
    pub targets: Vec<String>,
}

/// `[freeze]` (LLaMA-Factory's defaults: vision tower and projector frozen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreezeSection {
    pub vision_tower: bool,
    pub projector: bool,
    pub language_model: bool,
    /// More parameter-name globs to freeze (`*` matches anything, dots included).
    pub patterns: Vec<String>,
}

impl Default for FreezeSection {
    fn default() -> Self {
        FreezeSection {
            vision_tower: true,
            projector: true,
            language_model: false,
            patterns: Vec::new(),
        }
    }
}

/// `[output]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    pub dir: PathBuf,
    /// Save a checkpoint every N optimizer steps (0: only at the end).
    #[serde(default)]
    pub save_steps: usize,
}

fn default_device() -> String {
    "cpu".into()
}
fn default_dtype() -> String {
    "f32".into()
}
fn default_alpha() -> f64 {
    16.0
}
fn default_targets() -> Vec<String> {
    ["q_proj", "k_proj", "v_proj", "o_proj"]
        .map(String::from)
        .to_vec()
}

impl TrainConfig {
    /// Reads and checks a config file; errors name the file, and the line and key for TOML.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, e))?;
        Self::from_toml(&text, path)
    }

    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let bad = |message: String| TrainError::BadConfig {
            path: path.to_path_buf(),
            message,
        };
        let cfg: TrainConfig = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if !matches!(cfg.model.device.as_str(), "cpu" | "cuda") {
            return Err(bad(format!(
                "model.device must be `cpu` or `cuda`, got `{}`",
                cfg.model.device
            )));
        }
        if !matches!(cfg.model.dtype.as_str(), "f32" | "bf16" | "f16") {
            return Err(bad(format!(
                "model.dtype must be `f32`, `bf16` or `f16`, got `{}`",
                cfg.model.dtype
            )));
        }
        if let Some(w) = &cfg.training.loss_weights
            && w.len() != cfg.training.loss.len()
        {
            return Err(bad(format!(
                "training.loss_weights has {} entries for {} losses",
                w.len(),
                cfg.training.loss.len()
            )));
        }
        if let Some(l) = &cfg.lora
            && l.rank == 0
        {
            return Err(bad("lora.rank must be at least 1".into()));
        }
        cfg.settings().validate().map_err(|e| bad(e.to_string()))?;
        Ok(cfg)
    }

    /// The trainer settings this file describes.
    pub fn settings(&self) -> TrainSettings {
        let t = &self.training;
        let weights = t
            .loss_weights
            .clone()
            .unwrap_or_else(|| vec![1.0; t.loss.len()]);
        TrainSettings {
            mode: t.mode,
            loss: LossConfig {
                terms: t.loss.iter().copied().zip(weights).collect(),
                beta: t.beta,
                label_smoothing: t.label_smoothing,
                sft_weight: t.sft_weight,
            },
            optimizer: AdamWConfig {
                beta1: t.adam_beta1,
                beta2: t.adam_beta2,
                eps: t.adam_epsilon,
                weight_decay: t.weight_decay,
                ..AdamWConfig::default()
            },
            learning_rate: t.learning_rate,
            schedule: t.schedule,
            warmup_ratio: t.warmup_ratio,
            warmup_steps: t.warmup_steps,
            batch_size: t.batch_size,
            grad_accum: t.gradient_accumulation_steps,
            epochs: t.epochs,
            max_steps: t.max_steps,
            max_grad_norm: (t.max_grad_norm > 0.0).then_some(t.max_grad_norm),
            seed: t.seed,
            shuffle: t.shuffle,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[model]
path = "models/tiny"
[data]
train = "pairs.jsonl"
[output]
dir = "runs/x"
"#;

    #[test]
    fn minimal_config_takes_trl_and_pytorch_defaults() {
        let cfg = TrainConfig::from_toml(MINIMAL, Path::new("a.toml")).unwrap();
        let s = cfg.settings();
        assert_eq!(s.loss.terms, vec![(LossType::Sigmoid, 1.0)]);
        assert_eq!(s.loss.beta, 0.1);
        assert_eq!(s.optimizer.eps, 1e-8);
        assert_eq!(s.optimizer.weight_decay, 0.01);
        assert_eq!(s.max_grad_norm, Some(1.0));
        assert!(cfg.freeze.vision_tower && cfg.freeze.projector && !cfg.freeze.language_model);
        assert_eq!(cfg.model.device, "cpu");
    }

    #[test]
    fn unknown_keys_are_errors_naming_file_and_key() {
        let text = format!("{MINIMAL}\n[training]\nlearnig_rate = 1e-5\n");
        let err = TrainConfig::from_toml(&text, Path::new("run.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("run.toml") && err.contains("learnig_rate"),
            "{err}"
        );
        assert!(
            err.contains("learning_rate"),
            "lists the expected keys: {err}"
        );
    }

    #[test]
    fn bad_values_are_named() {
        let text = MINIMAL.replace("path = \"models/tiny\"", "path = \"m\"\ndevice = \"tpu\"");
        let err = TrainConfig::from_toml(&text, Path::new("r.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("model.device") && err.contains("tpu"), "{err}");
        let text = format!("{MINIMAL}\n[training]\nloss = [\"robust\"]\nlabel_smoothing = 0.6\n");
        let err = TrainConfig::from_toml(&text, Path::new("r.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("label_smoothing"), "{err}");
        let text =
            format!("{MINIMAL}\n[training]\nloss = [\"sigmoid\", \"ipo\"]\nloss_weights = [1.0]\n");
        let err = TrainConfig::from_toml(&text, Path::new("r.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("loss_weights"), "{err}");
    }

    #[test]
    fn pad_to_square_switches_llava_preprocessing_and_is_refused_for_qwen() {
        let text = format!(
            "{}\n",
            MINIMAL.replacen("[model]", "[model]\npad_to_square = true", 1)
        );
        let cfg = TrainConfig::from_toml(&text, Path::new("run.toml")).unwrap();
        assert!(cfg.model.pad_to_square);
        let llava = AnyProcessor::Llava(vapr_model::llava::processor::ClipProcessor::default());
        match cfg.model.configure_processor(llava).unwrap() {
            AnyProcessor::Llava(p) => assert!(p.pad_to_square),
            other => panic!("family changed: {other:?}"),
        }
        let qwen = AnyProcessor::Qwen2Vl(vapr_model::ImageProcessor::default());
        let err = cfg.model.configure_processor(qwen).unwrap_err().to_string();
        assert!(err.contains("model.pad_to_square"), "{err}");
        // Absent: the folder's own setting is kept, and the key is not written back.
        let plain = TrainConfig::from_toml(MINIMAL, Path::new("run.toml")).unwrap();
        assert!(!plain.model.pad_to_square);
        assert!(!toml::to_string(&plain).unwrap().contains("pad_to_square"));
    }

    #[test]
    fn the_example_configs_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs/train");
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "toml") {
                TrainConfig::from_file(&path).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
        assert!(n >= 2);
    }
}
