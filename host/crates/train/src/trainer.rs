//! The training loop: micro-batches, gradient accumulation, global-norm clipping, AdamW with a
//! warmup schedule, TRL metrics, and the exact data position for resume.

use std::time::Instant;

use burn::module::AutodiffModule;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::batch::{EncodedPair, PairBatch};
use crate::error::{BoxError, Result, TrainError};
use crate::loss::{LossConfig, LossInputs, preference_loss, sft_loss};
use crate::metrics::{MetricAccumulator, MicroBatchStats, StepMetrics};
use crate::model::PreferenceModel;
use crate::optim::{AdamW, AdamWConfig, clip_factor, global_grad_norm};
use crate::schedule::{Schedule, ScheduleKind};

/// What the trainer optimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Preference optimisation on (chosen, rejected) pairs.
    #[default]
    Dpo,
    /// Supervised fine-tuning on the chosen answers only (the paper's SFT baseline).
    Sft,
}

/// Everything that decides the optimisation trajectory (saved with every checkpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub mode: Mode,
    pub loss: LossConfig,
    pub optimizer: AdamWConfig,
    pub learning_rate: f64,
    pub schedule: ScheduleKind,
    /// Warmup as a fraction of the optimizer steps (`warmup_steps` wins when set).
    pub warmup_ratio: f64,
    pub warmup_steps: Option<usize>,
    /// Pairs per micro-batch.
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub grad_accum: usize,
    pub epochs: usize,
    /// Stop after this many optimizer steps (overrides `epochs`, cycling the data as needed).
    pub max_steps: Option<usize>,
    /// Global L2 norm clip (TRL's `max_grad_norm`, default 1.0); None disables clipping.
    pub max_grad_norm: Option<f64>,
    pub seed: u64,
    pub shuffle: bool,
}

impl Default for TrainSettings {
    fn default() -> Self {
        TrainSettings {
            mode: Mode::Dpo,
            loss: LossConfig::default(),
            optimizer: AdamWConfig::default(),
            learning_rate: 1e-6,
            schedule: ScheduleKind::Cosine,
            warmup_ratio: 0.1,
            warmup_steps: None,
            batch_size: 1,
            grad_accum: 8,
            epochs: 1,
            max_steps: None,
            max_grad_norm: Some(1.0),
            seed: 42,
            shuffle: true,
        }
    }
}

impl TrainSettings {
    pub fn validate(&self) -> Result<()> {
        let bad = |field, message: String| Err(TrainError::BadSetting { field, message });
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1".into());
        }
        if self.grad_accum == 0 {
            return bad("gradient_accumulation_steps", "must be at least 1".into());
        }
        if self.epochs == 0 && self.max_steps.is_none() {
            return bad("epochs", "must be at least 1".into());
        }
        if self.learning_rate.is_nan() || self.learning_rate < 0.0 {
            return bad(
                "learning_rate",
                format!("must be >= 0, got {}", self.learning_rate),
            );
        }
        if !(0.0..=1.0).contains(&self.warmup_ratio) {
            return bad(
                "warmup_ratio",
                format!("must lie in [0, 1], got {}", self.warmup_ratio),
            );
        }
        if self.mode == Mode::Dpo {
            self.loss.validate().or_else(|m| bad("loss", m))?;
        }
        Ok(())
    }
}

/// Scores one batch with the reference model: `[chosen, rejected]` per pair.
pub type ReferenceFn<I> =
    Box<dyn FnMut(&PairBatch<I>) -> std::result::Result<Vec<[f32; 2]>, BoxError>>;

/// Reference log-probs for DPO.
pub enum Reference<I> {
    /// Per pair `[chosen, rejected]`, aligned with the training data (the cache, `vapr score`).
    Precomputed(Vec<[f32; 2]>),
    /// Computed per batch, without gradients (a frozen reference model).
    Online(ReferenceFn<I>),
    /// SFT needs none.
    None,
}

/// Where the trainer is: enough to continue exactly.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Optimizer steps done.
    pub global_step: usize,
    /// Micro-batches consumed (the data position; epochs reshuffle with `seed + epoch`).
    pub micro_batches: usize,
    /// Non-padding tokens seen.
    pub num_tokens: u64,
}

/// A model that checkpoints its own weights (full weights with the original key names, or
/// adapters only), so the trainer can save and resume it.
pub trait Checkpointable: Sized {
    fn save_weights(&self, dir: &std::path::Path) -> std::result::Result<(), BoxError>;
    fn load_weights(self, dir: &std::path::Path) -> std::result::Result<Self, BoxError>;
}

/// The trainer over a model `M` on the autodiff backend `B`.
pub struct Trainer<B: AutodiffBackend, M: PreferenceModel<B> + AutodiffModule<B>> {
    pub settings: TrainSettings,
    pub(crate) model: Option<M>,
    pub(crate) optim: AdamW<B>,
    data: Vec<EncodedPair<M::Image>>,
    reference: Reference<M::Image>,
    pad_id: u32,
    pub(crate) position: Position,
    schedule: Schedule,
    total_micro_batches: usize,
}

impl<B, M> Trainer<B, M>
where
    B: AutodiffBackend,
    M: PreferenceModel<B> + AutodiffModule<B>,
{
    /// A trainer at step 0. `data` must be non-empty; for DPO `reference` must cover it.
    pub fn new(
        settings: TrainSettings,
        model: M,
        data: Vec<EncodedPair<M::Image>>,
        reference: Reference<M::Image>,
        pad_id: u32,
    ) -> Result<Self> {
        settings.validate()?;
        if data.is_empty() {
            return Err(TrainError::BadSetting {
                field: "dataset",
                message: "no training pairs".into(),
            });
        }
        match (&settings.mode, &reference) {
            (Mode::Dpo, Reference::None) => {
                return Err(TrainError::BadSetting {
                    field: "reference",
                    message: "DPO needs reference log-probs (precomputed or online)".into(),
                });
            }
            (_, Reference::Precomputed(r)) if r.len() != data.len() => {
                return Err(TrainError::BadSetting {
                    field: "reference",
                    message: format!("{} reference rows for {} pairs", r.len(), data.len()),
                });
            }
            _ => {}
        }
        let batches_per_epoch = data.len().div_ceil(settings.batch_size);
        let (total_steps, total_micro_batches) = match settings.max_steps {
            Some(s) => (s, s * settings.grad_accum),
            None => {
                let micro = batches_per_epoch * settings.epochs;
                (micro.div_ceil(settings.grad_accum), micro)
            }
        };
        let warmup_steps = settings
            .warmup_steps
            .unwrap_or_else(|| Schedule::warmup_from_ratio(settings.warmup_ratio, total_steps));
        let schedule = Schedule {
            kind: settings.schedule,
            peak_lr: settings.learning_rate,
            warmup_steps,
            total_steps,
        };
        Ok(Trainer {
            optim: AdamW::new(settings.optimizer.clone()),
            settings,
            model: Some(model),
            data,
            reference,
            pad_id,
            position: Position::default(),
            schedule,
            total_micro_batches,
        })
    }

    pub fn model(&self) -> &M {
        self.model.as_ref().expect("model present between steps")
    }

    pub fn into_model(mut self) -> M {
        self.model.take().expect("model present between steps")
    }

    pub fn position(&self) -> &Position {
        &self.position
    }

    pub fn total_steps(&self) -> usize {
        self.schedule.total_steps
    }

    pub fn is_done(&self) -> bool {
        self.position.global_step >= self.schedule.total_steps
            || self.position.micro_batches >= self.total_micro_batches
    }

    fn batches_per_epoch(&self) -> usize {
        self.data.len().div_ceil(self.settings.batch_size)
    }

    /// Pair indices of global micro-batch `g`.
    fn batch_indices(&self, g: usize) -> Vec<usize> {
        let per_epoch = self.batches_per_epoch();
        let epoch = g / per_epoch;
        let k = g % per_epoch;
        let order = epoch_order(
            self.data.len(),
            self.settings.seed,
            epoch,
            self.settings.shuffle,
        );
        let start = k * self.settings.batch_size;
        let end = (start + self.settings.batch_size).min(self.data.len());
        order[start..end].to_vec()
    }

    /// One optimizer step over `grad_accum` micro-batches.
    pub fn step(&mut self) -> Result<StepMetrics> {
        let started = Instant::now();
        let remaining = self.total_micro_batches - self.position.micro_batches;
        let micro = self.settings.grad_accum.min(remaining).max(1);
        let dpo = self.settings.mode == Mode::Dpo;
        let mut acc = MetricAccumulator::new(self.settings.loss.beta, dpo);
        let mut grads_acc = GradientsAccumulator::<M>::new();
        let model = self.model.take().expect("model present between steps");
        let result = (|| {
            for _ in 0..micro {
                let idx = self.batch_indices(self.position.micro_batches);
                let (grads, stats) = self.micro_step(&model, &idx, micro)?;
                grads_acc.accumulate(&model, grads);
                acc.add(&stats);
                self.position.micro_batches += 1;
            }
            Ok::<_, TrainError>(())
        })();
        if let Err(e) = result {
            self.model = Some(model);
            return Err(e);
        }
        let grads = grads_acc.grads();
        let grad_norm = global_grad_norm(&model, &grads);
        let lr = self.schedule.lr(self.position.global_step);
        let scale = clip_factor(grad_norm, self.settings.max_grad_norm);
        self.model = Some(self.optim.step(lr, model, grads, scale));
        self.position.global_step += 1;
        self.position.num_tokens += acc.tokens() as u64;
        let secs = started.elapsed().as_secs_f64();
        let mut m = acc.finish();
        m.step = self.position.global_step;
        m.epoch = self.position.micro_batches as f64 / self.batches_per_epoch() as f64;
        m.grad_norm = grad_norm;
        m.learning_rate = lr;
        m.num_tokens = self.position.num_tokens;
        m.step_seconds = secs;
        m.tokens_per_second = if secs > 0.0 {
            acc.tokens() as f64 / secs
        } else {
            0.0
        };
        Ok(m)
    }

    fn micro_step(
        &mut self,
        model: &M,
        idx: &[usize],
        micro: usize,
    ) -> Result<(GradientsParams, MicroBatchStats)> {
        let dpo = self.settings.mode == Mode::Dpo;
        let pairs: Vec<&EncodedPair<M::Image>> = idx.iter().map(|&i| &self.data[i]).collect();
        let batch = PairBatch::new(&pairs, self.pad_id, !dpo);
        let n = pairs.len();
        let out = model.sequence_logps(&batch).map_err(TrainError::Model)?;
        let device = model.device();
        let counts = batch.completion_tokens();
        let floats =
            |v: Vec<f32>| Tensor::<B, 1>::from_data(TensorData::new(v.clone(), [v.len()]), &device);
        let chosen_tokens = floats(counts[..n].iter().map(|&c| c as f32).collect());
        let policy_chosen = out.logps.clone().narrow(0, 0, n);
        let mut stats = MicroBatchStats {
            tokens_chosen: counts[..n].to_vec(),
            total_tokens: batch.total_tokens(),
            ..Default::default()
        };
        let loss = if dpo {
            let refs = match &mut self.reference {
                Reference::Precomputed(all) => idx.iter().map(|&i| all[i]).collect(),
                Reference::Online(f) => f(&batch).map_err(TrainError::Model)?,
                Reference::None => unreachable!("checked in Trainer::new"),
            };
            stats.ref_chosen = refs.iter().map(|r| r[0]).collect();
            stats.ref_rejected = refs.iter().map(|r| r[1]).collect();
            stats.tokens_rejected = counts[n..].to_vec();
            let inputs = LossInputs {
                policy_chosen: policy_chosen.clone(),
                policy_rejected: out.logps.clone().narrow(0, n, n),
                ref_chosen: floats(stats.ref_chosen.clone()),
                ref_rejected: floats(stats.ref_rejected.clone()),
                chosen_tokens,
                rejected_tokens: floats(counts[n..].iter().map(|&c| c as f32).collect()),
            };
            preference_loss(&self.settings.loss, &inputs)
        } else {
            sft_loss(&policy_chosen, &chosen_tokens)
        };
        let logps: Vec<f32> = host_vec(out.logps.clone());
        let logit_sums: Vec<f32> = host_vec(out.logit_sums.clone());
        stats.policy_chosen = logps[..n].to_vec();
        stats.logit_sums_chosen = logit_sums[..n].to_vec();
        if dpo {
            stats.policy_rejected = logps[n..].to_vec();
            stats.logit_sums_rejected = logit_sums[n..].to_vec();
        }
        stats.loss = host_vec(loss.clone())[0] as f64;
        // HF Trainer scales each micro-batch loss by 1/accumulation before backward.
        let grads = loss.div_scalar(micro as f64).backward();
        Ok((GradientsParams::from_grads(grads, model), stats))
    }
}

fn host_vec<B: burn::tensor::backend::Backend>(t: Tensor<B, 1>) -> Vec<f32> {
    t.detach()
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 data")
}

/// The order of the pairs in `epoch`: a seeded Fisher–Yates shuffle (SplitMix64), or identity.
pub fn epoch_order(n: usize, seed: u64, epoch: usize, shuffle: bool) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    if !shuffle {
        return order;
    }
    let mut state = seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}
