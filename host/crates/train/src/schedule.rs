//! Learning-rate schedules with linear warmup, as `transformers.get_*_schedule_with_warmup`.
//!
//! burn 0.21 composes schedulers only as products/sums, not in sequence, so the warmup + decay
//! shapes are written out here. Step `k` (0-based optimizer step) uses `lr(k)`.

use serde::{Deserialize, Serialize};

/// The decay after warmup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleKind {
    Constant,
    Linear,
    #[default]
    Cosine,
}

/// A resolved schedule: peak rate, warmup steps and total optimizer steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub kind: ScheduleKind,
    pub peak_lr: f64,
    pub warmup_steps: usize,
    pub total_steps: usize,
}

impl Schedule {
    /// Warmup steps from a ratio the way transformers rounds it (`ceil(ratio · total)`).
    pub fn warmup_from_ratio(ratio: f64, total_steps: usize) -> usize {
        (ratio * total_steps as f64).ceil() as usize
    }

    /// The learning rate of optimizer step `step` (0-based).
    pub fn lr(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.peak_lr * step as f64 / self.warmup_steps.max(1) as f64;
        }
        let decay_steps = self.total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        let progress = (step - self.warmup_steps) as f64 / decay_steps;
        let factor = match self.kind {
            ScheduleKind::Constant => 1.0,
            ScheduleKind::Linear => (1.0 - progress).max(0.0),
            ScheduleKind::Cosine => {
                (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
            }
        };
        self.peak_lr * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values of transformers 5.24 `get_cosine_schedule_with_warmup(opt, 3, 10)` with lr 1e-3,
    /// read after 0..10 scheduler steps.
    const HF_COSINE_3_10: [f64; 10] = [
        0.0,
        3.333333333333333e-4,
        6.666666666666666e-4,
        1.0e-3,
        9.504844339512095e-4,
        8.117449009293668e-4,
        6.112604669781572e-4,
        3.887395330218428e-4,
        1.882550990706332e-4,
        4.951556604879043e-5,
    ];

    #[test]
    fn cosine_with_warmup_matches_transformers() {
        let s = Schedule {
            kind: ScheduleKind::Cosine,
            peak_lr: 1e-3,
            warmup_steps: 3,
            total_steps: 10,
        };
        for (k, want) in HF_COSINE_3_10.iter().enumerate() {
            assert!(
                (s.lr(k) - want).abs() < 1e-12,
                "step {k}: {} vs {want}",
                s.lr(k)
            );
        }
    }

    #[test]
    fn linear_decays_to_zero_and_constant_stays() {
        let mut s = Schedule {
            kind: ScheduleKind::Linear,
            peak_lr: 1.0,
            warmup_steps: 0,
            total_steps: 4,
        };
        assert_eq!(s.lr(0), 1.0);
        assert_eq!(s.lr(2), 0.5);
        assert_eq!(s.lr(4), 0.0);
        s.kind = ScheduleKind::Constant;
        assert_eq!(s.lr(3), 1.0);
    }

    #[test]
    fn warmup_ratio_rounds_up_like_transformers() {
        assert_eq!(Schedule::warmup_from_ratio(0.1, 25), 3);
        assert_eq!(Schedule::warmup_from_ratio(0.0, 25), 0);
    }
}
