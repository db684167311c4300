//! Qwen2-VL (`model_type = "qwen2_vl"`) and Qwen2.5-VL (`"qwen2_5_vl"`, same decoder, a vision
//! tower with RMSNorm, gated SiLU MLPs and window attention; see [`VisionArch`]): config, vision
//! tower, decoder, M-RoPE indices, image processor, weight loading/saving and LoRA.

mod config;
mod load;
mod lora;
mod model;
mod processor;
mod rope_index;
mod text;
mod vision;

pub use config::{Qwen2VlConfig, TextConfig, VisionArch, VisionConfig};
pub use load::{HfLayout, LoadReport, hf_tensors, load_qwen2_vl, peft_tensors, save_qwen2_vl};
pub use lora::LoraSpec;
pub use model::{
    CompletionStats, ImageEmbeds, LOGPROB_CHUNK_ROWS, Qwen2Vl, Sequence,
    completion_stats_from_hidden,
};
pub use processor::{ImageProcessor, ProcessedImage, resize_bicubic, smart_resize};
pub use rope_index::{RopeIndex, rope_index};
pub use text::{DecoderLayer, Embedding, TextAttention, TextMlp, TextModel};
pub use vision::{
    GridThw, PatchMerger, VisionBlock, VisionMlp, VisionModel, VisionNorm, attention_segments,
    vision_position_ids, window_index,
};
