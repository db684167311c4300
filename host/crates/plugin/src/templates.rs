//! Prompt templates (`configs/prompts/<category>.*`): text plus sha256, swapped
//! atomically as a whole set on reload so a batch never mixes half-edited files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};

/// One template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The file stem: the category it is for (`counting`).
    pub name: String,
    pub path: PathBuf,
    pub text: String,
    /// sha256 of `text`, recorded with every pair built from it.
    pub sha256: String,
}

/// Why the template set could not be (re)loaded; on reload the old set stays.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    #[error("{path}: cannot read prompt templates: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: template is not UTF-8")]
    NotUtf8 { path: PathBuf },
    #[error("{first} and {second}: two templates for `{name}`")]
    Duplicate {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// The hot-reloadable template set of one directory.
#[derive(Debug)]
pub struct TemplateStore {
    dir: PathBuf,
    current: ArcSwap<BTreeMap<String, Arc<Template>>>,
}

impl TemplateStore {
    /// Loads every template in `dir` (a missing directory is an empty set).
    pub fn load(dir: impl Into<PathBuf>) -> Result<Self, TemplateError> {
        let dir = dir.into();
        let set = read_set(&dir)?;
        Ok(TemplateStore {
            dir,
            current: ArcSwap::from_pointee(set),
        })
    }

    /// The watched directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The template for `name` (a category), as of now.
    pub fn get(&self, name: &str) -> Option<Arc<Template>> {
        self.current.load().get(name).cloned()
    }

    /// All templates, sorted by name.
    pub fn all(&self) -> Vec<Arc<Template>> {
        self.current.load().values().cloned().collect()
    }

    /// Rereads the directory and swaps the whole set in; on error the old set stays.
    /// Returns the names whose text changed (added, edited or removed).
    pub fn reload(&self) -> Result<Vec<String>, TemplateError> {
        let new = read_set(&self.dir)?;
        let old = self.current.load_full();
        let mut changed: Vec<String> = new
            .iter()
            .filter(|(k, v)| old.get(*k).is_none_or(|o| o.sha256 != v.sha256))
            .map(|(k, _)| k.clone())
            .collect();
        changed.extend(old.keys().filter(|k| !new.contains_key(*k)).cloned());
        self.current.store(Arc::new(new));
        Ok(changed)
    }
}

/// Whether a file name looks like an editor's temporary or backup file.
pub(crate) fn is_temp_file(name: &str) -> bool {
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".tmp")
        || name.starts_with('#')
}

fn read_set(dir: &Path) -> Result<BTreeMap<String, Arc<Template>>, TemplateError> {
    let mut set: BTreeMap<String, Arc<Template>> = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(set),
        Err(source) => {
            return Err(TemplateError::Read {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    for path in paths {
        let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if is_temp_file(file) {
            continue;
        }
        let Some(name) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        let bytes = std::fs::read(&path).map_err(|source| TemplateError::Read {
            path: path.clone(),
            source,
        })?;
        let text =
            String::from_utf8(bytes).map_err(|_| TemplateError::NotUtf8 { path: path.clone() })?;
        if let Some(first) = set.get(&name) {
            return Err(TemplateError::Duplicate {
                name,
                first: first.path.clone(),
                second: path,
            });
        }
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        set.insert(
            name.clone(),
            Arc::new(Template {
                name,
                path,
                text,
                sha256,
            }),
        );
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_hashes_and_reloads_as_a_set() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(d.join("counting.txt"), "Q: {question}").unwrap();
        std::fs::write(d.join("color.md"), "c").unwrap();
        std::fs::write(d.join(".counting.txt.swp"), "junk").unwrap();
        let store = TemplateStore::load(d).unwrap();
        let t = store.get("counting").unwrap();
        assert_eq!(t.text, "Q: {question}");
        // sha256("c")
        assert_eq!(
            store.get("color").unwrap().sha256,
            "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"
        );
        assert_eq!(store.all().len(), 2);

        std::fs::write(d.join("counting.txt"), "Q2: {question}").unwrap();
        std::fs::remove_file(d.join("color.md")).unwrap();
        assert_eq!(
            store.reload().unwrap(),
            vec!["counting".to_string(), "color".to_string()]
        );
        assert_eq!(store.get("counting").unwrap().text, "Q2: {question}");
        assert!(store.get("color").is_none());
        // The old Arc is still intact for whoever holds it.
        assert_eq!(t.text, "Q: {question}");

        std::fs::write(d.join("counting.md"), "dup").unwrap();
        assert!(matches!(
            store.reload(),
            Err(TemplateError::Duplicate { .. })
        ));
        assert_eq!(
            store.get("counting").unwrap().text,
            "Q2: {question}",
            "old set keeps serving"
        );
    }
}
