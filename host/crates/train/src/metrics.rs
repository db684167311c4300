//! TRL's logged metrics, with TRL's names and definitions (`docs/ml-notes.md` §7), and the
//! JSONL log they are appended to.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};

/// One optimizer step's metrics (means over the global batch), serialised with TRL's keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    pub step: usize,
    pub epoch: f64,
    pub loss: f64,
    pub grad_norm: f64,
    pub learning_rate: f64,
    #[serde(
        rename = "rewards/chosen",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub rewards_chosen: Option<f64>,
    #[serde(
        rename = "rewards/rejected",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub rewards_rejected: Option<f64>,
    #[serde(
        rename = "rewards/accuracies",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub rewards_accuracies: Option<f64>,
    #[serde(
        rename = "rewards/margins",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub rewards_margins: Option<f64>,
    #[serde(rename = "logps/chosen")]
    pub logps_chosen: f64,
    #[serde(
        rename = "logps/rejected",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub logps_rejected: Option<f64>,
    #[serde(rename = "logits/chosen")]
    pub logits_chosen: f64,
    #[serde(
        rename = "logits/rejected",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub logits_rejected: Option<f64>,
    /// Non-padding tokens seen so far (TRL's `num_tokens`).
    pub num_tokens: u64,
    pub tokens_per_second: f64,
    pub step_seconds: f64,
}

/// Per-pair values of one micro-batch, as read back from the device.
#[derive(Debug, Clone, Default)]
pub struct MicroBatchStats {
    pub loss: f64,
    pub policy_chosen: Vec<f32>,
    pub policy_rejected: Vec<f32>,
    pub ref_chosen: Vec<f32>,
    pub ref_rejected: Vec<f32>,
    pub logit_sums_chosen: Vec<f32>,
    pub logit_sums_rejected: Vec<f32>,
    pub tokens_chosen: Vec<usize>,
    pub tokens_rejected: Vec<usize>,
    pub total_tokens: usize,
}

/// Sums over the micro-batches of one optimizer step.
#[derive(Debug, Clone, Default)]
pub struct MetricAccumulator {
    beta: f64,
    dpo: bool,
    micro_batches: usize,
    loss: f64,
    pairs: usize,
    reward_chosen: f64,
    reward_rejected: f64,
    correct: usize,
    logps_chosen: f64,
    logps_rejected: f64,
    logits_chosen: f64,
    logits_rejected: f64,
    tokens_chosen: usize,
    tokens_rejected: usize,
    total_tokens: usize,
}

impl MetricAccumulator {
    /// `dpo` false (SFT mode) leaves out the rejected and reward metrics.
    pub fn new(beta: f64, dpo: bool) -> Self {
        MetricAccumulator {
            beta,
            dpo,
            ..Default::default()
        }
    }

    pub fn add(&mut self, s: &MicroBatchStats) {
        self.micro_batches += 1;
        self.loss += s.loss;
        self.pairs += s.policy_chosen.len();
        self.total_tokens += s.total_tokens;
        self.logps_chosen += s.policy_chosen.iter().map(|&v| v as f64).sum::<f64>();
        self.logits_chosen += s.logit_sums_chosen.iter().map(|&v| v as f64).sum::<f64>();
        self.tokens_chosen += s.tokens_chosen.iter().sum::<usize>();
        if !self.dpo {
            return;
        }
        self.logps_rejected += s.policy_rejected.iter().map(|&v| v as f64).sum::<f64>();
        self.logits_rejected += s.logit_sums_rejected.iter().map(|&v| v as f64).sum::<f64>();
        self.tokens_rejected += s.tokens_rejected.iter().sum::<usize>();
        for i in 0..s.policy_chosen.len() {
            // Rewards in f32 as TRL computes them, so ties compare as TRL's do.
            let rc = self.beta as f32 * (s.policy_chosen[i] - s.ref_chosen[i]);
            let rr = self.beta as f32 * (s.policy_rejected[i] - s.ref_rejected[i]);
            self.reward_chosen += rc as f64;
            self.reward_rejected += rr as f64;
            if rc > rr {
                self.correct += 1;
            }
        }
    }

    /// Non-padding tokens of the step.
    pub fn tokens(&self) -> usize {
        self.total_tokens
    }

    /// The step's metrics; the caller fills step, epoch, lr, grad norm and timing.
    pub fn finish(&self) -> StepMetrics {
        let pairs = self.pairs.max(1) as f64;
        let ratio = |sum: f64, n: usize| if n > 0 { sum / n as f64 } else { 0.0 };
        let mut m = StepMetrics {
            loss: self.loss / self.micro_batches.max(1) as f64,
            logps_chosen: self.logps_chosen / pairs,
            logits_chosen: ratio(self.logits_chosen, self.tokens_chosen),
            ..Default::default()
        };
        if self.dpo {
            m.rewards_chosen = Some(self.reward_chosen / pairs);
            m.rewards_rejected = Some(self.reward_rejected / pairs);
            m.rewards_accuracies = Some(self.correct as f64 / pairs);
            m.rewards_margins = Some((self.reward_chosen - self.reward_rejected) / pairs);
            m.logps_rejected = Some(self.logps_rejected / pairs);
            m.logits_rejected = Some(ratio(self.logits_rejected, self.tokens_rejected));
        }
        m
    }
}

/// Appends one JSON object per step to a file (created if missing).
#[derive(Debug)]
pub struct MetricsLog {
    path: PathBuf,
    file: std::fs::File,
}

impl MetricsLog {
    pub fn open(path: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| TrainError::io(path, e))?;
        Ok(MetricsLog {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Drops the lines of steps after `step` (a resumed run logs them again), keeping the rest.
    pub fn truncate_after(path: &Path, step: usize) -> Result<()> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(TrainError::io(path, e)),
        };
        let kept: String = text
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                    .is_some_and(|s| s as usize <= step)
            })
            .flat_map(|l| [l, "\n"])
            .collect();
        let tmp = path.with_extension("jsonl.tmp");
        std::fs::write(&tmp, kept)
            .and_then(|_| std::fs::rename(&tmp, path))
            .map_err(|e| TrainError::io(path, e))
    }

    pub fn append(&mut self, m: &StepMetrics) -> Result<()> {
        let mut line = serde_json::to_string(m).expect("metrics serialise");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| TrainError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_follow_trl_definitions_with_strict_accuracy() {
        let mut acc = MetricAccumulator::new(0.5, true);
        acc.add(&MicroBatchStats {
            loss: 0.7,
            policy_chosen: vec![-10.0, -20.0],
            policy_rejected: vec![-12.0, -19.0],
            ref_chosen: vec![-11.0, -20.0],
            ref_rejected: vec![-11.0, -19.0],
            logit_sums_chosen: vec![3.0, 5.0],
            logit_sums_rejected: vec![1.0, 1.0],
            tokens_chosen: vec![2, 2],
            tokens_rejected: vec![3, 1],
            total_tokens: 20,
        });
        acc.add(&MicroBatchStats {
            loss: 0.5,
            policy_chosen: vec![-5.0],
            policy_rejected: vec![-5.0],
            ref_chosen: vec![-5.0],
            ref_rejected: vec![-5.0],
            logit_sums_chosen: vec![4.0],
            logit_sums_rejected: vec![6.0],
            tokens_chosen: vec![4],
            tokens_rejected: vec![2],
            total_tokens: 8,
        });
        let m = acc.finish();
        // rewards: chosen β·r_c = [0.5, 0, 0], rejected [-0.5, 0, 0]; the tie is wrong.
        assert!((m.loss - 0.6).abs() < 1e-12);
        assert_eq!(m.rewards_chosen, Some(0.5 / 3.0));
        assert_eq!(m.rewards_rejected, Some(-0.5 / 3.0));
        assert_eq!(m.rewards_accuracies, Some(1.0 / 3.0));
        assert_eq!(m.rewards_margins, Some(1.0 / 3.0));
        assert_eq!(m.logps_chosen, -35.0 / 3.0);
        assert_eq!(m.logps_rejected, Some(-36.0 / 3.0));
        assert_eq!(m.logits_chosen, 12.0 / 8.0);
        assert_eq!(m.logits_rejected, Some(8.0 / 6.0));
        assert_eq!(acc.tokens(), 28);
        let json = serde_json::to_value(&m).unwrap();
        for key in [
            "rewards/chosen",
            "rewards/rejected",
            "rewards/accuracies",
            "rewards/margins",
            "logps/chosen",
            "logps/rejected",
            "logits/chosen",
            "logits/rejected",
            "loss",
            "grad_norm",
            "learning_rate",
            "epoch",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
    }
}
