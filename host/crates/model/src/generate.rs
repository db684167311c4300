//! Text generation for Qwen2-VL: prefill the prompt once (image rows scattered in, M-RoPE
//! positions from the image grids), then decode one token at a time against a [`KvCache`].
//! Greedy by default; temperature/top-p sampling with a seed as an option.
//!
//! Decoded tokens continue the M-RoPE positions after the prompt: the token at cache index `t`
//! gets position `t + rope_delta` on all three axes, `rope_delta = max prompt position + 1 −
//! prompt length` (transformers' `cache_position + rope_deltas`).
//!
//! Batch size 1: every prompt gets its own cache (no padding, so no pad mask is needed).

use std::time::Instant;

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Int, Tensor, TensorData};
use vapr_text::SeededRng;

use crate::common::kv_cache::KvCache;
use crate::common::rope::{inv_freq, mrope_table};
use crate::error::{ModelError, Result};
use crate::qwen2_vl::{GridThw, ImageEmbeds, Qwen2Vl, Sequence, rope_index};

/// Temperature / nucleus sampling, reproducible from `seed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Logits are divided by this; `≤ 0` means greedy.
    pub temperature: f32,
    /// Smallest set of most likely tokens whose probabilities sum to at least `top_p` (1 = all).
    pub top_p: f32,
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
    /// Wall time of prefill and of the decode steps, in seconds.
    pub prefill_s: f64,
    pub decode_s: f64,
}

impl<B: Backend> Qwen2Vl<B> {
    /// An empty cache sized for this model's decoder.
    pub fn new_cache(&self) -> KvCache<B> {
        KvCache::new(self.config.text.num_hidden_layers)
    }

    /// Runs the prompt through the decoder, filling the empty `cache`, and returns the f32
    /// logits `[vocab]` of its last position (the distribution of the first new token).
    pub fn prefill(
        &self,
        prompt: &Sequence,
        images: Option<&ImageEmbeds<B>>,
        cache: &mut KvCache<B>,
    ) -> Result<Vec<f32>> {
        if !cache.is_empty() {
            return Err(ModelError::Input(format!(
                "prefill needs an empty KV cache, it holds {} tokens",
                cache.len()
            )));
        }
        let (embeds, cos, sin) = self.decoder_inputs(std::slice::from_ref(prompt), images)?;
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
        let h = self
            .language_model
            .forward_with_cache(embeds, cos, sin, Some(cache));
        cache.rope_delta = ri.rope_delta;
        let [_, s, d] = h.dims();
        self.last_logits(h.narrow(1, s - 1, 1).reshape([1, d]))
    }

    /// Feeds one token after the cached ones and returns the f32 logits `[vocab]` of the next.
    pub fn decode_step(&self, token: u32, cache: &mut KvCache<B>) -> Result<Vec<f32>> {
        if cache.is_empty() {
            return Err(ModelError::Input(
                "decode_step needs a prefilled KV cache".into(),
            ));
        }
        let device = self.device();
        let t = &self.config.text;
        let ids =
            Tensor::<B, 2, Int>::from_data(TensorData::new(vec![token as i64], [1, 1]), &device);
        let embeds = self.language_model.embed_tokens.forward(ids);
        let pos = cache.len() as i64 + cache.rope_delta;
        let dh = t.head_dim();
        let table = mrope_table(
            &[vec![pos], vec![pos], vec![pos]],
            &inv_freq(t.rope_theta, dh),
            &t.mrope_section,
        );
        let (cos, sin) = table.to_tensors::<B, 4>([1, 1, 1, dh], &device, self.dtype());
        let h = self
            .language_model
            .forward_with_cache(embeds, cos, sin, Some(cache));
        self.last_logits(h.reshape([1, t.hidden_size]))
    }

    fn last_logits(&self, hidden: Tensor<B, 2>) -> Result<Vec<f32>> {
        self.lm_logits(hidden)
            .cast(DType::F32)
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| ModelError::Input(format!("reading logits back: {e:?}")))
    }
}

/// Generates a completion of `prompt` (ids with expanded image tokens; `images` indexes into
/// `image_embeds`, `completion_start` is ignored). `tokenizer` is needed only for stop strings.
pub fn generate<B: Backend>(
    model: &Qwen2Vl<B>,
    prompt: &Sequence,
    image_embeds: Option<&ImageEmbeds<B>>,
    config: &GenerationConfig,
    tokenizer: Option<&tokenizers::Tokenizer>,
) -> Result<Generation> {
    if !config.stop_strings.is_empty() && tokenizer.is_none() {
        return Err(ModelError::Input(
            "stop strings are set but no tokenizer was given to decode the completion".into(),
        ));
    }
    let mut rng = config.sampling.as_ref().map(|s| SeededRng::new(s.seed));
    let mut ids = Vec::with_capacity(config.max_new_tokens);
    let mut cache = model.new_cache();
    let start = Instant::now();
    if config.max_new_tokens == 0 {
        return Ok(Generation {
            ids,
            stop: StopReason::MaxNewTokens,
            prefill_s: 0.0,
            decode_s: 0.0,
        });
    }
    let mut logits = model.prefill(prompt, image_embeds, &mut cache)?;
    let prefill_s = start.elapsed().as_secs_f64();
    let stop = loop {
        let next = match (&config.sampling, rng.as_mut()) {
            (Some(s), Some(rng)) if s.temperature > 0.0 => sample(&logits, s, rng),
            _ => argmax(&logits),
        };
        ids.push(next);
        if config.eos_token_ids.contains(&next) {
            break StopReason::Eos;
        }
        if let Some(tok) = tokenizer.filter(|_| !config.stop_strings.is_empty()) {
            let text = tok.decode(&ids, false).map_err(|e| ModelError::Tokenizer {
                path: "tokenizer.json".into(),
                message: format!("decoding generated ids: {e}"),
            })?;
            if config
                .stop_strings
                .iter()
                .any(|s| text.contains(s.as_str()))
            {
                break StopReason::StopString;
            }
        }
        if ids.len() >= config.max_new_tokens {
            break StopReason::MaxNewTokens;
        }
        logits = model.decode_step(next, &mut cache)?;
    };
    let total = start.elapsed().as_secs_f64();
    tracing::debug!(
        tokens = ids.len(),
        prefill_s,
        decode_s = total - prefill_s,
        "generated"
    );
    Ok(Generation {
        ids,
        stop,
        prefill_s,
        decode_s: total - prefill_s,
    })
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
