//! Our own `Linear` layer: every matmul-heavy layer of every model goes through it, so a faster
//! backend-specific GEMM (cuBLASLt, see `docs/cuda-speed.md`) can replace the body of
//! [`Linear::forward`] without touching model code. It also carries optional LoRA adapters.
//!
//! Layout: the weight is stored `[d_in, d_out]` (Hugging Face stores `[out, in]`; the loader
//! transposes). LoRA follows PEFT: `y = x·W + b + (α/r)·(x·A)·B` with `A [d_in, r]` random and
//! `B [r, d_out]` zero, so a fresh adapter leaves the output unchanged.

use burn::module::{Module, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Distribution, Tensor};

use super::lazy_param;

/// Configuration of a [`Linear`] layer.
#[derive(Debug, Clone, Copy)]
pub struct LinearConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features.
    pub d_output: usize,
    /// Whether the layer has a bias.
    pub bias: bool,
}

impl LinearConfig {
    /// A layer `d_input → d_output` with or without bias.
    pub fn new(d_input: usize, d_output: usize, bias: bool) -> Self {
        Self {
            d_input,
            d_output,
            bias,
        }
    }

    /// Builds the layer with lazily initialised parameters (zeros until loaded; loading a
    /// checkpoint overwrites them without ever materialising the placeholder).
    pub fn init<B: Backend>(&self, device: &B::Device, dtype: DType) -> Linear<B> {
        Linear {
            weight: lazy_param([self.d_input, self.d_output], device, dtype),
            bias: self
                .bias
                .then(|| lazy_param([self.d_output], device, dtype)),
            lora: None,
        }
    }
}

/// A LoRA adapter on a [`Linear`] layer (PEFT's `lora_A`/`lora_B`, stored transposed).
#[derive(Module, Debug)]
pub struct LoraAdapter<B: Backend> {
    /// `A`, shape `[d_in, r]` (PEFT `lora_A.weight` is `[r, d_in]`).
    pub lora_a: Param<Tensor<B, 2>>,
    /// `B`, shape `[r, d_out]` (PEFT `lora_B.weight` is `[d_out, r]`).
    pub lora_b: Param<Tensor<B, 2>>,
    /// `α / r`.
    pub scale: f64,
}

/// Fully connected layer `y = x·W (+ b) (+ LoRA)`, weight `[d_in, d_out]`.
#[derive(Module, Debug)]
pub struct Linear<B: Backend> {
    /// Weight `[d_in, d_out]`.
    pub weight: Param<Tensor<B, 2>>,
    /// Bias `[d_out]`.
    pub bias: Option<Param<Tensor<B, 1>>>,
    /// Optional low-rank adapter.
    pub lora: Option<LoraAdapter<B>>,
}

impl<B: Backend> Linear<B> {
    /// Input and output feature counts.
    pub fn dims(&self) -> (usize, usize) {
        let [d_in, d_out] = self.weight.lazy_shape().dims();
        (d_in, d_out)
    }

    /// Applies the layer to the last dimension.
    ///
    /// Shapes: `x [..., d_in]` → `[..., d_out]`. The matmul runs on a 2-D view `[N, d_in]`, the
    /// shape a cuBLAS GEMM wants, and the gradient of `W` is one GEMM with `K = N`.
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        let dims = x.dims();
        let (d_in, d_out) = self.dims();
        let rows: usize = dims[..D - 1].iter().product();
        let x2: Tensor<B, 2> = x.reshape([rows, d_in]);
        let mut y = x2.clone().matmul(self.weight.val());
        if let Some(bias) = &self.bias {
            y = y + bias.val().unsqueeze_dim(0);
        }
        if let Some(lora) = &self.lora {
            let delta = x2.matmul(lora.lora_a.val()).matmul(lora.lora_b.val());
            y = y + delta.mul_scalar(lora.scale);
        }
        let mut out_dims = dims;
        out_dims[D - 1] = d_out;
        y.reshape(out_dims)
    }

    /// Adds a fresh LoRA adapter of rank `r` and scale `alpha / r`, freezing the base weight and
    /// bias. `A` is Kaiming-uniform like PEFT (bound `1/√d_in`), `B` is zero.
    pub fn with_lora(mut self, rank: usize, alpha: f64, device: &B::Device) -> Self {
        let (d_in, d_out) = self.dims();
        let dtype = self.weight.val().dtype();
        let bound = 1.0 / (d_in as f64).sqrt();
        let a = Tensor::<B, 2>::random([d_in, rank], Distribution::Uniform(-bound, bound), device)
            .cast(dtype);
        let b = Tensor::<B, 2>::zeros([rank, d_out], (device, dtype));
        self.lora = Some(LoraAdapter {
            lora_a: Param::initialized(ParamId::new(), a.require_grad()),
            lora_b: Param::initialized(ParamId::new(), b.require_grad()),
            scale: alpha / rank as f64,
        });
        self.freeze_base()
    }

    /// Marks the base weight and bias as not trainable (LoRA parameters, if any, stay trainable).
    pub fn freeze_base(mut self) -> Self {
        self.weight = self.weight.set_require_grad(false);
        self.bias = self.bias.map(|b| b.set_require_grad(false));
        self
    }

    /// Folds the adapter into the base weight (`W += s·A·B`) and removes it.
    pub fn merge_lora(mut self) -> Self {
        if let Some(lora) = self.lora.take() {
            let delta = lora
                .lora_a
                .val()
                .matmul(lora.lora_b.val())
                .mul_scalar(lora.scale);
            let merged = self.weight.val().detach() + delta.detach();
            self.weight = Param::initialized(self.weight.id, merged);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::tensor::TensorData;

    type B = NdArray<f32>;

    fn layer(device: &burn::tensor::Device<B>) -> Linear<B> {
        let mut l = LinearConfig::new(2, 3, true).init::<B>(device, DType::F32);
        l.weight = Param::from_data(
            TensorData::new(vec![1f32, 2., 3., 4., 5., 6.], [2, 3]),
            device,
        );
        l.bias = Some(Param::from_data(
            TensorData::new(vec![0.5f32, 0., -0.5], [3]),
            device,
        ));
        l
    }

    #[test]
    fn test_linear_computes_x_w_plus_b_on_any_rank() {
        let device = Default::default();
        let l = layer(&device);
        let x =
            Tensor::<B, 3>::from_data(TensorData::new(vec![1f32, 1., 0., 2.], [1, 2, 2]), &device);
        let y = l.forward(x).into_data().to_vec::<f32>().unwrap();
        assert_eq!(y, vec![5.5, 7., 8.5, 8.5, 10., 11.5]);
    }

    #[test]
    fn test_fresh_lora_keeps_output_and_merges_exactly() {
        let device = Default::default();
        let l = layer(&device).with_lora(2, 4.0, &device);
        let x = Tensor::<B, 2>::from_data(TensorData::new(vec![1f32, -1.], [1, 2]), &device);
        assert_eq!(
            l.forward(x.clone()).into_data().to_vec::<f32>().unwrap(),
            vec![-2.5, -3., -3.5]
        );
        let mut l = l;
        let lora = l.lora.as_mut().unwrap();
        lora.lora_b = Param::from_data(
            TensorData::new(vec![1f32, 0., 0., 0., 1., 0.], [2, 3]),
            &device,
        );
        let before = l.forward(x.clone()).into_data().to_vec::<f32>().unwrap();
        let merged = l.merge_lora();
        assert!(merged.lora.is_none());
        let after = merged.forward(x).into_data().to_vec::<f32>().unwrap();
        for (a, b) in before.iter().zip(&after) {
            assert!((a - b).abs() < 1e-5, "{before:?} vs {after:?}");
        }
    }
}
