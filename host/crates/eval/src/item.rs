//! What a benchmark item is once loaded: a stable id, the pinned prompt, its images, the
//! normalised gold answer and the metadata its metric needs. Everything but the images is
//! written into every generation record, so a generations file alone can be re-scored.

use serde::{Deserialize, Serialize};

use crate::error::EvalError;
use crate::image_data::ImageData;

/// The five supported benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bench {
    Cvbench,
    Mmstar,
    Naturalbench,
    Pope,
    Mmvp,
}

impl Bench {
    /// All benchmarks, in report order.
    pub const ALL: [Bench; 5] = [
        Bench::Cvbench,
        Bench::Mmstar,
        Bench::Naturalbench,
        Bench::Pope,
        Bench::Mmvp,
    ];

    /// The command-line and folder name.
    pub fn name(self) -> &'static str {
        match self {
            Bench::Cvbench => "cvbench",
            Bench::Mmstar => "mmstar",
            Bench::Naturalbench => "naturalbench",
            Bench::Pope => "pope",
            Bench::Mmvp => "mmvp",
        }
    }
}

impl std::fmt::Display for Bench {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Bench {
    type Err = EvalError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String = s
            .to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        Bench::ALL
            .into_iter()
            .find(|b| b.name() == norm)
            .ok_or_else(|| EvalError::UnknownBench {
                name: s.to_string(),
            })
    }
}

/// Benchmark-specific metadata of an item; only the fields its benchmark uses are set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemInfo {
    /// The row's own index/id column, as in the source file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// CV-Bench `source` (ADE20K, COCO, Omni3D); NaturalBench `Source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// CV-Bench `type` (2D/3D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// CV-Bench `task` (Count, Relation, Depth, Distance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// MMStar core category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// MMStar l2 category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_category: Option<String>,
    /// POPE split (adversarial, popular, random).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// NaturalBench `yes_no` or `multiple_choice`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_type: Option<String>,
    /// NaturalBench group (the 4 items 4g..4g+3) or MMVP pair (rows 2p+1, 2p+2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<i64>,
    /// Position inside the group: NaturalBench 0..3 = (q0,i0),(q0,i1),(q1,i0),(q1,i1);
    /// MMVP 0..1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u8>,
    /// Number of answer options (CV-Bench, MMStar, MMVP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_choices: Option<u8>,
    /// Option texts where the extractor may match them (MMVP).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Whether a known gold-answer correction was applied at load time (MMVP).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gold_corrected: bool,
}

/// One benchmark item ready for generation.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Stable id, unique within the benchmark and equal across runs on the same data.
    pub id: String,
    /// The full text prompt of the pinned protocol.
    pub prompt: String,
    /// Images, in the order the prompt expects them.
    pub images: Vec<ImageData>,
    /// Normalised gold answer: an upper-case letter, or `yes` / `no`.
    pub gold: String,
    /// What the metric needs besides correctness.
    pub info: ItemInfo,
}

/// Decoding settings of a protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenParams {
    /// Upper bound on new tokens.
    pub max_new_tokens: usize,
    /// Generation stops at the first of these strings (which is not kept).
    #[serde(default)]
    pub stop: Vec<String>,
}
