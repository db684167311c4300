//! Every vision-language family of vapr-model behind the trainer's traits, through one type:
//! [`VlModel`] dispatches to the family (Qwen2-VL / Qwen2.5-VL, LLaVA), so the encoders, the
//! policy and its checkpoints below exist once, not per family.
//!
//! - [`VlmEncoder`] / [`VlmLazyEncoder`]: pairs → prompt and completion ids with the folder's
//!   chat template, tokenizer and image processor (eager: processed pixels; lazy: an
//!   [`ImageRef`], pixels recomputed per batch so a large dataset never sits in memory).
//! - [`PreferenceModel`] for [`VlModel`] (images encoded once per pair, completion log-probs in
//!   vocabulary chunks) and for [`VlmPolicy`] (the trained model: freezing or LoRA applied,
//!   checkpoints as Hugging Face folders in the source key layout or PEFT adapters).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::DType;
use burn::tensor::backend::Backend;
use serde::Serialize;
use vapr_model::{
    AnyImage, AnyLoadedModel, AnyProcessor, Family, GridThw, LoraSpec, ModelLayout, Sequence,
    VlModel,
};

use crate::batch::PairBatch;
use crate::config::{FreezeSection, LoraSection};
use crate::data::PairEncoder;
use crate::error::BoxError;
use crate::model::{PreferenceModel, SequenceLogps};
use crate::params::{freeze_where, matches_any};
use crate::tensors::{HostTensor, assign_mapped, read_safetensors};
use crate::trainer::Checkpointable;

/// Encodes pairs with a loaded folder's chat template, tokenizer and image processor, keeping
/// the processed image.
pub struct VlmEncoder<'a, B: Backend>(pub &'a AnyLoadedModel<B>);

impl<B: Backend> PairEncoder for VlmEncoder<'_, B> {
    type Image = AnyImage;

    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> Result<(Vec<u32>, Option<AnyImage>), BoxError> {
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

/// Like [`VlmEncoder`], keeping only an [`ImageRef`] per pair (what training uses).
pub struct VlmLazyEncoder<'a, B: Backend>(pub &'a AnyLoadedModel<B>);

impl<B: Backend> PairEncoder for VlmLazyEncoder<'_, B> {
    type Image = ImageRef;

    fn encode_prompt(
        &self,
        question: &str,
        image: Option<&Path>,
    ) -> Result<(Vec<u32>, Option<ImageRef>), BoxError> {
        let (ids, processed) = VlmEncoder(self.0).encode_prompt(question, image)?;
        let patch = self.0.model.patch_size();
        let image = match (image, processed) {
            (Some(path), Some(p)) => Some(ImageRef {
                path: path.to_path_buf(),
                grid: p.grid(patch),
            }),
            _ => None,
        };
        Ok((ids, image))
    }

    fn encode_completion(&self, answer: &str) -> Result<Vec<u32>, BoxError> {
        VlmEncoder(self.0).encode_completion(answer)
    }

    fn pad_id(&self) -> u32 {
        VlmEncoder(self.0).pad_id()
    }
}

impl<B: Backend> PreferenceModel<B> for VlModel<B> {
    type Image = AnyImage;

    fn sequence_logps(&self, batch: &PairBatch<AnyImage>) -> Result<SequenceLogps<B>, BoxError> {
        let n = batch.num_pairs();
        // Each pair's image is encoded once; its chosen and rejected rows both point at it.
        let mut slot = vec![None; n];
        let mut images: Vec<&AnyImage> = Vec::new();
        for (i, img) in batch.images.iter().enumerate() {
            if let Some(img) = img {
                slot[i] = Some(images.len());
                images.push(img);
            }
        }
        let embeds = if images.is_empty() {
            None
        } else {
            Some(self.encode_images(&images)?)
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
        VlModel::device(self)
    }
}

/// What a checkpoint needs besides the weights.
#[derive(Debug, Clone)]
pub struct PolicySetup {
    pub layout: ModelLayout,
    /// The folder the base model came from (side files are copied from it).
    pub source: PathBuf,
    pub dtype: DType,
    pub freeze: FreezeSection,
    pub lora: Option<LoraSection>,
    /// Recomputes the pixels of [`ImageRef`]s per batch.
    pub processor: AnyProcessor,
}

impl PolicySetup {
    /// The setup of a loaded folder (its layout, source and processor).
    pub fn of<B: Backend>(
        loaded: &AnyLoadedModel<B>,
        dtype: DType,
        freeze: FreezeSection,
        lora: Option<LoraSection>,
    ) -> Self {
        Self {
            layout: loaded.layout,
            source: loaded.dir.clone(),
            dtype,
            freeze,
            lora,
            processor: loaded.processor.clone(),
        }
    }
}

/// A model of any family as the trainer trains it: frozen parts and LoRA applied,
/// checkpoints in the source's Hugging Face layout.
#[derive(Module, Debug)]
pub struct VlmPolicy<B: Backend> {
    pub model: VlModel<B>,
    #[module(skip)]
    pub setup: PolicySetup,
}

impl<B: Backend> VlmPolicy<B> {
    /// Applies freezing (or LoRA, which freezes the whole base) to a freshly loaded model.
    /// Returns the policy and a one-line summary for the log.
    pub fn prepare(model: impl Into<VlModel<B>>, setup: impl Into<PolicySetup>) -> (Self, String) {
        let setup = setup.into();
        let (model, summary) = apply_setup(model.into(), &setup);
        (VlmPolicy { model, setup }, summary)
    }
}

/// Runs `f` on the family's own module, so parameter paths are the family's (`language_model.…`),
/// not prefixed by the enum variant.
fn map_inner<B: Backend, E>(
    model: VlModel<B>,
    f: impl FnOnce(InnerModel<B>) -> Result<InnerModel<B>, E>,
) -> Result<VlModel<B>, E> {
    Ok(match model {
        VlModel::Qwen2Vl(m) => match f(InnerModel::Qwen2Vl(m))? {
            InnerModel::Qwen2Vl(m) => VlModel::Qwen2Vl(m),
            InnerModel::Llava(m) => VlModel::Llava(m),
        },
        VlModel::Llava(m) => match f(InnerModel::Llava(m))? {
            InnerModel::Qwen2Vl(m) => VlModel::Qwen2Vl(m),
            InnerModel::Llava(m) => VlModel::Llava(m),
        },
    })
}

/// A family's module taken out of [`VlModel`] (see [`map_inner`]).
#[allow(clippy::large_enum_variant)] // moved through once, never stored
enum InnerModel<B: Backend> {
    Qwen2Vl(vapr_model::Qwen2Vl<B>),
    Llava(vapr_model::Llava<B>),
}

fn apply_setup<B: Backend>(model: VlModel<B>, setup: &PolicySetup) -> (VlModel<B>, String) {
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
        m = m.freeze_projector();
        parts.push("projector");
    }
    if f.language_model {
        m = m.freeze_language_model();
        parts.push("language model");
    }
    if !f.patterns.is_empty() {
        // Patterns match the Hugging Face name (source layout) or the family's burn path.
        let layout = setup.layout;
        let select = |path: &str| {
            matches_any(&f.patterns, path)
                || layout
                    .hf_name(path)
                    .is_some_and(|h| matches_any(&f.patterns, &h))
        };
        m = map_inner(m, |inner| {
            Ok::<_, std::convert::Infallible>(match inner {
                InnerModel::Qwen2Vl(q) => InnerModel::Qwen2Vl(freeze_where(q, select).0),
                InnerModel::Llava(q) => InnerModel::Llava(freeze_where(q, select).0),
            })
        })
        .unwrap_or_else(|e| match e {});
        parts.push("pattern matches");
    }
    let summary = if parts.is_empty() {
        "all parameters trainable".to_string()
    } else {
        format!("frozen: {}", parts.join(", "))
    };
    (m, summary)
}

impl<B: Backend> PreferenceModel<B> for VlmPolicy<B> {
    type Image = ImageRef;

    fn sequence_logps(&self, batch: &PairBatch<ImageRef>) -> Result<SequenceLogps<B>, BoxError> {
        let patch = self.model.patch_size();
        let mut images = Vec::with_capacity(batch.images.len());
        for r in &batch.images {
            images.push(match r {
                None => None,
                Some(r) => {
                    let p = self.setup.processor.process_file(&r.path)?;
                    let grid = p.grid(patch);
                    if grid != r.grid {
                        return Err(format!(
                            "{}: patch grid changed since encoding ({:?} -> {:?})",
                            r.path.display(),
                            r.grid,
                            grid
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
    /// A regex limited to the decoder (see [`peft_targets`]).
    target_modules: serde_json::Value,
    bias: &'a str,
    fan_in_fan_out: bool,
    inference_mode: bool,
    modules_to_save: Option<Vec<String>>,
    use_rslora: bool,
    use_dora: bool,
}

const ADAPTER_FILE: &str = "adapter_model.safetensors";

/// The decoder linears `all-linear` adapts.
const DECODER_LINEARS: [&str; 7] = [
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
];

/// PEFT `target_modules` that select exactly the layers vapr adapted: a regex limited to the
/// decoder, since vapr never adapts the vision tower, while PEFT matches plain names anywhere
/// (CLIP's attention has `q_proj`/`k_proj`/`v_proj`, Qwen2.5-VL's vision MLP has
/// `gate_proj`/`up_proj`/`down_proj`, and `all-linear` would wrap every vision linear).
/// Qwen's decoder layers are `model.layers.N.…` (hub) or `model.language_model.layers.N.…`
/// (recent transformers); its vision blocks are `visual.blocks.N.…`, which never match.
fn peft_targets(family: Family, targets: &[String]) -> serde_json::Value {
    let names: Vec<&str> = if targets.iter().any(|t| t == "all-linear") {
        DECODER_LINEARS.to_vec()
    } else {
        targets.iter().map(String::as_str).collect()
    };
    let names = names.join("|");
    serde_json::json!(match family {
        Family::Qwen2Vl => format!(r"(.*\.)?layers\.\d+\.(self_attn|mlp)\.({names})"),
        Family::Llava => format!(r".*language_model\..*\.({names})"),
    })
}

impl<B: Backend> Checkpointable for VlmPolicy<B> {
    fn save_weights(&self, dir: &Path) -> Result<(), BoxError> {
        let s = &self.setup;
        match &s.lora {
            None => {
                self.model
                    .save_weights(s.layout, &dir.join("model.safetensors"))?;
                vapr_model::loaded::copy_side_files(&s.source, dir)?;
            }
            Some(l) => {
                let tensors = self.model.peft_tensors(s.layout)?;
                vapr_model::safetensors_io::write_safetensors(
                    &dir.join(ADAPTER_FILE),
                    &tensors,
                    vapr_model::safetensors_io::SaveDtype::F32,
                )?;
                let cfg = AdapterConfig {
                    peft_type: "LORA",
                    task_type: "CAUSAL_LM",
                    base_model_name_or_path: s.source.display().to_string(),
                    r: l.rank,
                    lora_alpha: l.alpha,
                    lora_dropout: 0.0,
                    target_modules: peft_targets(self.model.family(), &l.targets),
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
        let VlmPolicy { model, setup } = self;
        match &setup.lora {
            None => {
                let loaded = model.reload(dir, setup.dtype)?;
                let (model, _) = apply_setup(loaded, &setup);
                Ok(VlmPolicy { model, setup })
            }
            Some(_) => {
                let path = dir.join(ADAPTER_FILE);
                let (tensors, _) = read_safetensors(&path)?;
                let model = load_adapters(model, setup.layout, &tensors, &path)?;
                Ok(VlmPolicy { model, setup })
            }
        }
    }
}

/// Assigns PEFT adapter tensors (keyed `base_model.model.<module>.lora_{A,B}.weight`) to the
/// model's LoRA parameters.
fn load_adapters<B: Backend>(
    model: VlModel<B>,
    layout: ModelLayout,
    tensors: &std::collections::BTreeMap<String, HostTensor>,
    path: &Path,
) -> Result<VlModel<B>, BoxError> {
    let key = |p: &str| {
        let module = layout.hf_module_of_lora(p)?;
        let which = if p.ends_with("lora_a") {
            "lora_A"
        } else {
            "lora_B"
        };
        Some((format!("base_model.model.{module}.{which}.weight"), true))
    };
    let mut n = 0;
    let model = map_inner(model, |inner| {
        Ok::<_, crate::error::TrainError>(match inner {
            InnerModel::Qwen2Vl(m) => {
                let (m, k) = assign_mapped(m, tensors, &key, path)?;
                n = k;
                InnerModel::Qwen2Vl(m)
            }
            InnerModel::Llava(m) => {
                let (m, k) = assign_mapped(m, tensors, &key, path)?;
                n = k;
                InnerModel::Llava(m)
            }
        })
    })?;
    tracing::debug!(adapters = n, "loaded LoRA adapters");
    Ok(model)
}
