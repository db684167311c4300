//! Batched generation for LLaVA: [`BatchDecoder`] over the Llama decoder. Prompts are
//! left-padded (padding masked by the cache), image features are scattered over each prompt's
//! `<image>` tokens, and rotary positions are 1-D: `0..len` for a prompt, then `len`, `len + 1`,
//! … for decoded tokens (transformers' `position_ids` from the attention mask).

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use super::model::Llava;
use crate::common::kv_cache::KvCache;
use crate::error::{ModelError, Result};
use crate::generate::BatchDecoder;
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
        if !cache.is_empty() {
            return Err(ModelError::Input(format!(
                "prefill needs an empty KV cache, it holds {} tokens",
                cache.len()
            )));
        }
        if let Some(bi) = prompts.iter().position(|p| p.ids.is_empty()) {
            return Err(ModelError::Input(format!("prompt {bi} has no tokens")));
        }
        let s = prompts.iter().map(|p| p.ids.len()).max().unwrap_or(0);
        if s == 0 {
            return Err(ModelError::Input("empty batch of prompts".into()));
        }
        let device = self.device();
        let dtype = self.dtype();
        let hidden = self.config.text.hidden_size;
        let dh = self.config.text.head_dim;
        let (mut embeds, mut cos, mut sin) = (Vec::new(), Vec::new(), Vec::new());
        let (mut pad, mut next_pos) = (Vec::new(), Vec::new());
        for (bi, prompt) in prompts.iter().enumerate() {
            // Each row unpadded at positions 0..len, then padding in front of it.
            let (e, c, sn) = self
                .decoder_inputs(std::slice::from_ref(prompt), images, 0)
                .map_err(|e| ModelError::Input(format!("prompt {bi}: {e}")))?;
            let len = prompt.ids.len();
            let p = s - len;
            pad.push(p);
            next_pos.push(len as i64);
            if p == 0 {
                embeds.push(e);
                cos.push(c);
                sin.push(sn);
            } else {
                let z = |shape: [usize; 4]| Tensor::<B, 4>::zeros(shape, (&device, dtype));
                embeds.push(Tensor::cat(
                    vec![Tensor::zeros([1, p, hidden], (&device, dtype)), e],
                    1,
                ));
                cos.push(Tensor::cat(vec![z([1, 1, p, dh]).add_scalar(1.0), c], 2));
                sin.push(Tensor::cat(vec![z([1, 1, p, dh]), sn], 2));
            }
        }
        let b = prompts.len();
        cache.begin(pad, next_pos);
        let h = self.language_model.forward(
            Tensor::cat(embeds, 0),
            Tensor::cat(cos, 0),
            Tensor::cat(sin, 0),
            Some(cache),
        );
        Ok(self.lm_logits(h.narrow(1, s - 1, 1).reshape([b, hidden])))
    }

    fn decode_batch(&self, tokens: &[u32], cache: &mut KvCache<B>) -> Result<Tensor<B, 2>> {
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
        let device = self.device();
        let t = &self.config.text;
        let b = tokens.len();
        let ids: Vec<i64> = tokens.iter().map(|&x| x as i64).collect();
        let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [b, 1]), &device);
        let embeds = self.language_model.embed_tokens.forward(ids);
        let (cos, sin) = t.rope_table(cache.next_positions()).to_tensors::<B, 4>(
            [b, 1, 1, t.head_dim],
            &device,
            self.dtype(),
        );
        let h = self.language_model.forward(embeds, cos, sin, Some(cache));
        Ok(self.lm_logits(h.reshape([b, t.hidden_size])))
    }
}
