//! LoRA on LLaVA, PEFT-style: the base is frozen and adapters go on the linear layers whose
//! module name (the last path segment, PEFT's `target_modules`) is listed — the Llama decoder's
//! `q_proj`…`down_proj`, and with `vision` set also CLIP's (`q_proj`, `k_proj`, `v_proj`,
//! `out_proj`, `fc1`, `fc2`) and the projector's `linear_1`/`linear_2`. Never `lm_head`.

use burn::module::Module;
use burn::tensor::backend::Backend;

use super::model::Llava;
use crate::common::Linear;
use crate::qwen2_vl::LoraSpec;

impl<B: Backend> Llava<B> {
    /// Freezes every base parameter and adds adapters as `spec` asks. Returns the model and the
    /// number of adapted layers.
    pub fn with_lora(self, spec: &LoraSpec, device: &B::Device) -> (Self, usize) {
        let mut m = self.no_grad();
        let mut n = 0;
        let mut adapt = |l: Linear<B>, name: &str| {
            if spec.targets.iter().any(|t| t == name || t == "all-linear") {
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
                let a = &mut layer.self_attn;
                a.q_proj = adapt(a.q_proj.clone(), "q_proj");
                a.k_proj = adapt(a.k_proj.clone(), "k_proj");
                a.v_proj = adapt(a.v_proj.clone(), "v_proj");
                a.o_proj = adapt(a.o_proj.clone(), "o_proj");
                let f = &mut layer.mlp;
                f.gate_proj = adapt(f.gate_proj.clone(), "gate_proj");
                f.up_proj = adapt(f.up_proj.clone(), "up_proj");
                f.down_proj = adapt(f.down_proj.clone(), "down_proj");
                layer
            })
            .collect();
        if spec.vision {
            m.vision_tower.encoder.layers = m
                .vision_tower
                .encoder
                .layers
                .into_iter()
                .map(|mut layer| {
                    let a = &mut layer.self_attn;
                    a.q_proj = adapt(a.q_proj.clone(), "q_proj");
                    a.k_proj = adapt(a.k_proj.clone(), "k_proj");
                    a.v_proj = adapt(a.v_proj.clone(), "v_proj");
                    a.out_proj = adapt(a.out_proj.clone(), "out_proj");
                    layer.mlp.fc1 = adapt(layer.mlp.fc1.clone(), "fc1");
                    layer.mlp.fc2 = adapt(layer.mlp.fc2.clone(), "fc2");
                    layer
                })
                .collect();
            let p = &mut m.multi_modal_projector;
            p.linear_1 = adapt(p.linear_1.clone(), "linear_1");
            p.linear_2 = adapt(p.linear_2.clone(), "linear_2");
        }
        (m, n)
    }
}
