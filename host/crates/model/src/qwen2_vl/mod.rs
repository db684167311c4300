//! Qwen2-VL (`model_type = "qwen2_vl"`): config, vision tower, decoder, M-RoPE indices, image
//! processor, weight loading/saving and LoRA.

mod config;
mod load;
mod lora;
mod model;
mod processor;
mod rope_index;
mod text;
mod vision;

pub use config::{Qwen2VlConfig, TextConfig, VisionConfig};
pub use load::{HfLayout, LoadReport, hf_tensors, load_qwen2_vl, peft_tensors, save_qwen2_vl};
pub use lora::LoraSpec;
pub use model::{CompletionStats, ImageEmbeds, LOGPROB_CHUNK_ROWS, Qwen2Vl, Sequence};
pub use processor::{ImageProcessor, ProcessedImage, resize_bicubic, smart_resize};
pub use rope_index::{RopeIndex, rope_index};
pub use text::{DecoderLayer, Embedding, TextAttention, TextMlp, TextModel};
pub use vision::{
    GridThw, PatchMerger, VisionBlock, VisionModel, attention_segments, vision_position_ids,
};
