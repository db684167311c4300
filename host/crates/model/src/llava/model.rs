//! `LlavaForConditionalGeneration` in burn: CLIP tower + projector + Llama decoder + LM head,
//! with the same batch-level entry points as Qwen2-VL (encode images once, run a right-padded
//! batch of [`Sequence`]s that point at them, per-sequence completion log-probs in vocabulary
//! chunks).
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/llava/modeling_llava.py>
//! (`LlavaModel.forward`: image features `masked_scatter`ed over the `<image>` tokens).

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor, TensorData};

use super::clip::{ClipVision, Projector, image_features};
use super::config::LlavaConfig;
use super::text::LlamaModel;
use crate::common::{Linear, LinearConfig};
use crate::error::{ModelError, Result};
use crate::qwen2_vl::{CompletionStats, ImageEmbeds, Sequence, completion_stats_from_hidden};

/// LLaVA with its LM head (`None` when tied to `embed_tokens`).
#[derive(Module, Debug)]
pub struct Llava<B: Backend> {
    pub vision_tower: ClipVision<B>,
    pub multi_modal_projector: Projector<B>,
    pub language_model: LlamaModel<B>,
    pub lm_head: Option<Linear<B>>,
    #[module(skip)]
    pub config: LlavaConfig,
}

impl LlavaConfig {
    /// Builds the model with lazily initialised parameters (`tied` drops `lm_head`).
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> Llava<B> {
        let t = &self.text;
        Llava {
            vision_tower: self.vision.init(device, dtype),
            multi_modal_projector: self.init_projector(device, dtype),
            language_model: t.init(device, dtype),
            lm_head: (!self.tie_word_embeddings)
                .then(|| LinearConfig::new(t.hidden_size, t.vocab_size, false).init(device, dtype)),
            config: self.clone(),
        }
    }
}

impl<B: Backend> Llava<B> {
    /// Parameter dtype of the model.
    pub fn dtype(&self) -> DType {
        self.language_model.embed_tokens.weight.val().dtype()
    }

    /// Device of the parameters.
    pub fn device(&self) -> B::Device {
        self.language_model.embed_tokens.weight.lazy_device()
    }

    /// Encodes images once (chosen and rejected share the result): `tokens_per_image` rows per
    /// image, images in order. Each image's grid is reported as `[1, G, G]`.
    ///
    /// Shapes: `pixels [N, C, S, S]` → rows `[N · tokens_per_image, hidden]`.
    pub fn encode_images(&self, pixels: Tensor<B, 4>) -> Result<ImageEmbeds<B>> {
        let n = pixels.dims()[0];
        let feats = image_features(
            &self.vision_tower,
            &self.multi_modal_projector,
            &self.config,
            pixels,
        )?;
        let [_, t, h] = feats.dims();
        let g = self.config.vision.grid();
        Ok(ImageEmbeds {
            rows: feats.reshape([n * t, h]),
            grids: vec![[1, g, g]; n],
            offsets: (0..n).map(|i| i * t).collect(),
            counts: vec![t; n],
        })
    }

    /// Input embeddings (image rows scattered over the `<image>` tokens) and RoPE tables of a
    /// right-padded batch: `[B, S, hidden]` and `cos`/`sin [B, 1, S, head_dim]`.
    pub(crate) fn decoder_inputs(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
        first_position: usize,
    ) -> Result<(Tensor<B, 3>, Tensor<B, 4>, Tensor<B, 4>)> {
        let cfg = &self.config;
        let device = self.device();
        let dtype = self.dtype();
        let b = seqs.len();
        let s = seqs.iter().map(|q| q.ids.len()).max().unwrap_or(0);
        if b == 0 || s == 0 {
            return Err(ModelError::Input("empty batch".into()));
        }
        let hidden = cfg.text.hidden_size;
        let n_rows = images.map(|im| im.rows.dims()[0]).unwrap_or(0);
        let mut ids = Vec::with_capacity(b * s);
        let mut row_of = Vec::with_capacity(b * s);
        let mut keep = Vec::with_capacity(b * s);
        for (bi, seq) in seqs.iter().enumerate() {
            let mut rows: Vec<usize> = Vec::new();
            for &i in &seq.images {
                let im = images.ok_or_else(|| {
                    ModelError::Input(format!("sequence {bi} has images but none were encoded"))
                })?;
                if i >= im.counts.len() {
                    return Err(ModelError::Input(format!(
                        "sequence {bi} refers to image {i}, only {} encoded",
                        im.counts.len()
                    )));
                }
                rows.extend(im.offsets[i]..im.offsets[i] + im.counts[i]);
            }
            let n_tokens = seq.ids.iter().filter(|&&t| t == cfg.image_token_id).count();
            if n_tokens != rows.len() {
                return Err(ModelError::Input(format!(
                    "sequence {bi} has {n_tokens} <image> tokens but its {} image(s) give {} \
                     features (each `<image>` expands to {} tokens)",
                    seq.images.len(),
                    rows.len(),
                    cfg.tokens_per_image()
                )));
            }
            let mut next = rows.into_iter();
            for t in 0..s {
                let tok = seq.ids.get(t).copied();
                ids.push(tok.unwrap_or(0) as i64);
                if tok == Some(cfg.image_token_id) {
                    row_of.push(next.next().expect("counted above") as i64);
                    keep.push(0f32);
                } else {
                    row_of.push(n_rows as i64);
                    keep.push(1f32);
                }
            }
        }
        let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [b, s]), &device);
        let mut embeds = self.language_model.embed_tokens.forward(ids);
        if let Some(im) = images.filter(|_| keep.contains(&0.0)) {
            let zero = Tensor::<B, 2>::zeros([1, hidden], (&device, dtype));
            let ext = Tensor::cat(vec![im.rows.clone().cast(dtype), zero], 0);
            let idx = Tensor::<B, 1, Int>::from_data(TensorData::new(row_of, [b * s]), &device);
            let keep =
                Tensor::<B, 3>::from_data(TensorData::new(keep, [b, s, 1]), (&device, dtype));
            embeds = embeds * keep + ext.select(0, idx).reshape([b, s, hidden]);
        }
        let positions: Vec<i64> = (0..b)
            .flat_map(|_| (0..s).map(|t| (first_position + t) as i64))
            .collect();
        let dh = cfg.text.head_dim;
        let (cos, sin) =
            cfg.text
                .rope_table(&positions)
                .to_tensors::<B, 4>([b, 1, s, dh], &device, dtype);
        Ok((embeds, cos, sin))
    }

    /// Final hidden states of a right-padded batch. Shapes: → `[B, max L_b, hidden]`.
    pub fn hidden_states(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<Tensor<B, 3>> {
        let (embeds, cos, sin) = self.decoder_inputs(seqs, images, 0)?;
        Ok(self.language_model.forward(embeds, cos, sin, None))
    }

    /// LM head on hidden rows. Shapes: `[N, hidden]` → `[N, vocab]`.
    pub fn lm_logits(&self, hidden: Tensor<B, 2>) -> Tensor<B, 2> {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => hidden.matmul(self.language_model.embed_tokens.weight.val().transpose()),
        }
    }

    /// Full logits of a right-padded batch. Shapes: → `[B, S, vocab]`.
    pub fn forward_logits(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<Tensor<B, 3>> {
        let h = self.hidden_states(seqs, images)?;
        let [b, s, d] = h.dims();
        Ok(self
            .lm_logits(h.reshape([b * s, d]))
            .reshape([b, s, self.config.text.vocab_size]))
    }

    /// Per-sequence sums of completion-token log-probs (see [`completion_stats_from_hidden`]).
    pub fn completion_stats(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<CompletionStats<B>> {
        let h = self.hidden_states(seqs, images)?;
        completion_stats_from_hidden(h, seqs, |rows| self.lm_logits(rows))
    }
}
