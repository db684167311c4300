//! Loading Qwen2-VL / Qwen2.5-VL weights from a Hugging Face folder and saving them back under the same key
//! names. Struct fields mirror Hugging Face names, so the only differences are in [`HfLayout`]:
//!
//! | burn path prefix | flat hub layout | nested (transformers ≥ 5) |
//! |---|---|---|
//! | `visual.` | `visual.` | `model.visual.` |
//! | `language_model.` | `model.` | `model.language_model.` |
//! | `lm_head.` | `lm_head.` | `lm_head.` |
//! | `….merger.mlp_0` / `mlp_2` | `….merger.mlp.0` / `mlp.2` | same |
//!
//! Values: linear weights are stored `[in, out]` here and `[out, in]` upstream (transposed);
//! `visual.patch_embed.proj.weight` is a Conv3d kernel `[E, C, T, P, P]` upstream (flattened
//! to `[E, C·T·P·P]`, then transposed); embeddings and norms are identical.

use std::collections::BTreeSet;
use std::path::Path;

use burn::module::Module;
use burn::tensor::DType;
use burn::tensor::backend::Backend;

use super::config::Qwen2VlConfig;
use super::model::Qwen2Vl;
use crate::common::params::{NamedParam, load_params, named_params};
use crate::error::Result;
use crate::safetensors_io::{IndexSource, SaveDtype, WeightIndex, transpose, write_safetensors};

/// Which of the two Hugging Face key layouts a checkpoint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HfLayout {
    /// `model.layers.*`, `visual.*`, `lm_head.*` (checkpoints published on the hub).
    Flat,
    /// `model.language_model.*`, `model.visual.*`, `lm_head.*` (transformers ≥ 5).
    Nested,
}

const PATCH_EMBED: &str = "visual.patch_embed.proj.weight";

impl HfLayout {
    /// Detects the layout from tensor names.
    pub fn detect<'a>(names: impl IntoIterator<Item = &'a String>) -> Self {
        for n in names {
            if n.starts_with("model.language_model.") || n.starts_with("model.visual.") {
                return Self::Nested;
            }
        }
        Self::Flat
    }

    /// Hugging Face key of a burn parameter path (`None` for LoRA parameters, which are not
    /// part of the base checkpoint).
    pub fn hf_name(self, path: &str) -> Option<String> {
        if path.contains(".lora.") {
            return None;
        }
        let path = path
            .replace(".merger.mlp_0.", ".merger.mlp.0.")
            .replace(".merger.mlp_2.", ".merger.mlp.2.");
        let (nested, flat) = if let Some(rest) = path.strip_prefix("visual.") {
            (format!("model.visual.{rest}"), path.clone())
        } else if let Some(rest) = path.strip_prefix("language_model.") {
            (
                format!("model.language_model.{rest}"),
                format!("model.{rest}"),
            )
        } else {
            (path.clone(), path.clone())
        };
        Some(match self {
            Self::Flat => flat,
            Self::Nested => nested,
        })
    }

    /// Hugging Face module path (no `.weight`) of the layer owning a LoRA parameter, e.g.
    /// `language_model.layers.0.self_attn.q_proj.lora.lora_a` → `model.layers.0.self_attn.q_proj`.
    pub fn hf_module_of_lora(self, path: &str) -> Option<String> {
        let (base, _) = path.split_once(".lora.")?;
        let name = self.hf_name(&format!("{base}.weight"))?;
        Some(name.trim_end_matches(".weight").to_string())
    }
}

/// Is this path a linear weight stored `[in, out]` here and `[out, in]` upstream?
fn is_linear_weight(path: &str, rank: usize) -> bool {
    rank == 2 && path.ends_with(".weight") && !path.ends_with("embed_tokens.weight")
}

/// What loading found, for logs and tests.
#[derive(Debug, Clone)]
pub struct LoadReport {
    pub layout: HfLayout,
    pub files: Vec<std::path::PathBuf>,
    /// Tensors read from the files.
    pub loaded: usize,
    /// Whether `lm_head` is tied to `embed_tokens`.
    pub tied: bool,
    /// Tensors present in the files but deliberately not used (reported, e.g. a duplicate
    /// `lm_head.weight` of a tied checkpoint).
    pub ignored: Vec<String>,
}

/// Loads weights of `config` from `dir` into a new model on `device` in `dtype`.
///
/// Errors: a missing tensor, a shape mismatch (naming file, tensor and both shapes), or tensors
/// in the files the model does not use.
pub fn load_qwen2_vl<B: Backend>(
    dir: &Path,
    config: &Qwen2VlConfig,
    device: &B::Device,
    dtype: DType,
) -> Result<(Qwen2Vl<B>, LoadReport)> {
    let index = WeightIndex::from_dir(dir)?;
    let layout = HfLayout::detect(index.entries.keys());
    let has_head = index.entries.contains_key("lm_head.weight");
    let mut config = config.clone();
    let mut ignored = Vec::new();
    if !has_head {
        config.tie_word_embeddings = true;
    } else if config.tie_word_embeddings {
        tracing::warn!(dir = %dir.display(), "lm_head.weight ignored: tie_word_embeddings is set");
        ignored.push("lm_head.weight".to_string());
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
        layout,
        files: index.files.clone(),
        loaded: source.used.len(),
        tied: config.tie_word_embeddings,
        ignored,
    };
    tracing::info!(dir = %dir.display(), model_type = config.model_type(), layout = ?layout, tensors = report.loaded, tied = report.tied, "loaded weights");
    Ok((model, report))
}

/// The model's base weights as `(Hugging Face name, HF shape, f32 values)`, LoRA excluded.
pub fn hf_tensors<B: Backend>(
    model: &Qwen2Vl<B>,
    layout: HfLayout,
) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    let cfg = &model.config.vision;
    named_params(model)
        .into_iter()
        .filter_map(|p: NamedParam<B>| {
            let name = layout.hf_name(&p.path)?;
            let dims = p.tensor.dims();
            let values = p
                .tensor
                .to_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .expect("f32 data");
            if is_linear_weight(&p.path, dims.len()) {
                let t = transpose(&values, dims[0], dims[1]);
                let shape = if p.path == PATCH_EMBED {
                    let ps = cfg.patch_size;
                    vec![dims[1], cfg.in_channels, cfg.temporal_patch_size, ps, ps]
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

/// Writes the base weights to `path` as safetensors with the Hugging Face key names of
/// `layout`, stored as the model's dtype (bf16/f16 stay so, anything else as f32).
pub fn save_qwen2_vl<B: Backend>(model: &Qwen2Vl<B>, layout: HfLayout, path: &Path) -> Result<()> {
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
    model: &Qwen2Vl<B>,
    layout: HfLayout,
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
            let values = p
                .tensor
                .to_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .expect("f32 data");
            Some((
                format!("base_model.model.{module}.{which}.weight"),
                vec![dims[1], dims[0]],
                transpose(&values, dims[0], dims[1]),
            ))
        })
        .collect()
}

impl<B: Backend> Qwen2Vl<B> {
    /// Every float parameter as `(Hugging Face name, param)` in `layout`; LoRA parameters are
    /// listed under their burn path (`….q_proj.lora.lora_a`).
    pub fn named_parameters(&self, layout: HfLayout) -> Vec<(String, NamedParam<B>)> {
        named_params(self)
            .into_iter()
            .map(|p| (layout.hf_name(&p.path).unwrap_or_else(|| p.path.clone()), p))
            .collect()
    }

    /// Marks the vision tower (without the merger) as not trainable.
    pub fn freeze_vision_tower(mut self) -> Self {
        self.visual.patch_embed = self.visual.patch_embed.no_grad();
        self.visual.blocks = self.visual.blocks.no_grad();
        self
    }

    /// Marks the PatchMerger (the projector) as not trainable.
    pub fn freeze_merger(mut self) -> Self {
        self.visual.merger = self.visual.merger.no_grad();
        self
    }

    /// Marks the decoder and LM head as not trainable.
    pub fn freeze_language_model(mut self) -> Self {
        self.language_model = self.language_model.no_grad();
        self.lm_head = self.lm_head.no_grad();
        self
    }
}
