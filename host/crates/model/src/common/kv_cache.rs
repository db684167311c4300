//! Key/value cache for incremental, batched decoding, kept outside the weights (the model stays
//! immutable and shareable; each generation owns its cache) and passed `&mut` to the decoder.
//!
//! Per layer it holds the rotated keys and the values, `[B, Hkv, T, Dh]`, appended along the
//! sequence axis. Prompts of a batch are **left-padded** to a common length, so every row's next
//! token lands in the same column; row `b`'s first `pad[b]` columns are padding and are masked
//! out of every later query ([`KvCache::step_mask`]).
//!
//! Positions are kept per row and independent of columns: `next_pos[b]` is the rotary position
//! of row `b`'s next token. For Qwen2-VL it is `max prompt position + 1` after the prompt (the
//! M-RoPE `rope_delta` folded in, transformers' `cache_position + rope_deltas`); for a 1-D RoPE
//! family it is the number of real tokens. Every cached step adds 1.
//!
//! Rows that finished generating are dropped with [`KvCache::retain`], so they stop costing
//! compute; columns that became padding in every remaining row are trimmed at the same time.

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor, TensorData};

/// What one attention layer of a decoder gets of the cache during a pass: the cache, the
/// layer's index, and the pass's mask ([`KvCache::step_mask`], computed once per pass).
pub type LayerCache<'a, B> = (&'a mut KvCache<B>, usize, Option<Tensor<B, 4, Bool>>);

/// Cached keys and values of every decoder layer, for a batch of rows.
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    layers: Vec<Option<(Tensor<B, 4>, Tensor<B, 4>)>>,
    /// Cached columns (padding included).
    len: usize,
    /// Leading padding columns of each row.
    pad: Vec<usize>,
    /// Rotary position of each row's next token.
    next_pos: Vec<i64>,
}

impl<B: Backend> KvCache<B> {
    /// An empty cache for a decoder with `n_layers` layers.
    pub fn new(n_layers: usize) -> Self {
        Self {
            layers: vec![None; n_layers],
            len: 0,
            pad: Vec::new(),
            next_pos: Vec::new(),
        }
    }

    /// Cached columns, padding included (for one unpadded row: its token count).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing has been cached yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Rows in the batch.
    pub fn rows(&self) -> usize {
        self.pad.len()
    }

    /// Leading padding columns of each row.
    pub fn pad(&self) -> &[usize] {
        &self.pad
    }

    /// Rotary position of each row's next token.
    pub fn next_positions(&self) -> &[i64] {
        &self.next_pos
    }

    /// Declares the rows of a prefill before its forward pass: `pad[b]` leading padding
    /// columns and `next_pos[b]`, the position of the token after row `b`'s prompt. Only on an
    /// empty cache.
    pub fn begin(&mut self, pad: Vec<usize>, next_pos: Vec<i64>) {
        assert!(self.is_empty(), "KvCache::begin on a filled cache");
        assert_eq!(
            pad.len(),
            next_pos.len(),
            "one pad and one position per row"
        );
        self.pad = pad;
        self.next_pos = next_pos;
    }

    /// Appends this step's `k`/`v` (`[B, Hkv, S, Dh]`) to `layer` and returns all of them.
    pub fn append(
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

    /// Records that a forward pass cached `n` more columns (called once after all layers). A
    /// decode step (`n` new tokens after a filled cache) moves every row's position on by `n`;
    /// after a prefill the positions are the ones given to [`Self::begin`].
    pub fn advance(&mut self, n: usize) {
        if self.len > 0 {
            for p in &mut self.next_pos {
                *p += n as i64;
            }
        }
        self.len += n;
    }

    /// The attention mask of `new` queries placed after the cached columns, `[B, 1, new,
    /// len + new]`, true where a key must be ignored: the causal future and the padding
    /// columns of the row. A padding query attends to itself only, so no softmax row is empty
    /// (an all-masked row would give NaN, which the values of later layers would carry).
    ///
    /// `None` when plain causal attention is exact: no row is padded and either the cache is
    /// empty (causal over the new tokens) or `new == 1` (the one query sees every key).
    pub fn step_mask(&self, new: usize, device: &B::Device) -> Option<Tensor<B, 4, Bool>> {
        let past = self.len;
        if self.pad.iter().all(|&p| p == 0) && (past == 0 || new == 1) {
            return None;
        }
        let b = self.pad.len().max(1);
        let t = past + new;
        let mut mask = Vec::with_capacity(b * new * t);
        for r in 0..b {
            let pad = self.pad.get(r).copied().unwrap_or(0);
            for i in 0..new {
                let q = past + i;
                mask.extend((0..t).map(|j| j > q || (j < pad && j != q)));
            }
        }
        Some(Tensor::from_data(
            TensorData::new(mask, [b, 1, new, t]),
            device,
        ))
    }

    /// Keeps only `rows` (indices into the current batch, in the given order) and trims the
    /// leading columns that are padding in every kept row.
    pub fn retain(&mut self, rows: &[usize]) {
        if rows.len() == self.pad.len() && rows.iter().enumerate().all(|(i, &r)| i == r) {
            return;
        }
        let trim = rows.iter().map(|&r| self.pad[r]).min().unwrap_or(0);
        let ids: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
        for slot in self.layers.iter_mut() {
            if let Some((k, v)) = slot.take() {
                let idx = Tensor::<B, 1, Int>::from_data(
                    TensorData::new(ids.clone(), [ids.len()]),
                    &k.device(),
                );
                let (k, v) = (k.select(0, idx.clone()), v.select(0, idx));
                let cols = k.dims()[2];
                *slot = Some((
                    k.narrow(2, trim, cols - trim),
                    v.narrow(2, trim, cols - trim),
                ));
            }
        }
        self.pad = rows.iter().map(|&r| self.pad[r] - trim).collect();
        self.next_pos = rows.iter().map(|&r| self.next_pos[r]).collect();
        self.len -= trim;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    type B = NdArray<f32>;

    fn mask_rows(m: Tensor<B, 4, Bool>) -> Vec<bool> {
        m.into_data().to_vec::<bool>().unwrap()
    }

    #[test]
    fn test_cache_appends_along_the_sequence_axis() {
        let device = Default::default();
        let mut cache = KvCache::<B>::new(1);
        cache.begin(vec![0], vec![3]);
        let (k, _) = cache.append(
            0,
            Tensor::ones([1, 2, 3, 4], &device),
            Tensor::ones([1, 2, 3, 4], &device),
        );
        assert_eq!(k.dims(), [1, 2, 3, 4]);
        cache.advance(3);
        assert_eq!(cache.next_positions(), &[3]);
        let (k, v) = cache.append(
            0,
            Tensor::zeros([1, 2, 1, 4], &device),
            Tensor::zeros([1, 2, 1, 4], &device),
        );
        cache.advance(1);
        assert_eq!(k.dims(), [1, 2, 4, 4]);
        assert_eq!(v.dims(), [1, 2, 4, 4]);
        assert_eq!(cache.len(), 4);
        assert_eq!(cache.next_positions(), &[4]);
    }

    #[test]
    fn test_step_mask_hides_padding_and_future() {
        let device = Default::default();
        let mut cache = KvCache::<B>::new(1);
        assert!(
            cache.step_mask(3, &device).is_none(),
            "unpadded prefill is plain causal"
        );
        cache.begin(vec![0, 2], vec![3, 1]);
        // Prefill of 3 columns; row 1 has 2 padding columns.
        let m = mask_rows(cache.step_mask(3, &device).unwrap());
        #[rustfmt::skip]
        let want = [
            false, true, true,   false, false, true,   false, false, false, // row 0: causal
            false, true, true,   true, false, true,    true, true, false,   // row 1: pads self-only
        ];
        assert_eq!(m, want);
        cache.advance(3);
        // One decode query sees all real columns of its row.
        let m = mask_rows(cache.step_mask(1, &device).unwrap());
        assert_eq!(m, [false, false, false, false, true, true, false, false]);
    }

    #[test]
    fn test_retain_drops_rows_and_trims_common_padding() {
        let device = Default::default();
        let mut cache = KvCache::<B>::new(2);
        cache.begin(vec![0, 2, 1], vec![4, 2, 3]);
        let k = Tensor::<B, 1, Int>::arange(0..12, &device)
            .float()
            .reshape([3, 1, 4, 1]);
        for layer in 0..2 {
            cache.append(layer, k.clone(), k.clone());
        }
        cache.advance(4);
        cache.retain(&[2, 1]);
        assert_eq!(cache.pad(), &[0, 1]);
        assert_eq!(cache.next_positions(), &[3, 2]);
        assert_eq!(cache.len(), 3);
        let (k, _) = cache.append(
            0,
            Tensor::zeros([2, 1, 1, 1], &device),
            Tensor::zeros([2, 1, 1, 1], &device),
        );
        let vals = k.into_data().to_vec::<f32>().unwrap();
        // Row 2 then row 1, first column trimmed, then the appended zero.
        assert_eq!(vals, [9.0, 10.0, 11.0, 0.0, 5.0, 6.0, 7.0, 0.0]);
    }
}
