//! Loading one component: size and API-version checks on the raw bytes, compile, link
//! (`instantiate_pre`), then a smoke call of `describe` in a fresh sandbox. Only a
//! component that passes every step becomes a `Loaded` plugin.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

use crate::bindings::{WitPluginInfo, injector, validator};
use crate::error::LoadError;
use crate::sandbox::{Sandbox, StoreState};
use crate::types::{PluginInfo, PluginKind};
use crate::version::{self, HOST_API};

/// The pre-instantiated component of one world.
pub(crate) enum Pre {
    Injector(injector::ErrorInjectorPre<StoreState>),
    Validator(validator::ValidatorPre<StoreState>),
}

/// A loaded, checked plugin: what a registry slot holds.
pub(crate) struct Loaded {
    pub info: PluginInfo,
    pub pre: Pre,
    /// `id@version`, shared by every call's log lines and errors.
    pub tag: Arc<str>,
}

/// Reads, checks, compiles, links and smoke-tests the component at `path`.
/// Blocking (compilation takes tens to hundreds of milliseconds): call it from a
/// blocking thread.
pub(crate) fn load(
    sandbox: &Sandbox,
    path: &Path,
    source: Option<PathBuf>,
) -> Result<Loaded, LoadError> {
    let read_err = |source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(read_err)?.len();
    let limit = sandbox.limits.max_component_bytes;
    if size > limit {
        return Err(LoadError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let bytes = std::fs::read(path).map_err(read_err)?;
    let api = version::read_api_version(path, &bytes)?;
    let file_id = path
        .file_stem()
        .map(|s| s.to_string_lossy().replace('_', "-"))
        .unwrap_or_default();
    if !api.is_compatible_with(HOST_API) {
        return Err(LoadError::IncompatibleApi {
            path: path.to_path_buf(),
            plugin: file_id,
            found: api.to_string(),
            supported: version::supported_range(),
        });
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let component = compile(sandbox, path, &bytes, &sha256)?;
    let kind = world_of(sandbox, &component).ok_or_else(|| LoadError::UnknownWorld {
        path: path.to_path_buf(),
    })?;
    let link_err = |e: wasmtime::Error| LoadError::Link {
        path: path.to_path_buf(),
        message: format!("{e:?}"),
    };
    let instance_pre = sandbox
        .linker
        .instantiate_pre(&component)
        .map_err(link_err)?;
    let pre = match kind {
        PluginKind::Injector => {
            Pre::Injector(injector::ErrorInjectorPre::new(instance_pre).map_err(link_err)?)
        }
        PluginKind::Validator => {
            Pre::Validator(validator::ValidatorPre::new(instance_pre).map_err(link_err)?)
        }
    };
    let probe_tag: Arc<str> = Arc::from(format!("{file_id} ({})", path.display()));
    let meta = describe(sandbox, &pre, &probe_tag)
        .map_err(|e| LoadError::Smoke {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?
        .value;
    if !valid_id(&meta.id) {
        return Err(LoadError::BadId {
            path: path.to_path_buf(),
            id: meta.id,
        });
    }
    let info = PluginInfo {
        id: meta.id,
        kind,
        version: meta.version,
        categories: meta.categories,
        description: meta.description,
        api_version: api.to_string(),
        path: path.to_path_buf(),
        source,
        sha256,
        extra: meta.extra,
    };
    let tag = Arc::from(info.tag());
    Ok(Loaded { info, pre, tag })
}

/// Compiles `bytes`, through the on-disk cache when one is configured. Cache entries are
/// named by the component's sha256 and the engine's compatibility hash, written
/// atomically, and only ever produced by this function.
fn compile(
    sandbox: &Sandbox,
    path: &Path,
    bytes: &[u8],
    sha256: &str,
) -> Result<Component, LoadError> {
    use std::hash::{Hash, Hasher};
    let compile_err = |e: wasmtime::Error| LoadError::Compile {
        path: path.to_path_buf(),
        message: format!("{e}"),
    };
    let Some(dir) = &sandbox.limits.compile_cache else {
        return Component::new(&sandbox.engine, bytes).map_err(compile_err);
    };
    let mut h = std::collections::hash_map::DefaultHasher::new();
    sandbox.engine.precompile_compatibility_hash().hash(&mut h);
    let cached = dir.join(format!("{sha256}-{:016x}.cwasm", h.finish()));
    if cached.is_file() {
        // SAFETY: the file was written by `Component::serialize` below for exactly these
        // bytes and engine settings; the cache directory is the user's own.
        match unsafe { Component::deserialize_file(&sandbox.engine, &cached) } {
            Ok(c) => return Ok(c),
            Err(e) => {
                tracing::debug!(path = %cached.display(), "ignoring unusable compile cache entry: {e}")
            }
        }
    }
    let component = Component::new(&sandbox.engine, bytes).map_err(compile_err)?;
    if let Ok(serialized) = component.serialize() {
        let tmp = cached.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, serialized))
            .and_then(|_| std::fs::rename(&tmp, &cached));
        if let Err(e) = written {
            tracing::debug!(dir = %dir.display(), "cannot write the compile cache: {e}");
            let _ = std::fs::remove_file(&tmp);
        }
    }
    Ok(component)
}

/// Calls the world's `describe` on a fresh store.
pub(crate) fn describe(
    sandbox: &Sandbox,
    pre: &Pre,
    tag: &Arc<str>,
) -> Result<crate::sandbox::CallOutput<WitPluginInfo>, crate::error::CallError> {
    sandbox.call(tag, "describe", |store| match pre {
        Pre::Injector(p) => p
            .instantiate(&mut *store)?
            .vapr_plugin_injection()
            .call_describe(&mut *store),
        Pre::Validator(p) => p
            .instantiate(&mut *store)?
            .vapr_plugin_validation()
            .call_describe(&mut *store),
    })
}

/// Which world the component implements, from its export names (any 0.1.x).
fn world_of(sandbox: &Sandbox, component: &Component) -> Option<PluginKind> {
    let ty = component.component_type();
    let mut kind = None;
    for (name, _) in ty.exports(&sandbox.engine) {
        if name.starts_with("vapr:plugin/injection@0.1.") {
            kind = Some(PluginKind::Injector);
        } else if name.starts_with("vapr:plugin/validation@0.1.") {
            kind = Some(PluginKind::Validator);
        }
    }
    kind
}

/// Plugin ids are lower-case kebab: they name files, JSON keys and CLI arguments.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_lower_kebab() {
        assert!(super::valid_id("length-edit"));
        assert!(super::valid_id("counting2"));
        assert!(!super::valid_id("Counting"));
        assert!(!super::valid_id("a b"));
        assert!(!super::valid_id(""));
        assert!(!super::valid_id("-x"));
    }
}
