//! Hot reload: ONE background thread watches the plugin directories (components and dev
//! crates) and the prompt-template directory, debounced. A changed crate is rebuilt, a
//! changed component recompiled and smoke-called, and only then swapped in; on any
//! failure the old version keeps serving and the reason is reported. Build output
//! (`target/`) and editor temp files are ignored, so a build never triggers itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use crate::builder::Builder;
use crate::discover::PluginCrate;
use crate::registry::PluginHost;
use crate::templates::{TemplateStore, is_temp_file};
use crate::types::PluginInfo;

/// What the reload task did, for the caller to print or log.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReloadEvent {
    /// A new version is serving.
    Loaded { info: PluginInfo, rebuilt: bool },
    /// A plugin file was deleted and its plugin unloaded.
    Removed { id: String },
    /// The new version failed; the old one (if any) keeps serving.
    Failed { path: PathBuf, error: String },
    /// The template set was swapped; `changed` names the templates that differ.
    Templates { changed: Vec<String> },
    /// The template set failed to load; the old set keeps serving.
    TemplatesFailed { error: String },
}

/// The running reload task; dropping it stops watching and joins the thread.
pub struct Reloader {
    debouncer:
        Option<Debouncer<notify_debouncer_full::notify::RecommendedWatcher, RecommendedCache>>,
    thread: Option<JoinHandle<()>>,
}

impl Reloader {
    /// Starts watching `dirs` (plugin directories) and the template directory.
    pub fn spawn(
        host: Arc<PluginHost>,
        templates: Option<Arc<TemplateStore>>,
        dirs: Vec<PathBuf>,
        builder: Builder,
        debounce: Duration,
        on_event: impl Fn(ReloadEvent) + Send + 'static,
    ) -> Result<Self, notify_debouncer_full::notify::Error> {
        let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
        let mut debouncer =
            new_debouncer(debounce, None, move |res: DebounceEventResult| match res {
                Ok(events) => {
                    let paths: Vec<PathBuf> =
                        events.into_iter().flat_map(|e| e.event.paths).collect();
                    let _ = tx.send(paths);
                }
                Err(errors) => tracing::warn!(?errors, "plugin watcher error"),
            })?;
        let dirs: Vec<PathBuf> = dirs
            .into_iter()
            .map(|d| d.canonicalize().unwrap_or(d))
            .collect();
        for d in &dirs {
            if d.is_dir() {
                debouncer.watch(d, RecursiveMode::Recursive)?;
            }
        }
        let template_dir = templates.as_ref().map(|t| {
            t.dir()
                .canonicalize()
                .unwrap_or_else(|_| t.dir().to_path_buf())
        });
        if let Some(t) = &template_dir
            && t.is_dir()
        {
            debouncer.watch(t, RecursiveMode::NonRecursive)?;
        }
        let task = Task {
            host,
            templates,
            template_dir,
            dirs,
            builder,
            on_event: Box::new(on_event),
        };
        let thread = std::thread::Builder::new()
            .name("vapr-plugin-reload".into())
            .spawn(move || {
                while let Ok(mut paths) = rx.recv() {
                    // Coalesce whatever else arrived meanwhile: one rebuild per burst.
                    while let Ok(more) = rx.try_recv() {
                        paths.extend(more);
                    }
                    task.handle(paths);
                }
            })
            .expect("cannot spawn the plugin reload thread");
        Ok(Reloader {
            debouncer: Some(debouncer),
            thread: Some(thread),
        })
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        // Stopping the debouncer drops the channel sender, which ends the thread.
        if let Some(d) = self.debouncer.take() {
            d.stop();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Task {
    host: Arc<PluginHost>,
    templates: Option<Arc<TemplateStore>>,
    template_dir: Option<PathBuf>,
    dirs: Vec<PathBuf>,
    builder: Builder,
    on_event: Box<dyn Fn(ReloadEvent) + Send>,
}

impl Task {
    fn handle(&self, paths: Vec<PathBuf>) {
        let mut templates = false;
        let mut components: BTreeSet<PathBuf> = BTreeSet::new();
        let mut crates: BTreeSet<PathBuf> = BTreeSet::new();
        for path in paths {
            if ignored(&path) {
                continue;
            }
            if self
                .template_dir
                .as_deref()
                .is_some_and(|t| path.parent() == Some(t))
            {
                templates = true;
                continue;
            }
            let Some(root) = self.dirs.iter().find(|d| path.starts_with(d)) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "wasm")
                && path.parent() == Some(root.as_path())
            {
                components.insert(path);
            } else if let Some(krate) = crate_of(&path, root) {
                crates.insert(krate);
            }
        }
        if templates && let Some(store) = &self.templates {
            match store.reload() {
                Ok(changed) => (self.on_event)(ReloadEvent::Templates { changed }),
                Err(e) => (self.on_event)(ReloadEvent::TemplatesFailed {
                    error: e.to_string(),
                }),
            }
        }
        for dir in crates {
            let before = self.serving_sha(&dir);
            let event = match self.host.build_and_load(&dir, &self.builder) {
                // A touched file that changed nothing (or cargo rewriting Cargo.lock)
                // yields the same component: not worth an event.
                Ok(info) if before.as_deref() == Some(info.sha256.as_str()) => continue,
                Ok(info) => ReloadEvent::Loaded {
                    info,
                    rebuilt: true,
                },
                Err(e) => ReloadEvent::Failed {
                    path: dir,
                    error: e.to_string(),
                },
            };
            (self.on_event)(event);
        }
        for path in components {
            let before = self.serving_sha(&path);
            let event = if path.exists() {
                match self.host.load_file(&path, None) {
                    Ok(info) if before.as_deref() == Some(info.sha256.as_str()) => continue,
                    Ok(info) => ReloadEvent::Loaded {
                        info,
                        rebuilt: false,
                    },
                    Err(e) => ReloadEvent::Failed {
                        path,
                        error: e.to_string(),
                    },
                }
            } else {
                match self.host.id_for_path(&path) {
                    Some(id) => {
                        self.host.remove(&id);
                        ReloadEvent::Removed { id }
                    }
                    None => continue,
                }
            };
            (self.on_event)(event);
        }
    }
}

impl Task {
    /// sha256 of the version now serving for a component file or crate dir.
    fn serving_sha(&self, path: &Path) -> Option<String> {
        let id = self.host.id_for_path(path)?;
        self.host.info(&id).map(|i| i.sha256)
    }
}

/// Build output and editor temp files never trigger a reload.
fn ignored(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "target")
        || path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(is_temp_file)
}

/// The plugin crate (below `root`) that `path` belongs to.
fn crate_of(path: &Path, root: &Path) -> Option<PathBuf> {
    path.ancestors()
        .take_while(|a| a.starts_with(root))
        .find(|a| PluginCrate::read(a).is_some())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_output_and_temp_files_are_ignored() {
        assert!(ignored(Path::new(
            "/p/plugins/x/target/wasm32-wasip2/release/x.wasm"
        )));
        assert!(ignored(Path::new("/p/plugins/x/src/.lib.rs.swp")));
        assert!(ignored(Path::new("/p/plugins/x/src/lib.rs~")));
        assert!(!ignored(Path::new("/p/plugins/x/src/lib.rs")));
    }
}
