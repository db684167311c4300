//! Qwen2-VL (vapr-model) behind the trainer's traits: the pair encoder (chat template, image
//! processor), [`PreferenceModel`] (images encoded once per pair, completion log-probs in
//! vocabulary chunks), and checkpoints as Hugging Face folders or PEFT adapters.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use serde::Serialize;
use vapr_model::qwen2_vl::{load_qwen2_vl, peft_tensors, save_qwen2_vl};
use vapr_model::safetensors_io::{SaveDtype, write_safetensors};
use vapr_model::{
    GridThw, HfLayout, ImageProcessor, LoadedModel, LoraSpec, ProcessedImage, Qwen2Vl, Sequence,
};

use crate::batch::PairBatch;
use crate::config::{FreezeSection, LoraSection};
use crate::data::PairEncoder;
use crate::error::BoxError;
use crate::model::{PreferenceModel, SequenceLogps};
use crate::params::matches_any;
use crate::tensors::{assign_mapped, read_safetensors};
use crate::trainer::Checkpointable;

/// Encodes pairs with a loaded folder's chat template, tokenizer and image processor.
pub struct QwenEncoder<'a, B: Backend>(pub &'a LoadedModel<B>);

impl<B: Backend> PairEncoder for QwenEncoder<'_, B> {
    type Image = ProcessedImage;

    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> Result<(Vec<u32>, Option<ProcessedImage>), BoxError> {
        let images = match image {
            Some(p) => vec![self.0.processor.process_file(p)?],
            None => Vec::new(),
        };
        let ids = self.0.prompt_ids(question, &images)?;
        Ok((ids, images.into_iter().next()))
    }

    fn encode_completion(&self, answer: &str) -> Result<Vec<u32>, BoxError> {
        Ok(self.0.completion_ids(answer)?)
    }

    fn pad_id(&self) -> u32 {
        // Padding never reaches the model (it pads internally) and is never a label.
        self.0.chat.end_of_turn_id
    }
}

/// An image as the trainer keeps it between steps: its file and patch grid. Pixels are
/// recomputed per batch, so a large dataset never holds every image's pixels in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    pub path: PathBuf,
    pub grid: GridThw,
}

/// Like [`QwenEncoder`], keeping only an [`ImageRef`] per pair (what training uses).
pub struct QwenLazyEncoder<'a, B: Backend>(pub &'a LoadedModel<B>);

impl<B: Backend> PairEncoder for QwenLazyEncoder<'_, B> {
    type Image = ImageRef;

    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> Result<(Vec<u32>, Option<ImageRef>), BoxError> {
        let (ids, processed) = QwenEncoder(self.0).encode_prompt(question, image)?;
        let image = match (image, processed) {
            (Some(path), Some(p)) => Some(ImageRef {
                path: path.to_path_buf(),
                grid: p.grid,
            }),
            _ => None,
        };
        Ok((ids, image))
    }

    fn encode_completion(&self, answer: &str) -> Result<Vec<u32>, BoxError> {
        QwenEncoder(self.0).encode_completion(answer)
    }

    fn pad_id(&self) -> u32 {
        QwenEncoder(self.0).pad_id()
    }
}

impl<B: Backend> PreferenceModel<B> for Qwen2Vl<B> {
    type Image = ProcessedImage;

    fn sequence_logps(
        &self,
        batch: &PairBatch<ProcessedImage>,
    ) -> Result<SequenceLogps<B>, BoxError> {
        let n = batch.num_pairs();
        // Each pair's image is encoded once; its chosen and rejected rows both point at it.
        let mut slot = vec![None; n];
        let mut images: Vec<&ProcessedImage> = Vec::new();
        for (i, img) in batch.images.iter().enumerate() {
            if let Some(img) = img {
                slot[i] = Some(images.len());
                images.push(img);
            }
        }
        let embeds = if images.is_empty() {
            None
        } else {
            let dim = self.config.vision.patch_dim();
            let values: Vec<f32> = images
                .iter()
                .flat_map(|i| i.pixel_values.iter().copied())
                .collect();
            let rows = values.len() / dim;
            let pixels = Tensor::<B, 2>::from_data(
                TensorData::new(values, [rows, dim]),
                (&PreferenceModel::device(self), DType::F32),
            );
            let grids: Vec<_> = images.iter().map(|i| i.grid).collect();
            Some(self.encode_images(pixels, &grids)?)
        };
        let seqs: Vec<Sequence> = (0..batch.num_sequences())
            .map(|s| {
                let row = s * batch.seq_len;
                Sequence {
                    ids: batch.input_ids[row..row + batch.lengths[s]].to_vec(),
                    images: slot[s % n].into_iter().collect(),
                    completion_start: batch.prompt_lens[s],
                }
            })
            .collect();
        let stats = self.completion_stats(&seqs, embeds.as_ref())?;
        Ok(SequenceLogps {
            logps: stats.logps,
            logit_sums: stats.logits_mean_sum,
        })
    }

    fn device(&self) -> B::Device {
        Qwen2Vl::device(self)
    }
}

/// What a Qwen2-VL checkpoint needs besides the weights.
#[derive(Debug, Clone)]
pub struct QwenSetup {
    pub layout: HfLayout,
    /// The folder the base model came from (side files are copied from it).
    pub source: PathBuf,
    pub dtype: DType,
    pub freeze: FreezeSection,
    pub lora: Option<LoraSection>,
    /// Recomputes the pixels of [`ImageRef`]s per batch.
    pub processor: ImageProcessor,
}

/// Qwen2-VL as the trainer trains it: frozen parts and LoRA applied, checkpoints in HF layouts.
#[derive(Module, Debug)]
pub struct QwenPolicy<B: Backend> {
    pub model: Qwen2Vl<B>,
    #[module(skip)]
    pub setup: QwenSetup,
}

impl<B: Backend> QwenPolicy<B> {
    /// Applies freezing (or LoRA, which freezes the whole base) to a freshly loaded model.
    /// Returns the policy and a one-line summary for the log.
    pub fn prepare(model: Qwen2Vl<B>, setup: QwenSetup) -> (Self, String) {
        let (model, summary) = apply_setup(model, &setup);
        (QwenPolicy { model, setup }, summary)
    }
}

fn apply_setup<B: Backend>(model: Qwen2Vl<B>, setup: &QwenSetup) -> (Qwen2Vl<B>, String) {
    if let Some(l) = &setup.lora {
        let device = model.device();
        let spec = LoraSpec {
            rank: l.rank,
            alpha: l.alpha,
            targets: l.targets.clone(),
            vision: false,
        };
        let (m, n) = model.with_lora(&spec, &device);
        return (
            m,
            format!(
                "LoRA r={} alpha={} on {n} layers, base frozen",
                l.rank, l.alpha
            ),
        );
    }
    let f = &setup.freeze;
    let mut m = model;
    let mut parts = Vec::new();
    if f.vision_tower {
        m = m.freeze_vision_tower();
        parts.push("vision tower");
    }
    if f.projector {
        m = m.freeze_merger();
        parts.push("projector");
    }
    if f.language_model {
        m = m.freeze_language_model();
        parts.push("language model");
    }
    if !f.patterns.is_empty() {
        // Patterns match the Hugging Face name (source layout) or the burn path.
        let layout = setup.layout;
        let patterns = f.patterns.clone();
        let (frozen, _) = crate::params::freeze_where(m, |path| {
            matches_any(&patterns, path)
                || layout
                    .hf_name(path)
                    .is_some_and(|h| matches_any(&patterns, &h))
        });
        m = frozen;
        parts.push("pattern matches");
    }
    let summary = if parts.is_empty() {
        "all parameters trainable".to_string()
    } else {
        format!("frozen: {}", parts.join(", "))
    };
    (m, summary)
}

impl<B: Backend> PreferenceModel<B> for QwenPolicy<B> {
    type Image = ImageRef;

    fn sequence_logps(&self, batch: &PairBatch<ImageRef>) -> Result<SequenceLogps<B>, BoxError> {
        let mut images = Vec::with_capacity(batch.images.len());
        for r in &batch.images {
            images.push(match r {
                None => None,
                Some(r) => {
                    let p = self.setup.processor.process_file(&r.path)?;
                    if p.grid != r.grid {
                        return Err(format!(
                            "{}: patch grid changed since encoding ({:?} -> {:?})",
                            r.path.display(),
                            r.grid,
                            p.grid
                        )
                        .into());
                    }
                    Some(p)
                }
            });
        }
        let processed = PairBatch {
            ids: batch.ids.clone(),
            input_ids: batch.input_ids.clone(),
            label_mask: batch.label_mask.clone(),
            lengths: batch.lengths.clone(),
            prompt_lens: batch.prompt_lens.clone(),
            seq_len: batch.seq_len,
            images,
            has_rejected: batch.has_rejected,
        };
        self.model.sequence_logps(&processed)
    }

    fn device(&self) -> B::Device {
        self.model.device()
    }
}

/// PEFT's `adapter_config.json` (the fields PEFT reads for LoRA).
#[derive(Serialize)]
struct AdapterConfig<'a> {
    peft_type: &'a str,
    task_type: &'a str,
    base_model_name_or_path: String,
    r: usize,
    lora_alpha: f64,
    lora_dropout: f64,
    target_modules: &'a [String],
    bias: &'a str,
    fan_in_fan_out: bool,
    inference_mode: bool,
    modules_to_save: Option<Vec<String>>,
    use_rslora: bool,
    use_dora: bool,
}

const ADAPTER_FILE: &str = "adapter_model.safetensors";

impl<B: Backend> Checkpointable for QwenPolicy<B> {
    fn save_weights(&self, dir: &Path) -> Result<(), BoxError> {
        let s = &self.setup;
        match &s.lora {
            None => {
                save_qwen2_vl(&self.model, s.layout, &dir.join("model.safetensors"))?;
                vapr_model::loaded::copy_side_files(&s.source, dir)?;
            }
            Some(l) => {
                let tensors = peft_tensors(&self.model, s.layout);
                write_safetensors(&dir.join(ADAPTER_FILE), &tensors, SaveDtype::F32)?;
                let cfg = AdapterConfig {
                    peft_type: "LORA",
                    task_type: "CAUSAL_LM",
                    base_model_name_or_path: s.source.display().to_string(),
                    r: l.rank,
                    lora_alpha: l.alpha,
                    lora_dropout: 0.0,
                    target_modules: &l.targets,
                    bias: "none",
                    fan_in_fan_out: false,
                    inference_mode: true,
                    modules_to_save: None,
                    use_rslora: false,
                    use_dora: false,
                };
                std::fs::write(
                    dir.join("adapter_config.json"),
                    serde_json::to_string_pretty(&cfg)?,
                )?;
            }
        }
        Ok(())
    }

    fn load_weights(self, dir: &Path) -> Result<Self, BoxError> {
        let QwenPolicy { model, setup } = self;
        match &setup.lora {
            None => {
                let device = model.device();
                let (loaded, _) = load_qwen2_vl::<B>(dir, &model.config, &device, setup.dtype)?;
                let (model, _) = apply_setup(loaded, &setup);
                Ok(QwenPolicy { model, setup })
            }
            Some(_) => {
                let path = dir.join(ADAPTER_FILE);
                let (tensors, _) = read_safetensors(&path)?;
                let layout = setup.layout;
                let key = |p: &str| {
                    let module = layout.hf_module_of_lora(p)?;
                    let which = if p.ends_with("lora_a") {
                        "lora_A"
                    } else {
                        "lora_B"
                    };
                    Some((format!("base_model.model.{module}.{which}.weight"), true))
                };
                let (model, n) = assign_mapped(model, &tensors, &key, &path)?;
                tracing::debug!(adapters = n, "loaded LoRA adapters");
                Ok(QwenPolicy { model, setup })
            }
        }
    }
}
