//! `config.json` of Qwen2-VL and Qwen2.5-VL: a serde mirror that accepts both layouts found in the
//! wild, then resolved into one plain [`Qwen2VlConfig`]. The two families share the decoder; their
//! vision towers differ ([`VisionArch`]), and so does the meaning of `vision_config.hidden_size`
//! (Qwen2-VL: the merger's output width; Qwen2.5-VL: the tower's own width, with the output
//! width in `out_hidden_size`).
//!
//! - **Flat (hub)**: text fields at the top level, `rope_theta`, `rope_scaling.mrope_section`,
//!   `vision_config.in_chans` (e.g. Qwen/Qwen2-VL-2B-Instruct).
//! - **Nested (transformers ≥ 5 `save_pretrained`)**: `text_config` with `rope_parameters`
//!   (`rope_theta`, `mrope_section`), `vision_config.in_channels`.
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/configuration_qwen2_vl.py>,
//! `qwen2_5_vl/configuration_qwen2_5_vl.py`.

use std::path::Path;

use serde::Deserialize;

use crate::error::{ModelError, Result};

/// Text fields; appear at the top level (flat) or under `text_config` (nested).
#[derive(Debug, Clone, Default, Deserialize)]
struct RawText {
    vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    num_key_value_heads: Option<usize>,
    rms_norm_eps: Option<f64>,
    hidden_act: Option<String>,
    rope_theta: Option<f64>,
    rope_scaling: Option<RawRope>,
    rope_parameters: Option<RawRope>,
    tie_word_embeddings: Option<bool>,
    eos_token_id: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RawRope {
    rope_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    rope_theta: Option<f64>,
    mrope_section: Option<Vec<usize>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RawVision {
    depth: Option<usize>,
    embed_dim: Option<usize>,
    hidden_size: Option<usize>,
    hidden_act: Option<String>,
    mlp_ratio: Option<f64>,
    intermediate_size: Option<usize>,
    out_hidden_size: Option<usize>,
    window_size: Option<usize>,
    fullatt_block_indexes: Option<Vec<usize>>,
    num_heads: Option<usize>,
    #[serde(alias = "in_chans")]
    in_channels: Option<usize>,
    patch_size: Option<usize>,
    spatial_merge_size: Option<usize>,
    temporal_patch_size: Option<usize>,
    rope_parameters: Option<RawRope>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    text_config: Option<RawText>,
    vision_config: Option<RawVision>,
    image_token_id: Option<u32>,
    video_token_id: Option<u32>,
    vision_start_token_id: Option<u32>,
    vision_end_token_id: Option<u32>,
    tie_word_embeddings: Option<bool>,
    #[serde(flatten)]
    top: RawText,
}

/// The Qwen2 text decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct TextConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    /// Split of the `head_dim/2` rotary frequencies over (temporal, height, width).
    pub mrope_section: Vec<usize>,
}

impl TextConfig {
    /// `hidden_size / num_attention_heads`.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// Which vision tower a config describes.
#[derive(Debug, Clone, PartialEq)]
pub enum VisionArch {
    /// Qwen2-VL: LayerNorm, `fc1 → QuickGELU → fc2`, full attention in every block, LayerNorm
    /// in the merger.
    Qwen2Vl,
    /// Qwen2.5-VL: RMSNorm, gated SiLU MLP with bias, attention within windows of
    /// `window_size` pixels except in `fullatt_block_indexes`, RMSNorm in the merger.
    Qwen25Vl {
        /// Window side in pixels (112 = 4×4 merged tokens for patch 14, merge 2).
        window_size: usize,
        /// Blocks that attend over the whole image.
        fullatt_block_indexes: Vec<usize>,
    },
}

/// The vision tower.
#[derive(Debug, Clone, PartialEq)]
pub struct VisionConfig {
    pub arch: VisionArch,
    pub depth: usize,
    /// Width of the tower (`embed_dim` for Qwen2-VL, `hidden_size` for Qwen2.5-VL).
    pub embed_dim: usize,
    /// Output width of the merger (= the decoder's hidden size; `out_hidden_size` for
    /// Qwen2.5-VL).
    pub hidden_size: usize,
    /// Hidden width of the block MLP (`embed_dim · mlp_ratio` for Qwen2-VL).
    pub intermediate_size: usize,
    pub num_heads: usize,
    pub in_channels: usize,
    pub patch_size: usize,
    pub spatial_merge_size: usize,
    pub temporal_patch_size: usize,
    pub rope_theta: f64,
}

impl VisionConfig {
    /// Flattened patch length `C · T · P · P` (1176 for Qwen2-VL).
    pub fn patch_dim(&self) -> usize {
        self.in_channels * self.temporal_patch_size * self.patch_size * self.patch_size
    }

    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.embed_dim / self.num_heads
    }

    /// Hidden width of the block MLP.
    pub fn mlp_dim(&self) -> usize {
        self.intermediate_size
    }

    /// Window side in merged tokens (`window_size / merge / patch`), `None` for Qwen2-VL.
    pub fn window_merged(&self) -> Option<usize> {
        match &self.arch {
            VisionArch::Qwen2Vl => None,
            VisionArch::Qwen25Vl { window_size, .. } => {
                Some(window_size / self.spatial_merge_size / self.patch_size)
            }
        }
    }

    /// Whether block `i` attends over whole images (always for Qwen2-VL).
    pub fn is_full_attention(&self, i: usize) -> bool {
        match &self.arch {
            VisionArch::Qwen2Vl => true,
            VisionArch::Qwen25Vl {
                fullatt_block_indexes,
                ..
            } => fullatt_block_indexes.contains(&i),
        }
    }
}

/// A resolved Qwen2-VL configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Qwen2VlConfig {
    pub text: TextConfig,
    pub vision: VisionConfig,
    pub image_token_id: u32,
    pub video_token_id: u32,
    pub vision_start_token_id: u32,
    pub vision_end_token_id: u32,
    /// `lm_head` shares `embed_tokens` (also forced when the files carry no `lm_head.weight`).
    pub tie_word_embeddings: bool,
    /// End-of-sequence ids from the config, if any.
    pub eos_token_ids: Vec<u32>,
}

impl Qwen2VlConfig {
    /// The Hugging Face `model_type` this config describes.
    pub fn model_type(&self) -> &'static str {
        match self.vision.arch {
            VisionArch::Qwen2Vl => "qwen2_vl",
            VisionArch::Qwen25Vl { .. } => "qwen2_5_vl",
        }
    }

    /// Reads and resolves `config.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        Self::from_json_str(&text, path)
    }

    /// Parses `config.json` text; `path` is used in error messages.
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self> {
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| ModelError::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        resolve(raw, path)
    }

    /// Qwen/Qwen2-VL-2B-Instruct.
    pub fn qwen2_vl_2b() -> Self {
        Self::preset(151_936, 1536, 8960, 28, 12, 2, true)
    }

    /// Qwen/Qwen2-VL-7B-Instruct.
    pub fn qwen2_vl_7b() -> Self {
        Self::preset(152_064, 3584, 18_944, 28, 28, 4, false)
    }

    /// Qwen/Qwen2.5-VL-3B-Instruct.
    pub fn qwen2_5_vl_3b() -> Self {
        Self::preset(151_936, 2048, 11_008, 36, 16, 2, true).into_qwen2_5_vl()
    }

    /// Qwen/Qwen2.5-VL-7B-Instruct.
    pub fn qwen2_5_vl_7b() -> Self {
        Self::preset(152_064, 3584, 18_944, 28, 28, 4, false).into_qwen2_5_vl()
    }

    /// The published Qwen2.5-VL vision tower on a preset's decoder.
    fn into_qwen2_5_vl(mut self) -> Self {
        self.vision.arch = VisionArch::Qwen25Vl {
            window_size: 112,
            fullatt_block_indexes: vec![7, 15, 23, 31],
        };
        self.vision.intermediate_size = 3420;
        self
    }

    fn preset(
        vocab: usize,
        hidden: usize,
        inter: usize,
        layers: usize,
        heads: usize,
        kv: usize,
        tie: bool,
    ) -> Self {
        Self {
            text: TextConfig {
                vocab_size: vocab,
                hidden_size: hidden,
                intermediate_size: inter,
                num_hidden_layers: layers,
                num_attention_heads: heads,
                num_key_value_heads: kv,
                rms_norm_eps: 1e-6,
                rope_theta: 1e6,
                mrope_section: vec![16, 24, 24],
            },
            vision: VisionConfig {
                arch: VisionArch::Qwen2Vl,
                depth: 32,
                embed_dim: 1280,
                hidden_size: hidden,
                intermediate_size: 5120,
                num_heads: 16,
                in_channels: 3,
                patch_size: 14,
                spatial_merge_size: 2,
                temporal_patch_size: 2,
                rope_theta: 10_000.0,
            },
            image_token_id: 151_655,
            video_token_id: 151_656,
            vision_start_token_id: 151_652,
            vision_end_token_id: 151_653,
            tie_word_embeddings: tie,
            eos_token_ids: vec![151_645],
        }
    }
}

fn field_err(path: &Path, field: &str, message: &str) -> ModelError {
    ModelError::Config {
        path: path.to_path_buf(),
        field: field.to_string(),
        message: message.to_string(),
    }
}

fn resolve(raw: RawConfig, path: &Path) -> Result<Qwen2VlConfig> {
    let qwen2_5 = match raw.model_type.as_deref() {
        None | Some("qwen2_vl") => false,
        Some("qwen2_5_vl") => true,
        Some(mt) => {
            return Err(field_err(
                path,
                "model_type",
                &format!("expected \"qwen2_vl\" or \"qwen2_5_vl\", found {mt:?}"),
            ));
        }
    };
    // Nested values win over top-level ones; `prefix` names the field as the user wrote it.
    let nested = raw.text_config.clone().unwrap_or_default();
    let prefix = if raw.text_config.is_some() {
        "text_config."
    } else {
        ""
    };
    let top = &raw.top;
    macro_rules! text_field {
        ($name:ident) => {
            nested
                .$name
                .clone()
                .or_else(|| top.$name.clone())
                .ok_or_else(|| {
                    field_err(path, &format!("{prefix}{}", stringify!($name)), "missing")
                })?
        };
    }
    let rope = nested
        .rope_parameters
        .clone()
        .or(nested.rope_scaling.clone())
        .or(top.rope_parameters.clone())
        .or(top.rope_scaling.clone())
        .unwrap_or_default();
    if let Some(kind) = rope.rope_type.as_ref().or(rope.kind.as_ref())
        && !matches!(kind.as_str(), "default" | "mrope")
    {
        return Err(field_err(
            path,
            &format!("{prefix}rope_parameters.rope_type"),
            &format!("only default/mrope rotary is supported, found {kind:?}"),
        ));
    }
    let hidden_act = nested.hidden_act.clone().or(top.hidden_act.clone());
    if let Some(act) = hidden_act
        && act != "silu"
    {
        return Err(field_err(
            path,
            &format!("{prefix}hidden_act"),
            &format!("expected \"silu\", found {act:?}"),
        ));
    }
    let num_attention_heads: usize = text_field!(num_attention_heads);
    let hidden_size: usize = text_field!(hidden_size);
    let text = TextConfig {
        vocab_size: text_field!(vocab_size),
        hidden_size,
        intermediate_size: text_field!(intermediate_size),
        num_hidden_layers: text_field!(num_hidden_layers),
        num_attention_heads,
        num_key_value_heads: nested
            .num_key_value_heads
            .or(top.num_key_value_heads)
            .unwrap_or(num_attention_heads),
        rms_norm_eps: nested.rms_norm_eps.or(top.rms_norm_eps).unwrap_or(1e-6),
        rope_theta: rope
            .rope_theta
            .or(nested.rope_theta)
            .or(top.rope_theta)
            .unwrap_or(1e6),
        mrope_section: rope
            .mrope_section
            .clone()
            .unwrap_or_else(|| vec![16, 24, 24]),
    };
    if !hidden_size.is_multiple_of(num_attention_heads) {
        return Err(field_err(
            path,
            &format!("{prefix}num_attention_heads"),
            &format!("{num_attention_heads} does not divide hidden_size {hidden_size}"),
        ));
    }
    if !text
        .num_attention_heads
        .is_multiple_of(text.num_key_value_heads)
    {
        return Err(field_err(
            path,
            &format!("{prefix}num_key_value_heads"),
            &format!(
                "{} does not divide num_attention_heads {}",
                text.num_key_value_heads, num_attention_heads
            ),
        ));
    }
    let section_sum: usize = text.mrope_section.iter().sum();
    if section_sum * 2 != text.head_dim() {
        return Err(field_err(
            path,
            "rope_scaling.mrope_section",
            &format!(
                "{:?} sums to {section_sum}, expected head_dim/2 = {}",
                text.mrope_section,
                text.head_dim() / 2
            ),
        ));
    }

    let v = raw
        .vision_config
        .clone()
        .ok_or_else(|| field_err(path, "vision_config", "missing"))?;
    let need = |value: Option<usize>, name: &str| {
        value.ok_or_else(|| field_err(path, &format!("vision_config.{name}"), "missing"))
    };
    let act = if qwen2_5 { "silu" } else { "quick_gelu" };
    if let Some(found) = &v.hidden_act
        && found != act
    {
        return Err(field_err(
            path,
            "vision_config.hidden_act",
            &format!("expected {act:?}, found {found:?}"),
        ));
    }
    let common = |arch, embed_dim, hidden_size, intermediate_size| VisionConfig {
        arch,
        depth: 0,
        embed_dim,
        hidden_size,
        intermediate_size,
        num_heads: 0,
        in_channels: v.in_channels.unwrap_or(3),
        patch_size: v.patch_size.unwrap_or(14),
        spatial_merge_size: v.spatial_merge_size.unwrap_or(2),
        temporal_patch_size: v.temporal_patch_size.unwrap_or(2),
        rope_theta: v
            .rope_parameters
            .as_ref()
            .and_then(|r| r.rope_theta)
            .unwrap_or(10_000.0),
    };
    let mut vision = if qwen2_5 {
        // Qwen2.5-VL: `hidden_size` is the tower's width, `out_hidden_size` the merger's.
        let embed_dim = need(v.hidden_size, "hidden_size")?;
        common(
            VisionArch::Qwen25Vl {
                window_size: v.window_size.unwrap_or(112),
                fullatt_block_indexes: v
                    .fullatt_block_indexes
                    .clone()
                    .unwrap_or_else(|| vec![7, 15, 23, 31]),
            },
            embed_dim,
            v.out_hidden_size.unwrap_or(text.hidden_size),
            need(v.intermediate_size, "intermediate_size")?,
        )
    } else {
        let embed_dim = need(v.embed_dim, "embed_dim")?;
        common(
            VisionArch::Qwen2Vl,
            embed_dim,
            v.hidden_size.unwrap_or(text.hidden_size),
            (embed_dim as f64 * v.mlp_ratio.unwrap_or(4.0)) as usize,
        )
    };
    vision.depth = need(v.depth, "depth")?;
    vision.num_heads = need(v.num_heads, "num_heads")?;
    let out_field = if qwen2_5 {
        "vision_config.out_hidden_size"
    } else {
        "vision_config.hidden_size"
    };
    if let VisionArch::Qwen25Vl {
        window_size,
        fullatt_block_indexes,
    } = &vision.arch
    {
        if let Some(&i) = fullatt_block_indexes.iter().find(|&&i| i >= vision.depth) {
            return Err(field_err(
                path,
                "vision_config.fullatt_block_indexes",
                &format!("block {i} does not exist (depth {})", vision.depth),
            ));
        }
        let unit = vision.patch_size * vision.spatial_merge_size;
        if *window_size < unit {
            return Err(field_err(
                path,
                "vision_config.window_size",
                &format!("{window_size} px is smaller than one merged token ({unit} px)"),
            ));
        }
    }
    if vision.hidden_size != text.hidden_size {
        return Err(field_err(
            path,
            out_field,
            &format!(
                "{} differs from the decoder's hidden_size {}",
                vision.hidden_size, text.hidden_size
            ),
        ));
    }
    if !vision.embed_dim.is_multiple_of(vision.num_heads) || !vision.head_dim().is_multiple_of(4) {
        return Err(field_err(
            path,
            "vision_config.num_heads",
            "embed_dim / num_heads must be a whole multiple of 4 (2-D rotary)",
        ));
    }
    let eos = nested.eos_token_id.clone().or(top.eos_token_id.clone());
    let eos_token_ids = match eos {
        Some(serde_json::Value::Number(n)) => {
            n.as_u64().map(|n| vec![n as u32]).unwrap_or_default()
        }
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|n| n.as_u64())
            .map(|n| n as u32)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Qwen2VlConfig {
        tie_word_embeddings: raw
            .tie_word_embeddings
            .or(nested.tie_word_embeddings)
            .or(top.tie_word_embeddings)
            .unwrap_or(false),
        text,
        vision,
        image_token_id: raw.image_token_id.unwrap_or(151_655),
        video_token_id: raw.video_token_id.unwrap_or(151_656),
        vision_start_token_id: raw.vision_start_token_id.unwrap_or(151_652),
        vision_end_token_id: raw.vision_end_token_id.unwrap_or(151_653),
        eos_token_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAT: &str = r#"{"model_type":"qwen2_vl","hidden_size":32,"intermediate_size":64,
        "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":300,
        "rope_theta":1000000.0,"rope_scaling":{"type":"mrope","mrope_section":[1,1,2]},
        "tie_word_embeddings":true,"eos_token_id":5,
        "vision_config":{"depth":2,"embed_dim":32,"hidden_size":32,"num_heads":4,"in_chans":3,"mlp_ratio":4}}"#;

    const NESTED: &str = r#"{"model_type":"qwen2_vl","tie_word_embeddings":true,
        "text_config":{"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,
        "num_attention_heads":4,"num_key_value_heads":2,"vocab_size":300,"eos_token_id":5,
        "rope_parameters":{"rope_type":"default","rope_theta":1000000.0,"mrope_section":[1,1,2]}},
        "vision_config":{"depth":2,"embed_dim":32,"hidden_size":32,"num_heads":4,"in_channels":3,
        "rope_parameters":{"rope_type":"axial","rope_theta":10000.0}}}"#;

    #[test]
    fn test_flat_and_nested_layouts_resolve_identically() {
        let a = Qwen2VlConfig::from_json_str(FLAT, Path::new("flat.json")).unwrap();
        let b = Qwen2VlConfig::from_json_str(NESTED, Path::new("nested.json")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.text.mrope_section, vec![1, 1, 2]);
        assert_eq!(a.vision.patch_dim(), 1176);
        assert!(a.tie_word_embeddings);
    }

    /// The config.json of Qwen/Qwen2-VL-2B-Instruct as published on the hub.
    const HUB_2B: &str = r#"{"architectures":["Qwen2VLForConditionalGeneration"],"attention_dropout":0.0,
        "bos_token_id":151643,"eos_token_id":151645,"vision_start_token_id":151652,
        "vision_end_token_id":151653,"vision_token_id":151654,"image_token_id":151655,
        "video_token_id":151656,"hidden_act":"silu","hidden_size":1536,"initializer_range":0.02,
        "intermediate_size":8960,"max_position_embeddings":32768,"max_window_layers":28,
        "model_type":"qwen2_vl","num_attention_heads":12,"num_hidden_layers":28,
        "num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,"sliding_window":32768,
        "tie_word_embeddings":true,"torch_dtype":"bfloat16","transformers_version":"4.41.2",
        "use_cache":true,"use_sliding_window":false,
        "vision_config":{"depth":32,"embed_dim":1280,"mlp_ratio":4,"num_heads":16,"in_chans":3,
        "hidden_size":1536,"patch_size":14,"spatial_merge_size":2,"spatial_patch_size":14,
        "temporal_patch_size":2},
        "rope_scaling":{"type":"mrope","mrope_section":[16,24,24]},"vocab_size":151936}"#;

    #[test]
    fn test_hub_2b_config_equals_the_named_preset() {
        let c = Qwen2VlConfig::from_json_str(HUB_2B, Path::new("config.json")).unwrap();
        assert_eq!(c, Qwen2VlConfig::qwen2_vl_2b());
        assert_eq!(c.text.head_dim(), 128);
        assert_eq!(c.vision.head_dim(), 80);
    }

    /// The config.json of Qwen/Qwen2.5-VL-3B-Instruct as published on the hub.
    const HUB_2_5_3B: &str = r#"{"architectures":["Qwen2_5_VLForConditionalGeneration"],
        "attention_dropout":0.0,"bos_token_id":151643,"eos_token_id":151645,
        "vision_start_token_id":151652,"vision_end_token_id":151653,"vision_token_id":151654,
        "image_token_id":151655,"video_token_id":151656,"hidden_act":"silu","hidden_size":2048,
        "initializer_range":0.02,"intermediate_size":11008,"max_position_embeddings":128000,
        "max_window_layers":70,"model_type":"qwen2_5_vl","num_attention_heads":16,
        "num_hidden_layers":36,"num_key_value_heads":2,"rms_norm_eps":1e-06,"rope_theta":1000000.0,
        "sliding_window":32768,"tie_word_embeddings":true,"torch_dtype":"bfloat16",
        "transformers_version":"4.41.2","use_cache":true,"use_sliding_window":false,
        "vision_config":{"depth":32,"hidden_act":"silu","hidden_size":1280,"intermediate_size":3420,
        "num_heads":16,"in_chans":3,"out_hidden_size":2048,"patch_size":14,"spatial_merge_size":2,
        "spatial_patch_size":14,"window_size":112,"fullatt_block_indexes":[7,15,23,31],
        "tokens_per_second":2,"temporal_patch_size":2},
        "rope_scaling":{"type":"mrope","mrope_section":[16,24,24]},"vocab_size":151936}"#;

    #[test]
    fn test_hub_qwen2_5_vl_3b_config_equals_the_named_preset() {
        let c = Qwen2VlConfig::from_json_str(HUB_2_5_3B, Path::new("config.json")).unwrap();
        assert_eq!(c, Qwen2VlConfig::qwen2_5_vl_3b());
        assert_eq!(c.model_type(), "qwen2_5_vl");
        assert_eq!(c.vision.embed_dim, 1280);
        assert_eq!(c.vision.hidden_size, 2048);
        assert_eq!(c.vision.window_merged(), Some(4));
        assert!(c.vision.is_full_attention(7) && !c.vision.is_full_attention(6));
    }

    /// transformers 5 `save_pretrained` of a Qwen2.5-VL config (nested, `in_channels`).
    const NESTED_2_5: &str = r#"{"model_type":"qwen2_5_vl","tie_word_embeddings":false,
        "text_config":{"hidden_size":32,"intermediate_size":64,"num_hidden_layers":2,
        "num_attention_heads":4,"num_key_value_heads":2,"vocab_size":300,"rms_norm_eps":1e-06,
        "rope_parameters":{"rope_type":"default","rope_theta":1000000.0,"mrope_section":[1,1,2]}},
        "vision_config":{"depth":3,"fullatt_block_indexes":[1],"hidden_act":"silu","hidden_size":16,
        "in_channels":3,"intermediate_size":24,"model_type":"qwen2_5_vl_vision","num_heads":2,
        "out_hidden_size":32,"patch_size":14,"rope_parameters":{"rope_theta":10000.0,"rope_type":"axial"},
        "spatial_merge_size":2,"temporal_patch_size":2,"tokens_per_second":4,"window_size":56}}"#;

    #[test]
    fn test_nested_qwen2_5_vl_config_resolves_the_window_tower() {
        let c = Qwen2VlConfig::from_json_str(NESTED_2_5, Path::new("c.json")).unwrap();
        assert_eq!(
            c.vision.arch,
            VisionArch::Qwen25Vl {
                window_size: 56,
                fullatt_block_indexes: vec![1]
            }
        );
        assert_eq!((c.vision.embed_dim, c.vision.hidden_size), (16, 32));
        assert_eq!(c.vision.mlp_dim(), 24);
        assert_eq!(c.vision.window_merged(), Some(2));
        // A full-attention index past the last block is a config error naming the field.
        let bad = NESTED_2_5.replace(
            "\"fullatt_block_indexes\":[1]",
            "\"fullatt_block_indexes\":[3]",
        );
        let msg = Qwen2VlConfig::from_json_str(&bad, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("fullatt_block_indexes"), "{msg}");
        // Qwen2-VL's activation in a Qwen2.5-VL tower is rejected.
        let bad = NESTED_2_5.replace("\"hidden_act\":\"silu\"", "\"hidden_act\":\"quick_gelu\"");
        let msg = Qwen2VlConfig::from_json_str(&bad, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("vision_config.hidden_act"), "{msg}");
    }

    #[test]
    fn test_other_model_types_are_rejected_by_name() {
        let text = FLAT.replace("\"qwen2_vl\"", "\"llava\"");
        let msg = Qwen2VlConfig::from_json_str(&text, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("model_type") && msg.contains("llava"), "{msg}");
    }

    #[test]
    fn test_missing_field_error_names_file_and_field() {
        let text = NESTED.replace("\"vocab_size\":300,", "");
        let err = Qwen2VlConfig::from_json_str(&text, Path::new("dir/config.json")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("dir/config.json") && msg.contains("text_config.vocab_size"),
            "{msg}"
        );
    }

    #[test]
    fn test_bad_mrope_section_is_rejected() {
        let text = FLAT.replace("[1,1,2]", "[1,1,1]");
        let msg = Qwen2VlConfig::from_json_str(&text, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("mrope_section"), "{msg}");
    }
}
