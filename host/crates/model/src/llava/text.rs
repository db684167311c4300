//! The Llama decoder of LLaVA (Vicuna for LLaVA-1.5): token embedding, pre-norm layers with
//! (grouped-query) attention, no q/k/v bias, rotate-half RoPE at positions `0..S`, SwiGLU MLP,
//! final RMSNorm. Built from the shared blocks of [`crate::common`].
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/llama/modeling_llama.py>
//! (`LlamaAttention`, `LlamaMLP`, `LlamaDecoderLayer`, `LlamaModel`, `LlamaRotaryEmbedding`).

use burn::module::Module;
use burn::tensor::activation::silu;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use super::config::LlamaConfig;
use crate::common::attention::{attention, masked_attention};
use crate::common::kv_cache::{KvCache, LayerCache};
use crate::common::norm::{RmsNorm, RmsNormConfig};
use crate::common::rope::{RopeTable, apply_rotary, inv_freq, mrope_table};
use crate::common::{Init, Linear, LinearConfig, lazy_param_init};
use crate::qwen2_vl::Embedding;

/// Self-attention with grouped-query heads.
#[derive(Module, Debug)]
pub struct LlamaAttention<B: Backend> {
    pub q_proj: Linear<B>,
    pub k_proj: Linear<B>,
    pub v_proj: Linear<B>,
    pub o_proj: Linear<B>,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
}

/// SwiGLU MLP: `down(silu(gate(x)) · up(x))`.
#[derive(Module, Debug)]
pub struct LlamaMlp<B: Backend> {
    pub gate_proj: Linear<B>,
    pub up_proj: Linear<B>,
    pub down_proj: Linear<B>,
}

/// One decoder layer.
#[derive(Module, Debug)]
pub struct LlamaLayer<B: Backend> {
    pub self_attn: LlamaAttention<B>,
    pub mlp: LlamaMlp<B>,
    pub input_layernorm: RmsNorm<B>,
    pub post_attention_layernorm: RmsNorm<B>,
}

/// `LlamaModel`: the decoder without the LM head.
#[derive(Module, Debug)]
pub struct LlamaModel<B: Backend> {
    pub embed_tokens: Embedding<B>,
    pub layers: Vec<LlamaLayer<B>>,
    pub norm: RmsNorm<B>,
    #[module(skip)]
    pub config: LlamaConfig,
}

impl LlamaConfig {
    /// Builds the decoder with lazily initialised parameters.
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> LlamaModel<B> {
        let h = self.hidden_size;
        let q = self.num_attention_heads * self.head_dim;
        let kv = self.num_key_value_heads * self.head_dim;
        let lin = |i, o, bias| LinearConfig::new(i, o, bias).init::<B>(device, dtype);
        let norm = RmsNormConfig {
            size: h,
            eps: self.rms_norm_eps,
        };
        let (ab, mb) = (self.attention_bias, self.mlp_bias);
        LlamaModel {
            embed_tokens: Embedding {
                weight: lazy_param_init([self.vocab_size, h], device, dtype, Init::Normal(0.02)),
            },
            layers: (0..self.num_hidden_layers)
                .map(|_| LlamaLayer {
                    self_attn: LlamaAttention {
                        q_proj: lin(h, q, ab),
                        k_proj: lin(h, kv, ab),
                        v_proj: lin(h, kv, ab),
                        o_proj: lin(q, h, ab),
                        num_heads: self.num_attention_heads,
                        num_kv_heads: self.num_key_value_heads,
                        head_dim: self.head_dim,
                    },
                    mlp: LlamaMlp {
                        gate_proj: lin(h, self.intermediate_size, mb),
                        up_proj: lin(h, self.intermediate_size, mb),
                        down_proj: lin(self.intermediate_size, h, mb),
                    },
                    input_layernorm: norm.init(device, dtype),
                    post_attention_layernorm: norm.init(device, dtype),
                })
                .collect(),
            norm: norm.init(device, dtype),
            config: self.clone(),
        }
    }

    /// Rotary table of plain 1-D positions (M-RoPE with one section over all frequencies and
    /// equal axes is exactly Llama's RoPE).
    pub fn rope_table(&self, positions: &[i64]) -> RopeTable {
        let p = positions.to_vec();
        mrope_table(
            &[p.clone(), p.clone(), p],
            &inv_freq(self.rope_theta, self.head_dim),
            &[self.head_dim / 2],
        )
    }
}

impl<B: Backend> LlamaAttention<B> {
    /// Shapes: `x [B, S, hidden]`, `cos`/`sin [B, 1, S, Dh]` → `[B, S, hidden]`. With
    /// `cache = Some((cache, layer, mask))` the rotated keys and values are appended to the
    /// cache and the queries attend to everything cached before them, under `mask`
    /// ([`KvCache::step_mask`]; `None`: plain causal attention is exact).
    fn forward(
        &self,
        x: Tensor<B, 3>,
        cos: Tensor<B, 4>,
        sin: Tensor<B, 4>,
        cache: Option<LayerCache<'_, B>>,
    ) -> Tensor<B, 3> {
        let [b, s, _] = x.dims();
        let dh = self.head_dim;
        let heads = |t: Tensor<B, 3>, n: usize| t.reshape([b, s, n, dh]).swap_dims(1, 2);
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
                    None => attention(q, k, v, past == 0),
                }
            }
        };
        self.o_proj
            .forward(out.swap_dims(1, 2).reshape([b, s, self.num_heads * dh]))
    }
}

impl<B: Backend> LlamaModel<B> {
    /// Runs the decoder on input embeddings and returns the final-normed hidden states.
    /// Without a cache the batch is right-padded (causal attention needs no other mask); with
    /// one, `embeds` follow the `cache.len()` cached columns (a prefill declares its rows'
    /// left padding with [`KvCache::begin`] first) and their keys and values are appended.
    ///
    /// Shapes: `embeds [B, S, hidden]`, `cos`/`sin [B, 1, S, head_dim]` → `[B, S, hidden]`.
    pub fn forward(
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
