//! The contract between the trainer and a model: per-sequence completion log-probs.
//!
//! A model implements [`PreferenceModel`] for any backend; the trainer runs it on an autodiff
//! backend, `vapr score` and the reference pass on a plain one. [`completion_logps`] turns
//! causal-LM logits into what the trainer needs, so a model usually only runs its forward.

use burn::tensor::activation::log_softmax;
use burn::tensor::{FloatDType, Int, Tensor, backend::Backend};

use crate::batch::PairBatch;
use crate::error::BoxError;

/// Per-sequence outputs over a [`PairBatch`], each `[sequences]`.
#[derive(Debug, Clone)]
pub struct SequenceLogps<B: Backend> {
    /// Σ log p(token) over each sequence's completion tokens (carries gradients).
    pub logps: Tensor<B, 1>,
    /// Σ over completion tokens of the mean-over-vocabulary logit (TRL's `logits/*`; detached).
    pub logit_sums: Tensor<B, 1>,
}

/// A model the trainer can train and score.
pub trait PreferenceModel<B: Backend>: burn::module::Module<B> {
    /// The preprocessed image a pair carries (pixels and grid for Qwen2-VL).
    type Image: Clone + Send + Sync;

    /// Summed completion log-probs of every sequence of `batch`. The image of pair `i` is
    /// encoded once and shared by its chosen and rejected sequences.
    fn sequence_logps(&self, batch: &PairBatch<Self::Image>) -> Result<SequenceLogps<B>, BoxError>;

    /// The device the model lives on.
    fn device(&self) -> B::Device;
}

/// Completion log-probs from causal-LM logits.
///
/// `logits`: `[S, L, V]`; `input_ids`: `[S, L]`; `label_mask`: `[S, L]` with 1 on completion
/// tokens. Position t's logits predict token t+1. The log-softmax runs in f32.
pub fn completion_logps<B: Backend>(
    logits: Tensor<B, 3>,
    input_ids: Tensor<B, 2, Int>,
    label_mask: Tensor<B, 2>,
) -> SequenceLogps<B> {
    let [s, l, _v] = logits.dims();
    if l < 2 {
        let device = logits.device();
        return SequenceLogps {
            logps: Tensor::zeros([s], &device),
            logit_sums: Tensor::zeros([s], &device),
        };
    }
    // f32 even for bf16 models: the sums of many small terms need it.
    let logits = logits.narrow(1, 0, l - 1).cast(FloatDType::F32);
    let targets = input_ids.narrow(1, 1, l - 1);
    let mask = label_mask.narrow(1, 1, l - 1).cast(FloatDType::F32);
    let mean_logits = logits.clone().detach().mean_dim(2).squeeze_dim::<2>(2);
    let token_logps = log_softmax(logits, 2)
        .gather(2, targets.unsqueeze_dim::<3>(2))
        .squeeze_dim::<2>(2);
    let logps = (token_logps * mask.clone()).sum_dim(1).squeeze_dim::<1>(1);
    let logit_sums = (mean_logits * mask).sum_dim(1).squeeze_dim::<1>(1);
    SequenceLogps { logps, logit_sums }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray<f32>;

    #[test]
    fn sums_log_softmax_at_the_next_token_over_completion_positions() {
        let d = Default::default();
        // One sequence of 3 tokens over a 2-word vocabulary; the completion is token 2.
        let logits = Tensor::<B, 3>::from_data(
            TensorData::new(vec![0.0f32, 1.0, 2.0, 0.0, 5.0, 5.0], [1, 3, 2]),
            &d,
        );
        let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(vec![0i64, 1, 0], [1, 3]), &d);
        let mask = Tensor::<B, 2>::from_data(TensorData::new(vec![0.0f32, 1.0, 1.0], [1, 3]), &d);
        let out = completion_logps(logits, ids, mask);
        // token 1 after position 0: log σ-softmax([0,1])[1]; token 0 after position 1: [2,0][0].
        let want = (1.0f64 - (1f64.exp() + 1.0).ln()) + (2.0 - (2f64.exp() + 1.0).ln());
        let got: f32 = out.logps.into_scalar();
        assert!((got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        let logit_sum: f32 = out.logit_sums.into_scalar();
        assert!((logit_sum - (0.5 + 1.0)).abs() < 1e-6);
    }
}
