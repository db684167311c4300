//! `vapr bench train`: forward + backward time per pair of a DPO step on CPU, for a fixed
//! model folder and pairs file (by default the tiny Qwen2-VL fixture and its three pairs).

use std::path::Path;
use std::time::Instant;

use burn::backend::{Autodiff, NdArray};
use burn::tensor::{DType, Tensor, TensorData};

use crate::batch::PairBatch;
use crate::data::{PairEncoder, load_pairs};
use crate::error::{Result, TrainError};
use crate::loss::{LossConfig, LossInputs, preference_loss};
use crate::model::PreferenceModel;
use crate::vlm::VlmEncoder;

type AB = Autodiff<NdArray<f32>>;

/// Timings of one configuration.
#[derive(Debug, Clone)]
pub struct TrainBench {
    pub pairs_per_step: usize,
    pub tokens_per_step: usize,
    pub iterations: usize,
    /// Median milliseconds of the forward pass (log-probs + loss) per step.
    pub forward_ms: f64,
    /// Median milliseconds of the backward pass per step.
    pub backward_ms: f64,
}

impl TrainBench {
    pub fn ms_per_pair(&self) -> f64 {
        (self.forward_ms + self.backward_ms) / self.pairs_per_step as f64
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    v[v.len() / 2]
}

/// Runs `warmup + iterations` DPO forward+backward passes over all pairs of `pairs_file` as one
/// batch, with the vision tower and projector frozen (the default setup).
pub fn bench_train_step(
    model_dir: &Path,
    pairs_file: &Path,
    images: Option<&Path>,
    warmup: usize,
    iterations: usize,
) -> Result<TrainBench> {
    let device = Default::default();
    let loaded = vapr_model::load_any_model_dir::<AB>(model_dir, &device, DType::F32)
        .map_err(|e| TrainError::Model(Box::new(e)))?;
    let encoder = VlmEncoder(&loaded);
    let pairs = load_pairs(pairs_file, images, &encoder)?;
    let model = loaded
        .model
        .clone()
        .freeze_vision_tower()
        .freeze_projector();
    let refs: Vec<_> = pairs.iter().collect();
    let batch = PairBatch::new(&refs, encoder.pad_id(), false);
    let n = batch.num_pairs();
    let counts: Vec<f32> = batch
        .completion_tokens()
        .iter()
        .map(|&c| c as f32)
        .collect();
    let floats =
        |v: &[f32]| Tensor::<AB, 1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device);
    let mut fwd = Vec::new();
    let mut bwd = Vec::new();
    for i in 0..warmup + iterations {
        let t0 = Instant::now();
        let out = model.sequence_logps(&batch).map_err(TrainError::Model)?;
        let zeros = vec![0.0; n];
        let inputs = LossInputs {
            policy_chosen: out.logps.clone().narrow(0, 0, n),
            policy_rejected: out.logps.narrow(0, n, n),
            ref_chosen: floats(&zeros),
            ref_rejected: floats(&zeros),
            chosen_tokens: floats(&counts[..n]),
            rejected_tokens: floats(&counts[n..]),
        };
        let loss = preference_loss(&LossConfig::default(), &inputs);
        let _: f32 = loss.clone().into_scalar(); // forward is lazy until read
        let t1 = Instant::now();
        let grads = loss.backward();
        drop(grads);
        let t2 = Instant::now();
        if i >= warmup {
            fwd.push((t1 - t0).as_secs_f64() * 1e3);
            bwd.push((t2 - t1).as_secs_f64() * 1e3);
        }
    }
    Ok(TrainBench {
        pairs_per_step: n,
        tokens_per_step: batch.total_tokens(),
        iterations,
        forward_ms: median(fwd),
        backward_ms: median(bwd),
    })
}
