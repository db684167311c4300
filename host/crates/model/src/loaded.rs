//! One call from a Hugging Face folder to everything training needs: weights, tokenizer, chat
//! template, image processor, config — and back to a folder transformers can load.
//!
//! The family is picked at run time from `config.json` `model_type` ([`family_of`]):
//! [`load_any_model_dir`] returns an [`AnyLoadedModel`] whose [`VlModel`] dispatches every
//! operation the trainer, the scorer and generation use to the family (Qwen2-VL/Qwen2.5-VL or
//! LLaVA), so callers hold one type and no per-family copies of their logic.
//! [`load_model_dir`] keeps returning the Qwen2-VL-typed [`LoadedModel`] for code that needs
//! the concrete Qwen2-VL structs.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

use crate::chat::ChatTokenizer;
use crate::common::kv_cache::KvCache;
use crate::common::params::NamedParam;
use crate::error::{ModelError, Result};
use crate::generate::BatchDecoder;
use crate::llava::processor::{ClipImage, ClipProcessor, ImageTokens};
use crate::llava::{Llava, LlavaConfig, LlavaLayout, load_llava, save_llava};
use crate::qwen2_vl::{
    CompletionStats, GridThw, HfLayout, ImageEmbeds, ImageProcessor, LoadReport, LoraSpec,
    ProcessedImage, Qwen2Vl, Qwen2VlConfig, Sequence, load_qwen2_vl, peft_tensors, save_qwen2_vl,
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
    if family_of(dir)? != Family::Qwen2Vl {
        return Err(ModelError::Config {
            path: dir.join("config.json"),
            field: "model_type".into(),
            message: format!(
                "{:?} is not a Qwen2-VL-family model; load it with `load_any_model_dir`",
                model_type(dir)?
            ),
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
        let merge = self.config.vision.spatial_merge_size;
        let counts: Vec<usize> = images.iter().map(|i| i.num_tokens(merge)).collect();
        self.chat.prompt_ids(question, IMAGE_PAD, &counts)
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

/// Tensors as `(Hugging Face name, shape, f32 values)`, what the safetensors writer takes.
pub type NamedTensors = Vec<(String, Vec<usize>, Vec<f32>)>;

/// A model family vapr implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `qwen2_vl` and `qwen2_5_vl` (one struct, [`Qwen2Vl`]).
    Qwen2Vl,
    /// `llava` (llava-hf layout: CLIP + Llama).
    Llava,
}

/// The `model_type` values [`family_of`] accepts.
pub const SUPPORTED_MODEL_TYPES: &[&str] = &["qwen2_vl", "qwen2_5_vl", "llava"];

/// The family of a model folder, from `config.json` `model_type`; any other type is an error
/// naming the supported ones.
pub fn family_of(dir: &Path) -> Result<Family> {
    let mt = model_type(dir)?;
    match mt.as_str() {
        "qwen2_vl" | "qwen2_5_vl" => Ok(Family::Qwen2Vl),
        "llava" => Ok(Family::Llava),
        _ => Err(ModelError::Config {
            path: dir.join("config.json"),
            field: "model_type".into(),
            message: format!(
                "{mt:?} is not supported (supported: {})",
                SUPPORTED_MODEL_TYPES.join(", ")
            ),
        }),
    }
}

/// A model of any supported family; every method dispatches to the family.
// One model is held at a time; boxing a variant would hide it from burn's Module derive.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum VlModel<B: Backend> {
    Qwen2Vl(Qwen2Vl<B>),
    Llava(Llava<B>),
}

impl<B: Backend> From<Qwen2Vl<B>> for VlModel<B> {
    fn from(m: Qwen2Vl<B>) -> Self {
        Self::Qwen2Vl(m)
    }
}

impl<B: Backend> From<Llava<B>> for VlModel<B> {
    fn from(m: Llava<B>) -> Self {
        Self::Llava(m)
    }
}

/// Key layout of a checkpoint, per family (saving reuses the layout a model was loaded from).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelLayout {
    Qwen2Vl(HfLayout),
    Llava(LlavaLayout),
}

impl ModelLayout {
    /// Hugging Face key of a burn parameter path (`None` for LoRA parameters).
    pub fn hf_name(self, path: &str) -> Option<String> {
        match self {
            Self::Qwen2Vl(l) => l.hf_name(path),
            Self::Llava(l) => l.hf_name(path),
        }
    }

    /// Hugging Face module path of the layer owning a LoRA parameter (PEFT's key stem).
    pub fn hf_module_of_lora(self, path: &str) -> Option<String> {
        match self {
            Self::Qwen2Vl(l) => l.hf_module_of_lora(path),
            Self::Llava(l) => l.hf_module_of_lora(path),
        }
    }
}

/// A preprocessed image of any family.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyImage {
    /// Qwen2-VL patches and their grid.
    Qwen2Vl(ProcessedImage),
    /// CLIP pixels `[3, H, W]`.
    Llava(ClipImage),
}

/// The image processor of a family.
#[derive(Debug, Clone)]
pub enum AnyProcessor {
    Qwen2Vl(ImageProcessor),
    Llava(ClipProcessor),
}

impl AnyProcessor {
    /// Decodes and preprocesses an image file.
    pub fn process_file(&self, path: &Path) -> Result<AnyImage> {
        Ok(match self {
            Self::Qwen2Vl(p) => AnyImage::Qwen2Vl(p.process_file(path)?),
            Self::Llava(p) => AnyImage::Llava(p.process_file(path)?),
        })
    }
}

impl AnyImage {
    /// The image's patch grid `[t, h, w]` (LLaVA: `[1, H/patch, W/patch]`): what a training
    /// run remembers to detect an image that changed on disk.
    pub fn grid(&self, patch_size: usize) -> GridThw {
        match self {
            Self::Qwen2Vl(i) => i.grid,
            Self::Llava(i) => [1, i.height / patch_size.max(1), i.width / patch_size.max(1)],
        }
    }
}

fn family_mismatch(what: &str) -> ModelError {
    ModelError::Input(format!("{what} belongs to a different model family"))
}

impl<B: Backend> VlModel<B> {
    /// The family of the model.
    pub fn family(&self) -> Family {
        match self {
            Self::Qwen2Vl(_) => Family::Qwen2Vl,
            Self::Llava(_) => Family::Llava,
        }
    }

    /// Parameter dtype.
    pub fn dtype(&self) -> DType {
        match self {
            Self::Qwen2Vl(m) => m.dtype(),
            Self::Llava(m) => m.dtype(),
        }
    }

    /// Device of the parameters.
    pub fn device(&self) -> B::Device {
        match self {
            Self::Qwen2Vl(m) => m.device(),
            Self::Llava(m) => m.device(),
        }
    }

    /// Patch size of the vision tower (for [`AnyImage::grid`]).
    pub fn patch_size(&self) -> usize {
        match self {
            Self::Qwen2Vl(m) => m.config.vision.patch_size,
            Self::Llava(m) => m.config.vision.patch_size,
        }
    }

    /// Encodes preprocessed images once (chosen and rejected then share the rows).
    pub fn encode_images(&self, images: &[&AnyImage]) -> Result<ImageEmbeds<B>> {
        let device = self.device();
        match self {
            Self::Qwen2Vl(m) => {
                let dim = m.config.vision.patch_dim();
                let mut values = Vec::new();
                let mut grids = Vec::with_capacity(images.len());
                for img in images {
                    let AnyImage::Qwen2Vl(i) = img else {
                        return Err(family_mismatch("an image"));
                    };
                    values.extend_from_slice(&i.pixel_values);
                    grids.push(i.grid);
                }
                let rows = values.len() / dim;
                let pixels = Tensor::<B, 2>::from_data(
                    TensorData::new(values, [rows, dim]),
                    (&device, DType::F32),
                );
                m.encode_images(pixels, &grids)
            }
            Self::Llava(m) => {
                let mut values = Vec::new();
                let mut size = None;
                for img in images {
                    let AnyImage::Llava(i) = img else {
                        return Err(family_mismatch("an image"));
                    };
                    if size.is_some_and(|s| s != (i.height, i.width)) {
                        return Err(ModelError::Input(format!(
                            "images of one batch differ in size: {:?} and {:?}",
                            size.unwrap_or_default(),
                            (i.height, i.width)
                        )));
                    }
                    size = Some((i.height, i.width));
                    values.extend_from_slice(&i.pixels);
                }
                let (h, w) = size.unwrap_or_default();
                let pixels = Tensor::<B, 4>::from_data(
                    TensorData::new(values, [images.len(), 3, h, w]),
                    (&device, DType::F32),
                );
                m.encode_images(pixels)
            }
        }
    }

    /// Per-sequence completion statistics of a right-padded batch.
    pub fn completion_stats(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<CompletionStats<B>> {
        match self {
            Self::Qwen2Vl(m) => m.completion_stats(seqs, images),
            Self::Llava(m) => m.completion_stats(seqs, images),
        }
    }

    /// Full logits of a right-padded batch, `[B, S, vocab]`.
    pub fn forward_logits(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<Tensor<B, 3>> {
        match self {
            Self::Qwen2Vl(m) => m.forward_logits(seqs, images),
            Self::Llava(m) => m.forward_logits(seqs, images),
        }
    }

    /// Every float parameter as `(Hugging Face name, param)` in `layout`.
    pub fn named_parameters(&self, layout: ModelLayout) -> Result<Vec<(String, NamedParam<B>)>> {
        match (self, layout) {
            (Self::Qwen2Vl(m), ModelLayout::Qwen2Vl(l)) => Ok(m.named_parameters(l)),
            (Self::Llava(m), ModelLayout::Llava(l)) => Ok(m.named_parameters(l)),
            _ => Err(family_mismatch("the layout")),
        }
    }

    /// Marks the vision tower (without the projector/merger) as not trainable.
    pub fn freeze_vision_tower(self) -> Self {
        match self {
            Self::Qwen2Vl(m) => Self::Qwen2Vl(m.freeze_vision_tower()),
            Self::Llava(m) => Self::Llava(m.freeze_vision_tower()),
        }
    }

    /// Marks the projector (Qwen2-VL's PatchMerger, LLaVA's `multi_modal_projector`) as not
    /// trainable.
    pub fn freeze_projector(self) -> Self {
        match self {
            Self::Qwen2Vl(m) => Self::Qwen2Vl(m.freeze_merger()),
            Self::Llava(m) => Self::Llava(m.freeze_projector()),
        }
    }

    /// Marks the decoder and LM head as not trainable.
    pub fn freeze_language_model(self) -> Self {
        match self {
            Self::Qwen2Vl(m) => Self::Qwen2Vl(m.freeze_language_model()),
            Self::Llava(m) => Self::Llava(m.freeze_language_model()),
        }
    }

    /// Freezes the base and adds LoRA adapters; returns the model and the adapted layer count.
    pub fn with_lora(self, spec: &LoraSpec, device: &B::Device) -> (Self, usize) {
        match self {
            Self::Qwen2Vl(m) => {
                let (m, n) = m.with_lora(spec, device);
                (Self::Qwen2Vl(m), n)
            }
            Self::Llava(m) => {
                let (m, n) = m.with_lora(spec, device);
                (Self::Llava(m), n)
            }
        }
    }

    /// Writes the base weights as one safetensors file under `layout`'s names.
    pub fn save_weights(&self, layout: ModelLayout, path: &Path) -> Result<()> {
        match (self, layout) {
            (Self::Qwen2Vl(m), ModelLayout::Qwen2Vl(l)) => save_qwen2_vl(m, l, path),
            (Self::Llava(m), ModelLayout::Llava(l)) => save_llava(m, l, path),
            _ => Err(family_mismatch("the layout")),
        }
    }

    /// LoRA adapters as PEFT tensors `(name, shape, f32 values)`.
    pub fn peft_tensors(&self, layout: ModelLayout) -> Result<NamedTensors> {
        match (self, layout) {
            (Self::Qwen2Vl(m), ModelLayout::Qwen2Vl(l)) => Ok(peft_tensors(m, l)),
            (Self::Llava(m), ModelLayout::Llava(l)) => Ok(crate::llava::peft_tensors(m, l)),
            _ => Err(family_mismatch("the layout")),
        }
    }

    /// Loads the weights in `dir` into a fresh model of the same family and config (a
    /// checkpoint of this model), parameters in `dtype`.
    pub fn reload(&self, dir: &Path, dtype: DType) -> Result<Self> {
        let device = self.device();
        Ok(match self {
            Self::Qwen2Vl(m) => {
                Self::Qwen2Vl(load_qwen2_vl::<B>(dir, &m.config, &device, dtype)?.0)
            }
            Self::Llava(m) => Self::Llava(load_llava::<B>(dir, &m.config, &device, dtype)?.0),
        })
    }
}

impl<B: Backend> BatchDecoder<B> for VlModel<B> {
    type Images = ImageEmbeds<B>;

    fn new_cache(&self) -> KvCache<B> {
        match self {
            Self::Qwen2Vl(m) => BatchDecoder::new_cache(m),
            Self::Llava(m) => BatchDecoder::new_cache(m),
        }
    }

    fn prefill_batch(
        &self,
        prompts: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
        cache: &mut KvCache<B>,
    ) -> Result<Tensor<B, 2>> {
        match self {
            Self::Qwen2Vl(m) => m.prefill_batch(prompts, images, cache),
            Self::Llava(m) => m.prefill_batch(prompts, images, cache),
        }
    }

    fn decode_batch(&self, tokens: &[u32], cache: &mut KvCache<B>) -> Result<Tensor<B, 2>> {
        match self {
            Self::Qwen2Vl(m) => m.decode_batch(tokens, cache),
            Self::Llava(m) => m.decode_batch(tokens, cache),
        }
    }
}

/// How a family turns a prompt's image placeholders into tokens.
#[derive(Debug, Clone)]
pub enum PromptImages {
    /// `<|image_pad|>`, one per merged patch group.
    Qwen2Vl { spatial_merge_size: usize },
    /// `<image>` (or the processor's `image_token`), `LlavaProcessor`'s count; the model
    /// takes exactly `tokens_per_image`.
    Llava {
        tokens: ImageTokens,
        tokens_per_image: usize,
    },
}

/// A model folder of any supported family, loaded for training, scoring or generation.
#[derive(Debug)]
pub struct AnyLoadedModel<B: Backend> {
    pub model: VlModel<B>,
    pub chat: ChatTokenizer,
    pub processor: AnyProcessor,
    pub images: PromptImages,
    /// Key layout of the source checkpoint; saving reuses it.
    pub layout: ModelLayout,
    pub dir: PathBuf,
    pub report: LoadReport,
}

impl<B: Backend> From<LoadedModel<B>> for AnyLoadedModel<B> {
    fn from(lm: LoadedModel<B>) -> Self {
        Self {
            images: PromptImages::Qwen2Vl {
                spatial_merge_size: lm.config.vision.spatial_merge_size,
            },
            model: VlModel::Qwen2Vl(lm.model),
            chat: lm.chat,
            processor: AnyProcessor::Qwen2Vl(lm.processor),
            layout: ModelLayout::Qwen2Vl(lm.layout),
            dir: lm.dir,
            report: lm.report,
        }
    }
}

/// Loads a model folder of any supported family (picked from `config.json` `model_type`) on
/// `device`, parameters cast to `dtype`.
pub fn load_any_model_dir<B: Backend>(
    dir: &Path,
    device: &B::Device,
    dtype: DType,
) -> Result<AnyLoadedModel<B>> {
    match family_of(dir)? {
        Family::Qwen2Vl => Ok(load_model_dir::<B>(dir, device, dtype)?.into()),
        Family::Llava => {
            let config = LlavaConfig::from_file(&dir.join("config.json"))?;
            let chat = ChatTokenizer::from_dir(dir)?;
            let processor = ClipProcessor::from_dir(dir)?;
            let tokens = ImageTokens::from_dir(dir, &processor)?;
            let (model, layout, report) = load_llava::<B>(dir, &config, device, dtype)?;
            Ok(AnyLoadedModel {
                images: PromptImages::Llava {
                    tokens,
                    tokens_per_image: config.tokens_per_image(),
                },
                model: VlModel::Llava(model),
                chat,
                processor: AnyProcessor::Llava(processor),
                layout: ModelLayout::Llava(layout),
                dir: dir.to_path_buf(),
                report,
            })
        }
    }
}

impl<B: Backend> AnyLoadedModel<B> {
    /// Prompt ids: the chat template with one user turn (images, then `question`) and the
    /// generation prompt, each image placeholder expanded to its image's token count,
    /// tokenized with the tokenizer's default special tokens (BOS for Llama tokenizers).
    pub fn prompt_ids(&self, question: &str, images: &[AnyImage]) -> Result<Vec<u32>> {
        match &self.images {
            PromptImages::Qwen2Vl { spatial_merge_size } => {
                let counts = images
                    .iter()
                    .map(|i| match i {
                        AnyImage::Qwen2Vl(i) => Ok(i.num_tokens(*spatial_merge_size)),
                        AnyImage::Llava(_) => Err(family_mismatch("an image")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.chat.prompt_ids(question, IMAGE_PAD, &counts)
            }
            PromptImages::Llava {
                tokens,
                tokens_per_image,
            } => {
                let counts = images
                    .iter()
                    .map(|i| match i {
                        AnyImage::Llava(i) => {
                            let n = tokens.for_image(i);
                            if n == *tokens_per_image {
                                Ok(n)
                            } else {
                                Err(ModelError::Input(format!(
                                    "a {}×{} image gives {n} `{}` tokens, the vision tower \
                                     yields {tokens_per_image} features per image (check \
                                     crop_size in preprocessor_config.json)",
                                    i.height, i.width, tokens.image_token
                                )))
                            }
                        }
                        AnyImage::Qwen2Vl(_) => Err(family_mismatch("an image")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                self.chat.prompt_ids(question, &tokens.image_token, &counts)
            }
        }
    }

    /// Completion ids: the answer without special tokens, then the end-of-turn id.
    pub fn completion_ids(&self, answer: &str) -> Result<Vec<u32>> {
        let mut ids = self.chat.encode(answer, false)?;
        ids.push(self.chat.end_of_turn_id);
        Ok(ids)
    }

    /// Writes a folder transformers can load: `model.safetensors` with the source layout's key
    /// names, plus the source folder's config, tokenizer, template and processor files.
    pub fn save_pretrained(&self, out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|e| ModelError::io(out, e))?;
        self.model
            .save_weights(self.layout, &out.join("model.safetensors"))?;
        copy_side_files(&self.dir, out)
    }

    /// Writes LoRA adapters as PEFT's `adapter_model.safetensors` (f32) into `out`.
    pub fn save_lora_adapters(&self, out: &Path) -> Result<usize> {
        std::fs::create_dir_all(out).map_err(|e| ModelError::io(out, e))?;
        let tensors = self.model.peft_tensors(self.layout)?;
        write_safetensors(
            &out.join("adapter_model.safetensors"),
            &tensors,
            SaveDtype::F32,
        )?;
        Ok(tensors.len())
    }
}
