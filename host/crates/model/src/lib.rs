//! The model room: burn implementations of the supported vision-language model families,
//! weight loading from Hugging Face folders, tokenizers, chat templates and image processors.
//!
//! Supported: **Qwen2-VL** (`model_type = "qwen2_vl"`), **Qwen2.5-VL** (`"qwen2_5_vl"`, a
//! variant of the same struct) and **LLaVA-1.5** in the llava-hf layout (`"llava"`), any size
//! from a config, checked against transformers by the fixtures in `tests/fixtures/` (see
//! `docs/models.md`).
//!
//! Modules: [`qwen2_vl`] (both Qwen families: vision tower, decoder, processor, loading, LoRA),
//! [`llava`] (CLIP tower, projector, Llama decoder, CLIP processor, loading, LoRA), [`common`]
//! (blocks the families share: `Linear` with LoRA, norms, RoPE, attention, KV cache, the exact
//! erf GELU, RGBA → RGB over white, named parameters), [`loaded`] (the family-neutral types).
//!
//! # Any family at run time
//!
//! [`load_any_model_dir`] picks the family from `config.json` `model_type` and returns an
//! [`AnyLoadedModel`]: its [`VlModel`] dispatches encoding, scoring, freezing, LoRA, saving and
//! generation ([`generate::BatchDecoder`]) to the family; [`AnyProcessor`]/[`AnyImage`] do the
//! same for image preprocessing. The trainer and `vapr score` use only these types.
//!
//! # The Qwen2-VL-typed API (generic over `B: Backend`)
//!
//! ```text
//! let lm = load_model_dir::<B>(dir, &device, DType::F32)?;        // LoadedModel<B>
//! // one preference pair:
//! let img = lm.processor.process_file(&image_path)?;                // ProcessedImage
//! let prompt = lm.prompt_ids(question, &[img.clone()])?;            // template + image tokens
//! let chosen = lm.completion_ids(chosen_text)?;                     // answer + end-of-turn id
//! let (pixels, grids) = lm.pixel_tensor(&[img]);
//! let images = lm.model.encode_images(pixels, &grids)?;            // once per pair
//! let seq = |c: &[u32]| Sequence { ids: [prompt.clone(), c.to_vec()].concat(),
//!                                  images: vec![0], completion_start: prompt.len() };
//! let stats = lm.model.completion_stats(&[seq(&chosen), seq(&rejected)], Some(&images))?;
//! stats.logps            // [2] f32, Σ log p over completion tokens, differentiable
//! lm.model.forward_logits(&seqs, Some(&images))?          // [B, S, vocab] when you need them
//! ```
//!
//! - Batches are right-padded internally; `Sequence::images` indexes into the `ImageEmbeds`,
//!   so chosen and rejected share one encoding (encode several pairs' images in one call and
//!   point each sequence at its own).
//! - Training: `Qwen2Vl::freeze_vision_tower`, `freeze_merger`, `freeze_language_model`;
//!   `with_lora(&LoraSpec, &device)` freezes the base and adds PEFT-style adapters.
//! - Names: `Qwen2Vl::named_parameters(layout)` gives `(Hugging Face name, NamedParam)` with the
//!   burn `ParamId` and the tensor (call `.grad(&grads)` on it under autodiff).
//! - Checkpoints: `LoadedModel::save_pretrained(dir)` (original HF key names of the source
//!   layout, transformers-loadable), `save_lora_adapters(dir)` (PEFT `adapter_model.safetensors`),
//!   `peft_tensors`/`hf_tensors` for custom writers.
//! - Generation (eval): `generate(&lm.model, &prompt_seq, Some(&images), &GenerationConfig::greedy(n,
//!   vec![lm.chat.end_of_turn_id]), Some(&lm.chat.tokenizer))` prefills once and decodes with a
//!   [`KvCache`]; `prefill`/`decode_step` are the lower-level steps (batch size 1).
//! - Errors: [`ModelError`], every message names the file and field or tensor.

pub mod chat;
pub mod common;
pub mod error;
pub mod generate;
pub mod llava;
pub mod loaded;
pub mod qwen2_vl;
pub mod safetensors_io;

pub use chat::ChatTokenizer;
pub use common::kv_cache::KvCache;
pub use common::params::{AnyTensor, NamedParam, named_params};
pub use error::{ModelError, Result};
pub use generate::{Generation, GenerationConfig, Sampling, StopReason, generate};
pub use llava::{Llava, LlavaConfig, LlavaLayout};
pub use loaded::{
    AnyImage, AnyLoadedModel, AnyProcessor, Family, IMAGE_PAD, LoadedModel, ModelLayout, VlModel,
    family_of, load_any_model_dir, load_model_dir,
};
pub use qwen2_vl::{
    CompletionStats, GridThw, HfLayout, ImageEmbeds, ImageProcessor, LoraSpec, ProcessedImage,
    Qwen2Vl, Qwen2VlConfig, Sequence,
};
