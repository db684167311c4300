//! Size presets of a quickstart run: how many scenes, how big a model, how many steps.
//!
//! `small` (the default) is tuned to finish in under ten minutes on a 2-core CPU in a release
//! build; `tiny` is a quicker look; `test` runs every step in seconds (for tests only: its
//! numbers mean nothing).

use serde::Serialize;

/// A named preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Every step in seconds; for tests (the accuracies are noise).
    Test,
    /// A few minutes on a 2-core CPU; a smaller world and model than `small`.
    Tiny,
    /// The default: under ten minutes on a 2-core CPU.
    Small,
}

impl Scale {
    pub fn name(self) -> &'static str {
        match self {
            Scale::Test => "test",
            Scale::Tiny => "tiny",
            Scale::Small => "small",
        }
    }

    pub fn preset(self) -> Preset {
        match self {
            Scale::Test => Preset {
                train_scenes: 6,
                eval_scenes: 2,
                image_size: 56,
                vocab_size: 320,
                model: ModelSize {
                    hidden: 32,
                    layers: 1,
                    heads: 2,
                    kv_heads: 1,
                    intermediate: 64,
                    vision_dim: 16,
                    vision_depth: 1,
                    vision_heads: 1,
                },
                sft: Phase {
                    epochs: 1,
                    learning_rate: 1e-3,
                    batch_size: 8,
                },
                dpo: Phase {
                    epochs: 1,
                    learning_rate: 1e-4,
                    batch_size: 4,
                },
                beta: 0.1,
                dpo_pairs: 16,
            },
            Scale::Tiny => Preset {
                train_scenes: 120,
                eval_scenes: 10,
                image_size: 84,
                vocab_size: 512,
                model: ModelSize {
                    hidden: 96,
                    layers: 2,
                    heads: 4,
                    kv_heads: 2,
                    intermediate: 288,
                    vision_dim: 48,
                    vision_depth: 2,
                    vision_heads: 2,
                },
                sft: Phase {
                    epochs: 1,
                    learning_rate: 3e-3,
                    batch_size: 8,
                },
                dpo: Phase {
                    epochs: 1,
                    learning_rate: 1e-4,
                    batch_size: 16,
                },
                beta: 0.1,
                dpo_pairs: 160,
            },
            Scale::Small => Preset {
                train_scenes: 800,
                eval_scenes: 25,
                image_size: 84,
                vocab_size: 512,
                model: ModelSize {
                    hidden: 128,
                    layers: 2,
                    heads: 4,
                    kv_heads: 2,
                    intermediate: 384,
                    vision_dim: 64,
                    vision_depth: 2,
                    vision_heads: 2,
                },
                sft: Phase {
                    epochs: 1,
                    learning_rate: 3e-3,
                    batch_size: 8,
                },
                dpo: Phase {
                    epochs: 1,
                    learning_rate: 1e-4,
                    batch_size: 16,
                },
                beta: 0.1,
                dpo_pairs: 480,
            },
        }
    }
}

/// Everything a preset fixes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Preset {
    /// Training scenes (ten sentence questions each, plus the short-answer questions).
    pub train_scenes: usize,
    /// Held-out scenes (twenty questions each: a binary and a short one per category).
    pub eval_scenes: usize,
    /// Rendered image side in pixels; also the processor's pixel budget (side², so images
    /// are never resized).
    pub image_size: u32,
    /// BPE vocabulary before the special tokens.
    pub vocab_size: usize,
    pub model: ModelSize,
    /// SFT from scratch (the base model).
    pub sft: Phase,
    /// DPO and SFT-on-chosen from the base model.
    pub dpo: Phase,
    /// DPO β.
    pub beta: f64,
    /// Pairs per set used for DPO and SFT-on-chosen: the first this many question ids that
    /// all three sets share (so the three runs see the same questions).
    pub dpo_pairs: usize,
}

/// Optimisation settings of one training phase.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Phase {
    pub epochs: usize,
    pub learning_rate: f64,
    pub batch_size: usize,
}

/// Dimensions of the scratch Qwen2-VL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelSize {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub intermediate: usize,
    pub vision_dim: usize,
    pub vision_depth: usize,
    pub vision_heads: usize,
}
