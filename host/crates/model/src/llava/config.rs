//! `config.json` of LLaVA (`model_type = "llava"`, the `llava-hf` layout): a Llama `text_config`
//! and a CLIP `vision_config`, each falling back to transformers' defaults for the fields the
//! published configs leave out (llava-hf/llava-1.5-7b-hf lists only a handful of them).
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/llava/configuration_llava.py>,
//! `llama/configuration_llama.py`, `clip/configuration_clip.py` (`CLIPVisionConfig`).

use std::path::Path;

use serde::Deserialize;

use crate::error::{ModelError, Result};

#[derive(Debug, Clone, Default, Deserialize)]
struct RawRope {
    rope_type: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    rope_theta: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RawText {
    model_type: Option<String>,
    vocab_size: Option<usize>,
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    num_key_value_heads: Option<usize>,
    head_dim: Option<usize>,
    rms_norm_eps: Option<f64>,
    hidden_act: Option<String>,
    rope_theta: Option<f64>,
    rope_scaling: Option<RawRope>,
    rope_parameters: Option<RawRope>,
    attention_bias: Option<bool>,
    mlp_bias: Option<bool>,
    tie_word_embeddings: Option<bool>,
    eos_token_id: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct RawVision {
    model_type: Option<String>,
    hidden_size: Option<usize>,
    intermediate_size: Option<usize>,
    num_hidden_layers: Option<usize>,
    num_attention_heads: Option<usize>,
    num_channels: Option<usize>,
    image_size: Option<usize>,
    patch_size: Option<usize>,
    layer_norm_eps: Option<f64>,
    hidden_act: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    model_type: Option<String>,
    text_config: Option<RawText>,
    vision_config: Option<RawVision>,
    #[serde(alias = "image_token_id")]
    image_token_index: Option<u32>,
    image_seq_length: Option<usize>,
    projector_hidden_act: Option<String>,
    vision_feature_select_strategy: Option<String>,
    vision_feature_layer: Option<serde_json::Value>,
    multimodal_projector_bias: Option<bool>,
    tie_word_embeddings: Option<bool>,
    vocab_size: Option<usize>,
}

/// The Llama decoder.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    /// Bias on q/k/v/o (`attention_bias`, false for Llama/Vicuna).
    pub attention_bias: bool,
    /// Bias on gate/up/down (`mlp_bias`).
    pub mlp_bias: bool,
}

/// Activation of the CLIP MLP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipAct {
    /// `x·σ(1.702·x)` (every OpenAI CLIP).
    QuickGelu,
    /// Exact erf GELU.
    Gelu,
}

/// The CLIP vision tower.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipVisionConfig {
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_channels: usize,
    pub image_size: usize,
    pub patch_size: usize,
    pub layer_norm_eps: f64,
    pub hidden_act: ClipAct,
}

impl ClipVisionConfig {
    /// Patches per side (`image_size / patch_size`).
    pub fn grid(&self) -> usize {
        self.image_size / self.patch_size
    }

    /// Learned positions: one per patch plus the class token.
    pub fn num_positions(&self) -> usize {
        self.grid() * self.grid() + 1
    }

    /// Flattened patch length `C·P·P` (the Conv2d kernel as a linear input).
    pub fn patch_dim(&self) -> usize {
        self.num_channels * self.patch_size * self.patch_size
    }

    /// Per-head width.
    pub fn head_dim(&self) -> usize {
        self.hidden_size / self.num_attention_heads
    }
}

/// Which CLIP tokens feed the projector (`vision_feature_select_strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureSelect {
    /// Drop the class token (LLaVA-1.5).
    Default,
    /// Keep every token, class token included.
    Full,
}

/// A resolved LLaVA configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct LlavaConfig {
    pub text: LlamaConfig,
    pub vision: ClipVisionConfig,
    /// Id of `<image>` (`image_token_index`).
    pub image_token_id: u32,
    /// `<image>` copies per image (`image_seq_length`, 576 for ViT-L/14-336).
    pub image_seq_length: usize,
    /// Indices into CLIP's hidden states `[embeddings, layer 1, …, layer N]` whose outputs are
    /// concatenated (one entry for the usual `vision_feature_layer = -2`); negative counts from
    /// the end like Python.
    pub vision_feature_layers: Vec<i64>,
    pub select: FeatureSelect,
    pub projector_bias: bool,
    pub tie_word_embeddings: bool,
    pub eos_token_ids: Vec<u32>,
}

impl LlavaConfig {
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

    /// Image tokens one image yields: patches, plus the class token for the `full` strategy.
    pub fn tokens_per_image(&self) -> usize {
        let g = self.vision.grid();
        g * g + usize::from(self.select == FeatureSelect::Full)
    }

    /// Hidden-state indices (0 = embeddings after `pre_layrnorm`) of the feature layers,
    /// resolved against the tower depth.
    pub fn feature_indices(&self) -> Vec<usize> {
        let n = self.vision.num_hidden_layers as i64 + 1;
        self.vision_feature_layers
            .iter()
            .map(|&l| if l < 0 { (n + l) as usize } else { l as usize })
            .collect()
    }

    /// llava-hf/llava-1.5-7b-hf.
    pub fn llava_1_5_7b() -> Self {
        Self::preset(4096, 11_008, 32, 32)
    }

    /// llava-hf/llava-1.5-13b-hf.
    pub fn llava_1_5_13b() -> Self {
        Self::preset(5120, 13_824, 40, 40)
    }

    fn preset(hidden: usize, inter: usize, layers: usize, heads: usize) -> Self {
        Self {
            text: LlamaConfig {
                vocab_size: 32_064,
                hidden_size: hidden,
                intermediate_size: inter,
                num_hidden_layers: layers,
                num_attention_heads: heads,
                num_key_value_heads: heads,
                head_dim: hidden / heads,
                rms_norm_eps: 1e-5,
                rope_theta: 10_000.0,
                attention_bias: false,
                mlp_bias: false,
            },
            vision: ClipVisionConfig {
                hidden_size: 1024,
                intermediate_size: 4096,
                num_hidden_layers: 24,
                num_attention_heads: 16,
                num_channels: 3,
                image_size: 336,
                patch_size: 14,
                layer_norm_eps: 1e-5,
                hidden_act: ClipAct::QuickGelu,
            },
            image_token_id: 32_000,
            image_seq_length: 576,
            vision_feature_layers: vec![-2],
            select: FeatureSelect::Default,
            projector_bias: true,
            tie_word_embeddings: false,
            eos_token_ids: vec![2],
        }
    }
}

fn field_err(path: &Path, field: &str, message: impl Into<String>) -> ModelError {
    ModelError::Config {
        path: path.to_path_buf(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn resolve(raw: RawConfig, path: &Path) -> Result<LlavaConfig> {
    if let Some(mt) = &raw.model_type
        && mt != "llava"
    {
        return Err(field_err(
            path,
            "model_type",
            format!("expected \"llava\", found {mt:?}"),
        ));
    }
    let t = raw.text_config.clone().unwrap_or_default();
    if let Some(mt) = &t.model_type
        && !matches!(mt.as_str(), "llama" | "vicuna")
    {
        return Err(field_err(
            path,
            "text_config.model_type",
            format!("a llava config needs a Llama text model, found {mt:?}"),
        ));
    }
    if let Some(act) = &t.hidden_act
        && act != "silu"
    {
        return Err(field_err(
            path,
            "text_config.hidden_act",
            format!("expected \"silu\", found {act:?}"),
        ));
    }
    let rope = t
        .rope_parameters
        .clone()
        .or(t.rope_scaling.clone())
        .unwrap_or_default();
    if let Some(kind) = rope.rope_type.as_ref().or(rope.kind.as_ref())
        && kind != "default"
    {
        return Err(field_err(
            path,
            "text_config.rope_parameters.rope_type",
            format!("only default rotary is supported, found {kind:?}"),
        ));
    }
    // LlamaConfig defaults for everything the published config leaves out.
    let hidden_size = t.hidden_size.unwrap_or(4096);
    let heads = t.num_attention_heads.unwrap_or(32);
    let text = LlamaConfig {
        vocab_size: t.vocab_size.or(raw.vocab_size).unwrap_or(32_000),
        hidden_size,
        intermediate_size: t.intermediate_size.unwrap_or(11_008),
        num_hidden_layers: t.num_hidden_layers.unwrap_or(32),
        num_attention_heads: heads,
        num_key_value_heads: t.num_key_value_heads.unwrap_or(heads),
        head_dim: t.head_dim.unwrap_or(hidden_size / heads.max(1)),
        rms_norm_eps: t.rms_norm_eps.unwrap_or(1e-6),
        rope_theta: rope.rope_theta.or(t.rope_theta).unwrap_or(10_000.0),
        attention_bias: t.attention_bias.unwrap_or(false),
        mlp_bias: t.mlp_bias.unwrap_or(false),
    };
    if heads == 0 || !heads.is_multiple_of(text.num_key_value_heads.max(1)) {
        return Err(field_err(
            path,
            "text_config.num_key_value_heads",
            format!(
                "{} does not divide num_attention_heads {heads}",
                text.num_key_value_heads
            ),
        ));
    }
    if !text.head_dim.is_multiple_of(2) {
        return Err(field_err(
            path,
            "text_config.head_dim",
            "rotary needs an even head_dim",
        ));
    }

    // `LlavaConfig`'s CLIP defaults (ViT-L/14-336) for what the config leaves out.
    let v = raw.vision_config.clone().unwrap_or_default();
    if let Some(mt) = &v.model_type
        && mt != "clip_vision_model"
    {
        return Err(field_err(
            path,
            "vision_config.model_type",
            format!(
                "a llava config needs a CLIP vision tower (\"clip_vision_model\"), found {mt:?}"
            ),
        ));
    }
    let hidden_act = match v.hidden_act.as_deref().unwrap_or("quick_gelu") {
        "quick_gelu" => ClipAct::QuickGelu,
        "gelu" => ClipAct::Gelu,
        other => {
            return Err(field_err(
                path,
                "vision_config.hidden_act",
                format!("expected \"quick_gelu\" or \"gelu\", found {other:?}"),
            ));
        }
    };
    let vision = ClipVisionConfig {
        hidden_size: v.hidden_size.unwrap_or(1024),
        intermediate_size: v.intermediate_size.unwrap_or(4096),
        num_hidden_layers: v.num_hidden_layers.unwrap_or(24),
        num_attention_heads: v.num_attention_heads.unwrap_or(16),
        num_channels: v.num_channels.unwrap_or(3),
        image_size: v.image_size.unwrap_or(336),
        patch_size: v.patch_size.unwrap_or(14),
        layer_norm_eps: v.layer_norm_eps.unwrap_or(1e-5),
        hidden_act,
    };
    if vision.patch_size == 0 || !vision.image_size.is_multiple_of(vision.patch_size) {
        return Err(field_err(
            path,
            "vision_config.patch_size",
            format!(
                "{} does not divide image_size {}",
                vision.patch_size, vision.image_size
            ),
        ));
    }
    if vision.num_attention_heads == 0
        || !vision
            .hidden_size
            .is_multiple_of(vision.num_attention_heads)
    {
        return Err(field_err(
            path,
            "vision_config.num_attention_heads",
            "must divide vision_config.hidden_size",
        ));
    }
    if let Some(act) = &raw.projector_hidden_act
        && act != "gelu"
    {
        return Err(field_err(
            path,
            "projector_hidden_act",
            format!("expected \"gelu\", found {act:?}"),
        ));
    }
    let select = match raw
        .vision_feature_select_strategy
        .as_deref()
        .unwrap_or("default")
    {
        "default" => FeatureSelect::Default,
        "full" => FeatureSelect::Full,
        other => {
            return Err(field_err(
                path,
                "vision_feature_select_strategy",
                format!("expected \"default\" or \"full\", found {other:?}"),
            ));
        }
    };
    let layers: Vec<i64> = match &raw.vision_feature_layer {
        None => vec![-2],
        Some(serde_json::Value::Number(n)) => n.as_i64().into_iter().collect(),
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|n| n.as_i64()).collect(),
        Some(_) => Vec::new(),
    };
    let depth = vision.num_hidden_layers as i64;
    if layers.is_empty() || layers.iter().any(|&l| l < -(depth + 1) || l > depth) {
        return Err(field_err(
            path,
            "vision_feature_layer",
            format!(
                "{:?} is not a layer index in -{}..={depth}",
                raw.vision_feature_layer,
                depth + 1
            ),
        ));
    }
    let eos_token_ids = match &t.eos_token_id {
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
    let mut cfg = LlavaConfig {
        text,
        vision,
        image_token_id: raw.image_token_index.unwrap_or(32_000),
        image_seq_length: raw.image_seq_length.unwrap_or(576),
        vision_feature_layers: layers,
        select,
        projector_bias: raw.multimodal_projector_bias.unwrap_or(true),
        tie_word_embeddings: raw
            .tie_word_embeddings
            .or(t.tie_word_embeddings)
            .unwrap_or(false),
        eos_token_ids,
    };
    if cfg.image_seq_length != cfg.tokens_per_image() {
        // The processor expands `<image>` from the patch grid; the config value is advisory.
        tracing::warn!(
            config = %path.display(),
            image_seq_length = cfg.image_seq_length,
            from_grid = cfg.tokens_per_image(),
            "image_seq_length differs from the vision tower's token count; using the latter"
        );
        cfg.image_seq_length = cfg.tokens_per_image();
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// config.json of llava-hf/llava-1.5-7b-hf as published (most fields left to defaults).
    const HUB_7B: &str = r#"{"architectures":["LlavaForConditionalGeneration"],"ignore_index":-100,
        "image_token_index":32000,"model_type":"llava","pad_token_id":32001,
        "projector_hidden_act":"gelu","text_config":{"_name_or_path":"lmsys/vicuna-7b-v1.5",
        "architectures":["LlamaForCausalLM"],"max_position_embeddings":4096,"model_type":"llama",
        "rms_norm_eps":1e-05,"torch_dtype":"float16","vocab_size":32064},
        "tie_word_embeddings":false,"torch_dtype":"float16","transformers_version":"4.36.0.dev0",
        "vision_config":{"hidden_size":1024,"image_size":336,"intermediate_size":4096,
        "model_type":"clip_vision_model","num_attention_heads":16,"num_hidden_layers":24,
        "patch_size":14,"projection_dim":768,"vocab_size":32000},"vision_feature_layer":-2,
        "vision_feature_select_strategy":"default","vocab_size":32064}"#;

    #[test]
    fn test_hub_7b_config_resolves_to_the_preset_with_transformers_defaults() {
        let mut c = LlavaConfig::from_json_str(HUB_7B, Path::new("config.json")).unwrap();
        c.eos_token_ids = vec![2];
        assert_eq!(c, LlavaConfig::llava_1_5_7b());
        assert_eq!(c.tokens_per_image(), 576);
        assert_eq!(c.feature_indices(), vec![23]);
    }

    #[test]
    fn test_unsupported_values_name_the_field() {
        let bad = HUB_7B.replace(
            "\"vision_feature_select_strategy\":\"default\"",
            "\"vision_feature_select_strategy\":\"cls\"",
        );
        let msg = LlavaConfig::from_json_str(&bad, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("vision_feature_select_strategy") && msg.contains("c.json"),
            "{msg}"
        );
        let bad = HUB_7B.replace(
            "\"vision_feature_layer\":-2",
            "\"vision_feature_layer\":-40",
        );
        let msg = LlavaConfig::from_json_str(&bad, Path::new("c.json"))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("vision_feature_layer"), "{msg}");
    }
}
