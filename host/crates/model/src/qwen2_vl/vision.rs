//! The Qwen2-VL and Qwen2.5-VL vision towers: patch embedding, 2-D rotary, attention blocks and
//! the PatchMerger that maps 2×2 patch groups to decoder-width embeddings.
//!
//! One struct serves both families ([`VisionArch`]); fields keep the Hugging Face names, and the
//! parts only one family has are `Option`s, so parameter paths are the checkpoint keys:
//!
//! | | Qwen2-VL | Qwen2.5-VL |
//! |---|---|---|
//! | norms (`norm1`, `norm2`, `merger.ln_q`) | LayerNorm (`weight`, `bias`) | RMSNorm (`weight`) |
//! | block MLP | `fc1 → QuickGELU → fc2` | `down_proj(silu(gate_proj) · up_proj)`, with bias |
//! | attention | whole image (each frame) | windows of `window_size` px, whole image only in `fullatt_block_indexes` |
//!
//! Qwen2.5-VL reorders patches window by window (in units of one merged 2×2 group) before the
//! blocks, so each window is a contiguous attention segment, and restores the image order after
//! the merger.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/modeling_qwen2_vl.py>
//! (`PatchEmbed`, `VisionAttention`, `Qwen2VLVisionBlock`, `PatchMerger`,
//! `Qwen2VisionTransformerPretrainedModel`), `qwen2_5_vl/modeling_qwen2_5_vl.py`
//! (`Qwen2_5_VLVisionBlock`, `Qwen2_5_VLMLP`, `Qwen2_5_VisionTransformerPretrainedModel`) and
//! `vision_utils.py` (`get_vision_position_ids`, `get_vision_window_index`).

use burn::module::{Module, Param};
use burn::tensor::activation::{sigmoid, silu};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor, TensorData};

use super::config::{VisionArch, VisionConfig};
use crate::common::activation::exact_gelu;
use crate::common::attention::attention;
use crate::common::rope::{apply_rotary, inv_freq, vision_table};
use crate::common::{Init, Linear, LinearConfig, lazy_param_init};
use crate::error::{ModelError, Result};

/// One image's patch grid: temporal, height and width in patches (`image_grid_thw`).
pub type GridThw = [usize; 3];

/// The Conv3d patch embedding as a bias-free linear over flattened `C·T·P·P` patches.
#[derive(Module, Debug)]
pub struct PatchEmbed<B: Backend> {
    /// `[patch_dim, embed_dim]`; upstream `proj.weight` is `[embed_dim, C, T, P, P]`.
    pub proj: Linear<B>,
}

/// Attention of a vision block (fused qkv projection, bias everywhere).
#[derive(Module, Debug)]
pub struct VisionAttention<B: Backend> {
    pub qkv: Linear<B>,
    pub proj: Linear<B>,
    pub num_heads: usize,
}

/// Block MLP: Qwen2-VL's `fc1 → QuickGELU → fc2` (only `fc1`/`fc2` set) or Qwen2.5-VL's
/// `down_proj(silu(gate_proj(x)) · up_proj(x))` (only the three projections set).
#[derive(Module, Debug)]
pub struct VisionMlp<B: Backend> {
    pub fc1: Option<Linear<B>>,
    pub fc2: Option<Linear<B>>,
    pub gate_proj: Option<Linear<B>>,
    pub up_proj: Option<Linear<B>>,
    pub down_proj: Option<Linear<B>>,
}

/// LayerNorm (Qwen2-VL, `bias` set) or RMSNorm (Qwen2.5-VL, no `bias`), statistics in f32 like
/// `nn.LayerNorm` and `Qwen2RMSNorm`.
#[derive(Module, Debug)]
pub struct VisionNorm<B: Backend> {
    pub weight: Param<Tensor<B, 1>>,
    pub bias: Option<Param<Tensor<B, 1>>>,
    pub eps: f64,
}

/// Pre-norm transformer block of the vision tower.
#[derive(Module, Debug)]
pub struct VisionBlock<B: Backend> {
    pub norm1: VisionNorm<B>,
    pub norm2: VisionNorm<B>,
    pub attn: VisionAttention<B>,
    pub mlp: VisionMlp<B>,
}

/// `ln_q → [N/m², m²·E] → Linear → GELU → Linear`. Upstream the two linears are
/// `mlp.0` and `mlp.2` of an `nn.Sequential`; the loader maps the names.
#[derive(Module, Debug)]
pub struct PatchMerger<B: Backend> {
    pub ln_q: VisionNorm<B>,
    pub mlp_0: Linear<B>,
    pub mlp_2: Linear<B>,
}

/// The whole vision tower (`visual.*` upstream).
#[derive(Module, Debug)]
pub struct VisionModel<B: Backend> {
    pub patch_embed: PatchEmbed<B>,
    pub blocks: Vec<VisionBlock<B>>,
    pub merger: PatchMerger<B>,
    #[module(skip)]
    pub config: VisionConfig,
}

impl VisionConfig {
    /// Builds the tower with lazily initialised parameters.
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> VisionModel<B> {
        let e = self.embed_dim;
        let i = self.mlp_dim();
        let rms = matches!(self.arch, VisionArch::Qwen25Vl { .. });
        let norm = || VisionNorm {
            weight: lazy_param_init([e], device, dtype, Init::Ones),
            bias: (!rms).then(|| lazy_param_init([e], device, dtype, Init::Zeros)),
            eps: 1e-6,
        };
        let merged = e * self.spatial_merge_size * self.spatial_merge_size;
        let lin = |i, o, bias| LinearConfig::new(i, o, bias).init::<B>(device, dtype);
        let mlp = || {
            if rms {
                VisionMlp {
                    fc1: None,
                    fc2: None,
                    gate_proj: Some(lin(e, i, true)),
                    up_proj: Some(lin(e, i, true)),
                    down_proj: Some(lin(i, e, true)),
                }
            } else {
                VisionMlp {
                    fc1: Some(lin(e, i, true)),
                    fc2: Some(lin(i, e, true)),
                    gate_proj: None,
                    up_proj: None,
                    down_proj: None,
                }
            }
        };
        VisionModel {
            patch_embed: PatchEmbed {
                proj: lin(self.patch_dim(), e, false),
            },
            blocks: (0..self.depth)
                .map(|_| VisionBlock {
                    norm1: norm(),
                    norm2: norm(),
                    attn: VisionAttention {
                        qkv: lin(e, 3 * e, true),
                        proj: lin(e, e, true),
                        num_heads: self.num_heads,
                    },
                    mlp: mlp(),
                })
                .collect(),
            merger: PatchMerger {
                ln_q: norm(),
                mlp_0: lin(merged, merged, true),
                mlp_2: lin(merged, self.hidden_size, true),
            },
            config: self.clone(),
        }
    }
}

/// Per-patch `(row, col)` rotary ids, laid out block-major over `m×m` merge blocks and repeated
/// for each temporal slice (`get_vision_position_ids` upstream).
pub fn vision_position_ids(grids: &[GridThw], merge: usize) -> Vec<(i64, i64)> {
    let mut ids = Vec::new();
    for &[t, h, w] in grids {
        let mut one = Vec::with_capacity(h * w);
        for bh in 0..h / merge {
            for bw in 0..w / merge {
                for ih in 0..merge {
                    for iw in 0..merge {
                        one.push(((bh * merge + ih) as i64, (bw * merge + iw) as i64));
                    }
                }
            }
        }
        for _ in 0..t {
            ids.extend_from_slice(&one);
        }
    }
    ids
}

/// Attention segments: each temporal slice of each image attends only within itself
/// (`cu_seqlens` upstream), as `(start, len)` pairs.
pub fn attention_segments(grids: &[GridThw]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for &[t, h, w] in grids {
        for _ in 0..t {
            out.push((start, h * w));
            start += h * w;
        }
    }
    out
}

/// Window order of the merged tokens and the window attention segments, for Qwen2.5-VL
/// (`get_vision_window_index` upstream).
///
/// Each frame's `h/m × w/m` grid of merged tokens is cut into `window × window` tiles (the last
/// row/column of tiles may be partial); tokens are listed tile by tile, row-major inside a tile.
/// Returns the merged-token index (over all images) at each new position, and each window as a
/// `(start, len)` segment in patches.
pub fn window_index(
    grids: &[GridThw],
    merge: usize,
    window: usize,
) -> (Vec<usize>, Vec<(usize, usize)>) {
    let unit = merge * merge;
    let mut order = Vec::new();
    let mut segments = Vec::new();
    let mut base = 0;
    for &[t, h, w] in grids {
        let (lh, lw) = (h / merge, w / merge);
        for f in 0..t {
            for wr in (0..lh).step_by(window) {
                for wc in (0..lw).step_by(window) {
                    let start = order.len();
                    for r in wr..(wr + window).min(lh) {
                        for c in wc..(wc + window).min(lw) {
                            order.push(base + f * lh * lw + r * lw + c);
                        }
                    }
                    segments.push((start * unit, (order.len() - start) * unit));
                }
            }
        }
        base += t * lh * lw;
    }
    (order, segments)
}

/// Inverse of a permutation: `inv[perm[i]] = i` (`argsort` of a permutation).
fn inverse_permutation(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        inv[p] = i;
    }
    inv
}

/// Reorders rows in groups of `unit` consecutive rows: group `i` of the result is group
/// `order[i]` of `x`. Shapes: `x [N, D]`, `N = unit · order.len()` → `[N, D]`.
fn permute_groups<B: Backend>(x: Tensor<B, 2>, order: &[usize], unit: usize) -> Tensor<B, 2> {
    let [n, d] = x.dims();
    let idx: Vec<i64> = order.iter().map(|&o| o as i64).collect();
    let idx = Tensor::<B, 1, Int>::from_data(TensorData::new(idx, [order.len()]), &x.device());
    x.reshape([n / unit, unit * d])
        .select(0, idx)
        .reshape([n, d])
}

impl<B: Backend> VisionNorm<B> {
    /// Shapes: `x [N, E]` → same.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let dtype = x.dtype();
        let size = self.weight.lazy_shape().dims::<1>()[0];
        let x = x.cast(DType::F32);
        match &self.bias {
            // `nn.LayerNorm` (biased variance), affine in f32.
            Some(bias) => {
                let centered = x.clone() - x.mean_dim(1);
                let var = centered.clone().powi_scalar(2).mean_dim(1);
                let normed = centered * var.add_scalar(self.eps).sqrt().recip();
                let w = self.weight.val().cast(DType::F32).reshape([1, size]);
                let b = bias.val().cast(DType::F32).reshape([1, size]);
                (normed * w + b).cast(dtype)
            }
            // `Qwen2RMSNorm`: normalise in f32, cast back, then scale.
            None => {
                let var = x.clone().powi_scalar(2).mean_dim(1);
                let normed = x * var.add_scalar(self.eps).sqrt().recip();
                normed.cast(dtype) * self.weight.val().reshape([1, size])
            }
        }
    }
}

impl<B: Backend> VisionMlp<B> {
    /// Shapes: `x [N, E]` → same.
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        match (
            &self.fc1,
            &self.fc2,
            &self.gate_proj,
            &self.up_proj,
            &self.down_proj,
        ) {
            (Some(fc1), Some(fc2), None, None, None) => fc2.forward(quick_gelu(fc1.forward(x))),
            (None, None, Some(gate), Some(up), Some(down)) => {
                down.forward(silu(gate.forward(x.clone())) * up.forward(x))
            }
            _ => unreachable!("VisionConfig::init builds exactly one MLP variant"),
        }
    }
}

impl<B: Backend> VisionAttention<B> {
    /// Shapes: `x [N, E]`, `cos`/`sin [N, 1, Dh]` → `[N, E]`.
    fn forward(
        &self,
        x: Tensor<B, 2>,
        cos: Tensor<B, 3>,
        sin: Tensor<B, 3>,
        segments: &[(usize, usize)],
    ) -> Tensor<B, 2> {
        let [n, e] = x.dims();
        let h = self.num_heads;
        let dh = e / h;
        let dtype = x.dtype();
        let qkv = self.qkv.forward(x).reshape([n, 3, h, dh]);
        let part = |i| qkv.clone().narrow(1, i, 1).reshape([n, h, dh]);
        // Rotary in f32, like `apply_rotary_pos_emb_vision`.
        let q = apply_rotary(part(0).cast(DType::F32), cos.clone(), sin.clone()).cast(dtype);
        let k = apply_rotary(part(1).cast(DType::F32), cos, sin).cast(dtype);
        let v = part(2);
        self.proj.forward(segment_attention(q, k, v, segments))
    }
}

/// Bidirectional attention within each `(start, len)` segment of rows, segments covering all
/// rows once. Segments of equal length run as one batched call (a 448² image has 16 windows
/// of 64 patches: one call per block instead of 16); rows come back in their original order.
///
/// Shapes: `q`, `k`, `v [N, H, Dh]` → `[N, H·Dh]`.
fn segment_attention<B: Backend>(
    q: Tensor<B, 3>,
    k: Tensor<B, 3>,
    v: Tensor<B, 3>,
    segments: &[(usize, usize)],
) -> Tensor<B, 2> {
    let [n, h, dh] = q.dims();
    let device = q.device();
    let mut by_len: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &(start, len) in segments {
        by_len.entry(len).or_default().push(start);
    }
    let mut outs = Vec::with_capacity(by_len.len());
    // Original row of each output row, in output order.
    let mut rows: Vec<usize> = Vec::with_capacity(n);
    for (len, starts) in by_len {
        let m = starts.len();
        let first = rows.len();
        rows.extend(starts.iter().flat_map(|&s| s..s + len));
        let contiguous = rows[first..]
            .iter()
            .enumerate()
            .all(|(i, &r)| r == rows[first] + i);
        let idx = (!contiguous).then(|| {
            let idx: Vec<i64> = rows[first..].iter().map(|&r| r as i64).collect();
            Tensor::<B, 1, Int>::from_data(TensorData::new(idx, [m * len]), &device)
        });
        let pick = |t: &Tensor<B, 3>| {
            let t = match &idx {
                Some(idx) => t.clone().select(0, idx.clone()),
                None => t.clone().narrow(0, rows[first], m * len),
            };
            t.reshape([m, len, h, dh]).swap_dims(1, 2)
        };
        outs.push(
            attention(pick(&q), pick(&k), pick(&v), false)
                .swap_dims(1, 2)
                .reshape([m * len, h * dh]),
        );
    }
    debug_assert_eq!(rows.len(), n, "segments must cover every row once");
    let out = Tensor::cat(outs, 0);
    if rows.iter().enumerate().all(|(i, &r)| i == r) {
        out
    } else {
        permute_groups(out, &inverse_permutation(&rows), 1)
    }
}

fn quick_gelu<B: Backend>(x: Tensor<B, 2>) -> Tensor<B, 2> {
    x.clone() * sigmoid(x.mul_scalar(1.702))
}

impl<B: Backend> VisionModel<B> {
    /// Encodes images to decoder-width embeddings, one row per merged patch group, images in
    /// order (the rows that replace `<|image_pad|>` tokens).
    ///
    /// Shapes: `pixel_values [N, patch_dim]` with `N = Σ t·h·w` → `[N / m², hidden]`.
    pub fn forward(&self, pixel_values: Tensor<B, 2>, grids: &[GridThw]) -> Result<Tensor<B, 2>> {
        let cfg = &self.config;
        let [n, pd] = pixel_values.dims();
        let expected: usize = grids.iter().map(|g| g[0] * g[1] * g[2]).sum();
        if pd != cfg.patch_dim() || n != expected {
            return Err(ModelError::Input(format!(
                "pixel_values is [{n}, {pd}], the grids {grids:?} need [{expected}, {}]",
                cfg.patch_dim()
            )));
        }
        let m = cfg.spatial_merge_size;
        if let Some(g) = grids.iter().find(|g| g[1] % m != 0 || g[2] % m != 0) {
            return Err(ModelError::Input(format!(
                "grid {g:?} is not a multiple of the merge size {m}"
            )));
        }
        let device = pixel_values.device();
        let dtype = self.patch_embed.proj.weight.val().dtype();
        let mut x = self.patch_embed.proj.forward(pixel_values.cast(dtype));
        let dh = cfg.head_dim();
        let unit = m * m;
        let mut ids = vision_position_ids(grids, m);
        let full = attention_segments(grids);
        // Qwen2.5-VL: patches (and their rotary ids) in window order; windows become segments.
        let windows = cfg.window_merged().map(|win| window_index(grids, m, win));
        if let Some((order, _)) = &windows {
            x = permute_groups(x, order, unit);
            ids = order
                .iter()
                .flat_map(|&o| ids[o * unit..(o + 1) * unit].to_vec())
                .collect();
        }
        let table = vision_table(&ids, &inv_freq(cfg.rope_theta, dh / 2));
        let (cos, sin) = table.to_tensors::<B, 3>([n, 1, dh], &device, DType::F32);
        for (i, block) in self.blocks.iter().enumerate() {
            let segments = match &windows {
                Some((_, win)) if !cfg.is_full_attention(i) => win,
                _ => &full,
            };
            let a = block.attn.forward(
                block.norm1.forward(x.clone()),
                cos.clone(),
                sin.clone(),
                segments,
            );
            x = x + a;
            let h = block.mlp.forward(block.norm2.forward(x.clone()));
            x = x + h;
        }
        let merged = cfg.embed_dim * unit;
        let y = self.merger.ln_q.forward(x).reshape([n / unit, merged]);
        let y = self
            .merger
            .mlp_2
            .forward(exact_gelu(self.merger.mlp_0.forward(y)));
        Ok(match &windows {
            Some((order, _)) => permute_groups(y, &inverse_permutation(order), 1),
            None => y,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_position_ids_are_block_major_and_repeat_per_frame() {
        let ids = vision_position_ids(&[[2, 2, 4]], 2);
        assert_eq!(ids.len(), 16);
        assert_eq!(
            &ids[..8],
            &[
                (0, 0),
                (0, 1),
                (1, 0),
                (1, 1),
                (0, 2),
                (0, 3),
                (1, 2),
                (1, 3)
            ]
        );
        assert_eq!(&ids[8..], &ids[..8]);
    }

    #[test]
    fn test_window_index_tiles_merged_tokens_like_transformers() {
        // One 4×6-patch image → 2×3 merged tokens, 2×2 windows: [0,1,3,4] then [2,5]
        // (transformers' `get_vision_window_index` with window_size 56, patch 14, merge 2).
        let (order, seg) = window_index(&[[1, 4, 6]], 2, 2);
        assert_eq!(order, vec![0, 1, 3, 4, 2, 5]);
        assert_eq!(seg, vec![(0, 16), (16, 8)]);
        // A second image (two frames, 2×2 merged) continues the numbering, one window per frame.
        let (order, seg) = window_index(&[[1, 4, 6], [2, 4, 4]], 2, 2);
        assert_eq!(&order[6..], &[6, 7, 8, 9, 10, 11, 12, 13]);
        assert_eq!(&seg[2..], &[(24, 16), (40, 16)]);
        assert_eq!(
            inverse_permutation(&[0, 1, 3, 4, 2, 5]),
            vec![0, 1, 4, 2, 3, 5]
        );
    }

    /// Batching equal-length segments gives what attending segment by segment gives.
    #[test]
    fn test_batched_segment_attention_equals_one_call_per_segment() {
        use burn::backend::NdArray;
        type B = NdArray<f32>;
        let device = Default::default();
        let (n, h, dh) = (14, 2, 4);
        let data = |seed: usize| {
            let v: Vec<f32> = (0..n * h * dh)
                .map(|i| ((i * 7 + seed * 13) % 17) as f32 / 17.0 - 0.5)
                .collect();
            Tensor::<B, 3>::from_data(TensorData::new(v, [n, h, dh]), &device)
        };
        let (q, k, v) = (data(1), data(2), data(3));
        // Windows as Qwen2.5-VL orders them: lengths 4, 2, 4, 2, 2 (two batched groups).
        let segments = [(0, 4), (4, 2), (6, 4), (10, 2), (12, 2)];
        let batched = segment_attention(q.clone(), k.clone(), v.clone(), &segments)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let one_by_one: Vec<f32> = segments
            .iter()
            .flat_map(|&(start, len)| {
                let seg = |t: &Tensor<B, 3>| t.clone().narrow(0, start, len);
                segment_attention(seg(&q), seg(&k), seg(&v), &[(0, len)])
                    .into_data()
                    .to_vec::<f32>()
                    .unwrap()
            })
            .collect();
        assert_eq!(batched.len(), one_by_one.len());
        for (a, b) in batched.iter().zip(&one_by_one) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }

    #[test]
    fn test_segments_split_frames_and_images() {
        assert_eq!(
            attention_segments(&[[2, 2, 2], [1, 4, 2]]),
            vec![(0, 4), (4, 4), (8, 8)]
        );
    }
}
