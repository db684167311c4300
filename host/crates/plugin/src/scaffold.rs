//! `vapr plugins new`: a plugin crate that builds and passes its own test as generated.

use std::path::{Path, PathBuf};

use crate::types::PluginKind;

/// How the new crate finds the SDK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SdkDependency {
    /// The crate is a member of the vapr workspace (`vapr-plugin-sdk.workspace = true`).
    Workspace,
    /// A standalone crate: the SDK by absolute path.
    Path(PathBuf),
}

/// Why scaffolding failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    #[error(
        "plugin name `{0}` is invalid: use lower-case letters, digits and `-`, starting with a letter"
    )]
    BadName(String),
    #[error("{0} already exists; pick another name or --dir")]
    Exists(PathBuf),
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Creates `dir/name` with Cargo.toml, src/lib.rs (plugin + tests), sample.json and
/// .gitignore. A standalone crate gets its own `[workspace]`, a size-optimised release
/// profile and, when given, a copy of `lockfile` (so it resolves the same, already
/// downloaded dependency versions as vapr itself). Returns the crate directory.
pub fn new_plugin(
    name: &str,
    kind: PluginKind,
    dir: &Path,
    sdk: &SdkDependency,
    lockfile: Option<&Path>,
) -> Result<PathBuf, ScaffoldError> {
    let valid = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-');
    if !valid {
        return Err(ScaffoldError::BadName(name.into()));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(ScaffoldError::Exists(root));
    }
    let write = |rel: &str, text: &str| -> Result<(), ScaffoldError> {
        let path = root.join(rel);
        let parent = path.parent().unwrap_or(&root).to_path_buf();
        std::fs::create_dir_all(&parent)
            .and_then(|_| std::fs::write(&path, text))
            .map_err(|source| ScaffoldError::Write { path, source })
    };
    write("Cargo.toml", &manifest(name, kind, sdk))?;
    let type_name = camel(name);
    let lib = match kind {
        PluginKind::Injector => INJECTOR_LIB,
        PluginKind::Validator => VALIDATOR_LIB,
    };
    write(
        "src/lib.rs",
        &lib.replace("__TYPE__", &type_name).replace("__ID__", name),
    )?;
    write("sample.json", SAMPLE_JSON)?;
    write(".gitignore", "/target\n")?;
    if let (SdkDependency::Path(_), Some(lock)) = (sdk, lockfile)
        && let Ok(text) = std::fs::read_to_string(lock)
    {
        write("Cargo.lock", &text)?;
    }
    Ok(root)
}

fn manifest(name: &str, kind: PluginKind, sdk: &SdkDependency) -> String {
    let description = match kind {
        PluginKind::Injector => "vapr error injector",
        PluginKind::Validator => "vapr pair validator",
    };
    let (edition, dep, tail) = match sdk {
        SdkDependency::Workspace => (
            "edition.workspace = true\nrust-version.workspace = true".to_string(),
            "vapr-plugin-sdk.workspace = true".to_string(),
            String::new(),
        ),
        SdkDependency::Path(p) => (
            "edition = \"2024\"".to_string(),
            format!("vapr-plugin-sdk = {{ path = {:?} }}", p.display().to_string()),
            "\n# Standalone: its own workspace, small components.\n[workspace]\n\n[profile.release]\nopt-level = \"s\"\nlto = true\nstrip = true\n"
                .to_string(),
        ),
    };
    format!(
        "[package]\nname = \"{name}\"\ndescription = \"{description}\"\nversion = \"0.1.0\"\n{edition}\n\n\
         [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n{dep}\n{tail}"
    )
}

/// `my-plugin` → `MyPlugin`.
fn camel(name: &str) -> String {
    name.split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

const SAMPLE_JSON: &str = r#"{
  "id": "example#0",
  "question": "Where is the cat relative to the dog?",
  "answer": "The cat is to the left of the dog.",
  "category": "spatial",
  "params": {}
}
"#;

const INJECTOR_LIB: &str = r#"//! __ID__: a vapr error injector (scaffolded by `vapr plugins new`).
//!
//! Build: `vapr plugins build .`; try it: `vapr plugins run __ID__ --sample sample.json --mode rule`.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::{match_case, tokenize};

pub struct __TYPE__;

/// Word pairs this injector swaps to inject a spatial error.
const SWAPS: [(&str, &str); 4] = [("left", "right"), ("above", "below"), ("front", "behind"), ("inside", "outside")];

impl Injector for __TYPE__ {
    fn info() -> PluginInfo {
        PluginInfo::new("__ID__", env!("CARGO_PKG_VERSION"))
            // One or more of: counting, spatial, object, color, size, background,
            // existence, referential, captioning, reasoning.
            .categories(&["spatial"])
            .description("Swaps a spatial relation word (left/right, above/below, ...).")
    }

    // fit, build_prompt and parse_reply use the SDK defaults; override them as needed.

    fn rule_edit(sample: &Sample, _seed: u64) -> Result<Edit, PluginError> {
        for token in tokenize(&sample.answer).into_iter().filter(|t| t.is_word()) {
            let lower = token.text.to_lowercase();
            let other = SWAPS.iter().find_map(|&(a, b)| {
                if lower == a { Some(b) } else if lower == b { Some(a) } else { None }
            });
            if let Some(other) = other {
                let mut rejected = sample.answer.clone();
                rejected.replace_range(token.start..token.end, &match_case(token.text, other));
                log::debug(format!("swapped {} -> {other}", token.text));
                return Ok(Edit::new(rejected).note(format!("{} -> {other}", token.text)));
            }
        }
        Err(PluginError::Refused("no spatial relation word in the answer".into()))
    }
}

register_injector!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swaps_the_relation_and_keeps_the_rest() {
        let s = Sample::new("t#0", "Where is the cat?", "The cat is to the left of the dog.");
        let e = __TYPE__::rule_edit(&s, 0).unwrap();
        assert_eq!(e.rejected, "The cat is to the right of the dog.");
    }

    #[test]
    fn refuses_answers_without_a_relation() {
        let s = Sample::new("t#0", "What colour?", "It is red.");
        assert!(matches!(__TYPE__::rule_edit(&s, 0), Err(PluginError::Refused(_))));
    }
}
"#;

const VALIDATOR_LIB: &str = r#"//! __ID__: a vapr pair validator (scaffolded by `vapr plugins new`).
//!
//! Build: `vapr plugins build .`; try it: `vapr plugins run __ID__ --sample sample.json`
//! (the rejected answer comes from `"rejected"` in the sample file or `--rejected`).

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::token_count;

pub struct __TYPE__;

impl Validator for __TYPE__ {
    fn info() -> PluginInfo {
        PluginInfo::new("__ID__", env!("CARGO_PKG_VERSION"))
            .description("Fails pairs whose rejected answer is identical to the chosen one or much longer.")
    }

    fn validate(sample: &Sample, chosen: &str, rejected: &str) -> Verdict {
        let max_gap = match sample.param_f64("max-gap", 5.0) {
            Ok(v) => v,
            Err(e) => return Verdict::default().fail(e.to_string()),
        };
        let gap = (token_count(chosen) as f64 - token_count(rejected) as f64).abs();
        let mut v = Verdict::pass().metric("token-gap", gap);
        if chosen.trim().eq_ignore_ascii_case(rejected.trim()) {
            v = v.fail("the rejected answer equals the chosen one");
        }
        if gap > max_gap {
            v = v.fail(format!("token gap {gap} exceeds max-gap {max_gap}"));
        }
        let score = if v.pass { 1.0 - (gap / (max_gap + 1.0)) as f32 } else { 0.0 };
        v.score(score)
    }
}

register_validator!(__TYPE__);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_a_small_edit_and_fails_an_identical_answer() {
        let s = Sample::new("t#0", "Where is the cat?", "The cat is left of the dog.");
        assert!(__TYPE__::validate(&s, &s.answer, "The cat is right of the dog.").pass);
        let v = __TYPE__::validate(&s, &s.answer, &s.answer);
        assert!(!v.pass);
        assert_eq!(v.reasons, vec!["the rejected answer equals the chosen one".to_string()]);
    }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaffolds_a_standalone_crate_and_refuses_bad_names_and_overwrites() {
        let tmp = tempfile::tempdir().unwrap();
        let sdk = SdkDependency::Path(PathBuf::from("/opt/vapr/plugin-sdk"));
        let dir = new_plugin("my-demo", PluginKind::Injector, tmp.path(), &sdk, None).unwrap();
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"my-demo\""));
        assert!(manifest.contains("vapr-plugin-sdk = { path = \"/opt/vapr/plugin-sdk\" }"));
        assert!(manifest.contains("[workspace]"));
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.contains("register_injector!(MyDemo);"));
        assert!(lib.contains("PluginInfo::new(\"my-demo\""));
        assert!(crate::discover::PluginCrate::read(&dir).is_some());
        assert!(matches!(
            new_plugin("my-demo", PluginKind::Injector, tmp.path(), &sdk, None),
            Err(ScaffoldError::Exists(_))
        ));
        assert!(matches!(
            new_plugin("My_Demo", PluginKind::Validator, tmp.path(), &sdk, None),
            Err(ScaffoldError::BadName(_))
        ));
        let v = new_plugin(
            "v2",
            PluginKind::Validator,
            tmp.path(),
            &SdkDependency::Workspace,
            None,
        )
        .unwrap();
        let manifest = std::fs::read_to_string(v.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("vapr-plugin-sdk.workspace = true")
                && !manifest.contains("[workspace]")
        );
    }
}
