//! `vapr generate`: turn supervised (image, question, answer) data into VaPR preference
//! pairs. Reads the inputs (vapr-data), loads the plugins (vapr-plugin) and, with
//! `--editor openai`, the editor client (vapr-editor), then hands everything to
//! `vapr_pipeline::run`. docs/generate.md describes the run in full.
//!
//! The steps are public ([`prepare`], [`read_inputs`], [`assemble_rooms`], [`generate`],
//! with [`GenerateArgs::rule`]) so that `vapr quickstart` runs this very pipeline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use vapr_core::{Category, QaUnit};
use vapr_editor::EditorStats;
use vapr_pipeline::adapters::{OpenAiEditor, PluginRooms};
use vapr_pipeline::categorise::CategoriseSettings;
use vapr_pipeline::config::{ClassifierKind, EditorKind, GenerateConfig};
use vapr_pipeline::edit::EditSettings;
use vapr_pipeline::{CrashHook, InputCounts, Progress, Rooms, RunSettings, Summary};

/// Environment variable of the crash test hook (`N`, `N:written`, `N:partial`): abort the
/// process after N samples, to test resuming. Not for users.
const CRASH_HOOK_ENV: &str = "VAPR_TEST_CRASH_AFTER";

/// The default run config, used when it exists and `--config` is not given.
const DEFAULT_CONFIG: &str = "configs/generate.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EditorArg {
    /// The plugins' deterministic rule mode: offline, free, reproducible.
    Rule,
    /// An OpenAI-compatible chat-completions endpoint (GPT-4o, vLLM, Ollama, …).
    Openai,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ClassifierArg {
    /// Injector fit scores (deterministic).
    Fit,
    /// The editor LLM with configs/prompts/classify.txt (needs --editor openai).
    Llm,
}

/// Turn supervised data into VaPR preference pairs.
///
/// Stage 1 drops multiple-choice, text-only, bounding-box and empty-answer items; Stage 2
/// assigns one of the ten categories (injector fit scores, a source hint, or an LLM);
/// Stage 3 lets the category's injector edit the answer (rule mode, or a prompt to the
/// editor LLM), and every validator judges the pair, retrying with the rejection reason
/// as feedback. Records are appended in input order with a run ledger next to the
/// output: re-running the same command after an interruption continues where it
/// stopped. A summary goes to OUT.summary.json, failed samples to OUT.failures.jsonl.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Inputs: LLaVA conversation JSON/JSONL or Hugging Face parquet files, or
    /// directories of them (read in sorted order).
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    input: Vec<PathBuf>,
    /// Base directory of relative image paths [default: each input file's directory].
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// Output preference JSONL; its ledger, summary and failures files go next to it.
    #[arg(long, short, value_name = "OUT.jsonl")]
    output: PathBuf,
    /// Run config (TOML) [default: configs/generate.toml when present].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Who writes the rejected answers [default: from the config, else rule].
    #[arg(long, value_enum)]
    editor: Option<EditorArg>,
    /// Editor base URL, e.g. http://127.0.0.1:8000/v1 (overrides the config).
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// Editor model name (overrides the config).
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Samples in flight at once (and editor requests in flight). Output order does not
    /// depend on it.
    #[arg(long, value_name = "N")]
    concurrency: Option<usize>,
    /// Process at most N samples that pass Stage 1.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Edit only these categories (comma-separated); others are counted as skipped.
    #[arg(long, value_delimiter = ',', value_name = "a,b")]
    categories: Vec<Category>,
    /// How Stage 2 decides categories (overrides the config).
    #[arg(long, value_enum)]
    classifier: Option<ClassifierArg>,
    /// Keep hot reload on: edited prompt templates and rebuilt plugins take effect on the
    /// next sample (each record names the plugin version and template hash it used).
    #[arg(long)]
    watch: bool,
    /// Treat malformed input records and unreadable images as errors instead of
    /// reporting and skipping them.
    #[arg(long)]
    strict: bool,
    /// Run seed (overrides the config); each sample's seed derives from it and its id.
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Extra attempts after a failed validation (overrides the config).
    #[arg(long, value_name = "N")]
    max_retries: Option<u32>,
    /// Another plugin directory (repeatable), besides the project's plugins/.
    #[arg(long, value_name = "DIR")]
    plugins_dir: Vec<PathBuf>,
    /// Prompt templates directory (overrides the config).
    #[arg(long, value_name = "DIR")]
    prompts_dir: Option<PathBuf>,
}

impl GenerateArgs {
    /// `vapr generate --input INPUTS --output OUTPUT --editor rule --seed SEED` with every
    /// other flag left out: the offline run the quickstart makes.
    pub fn rule(inputs: Vec<PathBuf>, output: PathBuf, seed: u64) -> Self {
        GenerateArgs {
            input: inputs,
            images: None,
            output,
            config: None,
            editor: Some(EditorArg::Rule),
            endpoint: None,
            model: None,
            concurrency: None,
            limit: None,
            categories: Vec::new(),
            classifier: None,
            watch: false,
            strict: false,
            seed: Some(seed),
            max_retries: None,
            plugins_dir: Vec::new(),
            prompts_dir: None,
        }
    }

    /// `--plugins-dir` (repeatable) and `--prompts-dir`.
    pub fn with_dirs(mut self, plugin_dirs: Vec<PathBuf>, prompts_dir: Option<PathBuf>) -> Self {
        self.plugins_dir = plugin_dirs;
        self.prompts_dir = prompts_dir;
        self
    }

    /// The output preference JSONL.
    pub fn output(&self) -> &Path {
        &self.output
    }
}

pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    let config = load_config(args.config.as_deref())?;
    let job = prepare(&args, config)?;

    // Read every input first: Stage 1 and the progress total need the whole list.
    let (units, input) = read_inputs(&job)?;
    if input.errors.values().sum::<u64>() > 0 {
        eprintln!(
            "vapr: skipped {} malformed input record(s); first: {}",
            input.errors.values().sum::<u64>(),
            input.issues.first().map_or("-", String::as_str)
        );
    }

    let mut progress = Bar::default();
    let started = Instant::now();
    let generated = generate(&job, units, input, &mut progress)?;
    progress.done();
    let secs = started.elapsed().as_secs_f64();

    println!("{}", generated.summary);
    if let Some(s) = &generated.editor_stats {
        println!(
            "editor requests: {} sent, {} cache hits, {} retries, {} failures",
            s.requests_sent,
            s.cache_hits,
            s.retries.total(),
            s.failures
        );
    }
    let processed = progress.processed_here;
    if processed > 0 {
        println!(
            "{processed} sample(s) in {secs:.1} s ({:.1}/s)",
            processed as f64 / secs
        );
    }
    println!(
        "wrote {} (summary {}, failures {})",
        args.output.display(),
        vapr_pipeline::run::summary_path(&args.output).display(),
        vapr_pipeline::run::failures_path(&args.output).display()
    );
    Ok(())
}

/// A generation run resolved from its flags and config, ready to read and run.
pub struct GenerateJob {
    inputs: Vec<PathBuf>,
    read_options: vapr_data::ReadOptions,
    resolved: Resolved,
}

impl GenerateJob {
    /// The output preference JSONL.
    pub fn output(&self) -> &Path {
        &self.resolved.run.output
    }
}

/// Applies the command line to `config`.
pub fn prepare(args: &GenerateArgs, config: GenerateConfig) -> anyhow::Result<GenerateJob> {
    Ok(GenerateJob {
        inputs: args.input.clone(),
        read_options: vapr_data::ReadOptions {
            strict: args.strict,
            image_root: args.images.clone(),
            ..Default::default()
        },
        resolved: Resolved::new(args, config)?,
    })
}

/// Reads every input of `job` into single-turn units, with the readers' problem counts
/// for the summary (malformed records are skipped and counted unless `--strict`).
pub fn read_inputs(job: &GenerateJob) -> anyhow::Result<(Vec<QaUnit>, InputCounts)> {
    let (units, report) =
        vapr_data::read_units(&job.inputs, &job.read_options).context("reading the inputs")?;
    let input = InputCounts {
        units_read: report.units,
        errors: report
            .skipped
            .iter()
            .map(|(r, n)| (r.as_str().to_string(), *n))
            .collect(),
        issues: report
            .issues
            .iter()
            .map(|i| format!("{}: {}: {}", i.location, i.reason, i.detail))
            .collect(),
    };
    Ok((units, input))
}

/// What a finished run reports.
pub struct Generated {
    /// Also written to `OUT.summary.json`.
    pub summary: Summary,
    /// Editor request counts (model mode only).
    pub editor_stats: Option<EditorStats>,
}

/// The rooms a run talks to, assembled as `vapr generate` does: the plugin runtime with
/// the project's bundled plugins (plugin crates built to wasm32-wasip2 first when stale),
/// the user plugin directory and `plugin_dirs`, the prompt templates of `prompts_dir`,
/// and the editor client (`None` = the plugins' rule mode). Keep it alive for the run:
/// it owns the hot-reload task (`watch`). Call it inside a tokio runtime.
pub struct AssembledRooms {
    pub rooms: Rooms,
    /// The editor client in model mode (for its request counts).
    pub editor: Option<OpenAiEditor>,
    _plugins: PluginRooms,
}

/// See [`AssembledRooms`].
pub fn assemble_rooms(
    plugin_dirs: &[PathBuf],
    prompts_dir: &Path,
    editor: Option<&vapr_editor::EditorConfig>,
    watch: bool,
) -> anyhow::Result<AssembledRooms> {
    let plugins = PluginRooms::open(plugin_dirs, prompts_dir, watch).context("loading plugins")?;
    let editor = match editor {
        None => None,
        Some(config) => {
            let client =
                vapr_editor::Editor::new(config.clone()).context("setting up the editor client")?;
            Some(OpenAiEditor::new(client))
        }
    };
    let rooms = Rooms {
        injectors: plugins.injectors(),
        validators: plugins.validators(),
        templates: plugins.templates(),
        editor: editor.clone().map(|e| Arc::new(e) as _),
    };
    Ok(AssembledRooms {
        rooms,
        editor,
        _plugins: plugins,
    })
}

/// Runs (or resumes) `job` over `units` on its own async runtime: assembles the rooms
/// and hands everything to `vapr_pipeline::run`. Call it outside any tokio runtime.
pub fn generate(
    job: &GenerateJob,
    units: Vec<QaUnit>,
    input: InputCounts,
    progress: &mut dyn Progress,
) -> anyhow::Result<Generated> {
    let settings = &job.resolved;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let _guard = runtime.enter();

    let editor_config = (settings.editor_kind == EditorKind::Openai).then_some(&settings.editor);
    let assembled = assemble_rooms(
        &settings.plugin_dirs,
        &settings.prompts_dir,
        editor_config,
        settings.watch,
    )?;
    let summary = runtime
        .block_on(vapr_pipeline::run(
            assembled.rooms.clone(),
            settings.run.clone(),
            units,
            input,
            progress,
        ))
        .with_context(|| format!("generating {}", settings.run.output.display()))?;
    Ok(Generated {
        summary,
        editor_stats: assembled.editor.as_ref().map(|e| e.inner().stats()),
    })
}

/// `--config`, else the default config when present, else built-in defaults.
fn load_config(path: Option<&Path>) -> anyhow::Result<GenerateConfig> {
    match path {
        Some(path) => Ok(GenerateConfig::load(path)?),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Ok(GenerateConfig::load(Path::new(DEFAULT_CONFIG))?)
        }
        None => Ok(GenerateConfig::default()),
    }
}

/// The config with the command line applied.
struct Resolved {
    run: RunSettings,
    editor_kind: EditorKind,
    editor: vapr_editor::EditorConfig,
    plugin_dirs: Vec<PathBuf>,
    prompts_dir: PathBuf,
    watch: bool,
}

impl Resolved {
    fn new(args: &GenerateArgs, config: GenerateConfig) -> anyhow::Result<Self> {
        let editor_kind = match args.editor {
            Some(EditorArg::Rule) => EditorKind::Rule,
            Some(EditorArg::Openai) => EditorKind::Openai,
            None => config.editor_kind,
        };
        let mut editor = config.editor;
        if let Some(url) = &args.endpoint {
            editor.base_url = url.clone();
        }
        if let Some(model) = &args.model {
            editor.model = model.clone();
        }
        if let Some(n) = args.concurrency {
            editor.concurrency = n.max(1);
        }
        // The cache lives next to the output unless the config gives an absolute path.
        if editor.cache_path.is_none() && !config.editor_cache.as_os_str().is_empty() {
            editor.cache_path = Some(config.editor_cache.clone());
        }
        if let Some(cache) = &editor.cache_path
            && cache.is_relative()
        {
            let dir = args.output.parent().unwrap_or(Path::new(""));
            editor.cache_path = Some(dir.join(cache));
        }
        let classifier = match args.classifier {
            Some(ClassifierArg::Fit) => ClassifierKind::Fit,
            Some(ClassifierArg::Llm) => ClassifierKind::Llm,
            None => config.categorise.method,
        };
        if classifier == ClassifierKind::Llm && editor_kind == EditorKind::Rule {
            bail!(
                "the LLM classifier needs an editor model: add --editor openai, or use --classifier fit"
            );
        }
        let categories: BTreeSet<Category> = args.categories.iter().copied().collect();
        let crash_hook = match std::env::var(CRASH_HOOK_ENV) {
            Ok(v) => {
                Some(CrashHook::parse(&v).with_context(|| format!("bad {CRASH_HOOK_ENV}=`{v}`"))?)
            }
            Err(_) => None,
        };
        let run = RunSettings {
            output: args.output.clone(),
            inputs: args.input.iter().map(|p| p.display().to_string()).collect(),
            seed: args.seed.unwrap_or(config.seed),
            concurrency: args.concurrency.unwrap_or(config.concurrency).max(1),
            limit: args.limit,
            categories: (!categories.is_empty()).then_some(categories),
            categorise: CategoriseSettings {
                trust_hint: config.categorise.trust_hint,
                min_fit: config.categorise.min_fit,
                use_llm: classifier == ClassifierKind::Llm,
            },
            edit: EditSettings {
                max_retries: args.max_retries.unwrap_or(config.max_retries),
                penalty: config.penalty,
            },
            crash_hook,
            max_consecutive_editor_errors: config.max_consecutive_editor_errors,
        };
        let mut plugin_dirs = config.plugin_dirs;
        plugin_dirs.extend(args.plugins_dir.iter().cloned());
        Ok(Resolved {
            run,
            editor_kind,
            editor,
            plugin_dirs,
            prompts_dir: args.prompts_dir.clone().unwrap_or(config.prompts_dir),
            watch: args.watch,
        })
    }
}

/// The progress bar: done/total, rate, ETA and failures so far.
#[derive(Default)]
struct Bar {
    bar: Option<ProgressBar>,
    failed: u64,
    processed_here: u64,
}

impl Progress for Bar {
    fn start(&mut self, total: u64, done: u64) {
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {per_sec} ETA {eta} {msg}",
            )
            .expect("valid template"),
        );
        bar.set_position(done);
        bar.reset_eta();
        bar.set_message("failed 0");
        self.bar = Some(bar);
    }

    fn finished(&mut self, status: &str) {
        self.processed_here += 1;
        if status == "failed" {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if status == "failed" {
                bar.set_message(format!("failed {}", self.failed));
            }
        }
    }
}

impl Bar {
    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
