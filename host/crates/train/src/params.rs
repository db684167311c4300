//! Parameters by name: the module path burn's derive reports (`layers.0.self_attn.q_proj.weight`),
//! glob patterns over those names, and freezing.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Tensor, backend::Backend};

/// Tracks the module path while a visitor or mapper walks a module.
#[derive(Debug, Default, Clone)]
pub(crate) struct PathStack(Vec<String>);

impl PathStack {
    pub fn enter(&mut self, name: &str) {
        self.0.push(name.to_string());
    }
    pub fn exit(&mut self) {
        self.0.pop();
    }
    /// The path of a parameter that sits at the current position.
    pub fn current(&self) -> String {
        self.0.join(".")
    }
}

/// One float parameter: its path, id, shape and whether it takes gradients.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    pub name: String,
    pub id: ParamId,
    pub shape: Vec<usize>,
    pub trainable: bool,
}

impl ParamInfo {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

struct Lister {
    path: PathStack,
    out: Vec<ParamInfo>,
}

impl<B: Backend> ModuleVisitor<B> for Lister {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        self.out.push(ParamInfo {
            name: self.path.current(),
            id: param.id,
            shape: value.dims().to_vec(),
            trainable: value.is_require_grad(),
        });
    }
}

/// Every float parameter of `module` in visiting order.
pub fn named_params<B: Backend, M: Module<B>>(module: &M) -> Vec<ParamInfo> {
    let mut lister = Lister {
        path: PathStack::default(),
        out: Vec::new(),
    };
    module.visit(&mut lister);
    lister.out
}

/// Glob match where `*` matches any run of characters (dots included).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p = pattern.as_bytes();
    let n = name.as_bytes();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ni));
            pi += 1;
        } else if pi < p.len() && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// True when any pattern matches `name`.
pub fn matches_any(patterns: &[String], name: &str) -> bool {
    patterns.iter().any(|p| glob_match(p, name))
}

struct Freezer<F: Fn(&str) -> bool> {
    path: PathStack,
    select: F,
    frozen: usize,
}

impl<B: Backend, F: Fn(&str) -> bool> ModuleMapper<B> for Freezer<F> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.enter(name);
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        if (self.select)(&self.path.current()) {
            self.frozen += 1;
            param.set_require_grad(false)
        } else {
            param
        }
    }
}

/// Stops gradients for every parameter whose name matches a pattern; returns the module and
/// how many parameter tensors were frozen.
pub fn freeze<B: Backend, M: Module<B>>(module: M, patterns: &[String]) -> (M, usize) {
    if patterns.is_empty() {
        return (module, 0);
    }
    freeze_where(module, |name| matches_any(patterns, name))
}

/// Stops gradients for every parameter whose path `select` accepts.
pub fn freeze_where<B: Backend, M: Module<B>>(
    module: M,
    select: impl Fn(&str) -> bool,
) -> (M, usize) {
    let mut freezer = Freezer {
        path: PathStack::default(),
        select,
        frozen: 0,
    };
    let module = module.map(&mut freezer);
    (module, freezer.frozen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_prefixes_suffixes_and_inner_runs() {
        assert!(glob_match("visual.*", "visual.blocks.0.attn.qkv.weight"));
        assert!(!glob_match("visual.*", "model.visual_x.weight"));
        assert!(glob_match("*bias", "layers.0.q_proj.bias"));
        assert!(glob_match("*.merger.*", "visual.merger.mlp.0.weight"));
        assert!(glob_match("*norm*", "layers.3.input_layernorm.weight"));
        assert!(glob_match("exact.name", "exact.name"));
        assert!(!glob_match("exact.name", "exact.name2"));
        assert!(glob_match("a*b*c", "a__b__b__c"));
    }
}
