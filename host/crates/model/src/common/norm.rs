//! RMSNorm (Qwen2 decoder) and LayerNorm (Qwen2-VL vision tower), computed in f32 like
//! transformers' `Qwen2VLRMSNorm` and `nn.LayerNorm` under autocast-free bf16.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};

use super::{Init, lazy_param_init};

/// Configuration of an [`RmsNorm`].
#[derive(Debug, Clone, Copy)]
pub struct RmsNormConfig {
    pub size: usize,
    pub eps: f64,
}

impl RmsNormConfig {
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> RmsNorm<B> {
        RmsNorm {
            weight: lazy_param_init([self.size], device, dtype, Init::Ones),
            eps: self.eps,
        }
    }
}

/// `y = w · x / sqrt(mean(x²) + eps)`, statistics in f32.
#[derive(Module, Debug)]
pub struct RmsNorm<B: Backend> {
    pub weight: Param<Tensor<B, 1>>,
    pub eps: f64,
}

impl<B: Backend> RmsNorm<B> {
    /// Shapes: `x [..., size]` → same.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let dtype = x.dtype();
        let x = x.cast(DType::F32);
        let var = x.clone().powi_scalar(2).mean_dim(D - 1);
        let normed = x * (var.add_scalar(self.eps)).sqrt().recip();
        let w = self.weight.val();
        let w = w.reshape(broadcast_shape::<D>(
            self.weight.lazy_shape().dims::<1>()[0],
        ));
        normed.cast(dtype) * w
    }
}

/// Configuration of a [`LayerNorm`].
#[derive(Debug, Clone, Copy)]
pub struct LayerNormConfig {
    pub size: usize,
    pub eps: f64,
}

impl LayerNormConfig {
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> LayerNorm<B> {
        LayerNorm {
            weight: lazy_param_init([self.size], device, dtype, Init::Ones),
            bias: lazy_param_init([self.size], device, dtype, Init::Zeros),
            eps: self.eps,
        }
    }
}

/// `y = w · (x − mean) / sqrt(var + eps) + b` (biased variance, like PyTorch).
#[derive(Module, Debug)]
pub struct LayerNorm<B: Backend> {
    pub weight: Param<Tensor<B, 1>>,
    pub bias: Param<Tensor<B, 1>>,
    pub eps: f64,
}

impl<B: Backend> LayerNorm<B> {
    /// Shapes: `x [..., size]` → same.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let dtype = x.dtype();
        let x = x.cast(DType::F32);
        let mean = x.clone().mean_dim(D - 1);
        let centered = x - mean;
        let var = centered.clone().powi_scalar(2).mean_dim(D - 1);
        let normed = centered * var.add_scalar(self.eps).sqrt().recip();
        let size = self.weight.lazy_shape().dims::<1>()[0];
        let w = self
            .weight
            .val()
            .cast(DType::F32)
            .reshape(broadcast_shape::<D>(size));
        let b = self
            .bias
            .val()
            .cast(DType::F32)
            .reshape(broadcast_shape::<D>(size));
        (normed * w + b).cast(dtype)
    }
}

/// `[1, …, 1, size]` of rank `D`, to broadcast a per-feature vector.
fn broadcast_shape<const D: usize>(size: usize) -> [usize; D] {
    let mut s = [1; D];
    s[D - 1] = size;
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray<f32>;

    #[test]
    fn test_rms_norm_matches_hand_computation() {
        let device = Default::default();
        let norm = RmsNormConfig { size: 2, eps: 0.0 }.init::<B>(&device, DType::F32);
        let x = Tensor::<B, 2>::from_data(TensorData::new(vec![3f32, 4.], [1, 2]), &device);
        let y = norm.forward(x).into_data().to_vec::<f32>().unwrap();
        let rms = (12.5f32).sqrt();
        assert!((y[0] - 3.0 / rms).abs() < 1e-6 && (y[1] - 4.0 / rms).abs() < 1e-6);
    }

    #[test]
    fn test_layer_norm_centres_and_scales() {
        let device = Default::default();
        let norm = LayerNormConfig { size: 2, eps: 0.0 }.init::<B>(&device, DType::F32);
        let x = Tensor::<B, 2>::from_data(TensorData::new(vec![1f32, 3.], [1, 2]), &device);
        let y = norm.forward(x).into_data().to_vec::<f32>().unwrap();
        assert!((y[0] + 1.0).abs() < 1e-6 && (y[1] - 1.0).abs() < 1e-6);
    }
}
