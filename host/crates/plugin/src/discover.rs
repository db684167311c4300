//! Finding plugins: plugin directories hold `*.wasm` components and/or plugin source
//! crates (dev plugins). A crate's component is found where cargo puts it (the crate's
//! own target dir), never copied.

use std::path::{Path, PathBuf};

/// Something in a plugin directory that can become a loaded plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidate {
    /// A ready component file.
    Component(PathBuf),
    /// A plugin crate (a `Cargo.toml` with a `cdylib` lib).
    Crate(PluginCrate),
}

/// A plugin source crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginCrate {
    /// The crate directory.
    pub dir: PathBuf,
    /// The package name.
    pub name: String,
    /// The lib target name (`name` with `-` → `_`), i.e. the `.wasm` file stem.
    pub lib_name: String,
}

impl PluginCrate {
    /// Reads `dir/Cargo.toml`; `None` when it is not a plugin crate (no package, or a lib
    /// that is not a `cdylib`).
    pub fn read(dir: &Path) -> Option<PluginCrate> {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        let doc: toml::Table = text.parse().ok()?;
        let name = doc.get("package")?.get("name")?.as_str()?.to_string();
        let lib = doc.get("lib");
        let cdylib = lib
            .and_then(|l| l.get("crate-type"))
            .and_then(|t| t.as_array())
            .is_some_and(|types| types.iter().any(|t| t.as_str() == Some("cdylib")));
        if !cdylib {
            return None;
        }
        let lib_name = lib
            .and_then(|l| l.get("name"))
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| name.replace('-', "_"));
        // Canonical, so the reload task (which sees canonical event paths) finds the
        // same crate the initial scan loaded.
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        Some(PluginCrate {
            dir,
            name,
            lib_name,
        })
    }

    /// Where `cargo build --release --target wasm32-wasip2` puts the component, given an
    /// explicit target dir or else cargo's default for this crate (`CARGO_TARGET_DIR`,
    /// or `target/` next to the enclosing workspace root).
    pub fn component_path(&self, target_dir: Option<&Path>) -> PathBuf {
        let target = match target_dir {
            Some(t) => t.to_path_buf(),
            None => default_target_dir(&self.dir),
        };
        target
            .join("wasm32-wasip2")
            .join("release")
            .join(format!("{}.wasm", self.lib_name))
    }
}

/// Cargo's target dir for a crate: `CARGO_TARGET_DIR`, else `<workspace root>/target`
/// where the workspace root is the nearest ancestor manifest with a `[workspace]` table
/// (the crate itself when none).
pub fn default_target_dir(crate_dir: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let crate_dir = crate_dir
        .canonicalize()
        .unwrap_or_else(|_| crate_dir.to_path_buf());
    for dir in crate_dir.ancestors() {
        let manifest = dir.join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        if let Some(ws) = doc.get("workspace") {
            let excluded = ws
                .get("exclude")
                .and_then(|e| e.as_array())
                .is_some_and(|ex| {
                    ex.iter()
                        .filter_map(|e| e.as_str())
                        .any(|e| crate_dir.starts_with(dir.join(e)))
                });
            if !excluded || dir == crate_dir {
                return dir.join("target");
            }
        }
    }
    crate_dir.join("target")
}

/// The candidates in one plugin directory: `*.wasm` files at its top level, plugin
/// crates in its subdirectories, or the directory itself when it is a plugin crate.
/// Sorted by path; a missing directory yields nothing.
pub fn scan(dir: &Path) -> Vec<Candidate> {
    if let Some(c) = PluginCrate::read(dir) {
        return vec![Candidate::Crate(c)];
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || name == "target" {
            continue;
        }
        if path.is_dir() {
            if let Some(c) = PluginCrate::read(&path) {
                out.push(Candidate::Crate(c));
            }
        } else if path.extension().is_some_and(|e| e == "wasm") {
            out.push(Candidate::Component(path));
        }
    }
    out
}

/// The user plugin directory: `$VAPR_USER_PLUGINS`, else `$XDG_DATA_HOME/vapr/plugins`,
/// else `~/.local/share/vapr/plugins`.
pub fn user_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("VAPR_USER_PLUGINS") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME") {
        return Some(PathBuf::from(d).join("vapr/plugins"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share/vapr/plugins"))
}

/// The default plugin directories: the project's `plugins/`, the user directory, then
/// `extra` (e.g. `--plugins-dir`), without duplicates.
pub fn default_dirs(project_root: Option<&Path>, extra: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut push = |d: PathBuf| {
        let key = d.canonicalize().unwrap_or_else(|_| d.clone());
        if !dirs
            .iter()
            .any(|x| x.canonicalize().unwrap_or_else(|_| x.clone()) == key)
        {
            dirs.push(d);
        }
    };
    if let Some(root) = project_root {
        push(root.join("plugins"));
    }
    if let Some(u) = user_dir() {
        push(u);
    }
    for e in extra {
        push(e.clone());
    }
    dirs
}

/// The project root: the nearest ancestor of `start` holding `wit/` and `plugins/`.
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .find(|d| d.join("wit").is_dir() && d.join("plugins").is_dir())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn scan_finds_components_and_plugin_crates_only() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(&d.join("a.wasm"), "x");
        write(&d.join("notes.txt"), "x");
        write(&d.join("target/b.wasm"), "x");
        write(
            &d.join("my-plugin/Cargo.toml"),
            "[package]\nname = \"my-plugin\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        );
        write(
            &d.join("not-plugin/Cargo.toml"),
            "[package]\nname = \"np\"\n",
        );
        let found = scan(d);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0], Candidate::Component(d.join("a.wasm")));
        let Candidate::Crate(c) = &found[1] else {
            panic!("{found:?}")
        };
        assert_eq!(
            (c.name.as_str(), c.lib_name.as_str()),
            ("my-plugin", "my_plugin")
        );
        // A crate dir passed directly is the crate itself.
        assert_eq!(scan(&d.join("my-plugin")).len(), 1);
        assert!(scan(&d.join("missing")).is_empty());
    }

    #[test]
    fn component_path_uses_the_enclosing_workspace_target() {
        if std::env::var_os("CARGO_TARGET_DIR").is_some() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"plugins/*\"]\nexclude = [\"extra\"]\n",
        );
        write(
            &root.join("plugins/p/Cargo.toml"),
            "[package]\nname = \"p-x\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        );
        write(
            &root.join("extra/q/Cargo.toml"),
            "[package]\nname = \"q\"\n[lib]\ncrate-type = [\"cdylib\"]\n",
        );
        let p = PluginCrate::read(&root.join("plugins/p")).unwrap();
        assert_eq!(
            p.component_path(None),
            root.join("target/wasm32-wasip2/release/p_x.wasm")
        );
        let q = PluginCrate::read(&root.join("extra/q")).unwrap();
        assert_eq!(
            q.component_path(None),
            root.join("extra/q/target/wasm32-wasip2/release/q.wasm")
        );
        assert_eq!(
            p.component_path(Some(Path::new("/t"))),
            Path::new("/t/wasm32-wasip2/release/p_x.wasm")
        );
    }
}
