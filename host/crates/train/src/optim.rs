//! AdamW with PyTorch's defaults, f32 moments keyed by parameter name, and global-norm clipping.
//!
//! burn 0.21's AdamW defaults differ from PyTorch (eps 1e-5, weight decay 1e-4), keeps its moments
//! in the parameter dtype, keys its state by random `ParamId`s and clips per tensor. This one
//! matches `torch.optim.AdamW` (and HF Trainer's grouping: no decay on biases and norms), keys
//! state by name so a checkpoint restores it into a freshly loaded model, and clips the global
//! L2 norm over all gradients in f32 like TRL's `max_grad_norm`.

use std::collections::HashMap;

use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{ElementConversion, FloatDType, Tensor};
use serde::{Deserialize, Serialize};

use crate::params::{PathStack, matches_any};

/// AdamW hyper-parameters (PyTorch's defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Parameters that get no weight decay (HF Trainer: biases and norm weights).
    pub no_decay: Vec<String>,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
            no_decay: vec!["*bias".into(), "*norm*".into(), "*ln_*".into()],
        }
    }
}

/// The moments of one parameter, flattened, in f32.
#[derive(Debug, Clone)]
pub struct Moments<B: Backend> {
    pub step: u64,
    pub exp_avg: Tensor<B, 1>,
    pub exp_avg_sq: Tensor<B, 1>,
}

/// AdamW over a module on an autodiff backend; state lives on the inner backend.
#[derive(Debug, Clone)]
pub struct AdamW<B: AutodiffBackend> {
    pub config: AdamWConfig,
    state: HashMap<String, Moments<B::InnerBackend>>,
}

impl<B: AutodiffBackend> AdamW<B> {
    pub fn new(config: AdamWConfig) -> Self {
        AdamW {
            config,
            state: HashMap::new(),
        }
    }

    /// The state by parameter name (for checkpoints).
    pub fn state(&self) -> &HashMap<String, Moments<B::InnerBackend>> {
        &self.state
    }

    /// Replaces the state (when resuming).
    pub fn set_state(&mut self, state: HashMap<String, Moments<B::InnerBackend>>) {
        self.state = state;
    }

    /// One update of every parameter that has a gradient; `grad_scale` multiplies the
    /// gradients first (the clipping factor).
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        lr: f64,
        module: M,
        grads: GradientsParams,
        grad_scale: f64,
    ) -> M {
        let mut mapper = StepMapper::<B> {
            path: PathStack::default(),
            config: &self.config,
            state: &mut self.state,
            grads,
            lr,
            grad_scale,
        };
        module.map(&mut mapper)
    }
}

struct StepMapper<'a, B: AutodiffBackend> {
    path: PathStack,
    config: &'a AdamWConfig,
    state: &'a mut HashMap<String, Moments<B::InnerBackend>>,
    grads: GradientsParams,
    lr: f64,
    grad_scale: f64,
}

impl<B: AutodiffBackend> ModuleMapper<B> for StepMapper<'_, B> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<B::InnerBackend, D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let name = self.path.current();
        let require_grad = tensor.is_require_grad();
        let value = tensor.inner();
        let dtype = value.dtype();
        let shape = value.shape();
        let n = shape.num_elements();
        let g = grad
            .cast(FloatDType::F32)
            .reshape([n])
            .mul_scalar(self.grad_scale);
        let p = value.cast(FloatDType::F32).reshape([n]);
        let c = self.config;
        let prev = self.state.remove(&name);
        let (step, m, v) = match prev {
            Some(s) => (s.step + 1, s.exp_avg, s.exp_avg_sq),
            None => (1, g.zeros_like(), g.zeros_like()),
        };
        let m = m.mul_scalar(c.beta1) + g.clone().mul_scalar(1.0 - c.beta1);
        let v = v.mul_scalar(c.beta2) + g.square().mul_scalar(1.0 - c.beta2);
        let bc1 = 1.0 - c.beta1.powi(step as i32);
        let bc2 = 1.0 - c.beta2.powi(step as i32);
        // torch.optim.AdamW: p ← p·(1 − lr·wd) − lr/bc1 · m / (√v/√bc2 + eps)
        let wd = if matches_any(&c.no_decay, &name) {
            0.0
        } else {
            c.weight_decay
        };
        let denom = v.clone().sqrt().div_scalar(bc2.sqrt()).add_scalar(c.eps);
        let update = m.clone().div(denom).mul_scalar(self.lr / bc1);
        let p = p.mul_scalar(1.0 - self.lr * wd) - update;
        self.state.insert(
            name,
            Moments {
                step,
                exp_avg: m,
                exp_avg_sq: v,
            },
        );
        let p = p.reshape(shape).cast(dtype);
        let mut out = Tensor::<B, D>::from_inner(p);
        if require_grad {
            out = out.require_grad();
        }
        Param::from_mapped_value(id, out, mapper)
    }
}

struct NormVisitor<'a, B: AutodiffBackend> {
    grads: &'a GradientsParams,
    sum_sq: Option<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for NormVisitor<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if let Some(g) = self.grads.get::<B::InnerBackend, D>(param.id) {
            let sq = g.cast(FloatDType::F32).square().sum();
            self.sum_sq = Some(match self.sum_sq.take() {
                Some(acc) => acc + sq,
                None => sq,
            });
        }
    }
}

/// The global L2 norm of all gradients, summed in f32 on the device, read back once.
pub fn global_grad_norm<B: AutodiffBackend, M: AutodiffModule<B>>(
    module: &M,
    grads: &GradientsParams,
) -> f64 {
    let mut visitor = NormVisitor::<B> {
        grads,
        sum_sq: None,
    };
    module.visit(&mut visitor);
    match visitor.sum_sq {
        Some(s) => {
            let v: f32 = s.into_scalar().elem();
            (v as f64).sqrt()
        }
        None => 0.0,
    }
}

/// The factor `min(1, max_norm / (norm + 1e-6))` torch's `clip_grad_norm_` applies.
pub fn clip_factor(norm: f64, max_norm: Option<f64>) -> f64 {
    match max_norm {
        Some(max) if max > 0.0 => (max / (norm + 1e-6)).min(1.0),
        _ => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::{Autodiff, NdArray};
    use burn::module::Module;
    use burn::tensor::TensorData;

    type AB = Autodiff<NdArray<f32>>;

    #[derive(Module, Debug)]
    struct Two<B: Backend> {
        weight: Param<Tensor<B, 2>>,
        bias: Param<Tensor<B, 1>>,
    }

    fn model() -> Two<AB> {
        let d = Default::default();
        Two {
            weight: Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![0.5f32, -1.0, 2.0, 0.25], [2, 2]),
                &d,
            )),
            bias: Param::from_tensor(Tensor::from_floats([0.1f32, -0.2], &d)),
        }
    }

    /// loss = Σ (x·W + b)² for a fixed x.
    fn grads(m: &Two<AB>) -> GradientsParams {
        let d = Default::default();
        let x = Tensor::<AB, 2>::from_floats([[1.0f32, 2.0], [-0.5, 0.3]], &d);
        let y = x.matmul(m.weight.val()) + m.bias.val().unsqueeze::<2>();
        let g = y.square().sum().backward();
        GradientsParams::from_grads(g, m)
    }

    fn values(m: &Two<AB>) -> Vec<f32> {
        let mut v: Vec<f32> = m.weight.val().into_data().to_vec().unwrap();
        v.extend(m.bias.val().into_data().to_vec::<f32>().unwrap());
        v
    }

    /// torch.optim.AdamW(lr=0.01, defaults) on the same problem, 3 steps, with
    /// clip_grad_norm_(1.0) before each step and no decay on `bias`
    /// (scripts/optim_reference.py).
    const TORCH_AFTER_3: [f64; 6] = [
        4.6985149384e-01,
        -9.6973842382e-01,
        1.9694020748e+00,
        2.7985152602e-01,
        6.9999724627e-02,
        -1.7026653886e-01,
    ];
    const TORCH_FIRST_NORM: f64 = 2.3180706024e+01;

    #[test]
    fn adamw_with_global_clipping_matches_torch() {
        let mut m = model();
        let mut opt = AdamW::<AB>::new(AdamWConfig::default());
        for step in 0..3 {
            let g = grads(&m);
            let norm = global_grad_norm(&m, &g);
            if step == 0 {
                assert!((norm - TORCH_FIRST_NORM).abs() < 1e-4 * TORCH_FIRST_NORM);
            }
            m = opt.step(0.01, m, g, clip_factor(norm, Some(1.0)));
        }
        for (got, want) in values(&m).iter().zip(TORCH_AFTER_3) {
            assert!((*got as f64 - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert_eq!(opt.state()["weight"].step, 3);
    }

    #[test]
    fn clip_factor_only_shrinks() {
        assert_eq!(clip_factor(0.5, Some(1.0)), 1.0);
        assert!((clip_factor(4.0, Some(1.0)) - 0.25).abs() < 1e-6);
        assert_eq!(clip_factor(4.0, None), 1.0);
    }
}
