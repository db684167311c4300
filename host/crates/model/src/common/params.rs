//! Named access to a module's float parameters by their dotted path (struct field names and
//! `Vec` indices, e.g. `language_model.layers.0.self_attn.q_proj.weight`). Field names mirror
//! Hugging Face keys, so a family's loader only maps path prefixes.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};

/// A float parameter tensor of rank 1 or 2 (the only ranks our models have).
#[derive(Debug, Clone)]
pub enum AnyTensor<B: Backend> {
    D1(Tensor<B, 1>),
    D2(Tensor<B, 2>),
}

impl<B: Backend> AnyTensor<B> {
    /// Shape of the tensor.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Self::D1(t) => t.dims().to_vec(),
            Self::D2(t) => t.dims().to_vec(),
        }
    }

    /// Copies the values to the host.
    pub fn to_data(&self) -> TensorData {
        match self {
            Self::D1(t) => t.to_data(),
            Self::D2(t) => t.to_data(),
        }
    }
}

/// One named parameter.
#[derive(Debug, Clone)]
pub struct NamedParam<B: Backend> {
    /// Dotted module path.
    pub path: String,
    /// burn's id (what `GradientsParams` and optimisers key on).
    pub id: ParamId,
    /// Whether the parameter is trainable.
    pub require_grad: bool,
    /// Its current value (for autodiff backends: the tracked tensor, so `.grad(&grads)` works).
    pub tensor: AnyTensor<B>,
}

struct Collector<B: Backend> {
    stack: Vec<String>,
    out: Vec<NamedParam<B>>,
}

impl<B: Backend> Collector<B> {
    fn path(&self) -> String {
        self.stack.join(".")
    }
}

impl<B: Backend> ModuleVisitor<B> for Collector<B> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        // Same tensor (same autodiff node), only the static rank changes: no reshape, so
        // `.grad(&grads)` on it finds the parameter's gradient.
        let primitive = param.val().into_primitive();
        let tensor = match D {
            1 => AnyTensor::D1(Tensor::from_primitive(primitive)),
            2 => AnyTensor::D2(Tensor::from_primitive(primitive)),
            _ => panic!(
                "parameter {} has rank {D}; models only use ranks 1 and 2",
                self.path()
            ),
        };
        self.out.push(NamedParam {
            path: self.path(),
            id: param.id,
            require_grad: param.is_require_grad(),
            tensor,
        });
    }
}

/// All float parameters of `module` with their dotted paths, in module order.
pub fn named_params<B: Backend, M: Module<B>>(module: &M) -> Vec<NamedParam<B>> {
    let mut c = Collector {
        stack: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut c);
    c.out
}

/// What a [`ParamSource`] answers for one parameter.
pub enum Provided {
    /// Row-major values in the parameter's shape (any float dtype; cast on upload).
    Data(TensorData),
    /// Keep the current value.
    Keep,
}

/// Supplies parameter values by path; `expected` is the parameter's shape.
pub trait ParamSource {
    type Error;
    fn provide(&mut self, path: &str, expected: &[usize]) -> Result<Provided, Self::Error>;
}

struct Loader<'a, S: ParamSource> {
    stack: Vec<String>,
    source: &'a mut S,
    dtype: DType,
    error: Option<S::Error>,
}

impl<B: Backend, S: ParamSource> ModuleMapper<B> for Loader<'_, S> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.stack.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if self.error.is_some() {
            return param;
        }
        let path = self.stack.join(".");
        let shape = param.lazy_shape();
        match self.source.provide(&path, &shape.dims::<D>()) {
            Ok(Provided::Keep) => param,
            Ok(Provided::Data(data)) => {
                let device = param.lazy_device();
                let t = Tensor::<B, D>::from_data(data, (&device, self.dtype));
                Param::initialized(param.id, t.require_grad())
            }
            Err(e) => {
                self.error = Some(e);
                param
            }
        }
    }
}

/// Replaces parameters with values from `source` (created as trainable, in `dtype`), keeping
/// their ids. Stops at the first error.
pub fn load_params<B: Backend, M: Module<B>, S: ParamSource>(
    module: M,
    source: &mut S,
    dtype: DType,
) -> Result<M, S::Error> {
    let mut loader = Loader {
        stack: Vec::new(),
        source,
        dtype,
        error: None,
    };
    let module = module.map(&mut loader);
    match loader.error {
        Some(e) => Err(e),
        None => Ok(module),
    }
}
