//! Loading LLaVA weights from a `llava-hf` folder and saving them back under the same names.
//! Struct fields mirror Hugging Face names; only the prefixes differ between the layouts:
//!
//! | burn path prefix | published (llava-hf on the hub) | recent `save_pretrained` |
//! |---|---|---|
//! | `language_model.` | `language_model.model.` | `model.language_model.` |
//! | `lm_head.` | `language_model.lm_head.` | `lm_head.` |
//! | `vision_tower.` | `vision_tower.vision_model.` | `model.vision_tower.vision_model.` |
//! | `multi_modal_projector.` | `multi_modal_projector.` | `model.multi_modal_projector.` |
//!
//! transformers 5 keeps CLIP's tower without the `vision_model.` wrapper in memory; a folder
//! written with those names (`model.vision_tower.embeddings.*`) loads too, and saves back so.
//!
//! Values: linear weights are `[in, out]` here and `[out, in]` upstream (transposed); the
//! patch embedding is a Conv2d kernel `[E, C, P, P]` upstream (flattened, transposed);
//! embeddings, the class token and norms are identical.

use std::collections::BTreeSet;
use std::path::Path;

use burn::module::Module;
use burn::tensor::DType;
use burn::tensor::backend::Backend;

use super::config::LlavaConfig;
use super::model::Llava;
use crate::common::params::{NamedParam, load_params, named_params};
use crate::error::Result;
use crate::qwen2_vl::{HfLayout, LoadReport};
use crate::safetensors_io::{IndexSource, SaveDtype, WeightIndex, transpose, write_safetensors};

const PATCH_EMBED: &str = "vision_tower.embeddings.patch_embedding.weight";
/// A buffer some older CLIP checkpoints carry; not a parameter.
const POSITION_IDS: &str = "embeddings.position_ids";

/// Key layout of a LLaVA checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlavaLayout {
    /// [`HfLayout::Flat`]: the published names; [`HfLayout::Nested`]: `model.*` (recent saves).
    pub names: HfLayout,
    /// Whether CLIP tensors sit under `vision_model.` (always in published checkpoints).
    pub clip_wrapper: bool,
}

impl LlavaLayout {
    /// The published llava-hf layout.
    pub const PUBLISHED: Self = Self {
        names: HfLayout::Flat,
        clip_wrapper: true,
    };
    /// The layout transformers 4.5x `save_pretrained` writes.
    pub const RECENT: Self = Self {
        names: HfLayout::Nested,
        clip_wrapper: true,
    };

    /// Detects the layout from tensor names.
    pub fn detect<'a>(names: impl IntoIterator<Item = &'a String> + Clone) -> Self {
        let nested = names.clone().into_iter().any(|n| {
            n.starts_with("model.language_model.") || n.starts_with("model.vision_tower.")
        });
        let clip_wrapper = !names
            .into_iter()
            .any(|n| n.contains("vision_tower.embeddings.") || n.contains("vision_tower.encoder."));
        Self {
            names: if nested {
                HfLayout::Nested
            } else {
                HfLayout::Flat
            },
            clip_wrapper,
        }
    }

    /// Hugging Face key of a burn parameter path (`None` for LoRA parameters).
    pub fn hf_name(self, path: &str) -> Option<String> {
        if path.contains(".lora.") {
            return None;
        }
        let nested = self.names == HfLayout::Nested;
        let model = if nested { "model." } else { "" };
        Some(if let Some(rest) = path.strip_prefix("vision_tower.") {
            let wrap = if self.clip_wrapper {
                "vision_model."
            } else {
                ""
            };
            format!("{model}vision_tower.{wrap}{rest}")
        } else if let Some(rest) = path.strip_prefix("multi_modal_projector.") {
            format!("{model}multi_modal_projector.{rest}")
        } else if let Some(rest) = path.strip_prefix("language_model.") {
            if nested {
                format!("model.language_model.{rest}")
            } else {
                format!("language_model.model.{rest}")
            }
        } else if let Some(rest) = path.strip_prefix("lm_head.") {
            if nested {
                format!("lm_head.{rest}")
            } else {
                format!("language_model.lm_head.{rest}")
            }
        } else {
            path.to_string()
        })
    }

    /// Hugging Face module path of the layer owning a LoRA parameter, e.g.
    /// `language_model.layers.0.self_attn.q_proj.lora.lora_a` →
    /// `language_model.model.layers.0.self_attn.q_proj` (published layout).
    pub fn hf_module_of_lora(self, path: &str) -> Option<String> {
        let (base, _) = path.split_once(".lora.")?;
        let name = self.hf_name(&format!("{base}.weight"))?;
        Some(name.trim_end_matches(".weight").to_string())
    }

    /// The lm_head key in this layout.
    fn lm_head(self) -> String {
        self.hf_name("lm_head.weight").expect("not a LoRA path")
    }
}

/// Is this path a linear weight stored `[in, out]` here and `[out, in]` upstream?
fn is_linear_weight(path: &str, rank: usize) -> bool {
    rank == 2
        && path.ends_with(".weight")
        && !path.ends_with("embed_tokens.weight")
        && !path.ends_with("position_embedding.weight")
}

/// Loads the weights of `config` from `dir` into a new model on `device` in `dtype`.
///
/// Errors: a missing tensor, a shape mismatch (naming file, tensor and both shapes), or tensors
/// in the files the model does not use. CLIP's `position_ids` buffer is ignored and reported.
pub fn load_llava<B: Backend>(
    dir: &Path,
    config: &LlavaConfig,
    device: &B::Device,
    dtype: DType,
) -> Result<(Llava<B>, LlavaLayout, LoadReport)> {
    let index = WeightIndex::from_dir(dir)?;
    let layout = LlavaLayout::detect(index.entries.keys());
    let head = layout.lm_head();
    let mut config = config.clone();
    let mut ignored: Vec<String> = index
        .entries
        .keys()
        .filter(|k| k.ends_with(POSITION_IDS))
        .cloned()
        .collect();
    if !index.entries.contains_key(&head) {
        config.tie_word_embeddings = true;
    } else if config.tie_word_embeddings {
        tracing::warn!(dir = %dir.display(), "{head} ignored: tie_word_embeddings is set");
        ignored.push(head);
    }
    let model = config.init::<B>(device, dtype);
    let mut source = IndexSource {
        index: &index,
        dir,
        hf_name: |path: &str| layout.hf_name(path),
        is_linear: is_linear_weight,
        flattened: PATCH_EMBED,
        used: BTreeSet::new(),
    };
    let model = load_params(model, &mut source, dtype)?;
    source.check_all_used(&ignored)?;
    let report = LoadReport {
        layout: layout.names,
        files: index.files.clone(),
        loaded: source.used.len(),
        tied: config.tie_word_embeddings,
        ignored,
    };
    tracing::info!(dir = %dir.display(), layout = ?layout, tensors = report.loaded, tied = report.tied, "loaded LLaVA weights");
    Ok((model, layout, report))
}

fn f32_values<B: Backend>(p: &NamedParam<B>) -> Vec<f32> {
    p.tensor
        .to_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 data")
}

/// The base weights as `(Hugging Face name, HF shape, f32 values)`, LoRA excluded.
pub fn hf_tensors<B: Backend>(
    model: &Llava<B>,
    layout: LlavaLayout,
) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let v = &model.config.vision;
    named_params(model)
        .into_iter()
        .filter_map(|p| {
            let name = layout.hf_name(&p.path)?;
            let dims = p.tensor.dims();
            let values = f32_values(&p);
            if is_linear_weight(&p.path, dims.len()) {
                let t = transpose(&values, dims[0], dims[1]);
                let shape = if p.path == PATCH_EMBED {
                    vec![dims[1], v.num_channels, v.patch_size, v.patch_size]
                } else {
                    vec![dims[1], dims[0]]
                };
                Some((name, shape, t))
            } else {
                Some((name, dims, values))
            }
        })
        .collect()
}

/// Writes the base weights to `path` (one safetensors file) under `layout`'s names, in the
/// model's dtype (bf16/f16 stay so, anything else as f32).
pub fn save_llava<B: Backend>(model: &Llava<B>, layout: LlavaLayout, path: &Path) -> Result<()> {
    let dtype = match model.dtype() {
        DType::BF16 => SaveDtype::BF16,
        DType::F16 => SaveDtype::F16,
        _ => SaveDtype::F32,
    };
    write_safetensors(path, &hf_tensors(model, layout), dtype)
}

/// LoRA adapters in PEFT's layout: `base_model.model.<module>.lora_A.weight` `[r, in]` and
/// `….lora_B.weight` `[out, r]`, f32.
pub fn peft_tensors<B: Backend>(
    model: &Llava<B>,
    layout: LlavaLayout,
) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    named_params(model)
        .into_iter()
        .filter_map(|p| {
            let module = layout.hf_module_of_lora(&p.path)?;
            let which = if p.path.ends_with("lora_a") {
                "lora_A"
            } else {
                "lora_B"
            };
            let dims = p.tensor.dims();
            let values = f32_values(&p);
            Some((
                format!("base_model.model.{module}.{which}.weight"),
                vec![dims[1], dims[0]],
                transpose(&values, dims[0], dims[1]),
            ))
        })
        .collect()
}

impl<B: Backend> Llava<B> {
    /// Every float parameter as `(Hugging Face name, param)` in `layout`; LoRA parameters are
    /// listed under their burn path (`….q_proj.lora.lora_a`).
    pub fn named_parameters(&self, layout: LlavaLayout) -> Vec<(String, NamedParam<B>)> {
        named_params(self)
            .into_iter()
            .map(|p| (layout.hf_name(&p.path).unwrap_or_else(|| p.path.clone()), p))
            .collect()
    }

    /// Marks the CLIP tower as not trainable.
    pub fn freeze_vision_tower(mut self) -> Self {
        self.vision_tower = self.vision_tower.no_grad();
        self
    }

    /// Marks the projector as not trainable.
    pub fn freeze_projector(mut self) -> Self {
        self.multi_modal_projector = self.multi_modal_projector.no_grad();
        self
    }

    /// Marks the decoder and LM head as not trainable.
    pub fn freeze_language_model(mut self) -> Self {
        self.language_model = self.language_model.no_grad();
        self.lm_head = self.lm_head.no_grad();
        self
    }
}
