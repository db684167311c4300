//! Batched text generation with a KV cache, for every model family through one trait.
//!
//! [`generate_batch`] prefills a batch of prompts once (left-padded to a common length, padding
//! masked out of attention), then decodes one token per row and step against a [`KvCache`].
//! Greedy by default (argmax, first index on ties like torch); temperature/top-p sampling with a
//! seed as an option. A row stops on an EOS id, a stop string or `max_new_tokens`; a finished row
//! is dropped from the cache and costs nothing afterwards. Each row's ids equal what the row
//! would get alone ([`generate`] is the batch of one): padding is masked, positions are per row,
//! and every row samples from its own RNG seeded with [`Sampling::seed`].
//!
//! A model family plugs in by implementing [`BatchDecoder`]; see its docs. Qwen2-VL (and
//! Qwen2.5-VL, a variant of the same struct) implements it here: image rows are scattered into
//! the prompt embeddings, M-RoPE positions come from the image grids, and decoded tokens continue
//! at `max prompt position + 1` on all three axes (transformers' `cache_position + rope_deltas`).

use std::time::Instant;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor, TensorData};
use vapr_text::SeededRng;

use crate::common::kv_cache::KvCache;
use crate::common::rope::{inv_freq, mrope_table};
use crate::error::{ModelError, Result};
use crate::qwen2_vl::{GridThw, ImageEmbeds, Qwen2Vl, Sequence, rope_index};

/// A decoder-only model family that [`generate_batch`] can drive.
///
/// The generic loop owns sampling, stopping and the batch bookkeeping; a family only runs its
/// forward passes. Contract, for a family `F` (see the `Qwen2Vl` impl in this module):
///
/// - **`Images`**: the family's encoded images (Qwen2-VL: [`ImageEmbeds`]; LLaVA: projected
///   CLIP features). Encoded once per batch by the caller; each prompt's
///   [`Sequence::images`] indexes into them in order of appearance.
/// - **[`Self::new_cache`]**: `KvCache::new(number of decoder layers)`.
/// - **[`Self::prefill_batch`]**: `prompts[b].ids` are complete prompt ids with image
///   placeholders already expanded to one token per image row (`completion_start` is ignored).
///   The family must
///   1. build input embeddings **left-padded** to `S = max len` (any finite padding
///      embedding; zeros work), image rows scattered in, plus rotary tables at each row's
///      own positions (padding positions: anything finite);
///   2. call `cache.begin(pad, next_pos)` with `pad[b] = S − len_b` and `next_pos[b]` = the
///      rotary position of the token after the prompt (1-D RoPE: `len_b`; M-RoPE: max
///      prompt position + 1);
///   3. run its decoder with the cache: each attention layer appends its rotated keys and
///      values with `cache.append(layer, k, v)` and attends under the mask
///      `cache.step_mask(S, device)` (computed once per pass, before the first append;
///      `None` means plain causal attention is exact) via
///      [`crate::common::attention::masked_attention`]; after the last layer,
///      `cache.advance(S)`;
///   4. return the logits of column `S − 1` (every row's last prompt token), `[B, vocab]`.
/// - **[`Self::decode_batch`]**: one new token per cache row (`tokens.len() == cache.rows()`),
///   at position `cache.next_positions()[b]`; same attention as above with
///   `step_mask(1, …)` and `cache.advance(1)` (which moves the positions on); returns
///   `[rows, vocab]` logits.
///
/// The loop may drop finished rows between steps with [`KvCache::retain`], so a family must
/// not keep per-row state outside the cache. Logits may be in any float dtype.
pub trait BatchDecoder<B: Backend> {
    /// Encoded images that prompts refer to by index.
    type Images;

    /// An empty cache sized for this model's decoder.
    fn new_cache(&self) -> KvCache<B>;

    /// Runs a batch of prompts through the decoder, filling the empty `cache`; returns the
    /// logits of each row's last prompt token. Shapes: → `[B, vocab]`.
    fn prefill_batch(
        &self,
        prompts: &[Sequence],
        images: Option<&Self::Images>,
        cache: &mut KvCache<B>,
    ) -> Result<Tensor<B, 2>>;

    /// Feeds one token per cache row after the cached ones; returns the logits of the next.
    /// Shapes: `tokens [rows]` → `[rows, vocab]`.
    fn decode_batch(&self, tokens: &[u32], cache: &mut KvCache<B>) -> Result<Tensor<B, 2>>;
}

/// Temperature / nucleus sampling, reproducible from `seed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Logits are divided by this; `≤ 0` means greedy.
    pub temperature: f32,
    /// Smallest set of most likely tokens whose probabilities sum to at least `top_p` (1 = all).
    pub top_p: f32,
    /// Seed of every row's RNG (each row draws from its own, so its sample does not depend on
    /// the other rows of the batch).
    pub seed: u64,
}

/// What to generate and when to stop.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    /// Upper bound on generated tokens (the stopping token included).
    pub max_new_tokens: usize,
    /// Generation stops after emitting any of these (it is kept in the output).
    pub eos_token_ids: Vec<u32>,
    /// Generation stops once the decoded completion contains any of these (needs a tokenizer).
    pub stop_strings: Vec<String>,
    /// `None`: greedy (argmax, first index on ties like torch).
    pub sampling: Option<Sampling>,
}

impl GenerationConfig {
    /// Greedy decoding of at most `max_new_tokens`, stopping at any of `eos_token_ids`.
    pub fn greedy(max_new_tokens: usize, eos_token_ids: Vec<u32>) -> Self {
        Self {
            max_new_tokens,
            eos_token_ids,
            stop_strings: Vec::new(),
            sampling: None,
        }
    }
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Eos,
    StopString,
    MaxNewTokens,
}

/// The generated ids (prompt excluded) and why generation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    pub ids: Vec<u32>,
    pub stop: StopReason,
    /// Wall time of the prefill and of the decode steps of the whole batch, in seconds.
    pub prefill_s: f64,
    pub decode_s: f64,
}

impl<B: Backend> BatchDecoder<B> for Qwen2Vl<B> {
    type Images = ImageEmbeds<B>;

    fn new_cache(&self) -> KvCache<B> {
        KvCache::new(self.config.text.num_hidden_layers)
    }

    fn prefill_batch(
        &self,
        prompts: &[Sequence],
        images: Option<&ImageEmbeds<B>>,
        cache: &mut KvCache<B>,
    ) -> Result<Tensor<B, 2>> {
        let s = check_prefill(prompts, cache)?;
        let hidden = self.config.text.hidden_size;
        let mut rows = PaddedRows::new(s, self.config.text.head_dim(), self.dtype());
        for (bi, prompt) in prompts.iter().enumerate() {
            // One row at a time: the inputs of an unpadded row, then padding in front.
            let (e, c, sn) = self
                .decoder_inputs(std::slice::from_ref(prompt), images)
                .map_err(|e| ModelError::Input(format!("prompt {bi}: {e}")))?;
            // `decoder_inputs` checked that every image index exists.
            let grids: Vec<GridThw> = match images {
                Some(im) => prompt.images.iter().map(|&i| im.grids[i]).collect(),
                None => Vec::new(),
            };
            let ri = rope_index(
                &prompt.ids,
                self.config.image_token_id,
                &grids,
                self.config.vision.spatial_merge_size,
            )?;
            rows.push(e, c, sn, ri.rope_delta + prompt.ids.len() as i64);
        }
        let b = prompts.len();
        let (embeds, cos, sin) = rows.finish(cache);
        let h = self
            .language_model
            .forward_with_cache(embeds, cos, sin, Some(cache));
        Ok(self.lm_logits(h.narrow(1, s - 1, 1).reshape([b, hidden])))
    }

    fn decode_batch(&self, tokens: &[u32], cache: &mut KvCache<B>) -> Result<Tensor<B, 2>> {
        let device = self.device();
        let t = &self.config.text;
        let b = tokens.len();
        let embeds = self
            .language_model
            .embed_tokens
            .forward(decode_ids(tokens, cache, &device)?);
        let pos = cache.next_positions().to_vec();
        let dh = t.head_dim();
        let table = mrope_table(
            &[pos.clone(), pos.clone(), pos],
            &inv_freq(t.rope_theta, dh),
            &t.mrope_section,
        );
        let (cos, sin) = table.to_tensors::<B, 4>([b, 1, 1, dh], &device, self.dtype());
        let h = self
            .language_model
            .forward_with_cache(embeds, cos, sin, Some(cache));
        Ok(self.lm_logits(h.reshape([b, t.hidden_size])))
    }
}

/// Checks a batch for prefill (empty cache, no empty prompt, at least one prompt) and
/// returns the longest prompt's length, the padded length of every row.
pub(crate) fn check_prefill<B: Backend>(prompts: &[Sequence], cache: &KvCache<B>) -> Result<usize> {
    if !cache.is_empty() {
        return Err(ModelError::Input(format!(
            "prefill needs an empty KV cache, it holds {} tokens",
            cache.len()
        )));
    }
    if let Some(bi) = prompts.iter().position(|p| p.ids.is_empty()) {
        return Err(ModelError::Input(format!("prompt {bi} has no tokens")));
    }
    prompts
        .iter()
        .map(|p| p.ids.len())
        .max()
        .ok_or_else(|| ModelError::Input("empty batch of prompts".into()))
}

/// Decoder inputs of a batched prefill, built one unpadded row at a time and left-padded to
/// `len`: zero embeddings and the identity rotation (cos 1, sin 0) in front of each row, the
/// padding the cache then masks.
pub(crate) struct PaddedRows<B: Backend> {
    len: usize,
    head_dim: usize,
    dtype: DType,
    embeds: Vec<Tensor<B, 3>>,
    cos: Vec<Tensor<B, 4>>,
    sin: Vec<Tensor<B, 4>>,
    pad: Vec<usize>,
    next_pos: Vec<i64>,
}

impl<B: Backend> PaddedRows<B> {
    pub(crate) fn new(len: usize, head_dim: usize, dtype: DType) -> Self {
        Self {
            len,
            head_dim,
            dtype,
            embeds: Vec::new(),
            cos: Vec::new(),
            sin: Vec::new(),
            pad: Vec::new(),
            next_pos: Vec::new(),
        }
    }

    /// Adds one row: embeddings `[1, n, hidden]`, rotary tables `[1, 1, n, head_dim]`, and the
    /// position its first decoded token gets.
    pub(crate) fn push(&mut self, e: Tensor<B, 3>, c: Tensor<B, 4>, s: Tensor<B, 4>, next: i64) {
        let [_, n, hidden] = e.dims();
        let p = self.len - n;
        self.pad.push(p);
        self.next_pos.push(next);
        if p == 0 {
            self.embeds.push(e);
            self.cos.push(c);
            self.sin.push(s);
            return;
        }
        let device = e.device();
        let zeros = |shape: [usize; 4]| Tensor::<B, 4>::zeros(shape, (&device, self.dtype));
        let rot = [1, 1, p, self.head_dim];
        self.embeds.push(Tensor::cat(
            vec![Tensor::zeros([1, p, hidden], (&device, self.dtype)), e],
            1,
        ));
        self.cos
            .push(Tensor::cat(vec![zeros(rot).add_scalar(1.0), c], 2));
        self.sin.push(Tensor::cat(vec![zeros(rot), s], 2));
    }

    /// Records the padding and positions in `cache` and returns the batch's embeddings, cos
    /// and sin.
    pub(crate) fn finish(
        self,
        cache: &mut KvCache<B>,
    ) -> (Tensor<B, 3>, Tensor<B, 4>, Tensor<B, 4>) {
        cache.begin(self.pad, self.next_pos);
        (
            Tensor::cat(self.embeds, 0),
            Tensor::cat(self.cos, 0),
            Tensor::cat(self.sin, 0),
        )
    }
}

/// Checks a decode step's tokens against the prefilled cache (one per row) and returns them
/// as `[B, 1]` ids.
pub(crate) fn decode_ids<B: Backend>(
    tokens: &[u32],
    cache: &KvCache<B>,
    device: &B::Device,
) -> Result<Tensor<B, 2, Int>> {
    if cache.is_empty() {
        return Err(ModelError::Input(
            "decode_batch needs a prefilled KV cache".into(),
        ));
    }
    if tokens.len() != cache.rows() {
        return Err(ModelError::Input(format!(
            "decode_batch got {} tokens for {} cache rows",
            tokens.len(),
            cache.rows()
        )));
    }
    let ids: Vec<i64> = tokens.iter().map(|&x| x as i64).collect();
    Ok(Tensor::from_data(
        TensorData::new(ids, [tokens.len(), 1]),
        device,
    ))
}

impl<B: Backend> Qwen2Vl<B> {
    /// An empty cache sized for this model's decoder.
    pub fn new_cache(&self) -> KvCache<B> {
        BatchDecoder::new_cache(self)
    }

    /// Runs one prompt through the decoder, filling the empty `cache`, and returns the f32
    /// logits `[vocab]` of its last position (the distribution of the first new token).
    pub fn prefill(
        &self,
        prompt: &Sequence,
        images: Option<&ImageEmbeds<B>>,
        cache: &mut KvCache<B>,
    ) -> Result<Vec<f32>> {
        let logits = self.prefill_batch(std::slice::from_ref(prompt), images, cache)?;
        Ok(logits_rows(logits)?.pop().expect("one row"))
    }

    /// Feeds one token after the cached ones and returns the f32 logits `[vocab]` of the next.
    pub fn decode_step(&self, token: u32, cache: &mut KvCache<B>) -> Result<Vec<f32>> {
        let logits = self.decode_batch(&[token], cache)?;
        Ok(logits_rows(logits)?.pop().expect("one row"))
    }
}

/// Reads `[rows, vocab]` logits back as f32 rows.
fn logits_rows<B: Backend>(logits: Tensor<B, 2>) -> Result<Vec<Vec<f32>>> {
    let [_, vocab] = logits.dims();
    let flat = logits
        .cast(DType::F32)
        .into_data()
        .to_vec::<f32>()
        .map_err(|e| ModelError::Input(format!("reading logits back: {e:?}")))?;
    Ok(flat.chunks(vocab.max(1)).map(<[f32]>::to_vec).collect())
}

/// Generates a completion of `prompt` (ids with expanded image tokens; `images` indexes into
/// `image_embeds`, `completion_start` is ignored). `tokenizer` is needed only for stop strings.
/// The batch of one of [`generate_batch`].
pub fn generate<B: Backend, M: BatchDecoder<B> + ?Sized>(
    model: &M,
    prompt: &Sequence,
    image_embeds: Option<&M::Images>,
    config: &GenerationConfig,
    tokenizer: Option<&tokenizers::Tokenizer>,
) -> Result<Generation> {
    let mut out = generate_batch(
        model,
        std::slice::from_ref(prompt),
        image_embeds,
        config,
        tokenizer,
    )?;
    Ok(out.pop().expect("one generation per prompt"))
}

/// Generates a completion of every prompt of a batch (one [`Generation`] per prompt, in order).
///
/// `prompts[b]` holds complete prompt ids (image placeholders expanded; `completion_start` is
/// ignored) and the indices of its images in `images`. Prompts may differ in length and in
/// having images. `tokenizer` is needed only for stop strings.
pub fn generate_batch<B: Backend, M: BatchDecoder<B> + ?Sized>(
    model: &M,
    prompts: &[Sequence],
    images: Option<&M::Images>,
    config: &GenerationConfig,
    tokenizer: Option<&tokenizers::Tokenizer>,
) -> Result<Vec<Generation>> {
    if !config.stop_strings.is_empty() && tokenizer.is_none() {
        return Err(ModelError::Input(
            "stop strings are set but no tokenizer was given to decode the completion".into(),
        ));
    }
    let n = prompts.len();
    let done = |ids: Vec<Vec<u32>>, stops: Vec<StopReason>, prefill_s, decode_s| {
        ids.into_iter()
            .zip(stops)
            .map(|(ids, stop)| Generation {
                ids,
                stop,
                prefill_s,
                decode_s,
            })
            .collect()
    };
    if n == 0 || config.max_new_tokens == 0 {
        return Ok(done(
            vec![Vec::new(); n],
            vec![StopReason::MaxNewTokens; n],
            0.0,
            0.0,
        ));
    }
    let greedy = config
        .sampling
        .as_ref()
        .is_none_or(|s| s.temperature <= 0.0);
    let mut rngs: Vec<Option<SeededRng>> = (0..n)
        .map(|_| {
            config
                .sampling
                .as_ref()
                .filter(|_| !greedy)
                .map(|s| SeededRng::new(s.seed))
        })
        .collect();
    let mut ids: Vec<Vec<u32>> = vec![Vec::with_capacity(config.max_new_tokens); n];
    let mut stops = vec![StopReason::MaxNewTokens; n];
    let start = Instant::now();
    let mut cache = model.new_cache();
    let mut logits = model.prefill_batch(prompts, images, &mut cache)?;
    let mut prefill_s = None;
    // `active[c]`: the prompt of cache row `c`.
    let mut active: Vec<usize> = (0..n).collect();
    loop {
        let rows = logits_rows(logits)?;
        prefill_s.get_or_insert_with(|| start.elapsed().as_secs_f64());
        let mut keep = Vec::with_capacity(active.len());
        let mut next_tokens = Vec::with_capacity(active.len());
        for (c, &row) in active.iter().enumerate() {
            let next = match (config.sampling.as_ref(), rngs[row].as_mut()) {
                (Some(s), Some(rng)) => sample(&rows[c], s, rng),
                _ => argmax(&rows[c]),
            };
            ids[row].push(next);
            let stop = if config.eos_token_ids.contains(&next) {
                Some(StopReason::Eos)
            } else if hits_stop_string(&ids[row], config, tokenizer)? {
                Some(StopReason::StopString)
            } else if ids[row].len() >= config.max_new_tokens {
                Some(StopReason::MaxNewTokens)
            } else {
                None
            };
            match stop {
                Some(reason) => stops[row] = reason,
                None => {
                    keep.push(c);
                    next_tokens.push(next);
                }
            }
        }
        if keep.is_empty() {
            break;
        }
        if keep.len() < active.len() {
            cache.retain(&keep);
            active = keep.iter().map(|&c| active[c]).collect();
        }
        logits = model.decode_batch(&next_tokens, &mut cache)?;
    }
    let total = start.elapsed().as_secs_f64();
    let prefill_s = prefill_s.unwrap_or(total);
    tracing::debug!(
        prompts = n,
        tokens = ids.iter().map(Vec::len).sum::<usize>(),
        prefill_s,
        decode_s = total - prefill_s,
        "generated"
    );
    Ok(done(ids, stops, prefill_s, total - prefill_s))
}

/// Whether the decoded completion contains one of the stop strings.
fn hits_stop_string(
    ids: &[u32],
    config: &GenerationConfig,
    tokenizer: Option<&tokenizers::Tokenizer>,
) -> Result<bool> {
    let Some(tok) = tokenizer.filter(|_| !config.stop_strings.is_empty()) else {
        return Ok(false);
    };
    let text = tok.decode(ids, false).map_err(|e| ModelError::Tokenizer {
        path: "tokenizer.json".into(),
        message: format!("decoding generated ids: {e}"),
    })?;
    Ok(config
        .stop_strings
        .iter()
        .any(|s| !s.is_empty() && text.contains(s.as_str())))
}

/// Index of the largest logit, the first one on ties (torch's `argmax`).
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &v) in logits.iter().enumerate() {
        if v > logits[best] {
            best = i;
        }
    }
    best as u32
}

/// Draws from `softmax(logits / temperature)` restricted to the top-p nucleus.
fn sample(logits: &[f32], s: &Sampling, rng: &mut SeededRng) -> u32 {
    let t = s.temperature as f64;
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let mut probs: Vec<(usize, f64)> = logits
        .iter()
        .enumerate()
        .map(|(i, &l)| (i, ((l as f64 - max) / t).exp()))
        .collect();
    let z: f64 = probs.iter().map(|p| p.1).sum();
    // Descending by probability, ties by index, so the draw is deterministic.
    probs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_p = (s.top_p as f64).clamp(0.0, 1.0);
    let mut kept = 0;
    let mut mass = 0.0;
    for p in &probs {
        kept += 1;
        mass += p.1 / z;
        if mass >= top_p {
            break;
        }
    }
    let nucleus = &probs[..kept];
    let total: f64 = nucleus.iter().map(|p| p.1).sum();
    let mut u = rng.unit() * total;
    for p in nucleus {
        if u < p.1 {
            return p.0 as u32;
        }
        u -= p.1;
    }
    nucleus[kept - 1].0 as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_argmax_takes_first_of_ties() {
        assert_eq!(argmax(&[0.0, 2.0, 2.0, -1.0]), 1);
    }

    #[test]
    fn test_top_p_keeps_only_the_nucleus_and_is_seeded() {
        // p ≈ [0.64, 0.24, 0.09, 0.03]: top_p 0.5 keeps only token 0.
        let logits = [3.0f32, 2.0, 1.0, 0.0];
        let s = Sampling {
            temperature: 1.0,
            top_p: 0.5,
            seed: 3,
        };
        let mut rng = SeededRng::new(s.seed);
        assert!((0..50).all(|_| sample(&logits, &s, &mut rng) == 0));
        // Full nucleus: every token shows up, and the same seed gives the same draws.
        let s = Sampling {
            temperature: 1.0,
            top_p: 1.0,
            seed: 3,
        };
        let draw = |seed| {
            let mut rng = SeededRng::new(seed);
            (0..400)
                .map(|_| sample(&logits, &s, &mut rng))
                .collect::<Vec<_>>()
        };
        let a = draw(3);
        assert_eq!(a, draw(3));
        assert!((0..4).all(|t| a.contains(&t)));
        let share0 = a.iter().filter(|&&t| t == 0).count() as f64 / 400.0;
        assert!((share0 - 0.644).abs() < 0.08, "{share0}");
    }
}
