//! `Qwen2VLForConditionalGeneration` and `Qwen2_5_VLForConditionalGeneration` in burn (one
//! struct; the vision tower's [`super::config::VisionArch`] tells them apart): vision tower +
//! decoder + LM head, with the batch-level entry points the trainer uses (encode images once,
//! run a right-padded batch of sequences that reference those images, per-sequence completion
//! log-probs in vocab chunks).
//!
//! Upstream: <https://github.com/huggingface/transformers/blob/main/src/transformers/models/qwen2_vl/modeling_qwen2_vl.py>
//! (`Qwen2VLModel.forward`, `Qwen2VLForConditionalGeneration.forward`).

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor, TensorData};

use super::config::Qwen2VlConfig;
use super::rope_index::rope_index;
use super::text::TextModel;
use super::vision::{GridThw, VisionModel};
use crate::common::rope::{inv_freq, mrope_table};
use crate::common::{Linear, LinearConfig};
use crate::error::{ModelError, Result};

/// Qwen2-VL or Qwen2.5-VL with its LM head. `lm_head` is `None` when tied to `embed_tokens`.
#[derive(Module, Debug)]
pub struct Qwen2Vl<B: Backend> {
    pub visual: VisionModel<B>,
    pub language_model: TextModel<B>,
    pub lm_head: Option<Linear<B>>,
    #[module(skip)]
    pub config: Qwen2VlConfig,
}

/// Encoded images: decoder-width rows of all images, concatenated in order.
#[derive(Debug, Clone)]
pub struct ImageEmbeds<B: Backend> {
    /// `[Σ tokens_i, hidden]`.
    pub rows: Tensor<B, 2>,
    /// Grid of each image.
    pub grids: Vec<GridThw>,
    /// First row of each image in `rows`.
    pub offsets: Vec<usize>,
    /// Row count of each image (`t·h·w / m²`, its number of `<|image_pad|>` tokens).
    pub counts: Vec<usize>,
}

/// One sequence of a batch: its token ids (prompt with expanded image tokens, then the
/// completion), the images it shows (indices into [`ImageEmbeds`], in order of appearance), and
/// where its completion starts (`ids[completion_start..]` are scored).
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    pub ids: Vec<u32>,
    pub images: Vec<usize>,
    pub completion_start: usize,
}

/// Per-sequence completion statistics (`[B]` tensors, sums over completion tokens).
#[derive(Debug, Clone)]
pub struct CompletionStats<B: Backend> {
    /// Σ log p(token), f32, differentiable.
    pub logps: Tensor<B, 1>,
    /// Σ over tokens of mean-over-vocab(logits), detached (TRL's `logits/*` numerator).
    pub logits_mean_sum: Tensor<B, 1>,
    /// Completion token count of each sequence.
    pub n_tokens: Vec<usize>,
    /// Tokens whose argmax prediction equals the target, per sequence.
    pub n_correct: Vec<usize>,
}

/// Rows of hidden state turned into logits per chunk when scoring; bounds the `[rows, vocab]`
/// logits held at once to `chunk · vocab` floats (plus what autodiff keeps).
pub const LOGPROB_CHUNK_ROWS: usize = 512;

impl Qwen2VlConfig {
    /// Builds the model with lazily initialised parameters (`tied` drops `lm_head`).
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> Qwen2Vl<B> {
        let t = &self.text;
        Qwen2Vl {
            visual: self.vision.init(device, dtype),
            language_model: t.init(device, dtype),
            lm_head: (!self.tie_word_embeddings)
                .then(|| LinearConfig::new(t.hidden_size, t.vocab_size, false).init(device, dtype)),
            config: self.clone(),
        }
    }
}

/// Sums parameter sizes from their (lazy) shapes, without materialising anything.
struct ParamCounter(usize);

impl<B: Backend> ModuleVisitor<B> for ParamCounter {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.0 += param.lazy_shape().num_elements();
    }
}

impl<B: Backend> Qwen2Vl<B> {
    /// Number of parameters (base and LoRA), read from shapes: cheap even for a freshly built
    /// 7B model whose weights were never allocated.
    pub fn num_parameters(&self) -> usize {
        let mut counter = ParamCounter(0);
        self.visit(&mut counter);
        counter.0
    }

    /// Parameter dtype of the model.
    pub fn dtype(&self) -> DType {
        self.language_model.embed_tokens.weight.val().dtype()
    }

    /// Device of the parameters.
    pub fn device(&self) -> B::Device {
        self.language_model.embed_tokens.weight.lazy_device()
    }

    /// Encodes the images of a batch once (share the result between chosen and rejected).
    ///
    /// Shapes: `pixel_values [Σ t·h·w, patch_dim]` → rows `[Σ t·h·w / m², hidden]`.
    pub fn encode_images(
        &self,
        pixel_values: Tensor<B, 2>,
        grids: &[GridThw],
    ) -> Result<ImageEmbeds<B>> {
        let rows = self.visual.forward(pixel_values, grids)?;
        let m2 = self.config.vision.spatial_merge_size.pow(2);
        let counts: Vec<usize> = grids.iter().map(|g| g[0] * g[1] * g[2] / m2).collect();
        let offsets = counts
            .iter()
            .scan(0, |acc, c| {
                let o = *acc;
                *acc += c;
                Some(o)
            })
            .collect();
        Ok(ImageEmbeds {
            rows,
            grids: grids.to_vec(),
            offsets,
            counts,
        })
    }

    /// Final hidden states of a right-padded batch.
    ///
    /// Shapes: `seqs` of lengths `L_b`, `S = max L_b` → `[B, S, hidden]` (rows past `L_b` are
    /// padding and meaningless).
    pub fn hidden_states(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<Tensor<B, 3>> {
        let (embeds, cos, sin) = self.decoder_inputs(seqs, images)?;
        Ok(self.language_model.forward(embeds, cos, sin))
    }

    /// Input embeddings (image rows scattered in) and M-RoPE tables of a right-padded batch:
    /// `[B, S, hidden]` and `cos`/`sin [B, 1, S, head_dim]`.
    pub(crate) fn decoder_inputs(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
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
        let merge = cfg.vision.spatial_merge_size;
        let mut ids = Vec::with_capacity(b * s);
        let mut positions: [Vec<i64>; 3] = Default::default();
        // For every slot of the padded batch: which image row replaces its embedding
        // (`n_rows` = none, pointing at an appended zero row).
        let n_rows = images.map(|im| im.rows.dims()[0]).unwrap_or(0);
        let mut row_of = Vec::with_capacity(b * s);
        let mut keep = Vec::with_capacity(b * s);
        for (bi, seq) in seqs.iter().enumerate() {
            let grids: Vec<GridThw> = match images {
                Some(im) => seq
                    .images
                    .iter()
                    .map(|&i| {
                        im.grids.get(i).copied().ok_or_else(|| {
                            ModelError::Input(format!(
                                "sequence {bi} refers to image {i}, only {} encoded",
                                im.grids.len()
                            ))
                        })
                    })
                    .collect::<Result<_>>()?,
                None if seq.images.is_empty() => Vec::new(),
                None => {
                    return Err(ModelError::Input(format!(
                        "sequence {bi} has images but none were encoded"
                    )));
                }
            };
            let ri = rope_index(&seq.ids, cfg.image_token_id, &grids, merge)
                .map_err(|e| ModelError::Input(format!("sequence {bi}: {e}")))?;
            let mut image_rows = seq.images.iter().flat_map(|&i| {
                let im = images.expect("checked above");
                im.offsets[i]..im.offsets[i] + im.counts[i]
            });
            for t in 0..s {
                let tok = seq.ids.get(t).copied();
                ids.push(tok.unwrap_or(0) as i64);
                for (axis, p) in positions.iter_mut().enumerate() {
                    p.push(ri.positions[axis].get(t).copied().unwrap_or(0));
                }
                if tok == Some(cfg.image_token_id) {
                    row_of.push(image_rows.next().expect("rope_index checked the counts") as i64);
                    keep.push(0f32);
                } else {
                    row_of.push(n_rows as i64);
                    keep.push(1f32);
                }
            }
        }
        let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [b, s]), &device);
        let mut embeds = self.language_model.embed_tokens.forward(ids);
        if let Some(im) = images {
            let zero = Tensor::<B, 2>::zeros([1, hidden], (&device, dtype));
            let ext = Tensor::cat(vec![im.rows.clone().cast(dtype), zero], 0);
            let idx = Tensor::<B, 1, Int>::from_data(TensorData::new(row_of, [b * s]), &device);
            let keep =
                Tensor::<B, 3>::from_data(TensorData::new(keep, [b, s, 1]), (&device, dtype));
            embeds = embeds * keep + ext.select(0, idx).reshape([b, s, hidden]);
        }
        let dh = cfg.text.head_dim();
        let table = mrope_table(
            &positions,
            &inv_freq(cfg.text.rope_theta, dh),
            &cfg.text.mrope_section,
        );
        let (cos, sin) = table.to_tensors::<B, 4>([b, 1, s, dh], &device, dtype);
        Ok((embeds, cos, sin))
    }

    /// LM head on hidden rows. Shapes: `[N, hidden]` → `[N, vocab]`.
    pub fn lm_logits(&self, hidden: Tensor<B, 2>) -> Tensor<B, 2> {
        match &self.lm_head {
            Some(head) => head.forward(hidden),
            None => hidden.matmul(self.language_model.embed_tokens.weight.val().transpose()),
        }
    }

    /// Full logits of a right-padded batch. Shapes: → `[B, S, vocab]`. Prefer
    /// [`Self::completion_stats`] for training: it never materialises all logits.
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

    /// Per-sequence sums over completion tokens of `log p(ids[t] | ids[<t])`, `t ≥
    /// completion_start` (see [`completion_stats_from_hidden`]).
    pub fn completion_stats(
        &self,
        seqs: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
    ) -> Result<CompletionStats<B>> {
        let h = self.hidden_states(seqs, images)?;
        completion_stats_from_hidden(h, seqs, |rows| self.lm_logits(rows))
    }
}

/// Per-sequence completion statistics from final hidden states `[B, S, hidden]`: for each
/// sequence, Σ over `t ≥ completion_start` of `log p(ids[t] | ids[<t])`, computed from
/// `LOGPROB_CHUNK_ROWS` rows of logits at a time (`head` maps hidden rows to logits), so the
/// `[rows, vocab]` logits never exist all at once. Family-neutral.
pub fn completion_stats_from_hidden<B: Backend>(
    h: Tensor<B, 3>,
    seqs: &[Sequence],
    head: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>,
) -> Result<CompletionStats<B>> {
    let [b, s, d] = h.dims();
    let device = h.device();
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    let mut n_tokens = Vec::with_capacity(b);
    for (bi, seq) in seqs.iter().enumerate() {
        if seq.completion_start == 0 || seq.completion_start > seq.ids.len() {
            return Err(ModelError::Input(format!(
                "sequence {bi}: completion_start {} outside 1..={}",
                seq.completion_start,
                seq.ids.len()
            )));
        }
        for t in seq.completion_start..seq.ids.len() {
            rows.push((bi * s + t - 1) as i64);
            targets.push(seq.ids[t] as i64);
        }
        n_tokens.push(seq.ids.len() - seq.completion_start);
    }
    let flat = h.reshape([b * s, d]);
    let total = rows.len();
    let (mut logps, mut means, mut hits) = (Vec::new(), Vec::new(), Vec::with_capacity(total));
    for at in (0..total).step_by(LOGPROB_CHUNK_ROWS) {
        let n = LOGPROB_CHUNK_ROWS.min(total - at);
        let idx = Tensor::<B, 1, Int>::from_data(
            TensorData::new(rows[at..at + n].to_vec(), [n]),
            &device,
        );
        let tgt = Tensor::<B, 2, Int>::from_data(
            TensorData::new(targets[at..at + n].to_vec(), [n, 1]),
            &device,
        );
        let logits = head(flat.clone().select(0, idx)).cast(DType::F32);
        means.push(logits.clone().detach().mean_dim(1).reshape([n]));
        let right = logits
            .clone()
            .detach()
            .argmax(1)
            .equal(tgt.clone())
            .float()
            .into_data()
            .convert::<f32>();
        hits.extend(right.iter::<f32>().map(|v| v > 0.5));
        logps.push(log_softmax(logits, 1).gather(1, tgt).reshape([n]));
    }
    let cat = |v: Vec<Tensor<B, 1>>| {
        if v.is_empty() {
            Tensor::zeros([0], (&device, DType::F32))
        } else {
            Tensor::cat(v, 0)
        }
    };
    let (per_token, means) = (cat(logps), cat(means));
    let (mut sums, mut mean_sums, mut n_correct) = (Vec::new(), Vec::new(), Vec::new());
    let mut off = 0;
    for &n in &n_tokens {
        if n == 0 {
            sums.push(Tensor::zeros([1], (&device, DType::F32)));
            mean_sums.push(Tensor::zeros([1], (&device, DType::F32)));
        } else {
            sums.push(per_token.clone().narrow(0, off, n).sum());
            mean_sums.push(means.clone().narrow(0, off, n).sum());
        }
        n_correct.push(hits[off..off + n].iter().filter(|&&c| c).count());
        off += n;
    }
    Ok(CompletionStats {
        logps: Tensor::cat(sums, 0),
        logits_mean_sum: Tensor::cat(mean_sums, 0),
        n_tokens,
        n_correct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;

    /// The presets have the published sizes (what docs/models.md's memory table is built on).
    #[test]
    fn test_preset_parameter_counts_match_the_published_checkpoints() {
        let device = Default::default();
        let count = |c: Qwen2VlConfig| {
            c.init::<NdArray<f32>>(&device, DType::BF16)
                .num_parameters()
        };
        assert_eq!(count(Qwen2VlConfig::qwen2_vl_2b()), 2_208_985_600);
        assert_eq!(count(Qwen2VlConfig::qwen2_vl_7b()), 8_291_375_616);
        assert_eq!(count(Qwen2VlConfig::qwen2_5_vl_3b()), 3_754_622_976);
        assert_eq!(count(Qwen2VlConfig::qwen2_5_vl_7b()), 8_292_166_656);
    }
}
