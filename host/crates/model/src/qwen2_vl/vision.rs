//! The Qwen2-VL vision tower: patch embedding, 2-D rotary, per-image attention blocks and the
//! PatchMerger that maps 2×2 patch groups to decoder-width embeddings.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/modeling_qwen2_vl.py>
//! (`PatchEmbed`, `VisionAttention`, `Qwen2VLVisionBlock`, `PatchMerger`,
//! `Qwen2VisionTransformerPretrainedModel`) and `vision_utils.py` (`get_vision_position_ids`).

use burn::module::Module;
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use super::config::VisionConfig;
use crate::common::attention::attention;
use crate::common::norm::{LayerNorm, LayerNormConfig};
use crate::common::rope::{apply_rotary, inv_freq, vision_table};
use crate::common::{Linear, LinearConfig};
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

/// `fc1 → QuickGELU → fc2`.
#[derive(Module, Debug)]
pub struct VisionMlp<B: Backend> {
    pub fc1: Linear<B>,
    pub fc2: Linear<B>,
}

/// Pre-norm transformer block of the vision tower.
#[derive(Module, Debug)]
pub struct VisionBlock<B: Backend> {
    pub norm1: LayerNorm<B>,
    pub norm2: LayerNorm<B>,
    pub attn: VisionAttention<B>,
    pub mlp: VisionMlp<B>,
}

/// `ln_q → [N/m², m²·E] → Linear → GELU → Linear`. Upstream the two linears are
/// `mlp.0` and `mlp.2` of an `nn.Sequential`; the loader maps the names.
#[derive(Module, Debug)]
pub struct PatchMerger<B: Backend> {
    pub ln_q: LayerNorm<B>,
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
        let ln = LayerNormConfig { size: e, eps: 1e-6 };
        let merged = e * self.spatial_merge_size * self.spatial_merge_size;
        let lin = |i, o, bias| LinearConfig::new(i, o, bias).init::<B>(device, dtype);
        VisionModel {
            patch_embed: PatchEmbed {
                proj: lin(self.patch_dim(), e, false),
            },
            blocks: (0..self.depth)
                .map(|_| VisionBlock {
                    norm1: ln.init(device, dtype),
                    norm2: ln.init(device, dtype),
                    attn: VisionAttention {
                        qkv: lin(e, 3 * e, true),
                        proj: lin(e, e, true),
                        num_heads: self.num_heads,
                    },
                    mlp: VisionMlp {
                        fc1: lin(e, self.mlp_dim(), true),
                        fc2: lin(self.mlp_dim(), e, true),
                    },
                })
                .collect(),
            merger: PatchMerger {
                ln_q: ln.init(device, dtype),
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
        let outs: Vec<Tensor<B, 2>> = segments
            .iter()
            .map(|&(start, len)| {
                let seg = |t: &Tensor<B, 3>| {
                    t.clone()
                        .narrow(0, start, len)
                        .swap_dims(0, 1)
                        .unsqueeze_dim::<4>(0)
                };
                attention(seg(&q), seg(&k), seg(&v), false)
                    .squeeze_dim::<3>(0)
                    .swap_dims(0, 1)
                    .reshape([len, e])
            })
            .collect();
        self.proj.forward(Tensor::cat(outs, 0))
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
        let table = vision_table(
            &vision_position_ids(grids, m),
            &inv_freq(cfg.rope_theta, dh / 2),
        );
        let (cos, sin) = table.to_tensors::<B, 3>([n, 1, dh], &device, DType::F32);
        let segments = attention_segments(grids);
        for block in &self.blocks {
            let a = block.attn.forward(
                block.norm1.forward(x.clone()),
                cos.clone(),
                sin.clone(),
                &segments,
            );
            x = x + a;
            let h = block.mlp.fc2.forward(quick_gelu(
                block.mlp.fc1.forward(block.norm2.forward(x.clone())),
            ));
            x = x + h;
        }
        let merged = cfg.embed_dim * m * m;
        let y = self.merger.ln_q.forward(x).reshape([n / (m * m), merged]);
        Ok(self
            .merger
            .mlp_2
            .forward(gelu(self.merger.mlp_0.forward(y))))
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
    fn test_segments_split_frames_and_images() {
        assert_eq!(
            attention_segments(&[[2, 2, 2], [1, 4, 2]]),
            vec![(0, 4), (4, 4), (8, 8)]
        );
    }
}
