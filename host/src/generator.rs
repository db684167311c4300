//! A [`vapr_eval::Generator`] over a model folder of any supported family (Qwen2-VL,
//! Qwen2.5-VL, LLaVA-1.5; picked from `config.json`): what `vapr eval --model DIR` (and the
//! quickstart) generate with.
//!
//! Per batch of requests: each image is decoded to RGB (alpha dropped, like the benchmark
//! harnesses' `convert("RGB")`) and run through the folder's image processor; the prompt is the folder's chat template with one user turn (the images first,
//! then the text) and the generation prompt; all images of the batch are encoded in one call;
//! the prompts are decoded together by [`vapr_model::generate::generate_batch`] (left-padded,
//! KV cache, greedy unless sampling is set). A row stops at an end-of-turn id (the tokenizer's
//! EOS and `generation_config.json`'s `eos_token_id`), at a stop string or after
//! `max_new_tokens`; its text is decoded without special tokens and cut at the first stop string.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::tensor::DType;
use burn::tensor::backend::Backend;
use vapr_eval::generate::truncate_at_stop;
use vapr_eval::{GenError, GenParams, GenRequest, Generator};
use vapr_model::generate::generate_batch;
use vapr_model::{
    AnyImage, AnyLoadedModel, AnyProcessor, GenerationConfig, ImageEmbeds, Sampling, Sequence,
};

/// Where a model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenDevice {
    /// burn's NdArray backend, f32.
    Cpu,
    /// burn's CUDA backend, f32 (needs a build with `--features cuda`).
    Cuda,
}

/// A loaded model folder answering benchmark prompts.
pub struct ModelGenerator<B: Backend> {
    lm: AnyLoadedModel<B>,
    eos: Vec<u32>,
    sampling: Option<Sampling>,
    id: String,
}

impl<B: Backend> ModelGenerator<B> {
    /// Loads `dir` (Hugging Face layout) on `device` in f32.
    pub fn load(dir: &Path, device: &B::Device) -> Result<Self> {
        let lm = vapr_model::load_any_model_dir::<B>(dir, device, DType::F32)
            .with_context(|| format!("loading model {}", dir.display()))?;
        Self::from_loaded(lm)
    }

    /// Wraps an already loaded model.
    pub fn from_loaded(lm: AnyLoadedModel<B>) -> Result<Self> {
        let mut eos = vec![lm.chat.end_of_turn_id];
        for id in generation_config_eos(&lm.dir)? {
            if !eos.contains(&id) {
                eos.push(id);
            }
        }
        let dir = std::fs::canonicalize(&lm.dir).unwrap_or_else(|_| lm.dir.clone());
        Ok(Self {
            lm,
            eos,
            sampling: None,
            id: dir.display().to_string(),
        })
    }

    /// Temperature/top-p sampling instead of greedy decoding (recorded in [`Self::model_id`],
    /// so a run cannot resume with other decoding).
    pub fn with_sampling(mut self, sampling: Option<Sampling>) -> Self {
        self.sampling = sampling;
        self
    }

    /// The loaded model.
    pub fn loaded(&self) -> &AnyLoadedModel<B> {
        &self.lm
    }

    /// End-of-generation ids.
    pub fn eos_ids(&self) -> &[u32] {
        &self.eos
    }

    /// Prompts and encoded images of a batch: each request's images are processed, the
    /// prompt rendered with them first, and all images encoded in one call.
    fn prepare(&self, batch: &[GenRequest<'_>]) -> Result<(Vec<Sequence>, Option<ImageEmbeds<B>>)> {
        let mut processed: Vec<AnyImage> = Vec::new();
        let mut seqs = Vec::with_capacity(batch.len());
        for req in batch {
            let mut imgs = Vec::with_capacity(req.images.len());
            for (k, image) in req.images.iter().enumerate() {
                let rgb = image
                    .to_rgb()
                    .with_context(|| format!("item {}: image {k}", req.id))?;
                let (w, h) = rgb.dimensions();
                let (h, w) = (h as usize, w as usize);
                let img = match &self.lm.processor {
                    AnyProcessor::Qwen2Vl(p) => {
                        p.process_rgb(rgb.as_raw(), h, w).map(AnyImage::Qwen2Vl)
                    }
                    AnyProcessor::Llava(p) => {
                        p.process_rgb(rgb.as_raw(), h, w).map(AnyImage::Llava)
                    }
                };
                imgs.push(img.with_context(|| format!("item {}: processing image {k}", req.id))?);
            }
            let ids = self
                .lm
                .prompt_ids(req.prompt, &imgs)
                .with_context(|| format!("item {}: building the prompt", req.id))?;
            let first = processed.len();
            processed.extend(imgs);
            seqs.push(Sequence {
                completion_start: ids.len(),
                images: (first..processed.len()).collect(),
                ids,
            });
        }
        let embeds = if processed.is_empty() {
            None
        } else {
            let refs: Vec<&AnyImage> = processed.iter().collect();
            Some(
                self.lm
                    .model
                    .encode_images(&refs)
                    .context("encoding the batch's images")?,
            )
        };
        Ok((seqs, embeds))
    }

    /// Generates the texts of a batch (see the module docs).
    pub fn generate_texts(
        &self,
        batch: &[GenRequest<'_>],
        params: &GenParams,
    ) -> Result<Vec<String>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (seqs, embeds) = self.prepare(batch)?;
        let config = GenerationConfig {
            max_new_tokens: params.max_new_tokens,
            eos_token_ids: self.eos.clone(),
            stop_strings: params.stop.clone(),
            sampling: self.sampling.clone(),
        };
        let tokenizer = &self.lm.chat.tokenizer;
        let gens = generate_batch(
            &self.lm.model,
            &seqs,
            embeds.as_ref(),
            &config,
            Some(tokenizer),
        )?;
        let mut out = Vec::with_capacity(gens.len());
        for (req, g) in batch.iter().zip(gens) {
            let text = tokenizer
                .decode(&g.ids, true)
                .map_err(|e| anyhow::anyhow!("item {}: decoding the output: {e}", req.id))?;
            out.push(truncate_at_stop(&text, &params.stop).to_string());
        }
        Ok(out)
    }
}

impl<B: Backend> Generator for ModelGenerator<B> {
    fn model_id(&self) -> String {
        match &self.sampling {
            Some(s) if s.temperature > 0.0 => format!(
                "{} (sampled: temperature {}, top_p {}, seed {})",
                self.id, s.temperature, s.top_p, s.seed
            ),
            _ => self.id.clone(),
        }
    }

    fn generate(
        &mut self,
        batch: &[GenRequest<'_>],
        params: &GenParams,
    ) -> std::result::Result<Vec<String>, GenError> {
        self.generate_texts(batch, params)
            .map_err(|e| GenError::from(format!("{e:#}")))
    }
}

/// `eos_token_id` of `generation_config.json` (a number or a list), if the file exists.
fn generation_config_eos(dir: &Path) -> Result<Vec<u32>> {
    let path = dir.join("generation_config.json");
    if !path.exists() {
        return Ok(Vec::new());
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let ids = match v.get("eos_token_id") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|x| x.as_u64())
            .collect::<Option<_>>()
            .unwrap_or_default(),
        Some(x) => x.as_u64().into_iter().collect(),
    };
    if ids.iter().any(|&i| i > u32::MAX as u64) {
        bail!("{}: eos_token_id out of range", path.display());
    }
    Ok(ids.into_iter().map(|i| i as u32).collect())
}

/// Loads the model folder `dir` as a generator on `device`, greedy unless `sampling` is set.
pub fn load_generator(
    dir: &Path,
    device: GenDevice,
    sampling: Option<Sampling>,
) -> Result<Box<dyn Generator>> {
    match device {
        GenDevice::Cpu => Ok(Box::new(
            ModelGenerator::<burn::backend::NdArray<f32>>::load(dir, &Default::default())?
                .with_sampling(sampling),
        )),
        #[cfg(feature = "cuda")]
        GenDevice::Cuda => Ok(Box::new(
            ModelGenerator::<burn::backend::Cuda<f32>>::load(dir, &Default::default())?
                .with_sampling(sampling),
        )),
        #[cfg(not(feature = "cuda"))]
        GenDevice::Cuda => {
            let _ = sampling;
            bail!(
                "`--device cuda`: this vapr was built without CUDA support (rebuild with `cargo build --release --features cuda`)"
            )
        }
    }
}
