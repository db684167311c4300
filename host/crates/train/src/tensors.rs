//! Named float tensors to and from safetensors files: module weights by path (the toy model's
//! checkpoints) and optimizer moments. Values round-trip exactly in f32.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{FloatDType, Tensor, TensorData, backend::Backend};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Result, TrainError};
use crate::params::PathStack;

/// A host-side f32 tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl HostTensor {
    pub fn from_tensor<B: Backend, const D: usize>(t: Tensor<B, D>) -> Self {
        let shape = t.dims().to_vec();
        let data = t
            .cast(FloatDType::F32)
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .expect("f32 data");
        HostTensor { shape, data }
    }

    pub fn to_tensor<B: Backend, const D: usize>(&self, device: &B::Device) -> Tensor<B, D> {
        Tensor::from_data(
            TensorData::new(self.data.clone(), self.shape.clone()),
            device,
        )
    }
}

/// Writes f32 tensors to `path` (not atomically: callers write inside a temporary directory).
pub fn write_safetensors(
    path: &Path,
    tensors: &BTreeMap<String, HostTensor>,
    metadata: Option<HashMap<String, String>>,
) -> Result<()> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(k, t)| {
            let b: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (k.clone(), b, t.shape.clone())
        })
        .collect();
    let views: Vec<(String, TensorView<'_>)> = bytes
        .iter()
        .map(|(k, b, s)| {
            let view = TensorView::new(Dtype::F32, s.clone(), b).expect("consistent view");
            (k.clone(), view)
        })
        .collect();
    safetensors::serialize_to_file(views, metadata, path).map_err(|source| {
        TrainError::Safetensors {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Reads every tensor of a safetensors file as f32 (f32, f16 and bf16 files), with its metadata.
pub fn read_safetensors(
    path: &Path,
) -> Result<(BTreeMap<String, HostTensor>, HashMap<String, String>)> {
    let bytes = std::fs::read(path).map_err(|e| TrainError::io(path, e))?;
    let st = |source| TrainError::Safetensors {
        path: path.to_path_buf(),
        source,
    };
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(st)?;
    let metadata = meta.metadata().clone().unwrap_or_default();
    let file = SafeTensors::deserialize(&bytes).map_err(st)?;
    let mut out = BTreeMap::new();
    for (name, view) in file.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => raw
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                .collect(),
            other => {
                return Err(TrainError::Checkpoint {
                    path: path.to_path_buf(),
                    message: format!("tensor `{name}` has unsupported dtype {other:?}"),
                });
            }
        };
        out.insert(
            name,
            HostTensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok((out, metadata))
}

struct Collect {
    path: PathStack,
    out: BTreeMap<String, HostTensor>,
}

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.out
            .insert(self.path.current(), HostTensor::from_tensor(param.val()));
    }
}

/// Every float parameter of `module` by path.
pub fn module_tensors<B: Backend, M: Module<B>>(module: &M) -> BTreeMap<String, HostTensor> {
    let mut c = Collect {
        path: PathStack::default(),
        out: BTreeMap::new(),
    };
    module.visit(&mut c);
    c.out
}

/// How a module path is found in a file: its key, and whether the file stores the 2-D tensor
/// transposed (`[out, in]` upstream for our `[in, out]` linears). `None` keeps the parameter.
pub type KeyMap<'a> = &'a dyn Fn(&str) -> Option<(String, bool)>;

struct Assign<'a> {
    path: PathStack,
    tensors: &'a BTreeMap<String, HostTensor>,
    key: KeyMap<'a>,
    problems: Vec<String>,
    assigned: usize,
}

impl<B: Backend> ModuleMapper<B> for Assign<'_> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let path = self.path.current();
        let (id, value, mapper) = param.consume();
        let Some((name, transposed)) = (self.key)(&path) else {
            return Param::from_mapped_value(id, value, mapper);
        };
        let Some(t) = self.tensors.get(&name) else {
            self.problems.push(format!("missing tensor `{name}`"));
            return Param::from_mapped_value(id, value, mapper);
        };
        let want = value.dims().to_vec();
        let t = if transposed && t.shape.len() == 2 {
            let (r, c) = (t.shape[0], t.shape[1]);
            let mut data = vec![0.0; t.data.len()];
            for i in 0..r {
                for j in 0..c {
                    data[j * r + i] = t.data[i * c + j];
                }
            }
            HostTensor {
                shape: vec![c, r],
                data,
            }
        } else {
            t.clone()
        };
        if t.shape != want {
            self.problems.push(format!(
                "tensor `{name}` has shape {:?}, the model expects {:?}",
                t.shape, want
            ));
            return Param::from_mapped_value(id, value, mapper);
        }
        let require_grad = value.is_require_grad();
        let mut new = t.to_tensor::<B, D>(&value.device()).cast(value.dtype());
        if require_grad {
            new = new.require_grad();
        }
        self.assigned += 1;
        Param::from_mapped_value(id, new, mapper)
    }
}

/// Replaces every float parameter of `module` with the tensor of the same path; a missing or
/// misshapen tensor is an error naming it.
pub fn assign_module_tensors<B: Backend, M: Module<B>>(
    module: M,
    tensors: &BTreeMap<String, HostTensor>,
    origin: &Path,
) -> Result<M> {
    assign_mapped(
        module,
        tensors,
        &|p: &str| Some((p.to_string(), false)),
        origin,
    )
    .map(|(m, _)| m)
}

/// Like [`assign_module_tensors`] through a key map; returns the module and how many
/// parameters were replaced.
pub fn assign_mapped<B: Backend, M: Module<B>>(
    module: M,
    tensors: &BTreeMap<String, HostTensor>,
    key: KeyMap<'_>,
    origin: &Path,
) -> Result<(M, usize)> {
    let mut a = Assign {
        path: PathStack::default(),
        tensors,
        key,
        problems: Vec::new(),
        assigned: 0,
    };
    let module = module.map(&mut a);
    if a.problems.is_empty() {
        Ok((module, a.assigned))
    } else {
        Err(TrainError::Checkpoint {
            path: origin.to_path_buf(),
            message: a.problems.join("; "),
        })
    }
}
