//! The thread-safe plugin registry: id → hot-swappable slot. Calls clone the slot's
//! current `Arc` and run on it, so a reload never disturbs an in-flight call and the old
//! code is freed when its last call ends.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;

use crate::error::{CallError, CallErrorKind, LoadError};
use crate::loader::{self, Loaded, Pre};
use crate::sandbox::{CallOutput, Limits, Sandbox};
use crate::types::{Called, Edit, GuestError, PluginInfo, PluginKind, Sample, Verdict};

/// Loads plugins and calls them. Cheap to share (`Arc<PluginHost>`); every method takes
/// `&self` and may be called from many threads at once. Calls block (tens of µs for a
/// small plugin, at most the deadline): from async code use `spawn_blocking`.
pub struct PluginHost {
    sandbox: Sandbox,
    slots: RwLock<BTreeMap<String, Arc<ArcSwap<Loaded>>>>,
}

impl PluginHost {
    /// A host with the given sandbox limits (starts the epoch ticker thread).
    pub fn new(limits: Limits) -> Result<Self, LoadError> {
        let sandbox = Sandbox::new(limits).map_err(|e| LoadError::Engine(format!("{e}")))?;
        Ok(PluginHost {
            sandbox,
            slots: RwLock::new(BTreeMap::new()),
        })
    }

    /// The sandbox limits in force.
    pub fn limits(&self) -> &Limits {
        &self.sandbox.limits
    }

    /// Epoch ticks so far (the deadline's clock; a test can check it keeps running).
    pub fn epoch_ticks(&self) -> u64 {
        self.sandbox.ticks()
    }

    /// Loads (or replaces) the component at `path`. `source` is the crate it was built
    /// from, if any. A plugin with the same id from another file is refused; the same
    /// file (or crate) replaces the old version atomically. Blocking.
    pub fn load_file(&self, path: &Path, source: Option<PathBuf>) -> Result<PluginInfo, LoadError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let path = canonical.as_path();
        let loaded = loader::load(&self.sandbox, path, source)?;
        let info = loaded.info.clone();
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        match slots.get(&info.id) {
            Some(slot) => {
                let old = slot.load();
                let same_origin = old.info.path == info.path
                    || (old.info.source.is_some() && old.info.source == info.source);
                if !same_origin {
                    return Err(LoadError::DuplicateId {
                        path: path.to_path_buf(),
                        id: info.id,
                        other: old.info.path.clone(),
                    });
                }
                slot.store(Arc::new(loaded));
                tracing::info!(plugin = %info.tag(), path = %path.display(), "plugin reloaded");
            }
            None => {
                slots.insert(info.id.clone(), Arc::new(ArcSwap::from_pointee(loaded)));
                tracing::debug!(plugin = %info.tag(), path = %path.display(), "plugin loaded");
            }
        }
        Ok(info)
    }

    /// Unloads `id`; in-flight calls finish first on their own reference.
    pub fn remove(&self, id: &str) -> Option<PluginInfo> {
        let mut slots = self.slots.write().unwrap_or_else(|e| e.into_inner());
        slots.remove(id).map(|slot| slot.load().info.clone())
    }

    /// Every loaded plugin, sorted by id.
    pub fn list(&self) -> Vec<PluginInfo> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots.values().map(|s| s.load().info.clone()).collect()
    }

    /// One plugin's info.
    pub fn info(&self, id: &str) -> Option<PluginInfo> {
        self.current(id).map(|l| l.info.clone())
    }

    /// Loaded injectors that target `category`.
    pub fn injectors_for(&self, category: &str) -> Vec<PluginInfo> {
        self.list()
            .into_iter()
            .filter(|p| {
                p.kind == PluginKind::Injector
                    && p.categories
                        .iter()
                        .any(|c| c.eq_ignore_ascii_case(category))
            })
            .collect()
    }

    /// Loaded plugins of one kind.
    pub fn of_kind(&self, kind: PluginKind) -> Vec<PluginInfo> {
        self.list().into_iter().filter(|p| p.kind == kind).collect()
    }

    /// The plugin whose component or source crate is `path`.
    pub fn id_for_path(&self, path: &Path) -> Option<String> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let path = canonical.as_path();
        self.list()
            .into_iter()
            .find(|p| p.path == path || p.source.as_deref() == Some(path))
            .map(|p| p.id)
    }

    fn current(&self, id: &str) -> Option<Arc<Loaded>> {
        let slots = self.slots.read().unwrap_or_else(|e| e.into_inner());
        slots.get(id).map(|s| s.load_full())
    }

    fn plugin(
        &self,
        id: &str,
        function: &'static str,
        kind: PluginKind,
    ) -> Result<Arc<Loaded>, CallError> {
        let loaded = self
            .current(id)
            .ok_or_else(|| CallError::new(id, function, CallErrorKind::NotFound(id.into())))?;
        if loaded.info.kind != kind {
            let found = loaded.info.kind;
            return Err(CallError::new(
                loaded.tag.to_string(),
                function,
                CallErrorKind::WrongKind {
                    expected: kind,
                    found,
                },
            ));
        }
        Ok(loaded)
    }

    fn called<T>(loaded: &Loaded, out: CallOutput<T>) -> Called<T> {
        Called {
            value: out.value,
            plugin: loaded.info.id.clone(),
            version: loaded.info.version.clone(),
            sha256: loaded.info.sha256.clone(),
            logs: out.logs,
            elapsed: out.elapsed,
        }
    }

    /// Runs one injector export on a fresh instance.
    fn call_injector<T>(
        &self,
        id: &str,
        function: &'static str,
        f: impl FnOnce(
            &crate::bindings::injector::ErrorInjector,
            &mut wasmtime::Store<crate::sandbox::StoreState>,
        ) -> wasmtime::Result<T>,
    ) -> Result<(Arc<Loaded>, CallOutput<T>), CallError> {
        let loaded = self.plugin(id, function, PluginKind::Injector)?;
        let Pre::Injector(pre) = &loaded.pre else {
            unreachable!("kind checked above")
        };
        let out = self.sandbox.call(&loaded.tag, function, |store| {
            let instance = pre.instantiate(&mut *store)?;
            f(&instance, store)
        })?;
        Ok((loaded, out))
    }

    /// Stage 2 fit score of `sample` for injector `id`, in [0, 1].
    pub fn fit(&self, id: &str, sample: &Sample) -> Result<Called<f32>, CallError> {
        let wit = sample.into();
        let (loaded, out) = self.call_injector(id, "fit", |i, s| {
            i.vapr_plugin_injection().call_fit(s, &wit)
        })?;
        let mut called = Self::called(&loaded, out);
        called.value = if called.value.is_nan() {
            0.0
        } else {
            called.value.clamp(0.0, 1.0)
        };
        Ok(called)
    }

    /// The editor prompt built from `template` (the text of `configs/prompts/<category>.*`).
    pub fn build_prompt(
        &self,
        id: &str,
        template: &str,
        sample: &Sample,
    ) -> Result<Called<String>, CallError> {
        let wit = sample.into();
        let (loaded, out) = self.call_injector(id, "build-prompt", |i, s| {
            i.vapr_plugin_injection()
                .call_build_prompt(s, template, &wit)
        })?;
        let called = self.guest_result(&loaded, "build-prompt", out)?;
        self.check_len(
            &loaded,
            "build-prompt",
            called.value.len(),
            template.len() + sample.text_len(),
        )?;
        Ok(called)
    }

    /// The rejected answer parsed from the editor's `reply`.
    pub fn parse_reply(
        &self,
        id: &str,
        reply: &str,
        sample: &Sample,
    ) -> Result<Called<Edit>, CallError> {
        let wit = sample.into();
        let (loaded, out) = self.call_injector(id, "parse-reply", |i, s| {
            i.vapr_plugin_injection().call_parse_reply(s, reply, &wit)
        })?;
        let called = self.guest_result(&loaded, "parse-reply", out)?;
        self.check_edit(
            &loaded,
            "parse-reply",
            &called.value,
            reply.len() + sample.text_len(),
        )?;
        Ok(called.map(Edit::from))
    }

    /// A deterministic edit of `sample` with `seed`, no LLM involved.
    pub fn rule_edit(
        &self,
        id: &str,
        sample: &Sample,
        seed: u64,
    ) -> Result<Called<Edit>, CallError> {
        let wit = sample.into();
        let (loaded, out) = self.call_injector(id, "rule-edit", |i, s| {
            i.vapr_plugin_injection().call_rule_edit(s, &wit, seed)
        })?;
        let called = self.guest_result(&loaded, "rule-edit", out)?;
        self.check_edit(&loaded, "rule-edit", &called.value, sample.text_len())?;
        Ok(called.map(Edit::from))
    }

    /// Validator `id`'s verdict on (chosen, rejected) for `sample`.
    pub fn validate(
        &self,
        id: &str,
        sample: &Sample,
        chosen: &str,
        rejected: &str,
    ) -> Result<Called<Verdict>, CallError> {
        let wit = sample.into();
        let loaded = self.plugin(id, "validate", PluginKind::Validator)?;
        let Pre::Validator(pre) = &loaded.pre else {
            unreachable!("kind checked above")
        };
        let out = self.sandbox.call(&loaded.tag, "validate", |store| {
            let instance = pre.instantiate(&mut *store)?;
            instance
                .vapr_plugin_validation()
                .call_validate(&mut *store, &wit, chosen, rejected)
        })?;
        let text: usize = out.value.reasons.iter().map(String::len).sum::<usize>()
            + out
                .value
                .metrics
                .iter()
                .map(|(k, _)| k.len())
                .sum::<usize>();
        self.check_len(
            &loaded,
            "validate",
            text,
            sample.text_len() + chosen.len() + rejected.len(),
        )?;
        let mut called = Self::called(&loaded, out).map(Verdict::from);
        called.value.score = if called.value.score.is_nan() {
            0.0
        } else {
            called.value.score.clamp(0.0, 1.0)
        };
        Ok(called)
    }

    /// The plugin's self-description, fresh from a call (also a liveness probe).
    pub fn describe(&self, id: &str) -> Result<Called<PluginInfo>, CallError> {
        let loaded = self
            .current(id)
            .ok_or_else(|| CallError::new(id, "describe", CallErrorKind::NotFound(id.into())))?;
        let out = loader::describe(&self.sandbox, &loaded.pre, &loaded.tag)?;
        let mut info = loaded.info.clone();
        info.description = out.value.description.clone();
        info.categories = out.value.categories.clone();
        Ok(Self::called(
            &loaded,
            CallOutput {
                value: info,
                logs: out.logs,
                elapsed: out.elapsed,
            },
        ))
    }

    fn guest_result<T>(
        &self,
        loaded: &Loaded,
        function: &'static str,
        out: CallOutput<Result<T, crate::bindings::WitPluginError>>,
    ) -> Result<Called<T>, CallError> {
        match out.value {
            Ok(value) => Ok(Self::called(
                loaded,
                CallOutput {
                    value,
                    logs: out.logs,
                    elapsed: out.elapsed,
                },
            )),
            Err(e) => Err(CallError::new(
                loaded.tag.to_string(),
                function,
                CallErrorKind::Guest(GuestError::from(e)),
            )),
        }
    }

    fn check_edit(
        &self,
        loaded: &Loaded,
        function: &'static str,
        edit: &crate::bindings::WitEdit,
        input: usize,
    ) -> Result<(), CallError> {
        let len = edit.rejected.len()
            + edit.note.as_ref().map_or(0, String::len)
            + edit
                .extra
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
        self.check_len(loaded, function, len, input)
    }

    fn check_len(
        &self,
        loaded: &Loaded,
        function: &'static str,
        len: usize,
        input: usize,
    ) -> Result<(), CallError> {
        let limit = self.sandbox.limits.output_limit(input);
        if len > limit {
            return Err(CallError::new(
                loaded.tag.to_string(),
                function,
                CallErrorKind::OutputTooLarge { len, limit },
            ));
        }
        Ok(())
    }
}

impl<T> Called<T> {
    /// Converts the value, keeping the provenance.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Called<U> {
        Called {
            value: f(self.value),
            plugin: self.plugin,
            version: self.version,
            sha256: self.sha256,
            logs: self.logs,
            elapsed: self.elapsed,
        }
    }
}
