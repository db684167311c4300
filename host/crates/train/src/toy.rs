//! A tiny image-conditioned causal LM for tests and benchmarks of the trainer itself.
//!
//! h_t = tanh(W_cur·e(x_t) + W_prev·e(x_{t−1}) + W_img·image), logits_t = W_out·h_t. It is a
//! real (if small) model: it learns, its gradients are exact, and it implements the same
//! [`PreferenceModel`] contract as Qwen2-VL, with the image projected once per pair.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::{Tensor, TensorData, backend::Backend};

use crate::batch::PairBatch;
use crate::error::BoxError;
use crate::model::{PreferenceModel, SequenceLogps, completion_logps};
use crate::tensors::{assign_module_tensors, module_tensors, read_safetensors, write_safetensors};

/// Sizes of the toy model.
#[derive(Config, Debug)]
pub struct TinyLmConfig {
    /// Vocabulary size.
    pub vocab: usize,
    /// Hidden width.
    #[config(default = 32)]
    pub d_model: usize,
    /// Length of the image feature vector a pair carries.
    #[config(default = 4)]
    pub image_dim: usize,
}

impl TinyLmConfig {
    pub fn init<B: Backend>(&self, device: &B::Device) -> TinyLm<B> {
        TinyLm {
            embed: EmbeddingConfig::new(self.vocab, self.d_model).init(device),
            cur: LinearConfig::new(self.d_model, self.d_model).init(device),
            prev: LinearConfig::new(self.d_model, self.d_model)
                .with_bias(false)
                .init(device),
            image: LinearConfig::new(self.image_dim, self.d_model).init(device),
            out: LinearConfig::new(self.d_model, self.vocab).init(device),
            image_dim: self.image_dim,
        }
    }
}

/// The toy model (see the module docs).
#[derive(Module, Debug)]
pub struct TinyLm<B: Backend> {
    pub embed: Embedding<B>,
    pub cur: Linear<B>,
    pub prev: Linear<B>,
    pub image: Linear<B>,
    pub out: Linear<B>,
    image_dim: usize,
}

impl<B: Backend> TinyLm<B> {
    /// `ids`: `[S, L]`, `images`: `[S, image_dim]` → logits `[S, L, vocab]`.
    pub fn forward(
        &self,
        ids: Tensor<B, 2, burn::tensor::Int>,
        image_features: Tensor<B, 2>,
    ) -> Tensor<B, 3> {
        let [s, l] = ids.dims();
        let e = self.embed.forward(ids);
        let d = e.dims()[2];
        let shifted = if l > 1 {
            Tensor::cat(
                vec![
                    Tensor::zeros([s, 1, d], &e.device()),
                    e.clone().narrow(1, 0, l - 1),
                ],
                1,
            )
        } else {
            Tensor::zeros([s, 1, d], &e.device())
        };
        let h = self.cur.forward(e) + self.prev.forward(shifted) + image_features.unsqueeze_dim(1);
        self.out.forward(h.tanh())
    }

    /// Saves every parameter by path as `model.safetensors` in `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), BoxError> {
        write_safetensors(&dir.join("model.safetensors"), &module_tensors(self), None)?;
        Ok(())
    }

    /// Loads `model.safetensors` written by [`TinyLm::save`].
    pub fn load(self, dir: &Path) -> Result<Self, BoxError> {
        let path = dir.join("model.safetensors");
        let (tensors, _) = read_safetensors(&path)?;
        Ok(assign_module_tensors(self, &tensors, &path)?)
    }
}

impl<B: Backend> PreferenceModel<B> for TinyLm<B> {
    type Image = Vec<f32>;

    fn sequence_logps(&self, batch: &PairBatch<Vec<f32>>) -> Result<SequenceLogps<B>, BoxError> {
        let device = self.embed.weight.device();
        let n = batch.num_pairs();
        // Encode each pair's image once, then share it between its chosen and rejected rows.
        let mut feats = Vec::with_capacity(n * self.image_dim);
        for img in &batch.images {
            match img {
                Some(v) if v.len() == self.image_dim => feats.extend_from_slice(v),
                Some(v) => {
                    return Err(format!(
                        "image features have length {}, the model expects {}",
                        v.len(),
                        self.image_dim
                    )
                    .into());
                }
                None => feats.extend(std::iter::repeat_n(0.0, self.image_dim)),
            }
        }
        let feats = Tensor::<B, 2>::from_data(TensorData::new(feats, [n, self.image_dim]), &device);
        let encoded = self.image.forward(feats);
        let per_seq = batch.num_sequences() / n.max(1);
        let encoded = Tensor::cat(vec![encoded; per_seq], 0);
        let ids = batch.input_ids_tensor::<B>(&device);
        let logits = self.forward(ids.clone(), encoded);
        Ok(completion_logps(
            logits,
            ids,
            batch.label_mask_tensor(&device),
        ))
    }

    fn device(&self) -> B::Device {
        self.embed.weight.device()
    }
}

impl<B: Backend> crate::trainer::Checkpointable for TinyLm<B> {
    fn save_weights(&self, dir: &Path) -> Result<(), BoxError> {
        self.save(dir)
    }
    fn load_weights(self, dir: &Path) -> Result<Self, BoxError> {
        self.load(dir)
    }
}
