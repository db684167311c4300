//! The run configuration file (`configs/generate.toml`); command-line flags override it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use vapr_core::Category;
use vapr_editor::EditorConfig;

use crate::error::PipelineError;

/// Which editor produces rejected answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EditorKind {
    /// The plugins' deterministic rule mode (offline).
    #[default]
    Rule,
    /// An OpenAI-compatible chat-completions endpoint.
    Openai,
}

/// How Stage 2 decides the category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClassifierKind {
    /// Injector fit scores (deterministic).
    #[default]
    Fit,
    /// The editor LLM with `configs/prompts/classify.txt` (needs `--editor openai`).
    Llm,
}

/// `[categorise]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CategoriseSection {
    pub method: ClassifierKind,
    pub trust_hint: bool,
    pub min_fit: f64,
}

impl Default for CategoriseSection {
    fn default() -> Self {
        CategoriseSection {
            method: ClassifierKind::Fit,
            trust_hint: true,
            min_fit: 0.05,
        }
    }
}

/// The whole file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerateConfig {
    pub seed: u64,
    pub max_retries: u32,
    /// Samples in flight.
    pub concurrency: usize,
    /// Stop after this many samples in a row failed on the editor, leaving them to be
    /// retried by a re-run; 0 = never stop.
    pub max_consecutive_editor_errors: u64,
    /// Prompt templates directory (`<category>.*`, `classify.txt`).
    pub prompts_dir: PathBuf,
    /// Extra plugin directories (the project's `plugins/` is always searched).
    pub plugin_dirs: Vec<PathBuf>,
    /// `rule` (offline) or `openai`.
    pub editor_kind: EditorKind,
    /// The editor client (`vapr-editor`'s settings; used with `editor_kind = "openai"`).
    pub editor: EditorConfig,
    /// The editor's response cache when `[editor] cache_path` is not set; relative paths
    /// are taken relative to the output's directory; empty disables the cache.
    pub editor_cache: PathBuf,
    pub categorise: CategoriseSection,
    /// Banned substitutes per category (the paper's optional penalty lists).
    pub penalty: BTreeMap<Category, Vec<String>>,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig {
            seed: 0,
            max_retries: 2,
            concurrency: 8,
            max_consecutive_editor_errors: 20,
            prompts_dir: PathBuf::from("configs/prompts"),
            plugin_dirs: Vec::new(),
            editor_kind: EditorKind::Rule,
            editor: EditorConfig::default(),
            editor_cache: PathBuf::from("editor-cache.sqlite"),
            categorise: CategoriseSection::default(),
            penalty: BTreeMap::new(),
        }
    }
}

impl GenerateConfig {
    /// Reads a config file; unknown keys are errors (a typo must not silently do nothing).
    pub fn load(path: &Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|e| PipelineError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::parse(&text).map_err(|message| PipelineError::Config {
            path: path.to_path_buf(),
            message,
        })
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let cfg: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        cfg.editor
            .validate()
            .map_err(|e| format!("[editor]: {e}"))?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_default_config_parses_and_matches_the_built_in_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../configs/generate.toml");
        let cfg = GenerateConfig::load(&path).unwrap();
        assert_eq!(cfg, GenerateConfig::default());
    }

    #[test]
    fn overrides_and_penalty_lists_parse() {
        let cfg = GenerateConfig::parse(
            "seed = 3\neditor_kind = \"openai\"\n[editor]\nmodel = \"qwen3-32b\"\n[penalty]\ncolor = [\"red\", \"blue\"]\n",
        )
        .unwrap();
        assert_eq!(cfg.seed, 3);
        assert_eq!(cfg.editor_kind, EditorKind::Openai);
        assert_eq!(cfg.editor.model, "qwen3-32b");
        assert_eq!(cfg.editor.requests_per_minute, None);
        assert_eq!(cfg.penalty[&Category::Color], vec!["red", "blue"]);
    }

    #[test]
    fn typos_are_errors_that_name_the_key() {
        let err = GenerateConfig::parse("max_retrys = 3\n").unwrap_err();
        assert!(err.contains("max_retrys"), "{err}");
        let err = GenerateConfig::parse("[penalty]\ncolour = []\n").unwrap_err();
        assert!(err.contains("colour"), "{err}");
    }
}
