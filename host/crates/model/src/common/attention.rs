//! Scaled dot-product attention with grouped-query heads. All attention of all models goes
//! through [`attention`], so a fused CUDA kernel can replace its body later.
//!
//! Right-padded batches need no mask beyond causality: real tokens never see the padding that
//! follows them, and outputs at padded positions are ignored by the caller. Left-padded
//! generation batches (and queries after a KV cache) use [`masked_attention`] with the mask of
//! [`crate::KvCache::step_mask`].

use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, Tensor};

/// Repeats each key/value head `n_rep` times: `[B, Hkv, S, Dh]` → `[B, Hkv·n_rep, S, Dh]`
/// (`repeat_kv` upstream: head `h` uses kv head `h / n_rep`).
pub fn repeat_kv<B: Backend>(x: Tensor<B, 4>, n_rep: usize) -> Tensor<B, 4> {
    if n_rep == 1 {
        return x;
    }
    let [b, h, s, d] = x.dims();
    x.unsqueeze_dim::<5>(2)
        .expand([b, h, n_rep, s, d])
        .reshape([b, h * n_rep, s, d])
}

/// `softmax(q·kᵀ/√d (+ causal mask))·v` with the softmax in f32.
///
/// Shapes: `q [B, H, S, Dh]`, `k`/`v [B, Hkv, S, Dh]` with `H % Hkv == 0` → `[B, H, S, Dh]`.
pub fn attention<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    causal: bool,
) -> Tensor<B, 4> {
    let [_, h, s, d] = q.dims();
    let hkv = k.dims()[1];
    let k = repeat_kv(k, h / hkv);
    let v = repeat_kv(v, h / hkv);
    let dtype = q.dtype();
    let scale = (d as f64).powf(-0.5);
    let mut scores = q
        .matmul(k.swap_dims(2, 3))
        .mul_scalar(scale)
        .cast(DType::F32);
    if causal {
        // `tril_mask` is true outside the lower triangle (the future positions).
        let mask = Tensor::<B, 2, Bool>::tril_mask([s, s], 0, &scores.device());
        scores = scores.mask_fill(mask.unsqueeze::<4>(), f32::NEG_INFINITY);
    }
    softmax(scores, 3).cast(dtype).matmul(v)
}

/// `softmax(q·kᵀ/√d masked)·v` with the softmax in f32; `mask` is true where a key is hidden
/// and broadcasts over heads. Every query must keep at least one key (else its row is NaN).
///
/// Shapes: `q [B, H, S, Dh]`, `k`/`v [B, Hkv, T, Dh]`, `mask [B, 1, S, T]` → `[B, H, S, Dh]`.
pub fn masked_attention<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    mask: Tensor<B, 4, Bool>,
) -> Tensor<B, 4> {
    let [b, h, s, d] = q.dims();
    let [_, hkv, t, _] = k.dims();
    let k = repeat_kv(k, h / hkv);
    let v = repeat_kv(v, h / hkv);
    let dtype = q.dtype();
    let scores = q
        .matmul(k.swap_dims(2, 3))
        .mul_scalar((d as f64).powf(-0.5))
        .cast(DType::F32)
        .mask_fill(mask.expand([b, h, s, t]), f32::NEG_INFINITY);
    softmax(scores, 3).cast(dtype).matmul(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray<f32>;

    #[test]
    fn test_causal_attention_first_token_sees_only_itself() {
        let device = Default::default();
        let q = Tensor::<B, 4>::ones([1, 2, 3, 2], &device);
        let k = Tensor::<B, 4>::ones([1, 1, 3, 2], &device);
        let v = Tensor::<B, 4>::from_data(
            TensorData::new(vec![1f32, 1., 2., 2., 3., 3.], [1, 1, 3, 2]),
            &device,
        );
        let out = attention(q, k, v, true)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        // Equal scores: token i averages v[0..=i]; both query heads share the kv head.
        let expect = [1.0, 1.0, 1.5, 1.5, 2.0, 2.0];
        for head in 0..2 {
            for (i, e) in expect.iter().enumerate() {
                assert!((out[head * 6 + i] - e).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn test_masked_attention_with_causal_mask_equals_causal_attention() {
        use burn::tensor::Distribution;
        let device = Default::default();
        let q = Tensor::<B, 4>::random([2, 4, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let k = Tensor::<B, 4>::random([2, 2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let v = Tensor::<B, 4>::random([2, 2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let full = attention(q.clone(), k.clone(), v.clone(), true);
        let mask = Tensor::<B, 2, Bool>::tril_mask([5, 5], 0, &device)
            .unsqueeze::<4>()
            .expand([2, 1, 5, 5]);
        let masked = masked_attention(q, k, v, mask);
        let diff = (full - masked).abs().max().into_scalar();
        assert!(diff < 1e-6, "max |Δ| = {diff}");
    }
}
