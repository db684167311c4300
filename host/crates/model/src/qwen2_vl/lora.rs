//! LoRA on Qwen2-VL, PEFT-style: the whole base model is frozen and adapters are added to the
//! linear layers whose module name (last path segment, as PEFT's `target_modules`) is listed.

use burn::module::Module;
use burn::tensor::backend::Backend;

use super::model::Qwen2Vl;
use super::text::{TextAttention, TextMlp};
use super::vision::VisionMlp;
use crate::common::Linear;

/// Which layers get adapters and how big they are.
#[derive(Debug, Clone, PartialEq)]
pub struct LoraSpec {
    pub rank: usize,
    pub alpha: f64,
    /// PEFT `target_modules` names (`q_proj`, `v_proj`, …) or `all-linear` (every linear of
    /// the decoder, and of the vision tower when `vision` is set; never `lm_head`).
    pub targets: Vec<String>,
    /// Also adapt the vision tower's linears (`qkv`, `proj`, `fc1`, `fc2` for Qwen2-VL or
    /// `gate_proj`, `up_proj`, `down_proj` for Qwen2.5-VL, `mlp.0`, `mlp.2`).
    pub vision: bool,
}

impl LoraSpec {
    fn wants(&self, name: &str) -> bool {
        self.targets.iter().any(|t| t == name || t == "all-linear")
    }
}

impl<B: Backend> Qwen2Vl<B> {
    /// Freezes every base parameter and adds adapters as `spec` asks. Returns the model and the
    /// number of adapted layers.
    pub fn with_lora(self, spec: &LoraSpec, device: &B::Device) -> (Self, usize) {
        let mut m = self.no_grad();
        let mut n = 0;
        let mut adapt = |l: Linear<B>, name: &str| {
            if spec.wants(name) {
                n += 1;
                l.with_lora(spec.rank, spec.alpha, device)
            } else {
                l
            }
        };
        m.language_model.layers = m
            .language_model
            .layers
            .into_iter()
            .map(|mut layer| {
                let a = layer.self_attn;
                layer.self_attn = TextAttention {
                    q_proj: adapt(a.q_proj, "q_proj"),
                    k_proj: adapt(a.k_proj, "k_proj"),
                    v_proj: adapt(a.v_proj, "v_proj"),
                    o_proj: adapt(a.o_proj, "o_proj"),
                    num_heads: a.num_heads,
                    num_kv_heads: a.num_kv_heads,
                };
                let f = layer.mlp;
                layer.mlp = TextMlp {
                    gate_proj: adapt(f.gate_proj, "gate_proj"),
                    up_proj: adapt(f.up_proj, "up_proj"),
                    down_proj: adapt(f.down_proj, "down_proj"),
                };
                layer
            })
            .collect();
        if spec.vision {
            m.visual.blocks = m
                .visual
                .blocks
                .into_iter()
                .map(|mut b| {
                    b.attn.qkv = adapt(b.attn.qkv, "qkv");
                    b.attn.proj = adapt(b.attn.proj, "proj");
                    let mlp = b.mlp;
                    b.mlp = VisionMlp {
                        fc1: mlp.fc1.map(|l| adapt(l, "fc1")),
                        fc2: mlp.fc2.map(|l| adapt(l, "fc2")),
                        gate_proj: mlp.gate_proj.map(|l| adapt(l, "gate_proj")),
                        up_proj: mlp.up_proj.map(|l| adapt(l, "up_proj")),
                        down_proj: mlp.down_proj.map(|l| adapt(l, "down_proj")),
                    };
                    b
                })
                .collect();
            m.visual.merger.mlp_0 = adapt(m.visual.merger.mlp_0, "mlp.0");
            m.visual.merger.mlp_2 = adapt(m.visual.merger.mlp_2, "mlp.2");
        }
        (m, n)
    }
}
