//! `vapr plugins …`: the plugin author's loop (list, build, new, run, run --watch), and
//! `vapr bench plugins`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use vapr_plugin::scaffold::{self, SdkDependency};
use vapr_plugin::{
    Builder, Limits, PluginHost, PluginInfo, PluginKind, ReloadEvent, Reloader, Sample,
    TemplateStore, discover,
};

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List the plugins found in the plugin directories (stale dev crates are built first).
    ///
    /// Directories: the project's `plugins/`, the user directory
    /// (`$VAPR_USER_PLUGINS` or ~/.local/share/vapr/plugins) and every `--plugins-dir`.
    List(ListArgs),
    /// Build plugin crates into wasm32-wasip2 components.
    ///
    /// Each DIR is a plugin crate or a directory of plugin crates; without DIR, every
    /// crate in the plugin directories is built. Cargo rebuilds only what changed.
    Build(BuildArgs),
    /// Scaffold a plugin crate that builds and passes its own test as generated.
    New(NewArgs),
    /// Run one plugin call on one sample and print the result as JSON.
    ///
    /// With --watch, keep running: every plugin rebuild or template edit reruns the call
    /// and prints a new result line; a failed rebuild leaves the old version serving.
    Run(RunArgs),
}

/// Where plugins are looked for.
#[derive(Debug, Args)]
pub struct DirsArgs {
    /// An extra plugin directory (a directory of `*.wasm` files and/or plugin crates, or
    /// one crate). Repeatable.
    #[arg(long = "plugins-dir", value_name = "DIR")]
    pub plugins_dirs: Vec<PathBuf>,
    /// Search only the `--plugins-dir` directories, not the project and user ones.
    #[arg(long)]
    pub no_default_dirs: bool,
    /// Do not build stale plugin crates; load their last build.
    #[arg(long)]
    pub no_build: bool,
    /// Cargo target dir for plugin builds (default: each crate's own).
    #[arg(long, env = "VAPR_PLUGIN_TARGET_DIR", value_name = "DIR")]
    pub target_dir: Option<PathBuf>,
}

impl DirsArgs {
    fn dirs(&self) -> Vec<PathBuf> {
        if self.no_default_dirs {
            return self.plugins_dirs.clone();
        }
        discover::default_dirs(project_root().as_deref(), &self.plugins_dirs)
    }

    fn builder(&self) -> Builder {
        Builder::new().with_target_dir(self.target_dir.clone())
    }

    /// A host with every plugin of the directories loaded; load failures are warnings.
    fn load(&self) -> anyhow::Result<(Arc<PluginHost>, Vec<PathBuf>)> {
        let host = Arc::new(PluginHost::new(Limits::default())?);
        let dirs = self.dirs();
        let builder = self.builder();
        let report = host.load_dirs(&dirs, (!self.no_build).then_some(&builder));
        for (path, err) in &report.failed {
            tracing::warn!("{}: not loaded: {err}", path.display());
            eprintln!("vapr: warning: {err}");
        }
        Ok((host, dirs))
    }
}

/// The project root (holds `wit/` and `plugins/`): from the current directory up, else
/// the checkout this binary was built from.
fn project_root() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    discover::find_project_root(&cwd).or_else(|| {
        let built = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()?
            .to_path_buf();
        (built.join("wit").is_dir() && built.join("plugin-sdk").is_dir()).then_some(built)
    })
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub dirs: DirsArgs,
    /// Print a JSON array (id, kind, categories, version, api_version, path, …).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Plugin crates or directories of crates (default: the plugin directories).
    #[arg(value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub search: DirsArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Injector,
    Validator,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Plugin id and crate name (lower-case letters, digits, `-`).
    pub name: String,
    /// Which world the plugin implements.
    #[arg(long, value_enum)]
    pub kind: KindArg,
    /// Parent directory of the new crate (default: the project's `plugins/`).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// `rule-edit`: deterministic edit with --seed (injectors).
    Rule,
    /// `build-prompt` with the category's template (injectors).
    Prompt,
    /// `parse-reply` of --reply or the sample's "reply" (injectors).
    Parse,
    /// `fit`: the Stage 2 score (injectors).
    Fit,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Plugin id (see `vapr plugins list`).
    pub id: String,
    /// JSON sample: {"id", "question", "answer", "category"?, "params"?, "penalty"?,
    /// "feedback"?} plus optional "reply" (parse mode) and "rejected" (validators).
    #[arg(long, value_name = "FILE.json")]
    pub sample: PathBuf,
    /// Which injector export to call (validators always run `validate`).
    #[arg(long, value_enum, default_value = "rule")]
    pub mode: Mode,
    /// Seed of the rule edit.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Editor reply for --mode parse (overrides the sample's "reply").
    #[arg(long)]
    pub reply: Option<String>,
    /// Rejected answer for a validator (overrides the sample's "rejected").
    #[arg(long)]
    pub rejected: Option<String>,
    /// Template name for --mode prompt (default: the sample's category).
    #[arg(long)]
    pub template: Option<String>,
    /// Prompt template directory (default: the project's configs/prompts).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Keep running and rerun the call after every plugin or template reload.
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub dirs: DirsArgs,
}

pub fn run(cmd: PluginsCommand) -> anyhow::Result<()> {
    match cmd {
        PluginsCommand::List(args) => list(args),
        PluginsCommand::Build(args) => build(args),
        PluginsCommand::New(args) => new(args),
        PluginsCommand::Run(args) => run_one(args),
    }
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let (host, dirs) = args.dirs.load()?;
    let plugins = host.list();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plugins)?);
        return Ok(());
    }
    if plugins.is_empty() {
        let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
        println!("no plugins found (searched {})", searched.join(", "));
        return Ok(());
    }
    println!(
        "{:<16} {:<10} {:<8} {:<5} {:<24} DESCRIPTION",
        "ID", "KIND", "VERSION", "API", "CATEGORIES"
    );
    for p in plugins {
        let cats = if p.categories.is_empty() {
            "-".to_string()
        } else {
            p.categories.join(",")
        };
        println!(
            "{:<16} {:<10} {:<8} {:<5} {:<24} {}",
            p.id,
            p.kind.as_str(),
            p.version,
            p.api_version,
            cats,
            p.description
        );
    }
    Ok(())
}

fn build(args: BuildArgs) -> anyhow::Result<()> {
    let roots = if args.dirs.is_empty() {
        args.search.dirs()
    } else {
        args.dirs.clone()
    };
    let crates: Vec<discover::PluginCrate> = roots
        .iter()
        .flat_map(|d| discover::scan(d))
        .filter_map(|c| match c {
            discover::Candidate::Crate(k) => Some(k),
            discover::Candidate::Component(_) => None,
        })
        .collect();
    if crates.is_empty() {
        let searched: Vec<String> = roots.iter().map(|d| d.display().to_string()).collect();
        bail!("no plugin crates found in {}", searched.join(", "));
    }
    let builder = args.search.builder();
    let mut failed = 0;
    for krate in &crates {
        let start = Instant::now();
        eprintln!("building {} ({})", krate.name, krate.dir.display());
        match builder.build(krate) {
            Ok(path) => eprintln!(
                "  built {} in {:.1}s",
                path.display(),
                start.elapsed().as_secs_f64()
            ),
            Err(e) => {
                failed += 1;
                eprintln!("vapr: {e}");
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} plugin crates failed to build", crates.len());
    }
    Ok(())
}

fn new(args: NewArgs) -> anyhow::Result<()> {
    let root = project_root();
    let dir = match (&args.dir, &root) {
        (Some(d), _) => d.clone(),
        (None, Some(r)) => r.join("plugins"),
        (None, None) => bail!("not inside a vapr checkout; pass --dir DIR"),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir_abs = dir.canonicalize()?;
    let root = root.context("cannot find the vapr checkout (its plugin-sdk/) to depend on")?;
    let in_workspace = root
        .join("plugins")
        .canonicalize()
        .is_ok_and(|p| p == dir_abs);
    let sdk = if in_workspace {
        SdkDependency::Workspace
    } else {
        SdkDependency::Path(root.join("plugin-sdk"))
    };
    let kind = match args.kind {
        KindArg::Injector => PluginKind::Injector,
        KindArg::Validator => PluginKind::Validator,
    };
    let lock = root.join("Cargo.lock");
    let created = scaffold::new_plugin(
        &args.name,
        kind,
        &dir_abs,
        &sdk,
        lock.exists().then_some(lock.as_path()),
    )?;
    println!(
        "created {} plugin `{}` in {}",
        kind,
        args.name,
        created.display()
    );
    println!(
        "next: cargo test --manifest-path {0}/Cargo.toml && vapr plugins build {0}",
        created.display()
    );
    Ok(())
}

/// The sample file plus the optional "reply" and "rejected" fields.
fn read_sample(path: &Path) -> anyhow::Result<(Sample, Option<String>, Option<String>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{}: not valid JSON", path.display()))?;
    let obj = value
        .as_object_mut()
        .with_context(|| format!("{}: expected a JSON object", path.display()))?;
    let mut take = |k: &str| obj.remove(k).and_then(|v| v.as_str().map(str::to_string));
    let reply = take("reply");
    let rejected = take("rejected");
    let sample: Sample = serde_json::from_value(value)
        .with_context(|| format!("{}: not a sample", path.display()))?;
    Ok((sample, reply, rejected))
}

fn run_one(args: RunArgs) -> anyhow::Result<()> {
    let (host, dirs) = args.dirs.load()?;
    if host.info(&args.id).is_none() {
        let ids: Vec<String> = host.list().into_iter().map(|p| p.id).collect();
        bail!(
            "no plugin `{}` loaded (loaded: {})",
            args.id,
            if ids.is_empty() {
                "none".into()
            } else {
                ids.join(", ")
            }
        );
    }
    let templates_dir = args
        .templates
        .clone()
        .or_else(|| project_root().map(|r| r.join("configs/prompts")));
    let templates = match &templates_dir {
        Some(d) => Some(Arc::new(TemplateStore::load(d)?)),
        None => None,
    };
    let once = || call_once(&host, templates.as_deref(), &args);
    if !args.watch {
        let out = once()?;
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    // Watch mode: one JSON line per result; errors go to stderr and the loop goes on.
    let print = |res: anyhow::Result<serde_json::Value>| match res {
        Ok(v) => println!("{}", serde_json::to_string(&v).unwrap_or_default()),
        Err(e) => eprintln!("vapr: {e:#}"),
    };
    print(once());
    let (tx, rx) = std::sync::mpsc::channel();
    let id = args.id.clone();
    let _reloader = Reloader::spawn(
        host.clone(),
        templates.clone(),
        dirs,
        args.dirs.builder(),
        Duration::from_millis(300),
        move |event| {
            let rerun = match &event {
                ReloadEvent::Loaded { info, .. } => {
                    eprintln!("reloaded {} (sha256 {})", info.tag(), &info.sha256[..12]);
                    info.id == id
                }
                ReloadEvent::Templates { changed } => {
                    eprintln!("templates reloaded: {}", changed.join(", "));
                    true
                }
                ReloadEvent::Failed { path, error } => {
                    eprintln!(
                        "vapr: reload of {} failed, old version keeps serving: {error}",
                        path.display()
                    );
                    false
                }
                ReloadEvent::TemplatesFailed { error } => {
                    eprintln!("vapr: template reload failed, old templates keep serving: {error}");
                    false
                }
                ReloadEvent::Removed { id } => {
                    eprintln!("removed {id}");
                    false
                }
                _ => false,
            };
            if rerun {
                let _ = tx.send(());
            }
        },
    )?;
    eprintln!("watching for plugin and template changes (Ctrl-C to stop)");
    while rx.recv().is_ok() {
        print(once());
    }
    Ok(())
}

/// One call in the chosen mode, as a JSON object with provenance.
fn call_once(
    host: &PluginHost,
    templates: Option<&TemplateStore>,
    args: &RunArgs,
) -> anyhow::Result<serde_json::Value> {
    let (sample, reply, rejected) = read_sample(&args.sample)?;
    let info: PluginInfo = host
        .info(&args.id)
        .with_context(|| format!("plugin `{}` is no longer loaded", args.id))?;
    let mut extra = serde_json::Map::new();
    let (mode, called) = match info.kind {
        PluginKind::Validator => {
            let rejected = args.rejected.clone().or(rejected).context(
                "a validator needs the rejected answer: add \"rejected\" to the sample file or pass --rejected",
            )?;
            (
                "validate",
                serde_json::to_value(host.validate(
                    &args.id,
                    &sample,
                    &sample.answer,
                    &rejected,
                )?)?,
            )
        }
        PluginKind::Injector => match args.mode {
            Mode::Rule => (
                "rule",
                serde_json::to_value(host.rule_edit(&args.id, &sample, args.seed)?)?,
            ),
            Mode::Fit => ("fit", serde_json::to_value(host.fit(&args.id, &sample)?)?),
            Mode::Parse => {
                let reply = args.reply.clone().or(reply).context(
                    "--mode parse needs the editor reply: add \"reply\" to the sample file or pass --reply",
                )?;
                (
                    "parse",
                    serde_json::to_value(host.parse_reply(&args.id, &reply, &sample)?)?,
                )
            }
            Mode::Prompt => {
                let name = args
                    .template
                    .clone()
                    .or_else(|| sample.category.clone())
                    .or_else(|| info.categories.first().cloned());
                let name = name.context("--mode prompt needs a template: pass --template NAME or set the sample's category")?;
                let store =
                    templates.context("no prompt template directory (pass --templates DIR)")?;
                let t = store.get(&name).with_context(|| {
                    format!(
                        "no template `{name}` in {} (expected {name}.txt)",
                        store.dir().display()
                    )
                })?;
                extra.insert("template".into(), t.path.display().to_string().into());
                extra.insert("template_sha256".into(), t.sha256.clone().into());
                (
                    "prompt",
                    serde_json::to_value(host.build_prompt(&args.id, &t.text, &sample)?)?,
                )
            }
        },
    };
    let mut out = serde_json::Map::new();
    out.insert("mode".into(), mode.into());
    if let serde_json::Value::Object(fields) = called {
        for (k, v) in fields {
            let key = if k == "value" {
                "result".to_string()
            } else {
                k
            };
            out.insert(key, v);
        }
    }
    out.extend(extra);
    Ok(serde_json::Value::Object(out))
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Injector to benchmark.
    #[arg(long, default_value = "counting")]
    pub plugin: String,
    /// Calls per measurement.
    #[arg(long, default_value_t = 2000)]
    pub calls: usize,
    /// Threads for the throughput measurement.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    #[command(flatten)]
    pub dirs: DirsArgs,
}

/// Per-call latency (fresh instance + call + teardown) and calls/s on N threads.
pub fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let (host, _) = args.dirs.load()?;
    let info = host
        .info(&args.plugin)
        .with_context(|| format!("plugin `{}` is not loaded", args.plugin))?;
    let sample = Sample::new(
        "bench#0",
        "How many cats are on the sofa?",
        "There are three cats on the sofa.",
    );
    // Warm up (first instantiation touches the code pages).
    for seed in 0..50 {
        host.rule_edit(&args.plugin, &sample, seed)?;
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(args.calls);
    for seed in 0..args.calls as u64 {
        let t = Instant::now();
        host.rule_edit(&args.plugin, &sample, seed)?;
        lat.push(t.elapsed());
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e6;
    let mean = lat.iter().map(Duration::as_secs_f64).sum::<f64>() / lat.len() as f64 * 1e6;
    let threads = args.threads.max(1);
    let per_thread = args.calls;
    let start = Instant::now();
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let host = &host;
                let sample = &sample;
                let plugin = &args.plugin;
                s.spawn(move || -> anyhow::Result<()> {
                    for i in 0..per_thread as u64 {
                        host.rule_edit(plugin, sample, t as u64 * 1_000_000 + i)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("bench thread panicked"))??;
        }
        Ok(())
    })?;
    let total = (threads * per_thread) as f64;
    let rate = total / start.elapsed().as_secs_f64();
    println!(
        "plugin {} ({} bytes component), rule-edit, fresh instance per call",
        info.tag(),
        std::fs::metadata(&info.path).map(|m| m.len()).unwrap_or(0)
    );
    println!("| metric | value |");
    println!("|---|---|");
    println!("| calls measured | {} |", lat.len());
    println!("| latency mean (instantiate + call + teardown) | {mean:.1} µs |");
    println!("| latency p50 | {:.1} µs |", pct(0.5));
    println!("| latency p99 | {:.1} µs |", pct(0.99));
    println!("| calls/s on {threads} thread(s) | {rate:.0} |");
    Ok(())
}
