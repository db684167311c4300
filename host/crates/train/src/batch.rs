//! Token batches handed to models: sequences `[chosen_0..chosen_n, rejected_0..rejected_n]`
//! (TRL's order), right-padded, labels only on completion tokens, one image per pair.

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

/// One encoded pair: prompt tokens (chat template + generation prompt, image tokens expanded)
/// and the two completions (answer tokens + end-of-turn id), with the model's image payload.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedPair<I> {
    pub id: String,
    pub prompt: Vec<u32>,
    pub chosen: Vec<u32>,
    pub rejected: Vec<u32>,
    pub image: Option<I>,
}

/// A right-padded batch of `num_sequences()` sequences of length `seq_len`.
#[derive(Debug, Clone)]
pub struct PairBatch<I> {
    /// Pair ids, one per pair.
    pub ids: Vec<String>,
    /// Row-major `[sequences, seq_len]` token ids (padding = `pad_id`).
    pub input_ids: Vec<u32>,
    /// Row-major `[sequences, seq_len]`: 1 where the token at this position is a completion
    /// token (a label), 0 on prompt and padding.
    pub label_mask: Vec<f32>,
    /// Unpadded length of each sequence.
    pub lengths: Vec<usize>,
    /// Prompt length of each sequence (the first completion token's position).
    pub prompt_lens: Vec<usize>,
    pub seq_len: usize,
    /// One image per pair; sequence `s` uses `images[s % num_pairs]`.
    pub images: Vec<Option<I>>,
    /// False in SFT mode, where only the chosen sequences are present.
    pub has_rejected: bool,
}

impl<I: Clone> PairBatch<I> {
    /// Builds the batch: chosen sequences first, then (unless `chosen_only`) rejected ones.
    pub fn new(pairs: &[&EncodedPair<I>], pad_id: u32, chosen_only: bool) -> Self {
        let mut seqs: Vec<(&[u32], &[u32])> = pairs
            .iter()
            .map(|p| (p.prompt.as_slice(), p.chosen.as_slice()))
            .collect();
        if !chosen_only {
            seqs.extend(
                pairs
                    .iter()
                    .map(|p| (p.prompt.as_slice(), p.rejected.as_slice())),
            );
        }
        let seq_len = seqs
            .iter()
            .map(|(p, c)| p.len() + c.len())
            .max()
            .unwrap_or(0);
        let mut input_ids = vec![pad_id; seqs.len() * seq_len];
        let mut label_mask = vec![0.0; seqs.len() * seq_len];
        let mut lengths = Vec::with_capacity(seqs.len());
        let mut prompt_lens = Vec::with_capacity(seqs.len());
        for (s, (prompt, completion)) in seqs.iter().enumerate() {
            let row = s * seq_len;
            input_ids[row..row + prompt.len()].copy_from_slice(prompt);
            let start = row + prompt.len();
            input_ids[start..start + completion.len()].copy_from_slice(completion);
            label_mask[start..start + completion.len()].fill(1.0);
            lengths.push(prompt.len() + completion.len());
            prompt_lens.push(prompt.len());
        }
        PairBatch {
            ids: pairs.iter().map(|p| p.id.clone()).collect(),
            input_ids,
            label_mask,
            lengths,
            prompt_lens,
            seq_len,
            images: pairs.iter().map(|p| p.image.clone()).collect(),
            has_rejected: !chosen_only,
        }
    }
}

impl<I> PairBatch<I> {
    pub fn num_pairs(&self) -> usize {
        self.ids.len()
    }

    pub fn num_sequences(&self) -> usize {
        self.lengths.len()
    }

    /// Completion token count of each sequence.
    pub fn completion_tokens(&self) -> Vec<usize> {
        self.lengths
            .iter()
            .zip(&self.prompt_lens)
            .map(|(l, p)| l - p)
            .collect()
    }

    /// Non-padding tokens in the batch (the tokens/s numerator).
    pub fn total_tokens(&self) -> usize {
        self.lengths.iter().sum()
    }

    /// `[sequences, seq_len]` token ids.
    pub fn input_ids_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2, Int> {
        let data: Vec<i64> = self.input_ids.iter().map(|&t| t as i64).collect();
        Tensor::from_data(
            TensorData::new(data, [self.num_sequences(), self.seq_len]),
            device,
        )
    }

    /// `[sequences, seq_len]` completion (label) mask.
    pub fn label_mask_tensor<B: Backend>(&self, device: &B::Device) -> Tensor<B, 2> {
        Tensor::from_data(
            TensorData::new(
                self.label_mask.clone(),
                [self.num_sequences(), self.seq_len],
            ),
            device,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(id: &str, prompt: &[u32], chosen: &[u32], rejected: &[u32]) -> EncodedPair<()> {
        EncodedPair {
            id: id.into(),
            prompt: prompt.to_vec(),
            chosen: chosen.to_vec(),
            rejected: rejected.to_vec(),
            image: None,
        }
    }

    #[test]
    fn chosen_first_then_rejected_right_padded_with_labels_on_completions() {
        let a = pair("a", &[1, 2], &[7, 9], &[8, 8, 9]);
        let b = pair("b", &[3], &[6, 9], &[5, 9]);
        let batch = PairBatch::new(&[&a, &b], 0, false);
        assert_eq!(batch.seq_len, 5);
        assert_eq!(
            batch.input_ids,
            vec![1, 2, 7, 9, 0, 3, 6, 9, 0, 0, 1, 2, 8, 8, 9, 3, 5, 9, 0, 0]
        );
        assert_eq!(
            batch.label_mask,
            vec![
                0., 0., 1., 1., 0., 0., 1., 1., 0., 0., 0., 0., 1., 1., 1., 0., 1., 1., 0., 0.
            ]
        );
        assert_eq!(batch.completion_tokens(), vec![2, 2, 3, 2]);
        assert_eq!(batch.total_tokens(), 4 + 3 + 5 + 3);
    }

    #[test]
    fn sft_batches_hold_only_the_chosen_sequences() {
        let a = pair("a", &[1, 2], &[7, 9], &[8, 8, 8, 8, 9]);
        let batch = PairBatch::new(&[&a], 0, true);
        assert_eq!(batch.num_sequences(), 1);
        assert_eq!(batch.seq_len, 4);
        assert!(!batch.has_rejected);
    }
}
