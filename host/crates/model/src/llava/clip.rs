//! The CLIP vision tower of LLaVA and its two-layer GELU projector.
//!
//! CLIP ViT: the Conv2d patch embedding (as a bias-free linear over flattened `C·P·P` patches),
//! a learned class token, learned absolute positions, `pre_layrnorm`, pre-norm encoder layers
//! (full bidirectional attention, QuickGELU MLP). LLaVA reads the hidden state of
//! `vision_feature_layer` (−2: the second-to-last layer's output), drops the class token under
//! the `default` strategy and projects each patch to the decoder width. `post_layernorm` is
//! loaded and saved (it is in every checkpoint) but LLaVA never uses it.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/clip/modeling_clip.py>
//! (`CLIPVisionEmbeddings`, `CLIPAttention`, `CLIPMLP`, `CLIPEncoderLayer`,
//! `CLIPVisionTransformer`) and `llava/modeling_llava.py` (`LlavaMultiModalProjector`,
//! `LlavaModel.get_image_features`).

use burn::module::{Module, Param};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use super::config::{ClipAct, ClipVisionConfig, FeatureSelect, LlavaConfig};
use crate::common::activation::exact_gelu;
use crate::common::attention::attention;
use crate::common::norm::{LayerNorm, LayerNormConfig};
use crate::common::{Init, Linear, LinearConfig, lazy_param_init};
use crate::error::{ModelError, Result};
use crate::qwen2_vl::Embedding;

/// Class token, patch embedding and learned positions.
#[derive(Module, Debug)]
pub struct ClipEmbeddings<B: Backend> {
    /// `[E]`.
    pub class_embedding: Param<Tensor<B, 1>>,
    /// `[C·P·P, E]`; upstream a Conv2d kernel `[E, C, P, P]` without bias.
    pub patch_embedding: Linear<B>,
    /// `[positions, E]`, position 0 is the class token.
    pub position_embedding: Embedding<B>,
}

/// Multi-head self-attention with separate q/k/v projections, all with bias.
#[derive(Module, Debug)]
pub struct ClipAttention<B: Backend> {
    pub q_proj: Linear<B>,
    pub k_proj: Linear<B>,
    pub v_proj: Linear<B>,
    pub out_proj: Linear<B>,
    pub num_heads: usize,
}

/// `fc1 → QuickGELU → fc2`.
#[derive(Module, Debug)]
pub struct ClipMlp<B: Backend> {
    pub fc1: Linear<B>,
    pub fc2: Linear<B>,
    #[module(skip)]
    pub act: ClipAct,
}

/// Pre-norm encoder layer.
#[derive(Module, Debug)]
pub struct ClipLayer<B: Backend> {
    pub self_attn: ClipAttention<B>,
    pub layer_norm1: LayerNorm<B>,
    pub mlp: ClipMlp<B>,
    pub layer_norm2: LayerNorm<B>,
}

/// The encoder stack.
#[derive(Module, Debug)]
pub struct ClipEncoder<B: Backend> {
    pub layers: Vec<ClipLayer<B>>,
}

/// `CLIPVisionTransformer` (`vision_tower.vision_model.*` upstream).
#[derive(Module, Debug)]
pub struct ClipVision<B: Backend> {
    pub embeddings: ClipEmbeddings<B>,
    pub pre_layrnorm: LayerNorm<B>,
    pub encoder: ClipEncoder<B>,
    /// Unused by LLaVA; kept so checkpoints round-trip.
    pub post_layernorm: LayerNorm<B>,
    #[module(skip)]
    pub config: ClipVisionConfig,
}

/// `linear_1 → GELU (erf) → linear_2`.
#[derive(Module, Debug)]
pub struct Projector<B: Backend> {
    pub linear_1: Linear<B>,
    pub linear_2: Linear<B>,
}

impl ClipVisionConfig {
    /// Builds the tower with lazily initialised parameters.
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> ClipVision<B> {
        let e = self.hidden_size;
        let ln = LayerNormConfig {
            size: e,
            eps: self.layer_norm_eps,
        };
        let lin = |i, o, bias| LinearConfig::new(i, o, bias).init::<B>(device, dtype);
        ClipVision {
            embeddings: ClipEmbeddings {
                class_embedding: lazy_param_init([e], device, dtype, Init::Normal(0.02)),
                patch_embedding: lin(self.patch_dim(), e, false),
                position_embedding: Embedding {
                    weight: lazy_param_init(
                        [self.num_positions(), e],
                        device,
                        dtype,
                        Init::Normal(0.02),
                    ),
                },
            },
            pre_layrnorm: ln.init(device, dtype),
            encoder: ClipEncoder {
                layers: (0..self.num_hidden_layers)
                    .map(|_| ClipLayer {
                        self_attn: ClipAttention {
                            q_proj: lin(e, e, true),
                            k_proj: lin(e, e, true),
                            v_proj: lin(e, e, true),
                            out_proj: lin(e, e, true),
                            num_heads: self.num_attention_heads,
                        },
                        layer_norm1: ln.init(device, dtype),
                        mlp: ClipMlp {
                            fc1: lin(e, self.intermediate_size, true),
                            fc2: lin(self.intermediate_size, e, true),
                            act: self.hidden_act,
                        },
                        layer_norm2: ln.init(device, dtype),
                    })
                    .collect(),
            },
            post_layernorm: ln.init(device, dtype),
            config: self.clone(),
        }
    }
}

impl LlavaConfig {
    /// Builds the projector (`vision width × feature layers → hidden → hidden`).
    pub fn init_projector<B: Backend>(&self, device: &B::Device, dtype: DType) -> Projector<B> {
        let d_in = self.vision.hidden_size * self.vision_feature_layers.len();
        let h = self.text.hidden_size;
        Projector {
            linear_1: LinearConfig::new(d_in, h, self.projector_bias).init(device, dtype),
            linear_2: LinearConfig::new(h, h, self.projector_bias).init(device, dtype),
        }
    }
}

impl<B: Backend> ClipAttention<B> {
    /// Shapes: `x [N, T, E]` → `[N, T, E]` (no mask: every token sees every token).
    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let [n, t, e] = x.dims();
        let h = self.num_heads;
        let heads = |y: Tensor<B, 3>| y.reshape([n, t, h, e / h]).swap_dims(1, 2);
        let q = heads(self.q_proj.forward(x.clone()));
        let k = heads(self.k_proj.forward(x.clone()));
        let v = heads(self.v_proj.forward(x));
        let out = attention(q, k, v, false).swap_dims(1, 2).reshape([n, t, e]);
        self.out_proj.forward(out)
    }
}

impl<B: Backend> ClipMlp<B> {
    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let y = self.fc1.forward(x);
        let y = match self.act {
            ClipAct::QuickGelu => y.clone() * sigmoid(y.mul_scalar(1.702)),
            ClipAct::Gelu => gelu(y),
        };
        self.fc2.forward(y)
    }
}

impl<B: Backend> ClipLayer<B> {
    fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        let x = x.clone() + self.self_attn.forward(self.layer_norm1.forward(x));
        x.clone() + self.mlp.forward(self.layer_norm2.forward(x))
    }
}

impl<B: Backend> ClipVision<B> {
    /// Hidden states at the requested indices (0 = embeddings after `pre_layrnorm`, `i` =
    /// output of layer `i`), running only as many layers as the deepest index needs.
    ///
    /// Shapes: `pixels [N, C, H, W]` with `H = W = image_size` → each `[N, 1 + G², E]`.
    pub fn hidden_states_at(
        &self,
        pixels: Tensor<B, 4>,
        indices: &[usize],
    ) -> Result<Vec<Tensor<B, 3>>> {
        let cfg = &self.config;
        let [n, c, h, w] = pixels.dims();
        if c != cfg.num_channels || h != cfg.image_size || w != cfg.image_size {
            return Err(ModelError::Input(format!(
                "pixel_values are [{n}, {c}, {h}, {w}], the CLIP tower takes [N, {}, {}, {}]",
                cfg.num_channels, cfg.image_size, cfg.image_size
            )));
        }
        let p = cfg.patch_size;
        let g = cfg.grid();
        let e = cfg.hidden_size;
        let dtype = self.embeddings.patch_embedding.weight.val().dtype();
        // Non-overlapping P×P patches in row-major order, each flattened as (c, ky, kx) like
        // the Conv2d kernel.
        let patches = pixels
            .cast(dtype)
            .reshape([n, c, g, p, g, p])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([n, g * g, c * p * p]);
        let patches = self.embeddings.patch_embedding.forward(patches);
        let cls = self
            .embeddings
            .class_embedding
            .val()
            .reshape([1, 1, e])
            .expand([n, 1, e]);
        let pos = self
            .embeddings
            .position_embedding
            .weight
            .val()
            .unsqueeze_dim::<3>(0);
        let mut x = self
            .pre_layrnorm
            .forward(Tensor::cat(vec![cls, patches], 1) + pos);
        let deepest = indices.iter().copied().max().unwrap_or(0);
        let mut out: Vec<Option<Tensor<B, 3>>> = vec![None; indices.len()];
        for depth in 0..=deepest {
            if depth > 0 {
                x = self.encoder.layers[depth - 1].forward(x);
            }
            for (slot, &i) in out.iter_mut().zip(indices) {
                if i == depth {
                    *slot = Some(x.clone());
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|t| t.expect("every index <= deepest"))
            .collect())
    }
}

impl<B: Backend> Projector<B> {
    /// Shapes: `[..., d_in]` → `[..., hidden]`.
    pub fn forward(&self, x: Tensor<B, 3>) -> Tensor<B, 3> {
        self.linear_2.forward(exact_gelu(self.linear_1.forward(x)))
    }
}

/// LLaVA's image features: the selected CLIP hidden states (class token dropped under the
/// `default` strategy), concatenated over feature layers and projected.
///
/// Shapes: `pixels [N, C, S, S]` → `[N, tokens_per_image, hidden]`.
pub fn image_features<B: Backend>(
    tower: &ClipVision<B>,
    projector: &Projector<B>,
    config: &LlavaConfig,
    pixels: Tensor<B, 4>,
) -> Result<Tensor<B, 3>> {
    let states = tower.hidden_states_at(pixels, &config.feature_indices())?;
    let selected: Vec<Tensor<B, 3>> = states
        .into_iter()
        .map(|s| match config.select {
            FeatureSelect::Default => {
                let t = s.dims()[1];
                s.narrow(1, 1, t - 1)
            }
            FeatureSelect::Full => s,
        })
        .collect();
    Ok(projector.forward(Tensor::cat(selected, 2)))
}
