//! Building plugin crates into components with `cargo build --release --target
//! wasm32-wasip2` (adding the target with rustup first when it is missing), skipping
//! crates whose component is newer than every source file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::SystemTime;

use crate::discover::PluginCrate;
use crate::error::BuildError;

/// The wasm target plugins are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// Builds plugin crates. `target_dir` defaults to `$VAPR_PLUGIN_TARGET_DIR`, else each
/// crate's own cargo target dir.
#[derive(Debug, Clone)]
pub struct Builder {
    target_dir: Option<PathBuf>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Self {
        Builder {
            target_dir: std::env::var_os("VAPR_PLUGIN_TARGET_DIR").map(PathBuf::from),
        }
    }

    /// Puts every build in `dir` (needed when a build must not wait on another cargo's
    /// lock of the crate's own target dir).
    pub fn with_target_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.target_dir = dir;
        self
    }

    /// Where the crate's component is (or will be after a build).
    pub fn component_path(&self, krate: &PluginCrate) -> PathBuf {
        krate.component_path(self.target_dir.as_deref())
    }

    /// Whether the component is missing or older than a source file of the crate or of a
    /// local (path) dependency it builds from, such as the plugin SDK (anything under those
    /// dirs except `target/` and hidden files).
    pub fn is_stale(&self, krate: &PluginCrate) -> bool {
        let Ok(built) = std::fs::metadata(self.component_path(krate)).and_then(|m| m.modified())
        else {
            return true;
        };
        source_dirs(&krate.dir)
            .iter()
            .filter_map(|d| newest_source(d))
            .any(|newest| newest > built)
    }

    /// Builds when stale; returns the component path and whether cargo ran.
    pub fn build_if_stale(&self, krate: &PluginCrate) -> Result<(PathBuf, bool), BuildError> {
        if self.is_stale(krate) {
            Ok((self.build(krate)?, true))
        } else {
            Ok((self.component_path(krate), false))
        }
    }

    /// Runs cargo (which itself rebuilds only what changed) and returns the component
    /// path cargo reports.
    pub fn build(&self, krate: &PluginCrate) -> Result<PathBuf, BuildError> {
        ensure_target(&krate.dir)?;
        let manifest = krate.dir.join("Cargo.toml");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(&cargo);
        cmd.args([
            "build",
            "--release",
            "--target",
            TARGET,
            "--message-format",
            "json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        // sccache and similar wrappers break WASI builds.
        .env("RUSTC_WRAPPER", "")
        .stdin(Stdio::null());
        if let Some(dir) = &self.target_dir {
            cmd.arg("--target-dir").arg(dir);
        }
        tracing::info!(plugin = %krate.name, dir = %krate.dir.display(), "building plugin");
        let out = cmd.output().map_err(|source| BuildError::Spawn {
            crate_dir: krate.dir.clone(),
            program: cargo.to_string_lossy().into_owned(),
            source,
        })?;
        if !out.status.success() {
            return Err(BuildError::Cargo {
                crate_dir: krate.dir.clone(),
                stderr: tail(&out.stderr, 60),
            });
        }
        let wanted = manifest.canonicalize().unwrap_or(manifest);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let path = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact")
            .filter(|m| {
                m["manifest_path"]
                    .as_str()
                    .is_some_and(|p| Path::new(p) == wanted)
            })
            .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
            .filter_map(|f| f.as_str().map(PathBuf::from))
            .find(|f| f.extension().is_some_and(|e| e == "wasm"));
        path.ok_or_else(|| BuildError::NoArtifact {
            crate_dir: krate.dir.clone(),
        })
    }
}

/// Adds the wasm target once per process when rustup says it is missing. Without
/// rustup (a distro toolchain), cargo's own error will say what is wrong.
fn ensure_target(crate_dir: &Path) -> Result<(), BuildError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = DONE.get_or_init(|| {
        let Ok(list) = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
        else {
            return Ok(());
        };
        if String::from_utf8_lossy(&list.stdout)
            .lines()
            .any(|l| l.trim() == TARGET)
        {
            return Ok(());
        }
        tracing::info!("installing the {TARGET} target with rustup");
        match Command::new("rustup")
            .args(["target", "add", TARGET])
            .output()
        {
            Ok(o) if o.status.success() => Ok(()),
            Ok(o) => Err(tail(&o.stderr, 20)),
            Err(e) => Err(e.to_string()),
        }
    });
    result.clone().map_err(|stderr| BuildError::Target {
        crate_dir: crate_dir.to_path_buf(),
        stderr,
    })
}

/// The crate's dir and, transitively, the dirs of its local dependencies: `path = ...`
/// entries and `workspace = true` entries whose workspace declares a path. Editing the SDK
/// must rebuild every plugin that uses it, and cargo only runs when we call it.
fn source_dirs(crate_dir: &Path) -> Vec<PathBuf> {
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut stack = vec![crate_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let dir = dir.canonicalize().unwrap_or(dir);
        if seen.contains(&dir) {
            continue;
        }
        stack.extend(local_dependencies(&dir));
        seen.push(dir);
    }
    seen
}

/// Dirs of the local dependencies (normal and build) named in `dir/Cargo.toml`.
fn local_dependencies(dir: &Path) -> Vec<PathBuf> {
    let Some(manifest) = read_toml(&dir.join("Cargo.toml")) else {
        return Vec::new();
    };
    let workspace = workspace_root(dir);
    let mut out = Vec::new();
    for section in ["dependencies", "build-dependencies"] {
        let Some(deps) = manifest.get(section).and_then(|d| d.as_table()) else {
            continue;
        };
        for (name, spec) in deps {
            if let Some(path) = spec.get("path").and_then(|p| p.as_str()) {
                out.push(dir.join(path));
            } else if spec.get("workspace").and_then(|w| w.as_bool()) == Some(true)
                && let Some((root, ws)) = &workspace
                && let Some(path) = ws
                    .get("workspace")
                    .and_then(|w| w.get("dependencies"))
                    .and_then(|d| d.get(name))
                    .and_then(|d| d.get("path"))
                    .and_then(|p| p.as_str())
            {
                out.push(root.join(path));
            }
        }
    }
    out
}

/// The nearest ancestor of `dir` whose `Cargo.toml` has a `[workspace]` table, with that table.
fn workspace_root(dir: &Path) -> Option<(PathBuf, toml::Table)> {
    dir.ancestors().find_map(|d| {
        let t = read_toml(&d.join("Cargo.toml"))?;
        t.contains_key("workspace").then(|| (d.to_path_buf(), t))
    })
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    std::fs::read_to_string(path).ok()?.parse().ok()
}

/// The newest modification time of the crate's sources (skips `target/` and dot files).
fn newest_source(dir: &Path) -> Option<SystemTime> {
    let mut newest: Option<SystemTime> = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(m) = entry.metadata().and_then(|m| m.modified()) {
                newest = Some(newest.map_or(m, |n| n.max(m)));
            }
        }
    }
    newest
}

/// The last `n` lines of a process's output.
fn tail(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness_follows_source_mtimes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"p\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        )
        .unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
        let krate = PluginCrate::read(&dir).unwrap();
        let b = Builder::new().with_target_dir(Some(tmp.path().join("t")));
        assert!(b.is_stale(&krate), "missing component is stale");
        let wasm = b.component_path(&krate);
        std::fs::create_dir_all(wasm.parent().unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, "x").unwrap();
        assert!(!b.is_stale(&krate));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("src/lib.rs"), "// edited").unwrap();
        assert!(b.is_stale(&krate));
    }

    #[test]
    fn editing_a_local_dependency_makes_the_plugin_stale() {
        // ws/Cargo.toml declares sdk (path) as a workspace dependency; ws/p uses it through
        // `workspace = true` and ws/direct through `path`.
        let tmp = tempfile::tempdir().unwrap();
        let ws = tmp.path().join("ws");
        let write = |rel: &str, text: &str| {
            let f = ws.join(rel);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, text).unwrap();
        };
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"p\"]\n[workspace.dependencies]\nsdk = { path = \"sdk\" }\n",
        );
        write(
            "sdk/Cargo.toml",
            "[package]\nname = \"sdk\"\n[dependencies]\ntext = { path = \"../text\" }\n",
        );
        write("sdk/src/lib.rs", "");
        write("text/Cargo.toml", "[package]\nname = \"text\"\n");
        write("text/src/lib.rs", "");
        write(
            "p/Cargo.toml",
            "[package]\nname = \"p\"\n[lib]\ncrate-type = [\"cdylib\"]\n[dependencies]\nsdk.workspace = true\n",
        );
        write("p/src/lib.rs", "");
        let krate = PluginCrate::read(&ws.join("p")).unwrap();
        let b = Builder::new().with_target_dir(Some(tmp.path().join("t")));
        let wasm = b.component_path(&krate);
        std::fs::create_dir_all(wasm.parent().unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&wasm, "x").unwrap();
        assert!(!b.is_stale(&krate));
        std::thread::sleep(std::time::Duration::from_millis(20));
        // A transitive dependency (p -> sdk -> text) changed.
        write("text/src/lib.rs", "// edited");
        assert!(b.is_stale(&krate));
    }
}
