//! One call from a Hugging Face folder to everything training needs: weights, tokenizer, chat
//! template, image processor, config — and back to a folder transformers can load.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

use crate::chat::{ChatTokenizer, expand_placeholders};
use crate::error::{ModelError, Result};
use crate::qwen2_vl::{
    GridThw, HfLayout, ImageProcessor, LoadReport, ProcessedImage, Qwen2Vl, Qwen2VlConfig,
    load_qwen2_vl, peft_tensors, save_qwen2_vl,
};
use crate::safetensors_io::{SaveDtype, write_safetensors};

/// The image placeholder token of Qwen2-VL chat templates.
pub const IMAGE_PAD: &str = "<|image_pad|>";

/// A model folder loaded for training or scoring.
#[derive(Debug)]
pub struct LoadedModel<B: Backend> {
    pub model: Qwen2Vl<B>,
    pub chat: ChatTokenizer,
    pub processor: ImageProcessor,
    pub config: Qwen2VlConfig,
    /// Key layout of the source checkpoint; saving reuses it.
    pub layout: HfLayout,
    pub dir: PathBuf,
    pub report: LoadReport,
}

/// `model_type` of a folder's `config.json`.
pub fn model_type(dir: &Path) -> Result<String> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(|e| ModelError::io(&path, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| ModelError::Json {
        path: path.clone(),
        message: e.to_string(),
    })?;
    v.get("model_type")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .ok_or_else(|| ModelError::Config {
            path,
            field: "model_type".into(),
            message: "missing".into(),
        })
}

/// Loads a Hugging Face model folder on `device`, parameters cast to `dtype` (F32, BF16, F16).
pub fn load_model_dir<B: Backend>(
    dir: &Path,
    device: &B::Device,
    dtype: DType,
) -> Result<LoadedModel<B>> {
    let mt = model_type(dir)?;
    if mt != "qwen2_vl" {
        return Err(ModelError::Config {
            path: dir.join("config.json"),
            field: "model_type".into(),
            message: format!("{mt:?} is not supported yet (supported: qwen2_vl)"),
        });
    }
    let mut config = Qwen2VlConfig::from_file(&dir.join("config.json"))?;
    let chat = ChatTokenizer::from_dir(dir)?;
    let pre = dir.join("preprocessor_config.json");
    let processor = if pre.exists() {
        ImageProcessor::from_file(&pre)?
    } else {
        ImageProcessor::default()
    };
    let (model, report) = load_qwen2_vl::<B>(dir, &config, device, dtype)?;
    config.tie_word_embeddings = report.tied;
    Ok(LoadedModel {
        model,
        chat,
        processor,
        config,
        layout: report.layout,
        dir: dir.to_path_buf(),
        report,
    })
}

impl<B: Backend> LoadedModel<B> {
    /// Prompt ids: the chat template with one user turn (images, then `question`) and the
    /// generation prompt, each `<|image_pad|>` expanded to its image's token count, tokenized
    /// with the tokenizer's default special tokens.
    pub fn prompt_ids(&self, question: &str, images: &[ProcessedImage]) -> Result<Vec<u32>> {
        let text = self.chat.render_user_turn(question, images.len())?;
        let merge = self.config.vision.spatial_merge_size;
        let counts: Vec<usize> = images.iter().map(|i| i.num_tokens(merge)).collect();
        let text = expand_placeholders(&text, IMAGE_PAD, &counts)?;
        self.chat.encode(&text, true)
    }

    /// Completion ids: the answer without special tokens, then the end-of-turn id.
    pub fn completion_ids(&self, answer: &str) -> Result<Vec<u32>> {
        let mut ids = self.chat.encode(answer, false)?;
        ids.push(self.chat.end_of_turn_id);
        Ok(ids)
    }

    /// Stacks processed images into the vision tower's input. Shapes: → `[Σ t·h·w, patch_dim]`.
    pub fn pixel_tensor(&self, images: &[ProcessedImage]) -> (Tensor<B, 2>, Vec<GridThw>) {
        let dim = self.config.vision.patch_dim();
        let values: Vec<f32> = images
            .iter()
            .flat_map(|i| i.pixel_values.iter().copied())
            .collect();
        let rows = values.len() / dim;
        let t = Tensor::from_data(
            TensorData::new(values, [rows, dim]),
            (&self.model.device(), DType::F32),
        );
        (t, images.iter().map(|i| i.grid).collect())
    }

    /// Writes a folder transformers can load: `model.safetensors` with the source layout's key
    /// names, plus the source folder's config, tokenizer, template and processor files.
    pub fn save_pretrained(&self, out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|e| ModelError::io(out, e))?;
        save_qwen2_vl(&self.model, self.layout, &out.join("model.safetensors"))?;
        copy_side_files(&self.dir, out)
    }

    /// Writes LoRA adapters as PEFT's `adapter_model.safetensors` (f32) into `out`. The
    /// trainer writes `adapter_config.json` (it knows rank, alpha and targets).
    pub fn save_lora_adapters(&self, out: &Path) -> Result<usize> {
        std::fs::create_dir_all(out).map_err(|e| ModelError::io(out, e))?;
        let tensors = peft_tensors(&self.model, self.layout);
        write_safetensors(
            &out.join("adapter_model.safetensors"),
            &tensors,
            SaveDtype::F32,
        )?;
        Ok(tensors.len())
    }
}

/// Copies the non-weight files of a model folder (config, tokenizer, templates, processor).
pub fn copy_side_files(src: &Path, out: &Path) -> Result<()> {
    const FILES: &[&str] = &[
        "config.json",
        "generation_config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "added_tokens.json",
        "vocab.json",
        "merges.txt",
        "chat_template.json",
        "chat_template.jinja",
        "preprocessor_config.json",
        "processor_config.json",
        "video_preprocessor_config.json",
    ];
    for f in FILES {
        let from = src.join(f);
        if from.exists() && src != out {
            std::fs::copy(&from, out.join(f)).map_err(|e| ModelError::io(&from, e))?;
        }
    }
    Ok(())
}
