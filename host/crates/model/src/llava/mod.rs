//! LLaVA-1.5 (`model_type = "llava"`, the `llava-hf` layout): config, CLIP vision tower and
//! projector, Llama decoder, weight loading/saving in both key layouts, LoRA, batched
//! generation ([`crate::generate::BatchDecoder`]).

mod clip;
mod config;
mod generate;
mod load;
mod lora;
mod model;
pub mod processor;
mod text;

pub use clip::{
    ClipAttention, ClipEmbeddings, ClipEncoder, ClipLayer, ClipMlp, ClipVision, Projector,
    image_features,
};
pub use config::{ClipAct, ClipVisionConfig, FeatureSelect, LlamaConfig, LlavaConfig};
pub use load::{LlavaLayout, hf_tensors, load_llava, peft_tensors, save_llava};
pub use model::Llava;
pub use text::{LlamaAttention, LlamaLayer, LlamaMlp, LlamaModel};

/// The image placeholder of LLaVA prompts, expanded to `image_seq_length` copies.
pub const IMAGE_TOKEN: &str = "<image>";
