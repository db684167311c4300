//! Batched generation for LLaVA: [`BatchDecoder`] over the Llama decoder. Prompts are
//! left-padded (padding masked by the cache), image features are scattered over each prompt's
//! `<image>` tokens, and rotary positions are 1-D: `0..len` for a prompt, then `len`, `len + 1`,
//! … for decoded tokens (transformers' `position_ids` from the attention mask).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::model::Llava;
use crate::common::kv_cache::KvCache;
use crate::error::{ModelError, Result};
use crate::generate::{BatchDecoder, PaddedRows, check_prefill, decode_ids};
use crate::qwen2_vl::{ImageEmbeds, Sequence};

impl<B: Backend> BatchDecoder<B> for Llava<B> {
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
        let mut rows = PaddedRows::new(s, self.config.text.head_dim, self.dtype());
        for (bi, prompt) in prompts.iter().enumerate() {
            // Each row unpadded at positions 0..len, then padding in front of it.
            let (e, c, sn) = self
                .decoder_inputs(std::slice::from_ref(prompt), images, 0)
                .map_err(|e| ModelError::Input(format!("prompt {bi}: {e}")))?;
            rows.push(e, c, sn, prompt.ids.len() as i64);
        }
        let b = prompts.len();
        let (embeds, cos, sin) = rows.finish(cache);
        let h = self.language_model.forward(embeds, cos, sin, Some(cache));
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
        let (cos, sin) = t.rope_table(cache.next_positions()).to_tensors::<B, 4>(
            [b, 1, 1, t.head_dim],
            &device,
            self.dtype(),
        );
        let h = self.language_model.forward(embeds, cos, sin, Some(cache));
        Ok(self.lm_logits(h.reshape([b, t.hidden_size])))
    }
}
