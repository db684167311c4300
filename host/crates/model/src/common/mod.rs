//! Building blocks shared by the model families: our own [`Linear`] (with LoRA), an exact-GELU
//! activation, norms, rotate-half RoPE / M-RoPE, attention with grouped-query heads, the RGBA →
//! RGB conversion of image processors, and named-parameter access (Hugging Face names ↔ burn
//! parameters) used by loading, saving, freezing and LoRA.

pub mod activation;
pub mod attention;
pub mod kv_cache;
pub mod linear;
pub mod norm;
pub mod params;
pub mod rgb;
pub mod rope;

use burn::module::{Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Distribution, Shape, Tensor};

pub use linear::{Linear, LinearConfig, LoraAdapter};

/// How a lazily created parameter is filled if no checkpoint overwrites it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Init {
    Zeros,
    Ones,
    /// Normal(0, std), the `initializer_range` of Hugging Face configs.
    Normal(f64),
}

/// A parameter that is only materialised when first read. Loading replaces it without ever
/// allocating the placeholder, so building a 7B model before loading costs nothing.
pub(crate) fn lazy_param_init<B: Backend, const D: usize>(
    shape: [usize; D],
    device: &B::Device,
    dtype: DType,
    init: Init,
) -> Param<Tensor<B, D>> {
    Param::uninitialized(
        ParamId::new(),
        move |device, require_grad| {
            let t = match init {
                Init::Zeros => Tensor::<B, D>::zeros(shape, (device, dtype)),
                Init::Ones => Tensor::<B, D>::ones(shape, (device, dtype)),
                Init::Normal(std) => {
                    Tensor::<B, D>::random(shape, Distribution::Normal(0.0, std), device)
                        .cast(dtype)
                }
            };
            if require_grad { t.require_grad() } else { t }
        },
        device.clone(),
        true,
        Shape::from(shape),
    )
}

/// Weights default to Normal(0, 0.02), biases to zero.
pub(crate) fn lazy_param<B: Backend, const D: usize>(
    shape: [usize; D],
    device: &B::Device,
    dtype: DType,
) -> Param<Tensor<B, D>> {
    let init = if D == 1 {
        Init::Zeros
    } else {
        Init::Normal(0.02)
    };
    lazy_param_init(shape, device, dtype, init)
}
