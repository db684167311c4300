//! Activations whose backward pass must match PyTorch's exactly.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// `nn.GELU()`: `x · (1 + erf(x/√2)) / 2`, built from `erf` so autodiff differentiates the
/// exact function. burn 0.21's `activation::gelu` computes this forward but backpropagates the
/// derivative of the tanh approximation, which shifts every gradient upstream of the layer by
/// ~5e-4 relative (seen against torch on the Qwen2.5-VL fixture).
pub fn exact_gelu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    x.clone()
        * x.div_scalar(std::f64::consts::SQRT_2)
            .erf()
            .add_scalar(1.0)
            .mul_scalar(0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::tensor::TensorData;

    type B = Autodiff<NdArray<f32>>;

    /// Forward `x·Φ(x)` and backward `Φ(x) + x·φ(x)`, values from the closed forms.
    #[test]
    fn test_exact_gelu_value_and_derivative() {
        let xs = [-2.0f32, -0.5, 0.0, 1.0, 3.0];
        let x = Tensor::<B, 1>::from_data(TensorData::from(xs), &Default::default()).require_grad();
        let y = exact_gelu(x.clone());
        let grads = y.clone().sum().backward();
        let got: Vec<f32> = y.into_data().to_vec().unwrap();
        let dx: Vec<f32> = x.grad(&grads).unwrap().into_data().to_vec().unwrap();
        // Φ and φ at the sample points (standard normal cdf / pdf).
        let cdf = [0.022_750_132, 0.308_537_54, 0.5, 0.841_344_7, 0.998_650_1];
        let pdf = [
            0.053_990_967,
            0.352_065_33,
            0.398_942_3,
            0.241_970_72,
            0.004_431_848,
        ];
        for i in 0..xs.len() {
            let want_y = xs[i] * cdf[i];
            let want_dx = cdf[i] + xs[i] * pdf[i];
            assert!(
                (got[i] - want_y).abs() < 1e-5,
                "gelu({}) = {}",
                xs[i],
                got[i]
            );
            assert!(
                (dx[i] - want_dx).abs() < 1e-5,
                "gelu'({}) = {}",
                xs[i],
                dx[i]
            );
        }
    }
}
