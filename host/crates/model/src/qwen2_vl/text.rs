//! The Qwen2 text decoder of Qwen2-VL: token embedding, pre-norm blocks with grouped-query
//! attention (q/k/v with bias, o without), M-RoPE, SwiGLU MLP, final RMSNorm.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/modeling_qwen2_vl.py>
//! (`Qwen2VLAttention`, `Qwen2MLP`, `Qwen2VLDecoderLayer`, `Qwen2VLTextModel`).

use burn::module::{Module, Param};
use burn::tensor::activation::silu;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor};

use super::config::TextConfig;
use crate::common::attention::{attention, masked_attention};
use crate::common::kv_cache::{KvCache, LayerCache};
use crate::common::norm::{RmsNorm, RmsNormConfig};
use crate::common::rope::apply_rotary;
use crate::common::{Init, Linear, LinearConfig, lazy_param_init};

/// Token embedding table `[vocab, hidden]` (same layout as Hugging Face, no transpose).
#[derive(Module, Debug)]
pub struct Embedding<B: Backend> {
    pub weight: Param<Tensor<B, 2>>,
}

impl<B: Backend> Embedding<B> {
    /// Shapes: `ids [B, S]` → `[B, S, hidden]`.
    pub fn forward(&self, ids: Tensor<B, 2, Int>) -> Tensor<B, 3> {
        let [b, s] = ids.dims();
        let hidden = self.weight.lazy_shape().dims::<2>()[1];
        self.weight
            .val()
            .select(0, ids.reshape([b * s]))
            .reshape([b, s, hidden])
    }
}

/// Self-attention with grouped-query heads.
#[derive(Module, Debug)]
pub struct TextAttention<B: Backend> {
    pub q_proj: Linear<B>,
    pub k_proj: Linear<B>,
    pub v_proj: Linear<B>,
    pub o_proj: Linear<B>,
    pub num_heads: usize,
    pub num_kv_heads: usize,
}

/// SwiGLU MLP: `down(silu(gate(x)) · up(x))`.
#[derive(Module, Debug)]
pub struct TextMlp<B: Backend> {
    pub gate_proj: Linear<B>,
    pub up_proj: Linear<B>,
    pub down_proj: Linear<B>,
}

/// One decoder layer.
#[derive(Module, Debug)]
pub struct DecoderLayer<B: Backend> {
    pub self_attn: TextAttention<B>,
    pub mlp: TextMlp<B>,
    pub input_layernorm: RmsNorm<B>,
    pub post_attention_layernorm: RmsNorm<B>,
}

/// The decoder stack without the LM head (`model.language_model.*` / `model.*` upstream).
#[derive(Module, Debug)]
pub struct TextModel<B: Backend> {
    pub embed_tokens: Embedding<B>,
    pub layers: Vec<DecoderLayer<B>>,
    pub norm: RmsNorm<B>,
    #[module(skip)]
    pub config: TextConfig,
}

impl TextConfig {
    /// Builds the decoder with lazily initialised parameters.
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> TextModel<B> {
        let h = self.hidden_size;
        let dh = self.head_dim();
        let kv = self.num_key_value_heads * dh;
        let lin = |i, o, bias| LinearConfig::new(i, o, bias).init::<B>(device, dtype);
        let norm = RmsNormConfig {
            size: h,
            eps: self.rms_norm_eps,
        };
        TextModel {
            embed_tokens: Embedding {
                weight: lazy_param_init([self.vocab_size, h], device, dtype, Init::Normal(0.02)),
            },
            layers: (0..self.num_hidden_layers)
                .map(|_| DecoderLayer {
                    self_attn: TextAttention {
                        q_proj: lin(h, self.num_attention_heads * dh, true),
                        k_proj: lin(h, kv, true),
                        v_proj: lin(h, kv, true),
                        o_proj: lin(self.num_attention_heads * dh, h, false),
                        num_heads: self.num_attention_heads,
                        num_kv_heads: self.num_key_value_heads,
                    },
                    mlp: TextMlp {
                        gate_proj: lin(h, self.intermediate_size, false),
                        up_proj: lin(h, self.intermediate_size, false),
                        down_proj: lin(self.intermediate_size, h, false),
                    },
                    input_layernorm: norm.init(device, dtype),
                    post_attention_layernorm: norm.init(device, dtype),
                })
                .collect(),
            norm: norm.init(device, dtype),
            config: self.clone(),
        }
    }
}

impl<B: Backend> TextAttention<B> {
    /// Shapes: `x [B, S, hidden]`, `cos`/`sin [B, 1, S, Dh]` → `[B, S, hidden]`.
    /// With `cache = Some((cache, layer, mask))` the rotated keys and values are appended to
    /// the cache and the queries attend to everything cached before them too, under `mask`
    /// ([`KvCache::step_mask`]; `None`: plain causal is exact).
    fn forward(
        &self,
        x: Tensor<B, 3>,
        cos: Tensor<B, 4>,
        sin: Tensor<B, 4>,
        cache: Option<LayerCache<'_, B>>,
    ) -> Tensor<B, 3> {
        let [b, s, _] = x.dims();
        let heads = |t: Tensor<B, 3>, n: usize| {
            let dh = t.dims()[2] / n;
            t.reshape([b, s, n, dh]).swap_dims(1, 2)
        };
        let q = heads(self.q_proj.forward(x.clone()), self.num_heads);
        let k = heads(self.k_proj.forward(x.clone()), self.num_kv_heads);
        let v = heads(self.v_proj.forward(x), self.num_kv_heads);
        let q = apply_rotary(q, cos.clone(), sin.clone());
        let k = apply_rotary(k, cos, sin);
        let out = match cache {
            None => attention(q, k, v, true),
            Some((cache, layer, mask)) => {
                let past = cache.len();
                let (k, v) = cache.append(layer, k, v);
                match mask {
                    Some(mask) => masked_attention(q, k, v, mask),
                    // Unpadded: causal over a fresh prompt, or one query that sees every key.
                    None => attention(q, k, v, past == 0),
                }
            }
        };
        let [_, h, _, dh] = out.dims();
        self.o_proj
            .forward(out.swap_dims(1, 2).reshape([b, s, h * dh]))
    }
}

impl<B: Backend> TextModel<B> {
    /// Runs the decoder on input embeddings (text embeddings with image rows already
    /// scattered in) and returns the final-normed hidden states.
    ///
    /// Shapes: `embeds [B, S, hidden]`, `cos`/`sin [B, 1, S, head_dim]` (M-RoPE tables in the
    /// embedding dtype) → `[B, S, hidden]`.
    pub fn forward(
        &self,
        embeds: Tensor<B, 3>,
        cos: Tensor<B, 4>,
        sin: Tensor<B, 4>,
    ) -> Tensor<B, 3> {
        self.forward_with_cache(embeds, cos, sin, None)
    }

    /// [`Self::forward`] for incremental decoding: `embeds` are the tokens after the
    /// `cache.len()` cached columns (`cos`/`sin` at their positions; a prefill declares its
    /// rows' padding with [`KvCache::begin`] first); their keys and values are appended to
    /// `cache`, padding columns are masked out. With `None` this is exactly [`Self::forward`].
    pub fn forward_with_cache(
        &self,
        embeds: Tensor<B, 3>,
        cos: Tensor<B, 4>,
        sin: Tensor<B, 4>,
        mut cache: Option<&mut KvCache<B>>,
    ) -> Tensor<B, 3> {
        let new_tokens = embeds.dims()[1];
        let mask = cache
            .as_deref()
            .and_then(|c| c.step_mask(new_tokens, &embeds.device()));
        let mut x = embeds;
        for (i, layer) in self.layers.iter().enumerate() {
            let a = layer.self_attn.forward(
                layer.input_layernorm.forward(x.clone()),
                cos.clone(),
                sin.clone(),
                cache.as_deref_mut().map(|c| (c, i, mask.clone())),
            );
            x = x + a;
            let h = layer.post_attention_layernorm.forward(x.clone());
            let mlp = &layer.mlp;
            let h = mlp
                .down_proj
                .forward(silu(mlp.gate_proj.forward(h.clone())) * mlp.up_proj.forward(h));
            x = x + h;
        }
        if let Some(cache) = cache {
            cache.advance(new_tokens);
        }
        self.norm.forward(x)
    }
}
