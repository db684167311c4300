//! A Qwen2-VL model folder from scratch: the architecture of the real checkpoints at a tiny
//! size (`config.json` in the hub's flat layout), an image processor config with a small pixel
//! budget, the trained tokenizer, and seeded random weights in `model.safetensors`. The folder
//! is then loaded by the same `load_model_dir` that loads Qwen/Qwen2-VL-2B-Instruct.

use std::path::Path;

use anyhow::{Context, Result};
use burn::backend::NdArray;
use burn::tensor::DType;
use serde_json::json;
use tokenizers::Tokenizer;
use vapr_model::qwen2_vl::{HfLayout, Qwen2VlConfig, hf_tensors};
use vapr_model::safetensors_io::{SaveDtype, write_safetensors};
use vapr_text::SeededRng;

use super::scale::ModelSize;
use super::tokenizer::{special_id, write_tokenizer_files};

/// Standard deviation of the normal init of matrices (transformers' `initializer_range`).
pub const INIT_STD: f64 = 0.02;

/// `mrope_section` for a head of `head_dim`: the (temporal, height, width) split of its
/// `head_dim / 2` frequencies in Qwen2-VL's 2:3:3 proportion (16/24/24 at head_dim 128).
pub fn mrope_section(head_dim: usize) -> [usize; 3] {
    let half = head_dim / 2;
    let t = half / 4;
    let h = (half - t) / 2;
    [t, h, half - t - h]
}

/// `config.json` of a Qwen2-VL of `size` over the tokenizer's vocabulary.
pub fn config_json(size: &ModelSize, tok: &Tokenizer) -> Result<serde_json::Value> {
    let head_dim = size.hidden / size.heads;
    Ok(json!({
        "architectures": ["Qwen2VLForConditionalGeneration"],
        "model_type": "qwen2_vl",
        "attention_dropout": 0.0,
        "bos_token_id": special_id(tok, "<|endoftext|>")?,
        "eos_token_id": special_id(tok, "<|im_end|>")?,
        "vision_start_token_id": special_id(tok, "<|vision_start|>")?,
        "vision_end_token_id": special_id(tok, "<|vision_end|>")?,
        "vision_token_id": special_id(tok, "<|vision_pad|>")?,
        "image_token_id": special_id(tok, "<|image_pad|>")?,
        "video_token_id": special_id(tok, "<|video_pad|>")?,
        "hidden_act": "silu",
        "hidden_size": size.hidden,
        "initializer_range": INIT_STD,
        "intermediate_size": size.intermediate,
        "max_position_embeddings": 32768,
        "max_window_layers": size.layers,
        "num_attention_heads": size.heads,
        "num_hidden_layers": size.layers,
        "num_key_value_heads": size.kv_heads,
        "rms_norm_eps": 1e-6,
        "rope_theta": 1_000_000.0,
        "rope_scaling": {"type": "mrope", "mrope_section": mrope_section(head_dim)},
        "sliding_window": 32768,
        "tie_word_embeddings": true,
        "torch_dtype": "float32",
        "use_cache": true,
        "use_sliding_window": false,
        "vocab_size": tok.get_vocab_size(true),
        "vision_config": {
            "depth": size.vision_depth,
            "embed_dim": size.vision_dim,
            "hidden_act": "quick_gelu",
            "mlp_ratio": 4,
            "num_heads": size.vision_heads,
            "in_chans": 3,
            "hidden_size": size.hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "spatial_patch_size": 14,
            "temporal_patch_size": 2,
        },
    }))
}

/// `preprocessor_config.json`: Qwen2-VL's processor with `min_pixels = max_pixels =
/// image_side²`, so a rendered scene is never resized and gives `(side/28)²` tokens.
pub fn preprocessor_json(image_side: u32) -> serde_json::Value {
    let pixels = image_side as u64 * image_side as u64;
    json!({
        "min_pixels": pixels,
        "max_pixels": pixels,
        "patch_size": 14,
        "temporal_patch_size": 2,
        "merge_size": 2,
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "image_processor_type": "Qwen2VLImageProcessor",
        "processor_class": "Qwen2VLProcessor",
    })
}

/// Seeded random weights for `config` as `(Hugging Face name, shape, values)`: matrices and
/// embeddings ~ N(0, [`INIT_STD`]²), biases 0, norm scales 1 (transformers' `_init_weights`).
/// Drawn from [`SeededRng`], not burn's process-global RNG, so the bytes depend on the seed only.
pub fn random_weights(config: &Qwen2VlConfig, seed: u64) -> Vec<(String, Vec<usize>, Vec<f32>)> {
    // Names and shapes come from the model code itself (lazily initialised, values discarded).
    let model = config.init::<NdArray<f32>>(&Default::default(), DType::F32);
    let mut tensors = hf_tensors(&model, HfLayout::Flat);
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rng = SeededRng::new(seed);
    for (name, shape, values) in &mut tensors {
        if shape.len() == 1 {
            let fill = if name.ends_with("bias") { 0.0 } else { 1.0 };
            values.iter_mut().for_each(|v| *v = fill);
        } else {
            values
                .iter_mut()
                .for_each(|v| *v = (normal(&mut rng) * INIT_STD) as f32);
        }
    }
    tensors
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut SeededRng) -> f64 {
    let u1 = rng.unit().max(1e-12);
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Writes the whole folder: tokenizer files, `config.json`, `preprocessor_config.json`,
/// `generation_config.json` and seeded random `model.safetensors`.
pub fn write_scratch_model(
    dir: &Path,
    size: &ModelSize,
    tok: &Tokenizer,
    image_side: u32,
    seed: u64,
) -> Result<Qwen2VlConfig> {
    write_tokenizer_files(tok, dir)?;
    let write = |name: &str, value: &serde_json::Value| -> Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(value)? + "\n")
            .with_context(|| format!("writing {}", path.display()))
    };
    let config_value = config_json(size, tok)?;
    write("config.json", &config_value)?;
    write("preprocessor_config.json", &preprocessor_json(image_side))?;
    write(
        "generation_config.json",
        &json!({
            "bos_token_id": special_id(tok, "<|endoftext|>")?,
            "eos_token_id": [special_id(tok, "<|im_end|>")?, special_id(tok, "<|endoftext|>")?],
            "pad_token_id": special_id(tok, "<|endoftext|>")?,
            "do_sample": false,
        }),
    )?;
    let config_path = dir.join("config.json");
    let config = Qwen2VlConfig::from_file(&config_path)
        .with_context(|| format!("reading back {}", config_path.display()))?;
    let weights = random_weights(&config, seed);
    let path = dir.join("model.safetensors");
    write_safetensors(&path, &weights, SaveDtype::F32)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(config)
}
