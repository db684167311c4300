//! Key/value cache for incremental decoding, kept outside the weights (the model stays
//! immutable and shareable; each generation owns its cache) and passed `&mut` to the decoder.
//!
//! Per layer it holds the rotated keys and the values, `[B, Hkv, T, Dh]`, appended along the
//! sequence axis. For Qwen2-VL it also keeps the M-RoPE `rope_delta` of the prompt
//! (`max position + 1 − prompt length`), so a token decoded at cache index `t` gets the
//! position `t + rope_delta` on all three axes, like transformers' `cache_position + rope_deltas`.

use burn::tensor::activation::softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, DType, Tensor, TensorData};

use super::attention::{attention, repeat_kv};

/// Cached keys and values of every decoder layer.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    layers: Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
    len: usize,
    /// M-RoPE offset of decoded tokens (0 for text-only prompts).
    pub rope_delta: i64,
}

impl<B: Backend> KvCache<B> {
    /// An empty cache for a decoder with `n_layers` layers.
    pub fn new(n_layers: usize) -> Self {
        Self {
            layers: vec![None; n_layers],
            len: 0,
            rope_delta: 0,
        }
    }

    /// Tokens already cached (the position of the next token in the sequence).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been cached yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends this step's `k`/`v` (`[B, Hkv, S, Dh]`) to `layer` and returns all of them.
    pub(crate) fn append(
        &mut self,
        layer: usize,
        k: Tensor<B, 4>,
        v: Tensor<B, 4>,
    ) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let slot = &mut self.layers[layer];
        let (k, v) = match slot.take() {
            Some((pk, pv)) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            None => (k, v),
        };
        *slot = Some((k.clone(), v.clone()));
        (k, v)
    }

    /// Records that a forward pass cached `n` more tokens (called once after all layers).
    pub(crate) fn advance(&mut self, n: usize) {
        self.len += n;
    }
}

/// Causal attention of `S` new queries against `past + S` cached keys: query `i` sees keys
/// `0..=past + i`. With an empty past this is exactly [`attention`] (same kernel as training).
///
/// Shapes: `q [B, H, S, Dh]`, `k`/`v [B, Hkv, past + S, Dh]` → `[B, H, S, Dh]`.
pub fn attention_with_past<B: Backend>(
    q: Tensor<B, 4>,
    k: Tensor<B, 4>,
    v: Tensor<B, 4>,
    past: usize,
) -> Tensor<B, 4> {
    if past == 0 {
        return attention(q, k, v, true);
    }
    let [_, h, s, d] = q.dims();
    let [_, hkv, t, _] = k.dims();
    let k = repeat_kv(k, h / hkv);
    let v = repeat_kv(v, h / hkv);
    let dtype = q.dtype();
    let mut scores = q
        .matmul(k.swap_dims(2, 3))
        .mul_scalar((d as f64).powf(-0.5))
        .cast(DType::F32);
    if s > 1 {
        // True where key j lies in query i's future.
        let mask: Vec<bool> = (0..s)
            .flat_map(|i| (0..t).map(move |j| j > past + i))
            .collect();
        let mask = Tensor::<B, 2, Bool>::from_data(TensorData::new(mask, [s, t]), &scores.device());
        scores = scores.mask_fill(mask.unsqueeze::<4>(), f32::NEG_INFINITY);
    }
    softmax(scores, 3).cast(dtype).matmul(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::Distribution;

    type B = NdArray<f32>;

    #[test]
    fn test_attention_with_past_equals_full_causal_rows() {
        let device = Default::default();
        let q = Tensor::<B, 4>::random([1, 4, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let k = Tensor::<B, 4>::random([1, 2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let v = Tensor::<B, 4>::random([1, 2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let full = attention(q.clone(), k.clone(), v.clone(), true);
        // The last 2 queries against all 5 keys (3 of them "cached").
        let tail = attention_with_past(q.narrow(2, 3, 2), k, v, 3);
        let diff = (full.narrow(2, 3, 2) - tail).abs().max().into_scalar();
        assert!(diff < 1e-5, "max |Δ| = {diff}");
    }

    #[test]
    fn test_cache_appends_along_the_sequence_axis() {
        let device = Default::default();
        let mut cache = KvCache::<B>::new(1);
        let (k, _) = cache.append(
            0,
            Tensor::ones([1, 2, 3, 4], &device),
            Tensor::ones([1, 2, 3, 4], &device),
        );
        assert_eq!(k.dims(), [1, 2, 3, 4]);
        cache.advance(3);
        let (k, v) = cache.append(
            0,
            Tensor::zeros([1, 2, 1, 4], &device),
            Tensor::zeros([1, 2, 1, 4], &device),
        );
        cache.advance(1);
        assert_eq!(k.dims(), [1, 2, 4, 4]);
        assert_eq!(v.dims(), [1, 2, 4, 4]);
        assert_eq!(cache.len(), 4);
    }
}
