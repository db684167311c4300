//! The quickstart's three preference pair sets over the synthetic training questions
//! (issue 5, steps 2d and 2e):
//!
//! - `vapr`: the real generation pipeline, exactly as `vapr generate --editor rule` runs
//!   it (bundled injector plugins in rule mode, every validator, the default run config),
//!   seeded and offline. Its own output, ledger, summary and failures stay in
//!   `out_dir/generate/`.
//! - `length-biased` and `style-biased`: wrong answers with the bias the paper measures
//!   ([`super::controls`]).
//!
//! All three hold the same ids in the same order (the samples the pipeline wrote and both
//! controls could be made for), share prompts and chosen answers, and name their images
//! by absolute path, so `vapr train` and `vapr stats` read `out_dir/<name>.jsonl` from
//! anywhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use vapr_core::{PreferenceRecord, QaUnit};
use vapr_pipeline::Progress;
use vapr_pipeline::config::GenerateConfig;
use vapr_plugin::discover;

use super::controls::{self, Bias};
use crate::cli::generate::{self, GenerateArgs};

/// Name of the pair set made by the VaPR pipeline.
pub const VAPR: &str = "vapr";

/// One pair set, written and in memory.
#[derive(Debug, Clone)]
pub struct PairSet {
    /// `vapr`, `length-biased` or `style-biased`.
    pub name: String,
    /// One line for the report: how the rejected answers were made.
    pub description: String,
    /// The preference JSONL the trainer reads (`out_dir/<name>.jsonl`).
    pub path: PathBuf,
    pub records: Vec<PreferenceRecord>,
}

/// Generates the VaPR pairs from `synth_dir/train.json` (a `vapr synth` directory), builds
/// the two control sets for the same ids, and writes all three as `out_dir/<name>.jsonl`.
/// `progress(done, total)` follows the generation run's samples. The same inputs and seed
/// give the same files.
///
/// Runs its own async runtime: call it outside any tokio runtime. The first call on a
/// fresh checkout builds the bundled plugins to wasm32-wasip2 (cached in the workspace's
/// `target/`; later runs load them in well under a second).
pub fn build_pair_sets(
    synth_dir: &Path,
    out_dir: &Path,
    seed: u64,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Vec<PairSet>> {
    let train = synth_dir.join("train.json");
    if !train.is_file() {
        bail!(
            "{} not found: the synthetic training set (`vapr synth --out {}` writes it)",
            train.display(),
            synth_dir.display()
        );
    }
    let synth_dir = synth_dir
        .canonicalize()
        .with_context(|| format!("resolving {}", synth_dir.display()))?;
    let (units, generated) = generate_vapr(
        &synth_dir.join("train.json"),
        &out_dir.join("generate"),
        seed,
        progress,
    )?;

    let started = Instant::now();
    let by_id: HashMap<&str, &QaUnit> = units.iter().map(|u| (u.id.as_str(), u)).collect();
    let mut vapr = Vec::with_capacity(generated.len());
    let mut biased: Vec<Vec<PreferenceRecord>> = vec![Vec::new(); Bias::ALL.len()];
    let mut without_control = 0usize;
    for mut record in generated {
        let unit = by_id
            .get(record.id.as_str())
            .ok_or_else(|| anyhow!("generated record `{}` is not in the input", record.id))?;
        let Some(category) = unit.category_hint.or(record.category) else {
            without_control += 1;
            continue;
        };
        let made: Option<Vec<controls::Control>> = Bias::ALL
            .iter()
            .map(|&b| controls::control(b, category, &unit.answer, seed, &record.id))
            .collect();
        let Some(made) = made else {
            without_control += 1;
            continue;
        };
        record.image = record
            .image
            .map(|i| synth_dir.join(i).to_string_lossy().into_owned());
        for (set, (bias, control)) in biased.iter_mut().zip(Bias::ALL.iter().zip(made)) {
            let mut r = PreferenceRecord::new(
                record.id.clone(),
                record.image.clone(),
                record.prompt.clone(),
                record.chosen.clone(),
                control.rejected,
            );
            r.category = Some(category);
            r.source = record.source.clone();
            r.extra.insert("control".into(), bias.name().into());
            set.push(r);
        }
        vapr.push(record);
    }
    if without_control > 0 {
        tracing::warn!(
            "{without_control} generated pair(s) left out of all three sets: their answers are not in the synthetic world's wording, so no control could be made"
        );
    }
    if vapr.is_empty() {
        bail!(
            "no pairs: the pipeline wrote none (see {})",
            vapr_pipeline::run::failures_path(&out_dir.join("generate").join("vapr.jsonl"))
                .display()
        );
    }

    let mut sets = vec![(VAPR, VAPR_DESCRIPTION, vapr)];
    for (bias, records) in Bias::ALL.iter().zip(biased) {
        sets.push((bias.name(), bias.description(), records));
    }
    let sets = sets
        .into_iter()
        .map(|(name, description, records)| {
            let path = out_dir.join(format!("{name}.jsonl"));
            write_records(&path, &records)?;
            Ok(PairSet {
                name: name.to_string(),
                description: description.to_string(),
                path,
                records,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    tracing::info!(
        "pair sets: {} pairs each ({} with no control) in {}, controls in {:.2} s",
        sets[0].records.len(),
        without_control,
        out_dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(sets)
}

const VAPR_DESCRIPTION: &str = "rejected = the bundled plugins' rule-mode hard negative: one targeted error, same wording and length, checked by every validator";

/// Runs the generation pipeline over `train` into `dir/vapr.jsonl` and returns the units
/// read and the records written (input order).
fn generate_vapr(
    train: &Path,
    dir: &Path,
    seed: u64,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<(Vec<QaUnit>, Vec<PreferenceRecord>)> {
    let output = dir.join("vapr.jsonl");
    remove_previous_run(&output)?;
    let root = project_root()?;
    let plugins = root.join("plugins");
    log_plugin_builds(&plugins);
    let args = GenerateArgs::rule(vec![train.to_path_buf()], output.clone(), seed)
        .with_dirs(vec![plugins], Some(root.join("configs").join("prompts")));
    let job = generate::prepare(&args, GenerateConfig::default())?;
    let (units, input) = generate::read_inputs(&job)?;
    // Shown while the plugins load (and, on a fresh checkout, build).
    progress(0, units.len());

    // The pipeline's progress trait wants `Send`; the caller's callback need not be, so
    // the run goes to a worker thread and its progress comes back over a channel.
    let started = Instant::now();
    let (tx, rx) = mpsc::channel();
    let generated = std::thread::scope(|s| {
        let worker = s.spawn({
            let units = units.clone();
            move || generate::generate(&job, units, input, &mut Forward::new(tx))
        });
        for (done, total) in rx {
            progress(done, total);
        }
        worker
            .join()
            .map_err(|_| anyhow!("the generation thread panicked"))?
    })?;
    let summary = &generated.summary;
    tracing::info!(
        "VaPR pairs: {} written, {} failed of {} in {:.1} s (mean token gap {}, mean word Levenshtein {})",
        summary.written,
        summary.failed,
        summary.eligible,
        started.elapsed().as_secs_f64(),
        summary
            .mean_token_gap
            .map_or("-".to_string(), |v| format!("{v:.2}")),
        summary
            .mean_levenshtein
            .map_or("-".to_string(), |v| format!("{v:.2}")),
    );
    let (records, _) = vapr_data::read_preferences(&output, true)
        .with_context(|| format!("reading back {}", output.display()))?;
    Ok((units, records))
}

/// A quickstart re-run starts afresh: a previous run's ledger would otherwise resume it,
/// and its records could stem from another synthetic world with the same ids.
fn remove_previous_run(output: &Path) -> anyhow::Result<()> {
    let ledger = vapr_pipeline::ledger::ledger_path(output);
    let mut paths = vec![
        output.to_path_buf(),
        vapr_pipeline::run::summary_path(output),
        vapr_pipeline::run::failures_path(output),
    ];
    for suffix in ["", "-wal", "-shm"] {
        let mut name = ledger.as_os_str().to_os_string();
        name.push(suffix);
        paths.push(PathBuf::from(name));
    }
    for path in paths {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
    Ok(())
}

/// The vapr source tree whose bundled plugins and prompt templates the run uses: the one
/// around the current directory, else the one this binary was built from.
fn project_root() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    if let Some(root) = discover::find_project_root(&cwd) {
        return Ok(root);
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(root) = discover::find_project_root(built_from) {
        return Ok(root);
    }
    bail!(
        "the bundled plugins were not found: no vapr source tree (a directory with plugins/ and wit/) above {} or at {}",
        cwd.display(),
        built_from.display()
    )
}

/// Says so before stale plugin crates are built: on a fresh checkout that is the one slow
/// part of this step.
fn log_plugin_builds(plugins: &Path) {
    let builder = vapr_plugin::Builder::new();
    let stale: Vec<String> = discover::scan(plugins)
        .into_iter()
        .filter_map(|c| match c {
            discover::Candidate::Crate(k) if builder.is_stale(&k) => Some(k.name),
            _ => None,
        })
        .collect();
    if !stale.is_empty() {
        tracing::info!(
            "building {} plugin(s) to wasm32-wasip2 ({}): about a minute on a fresh checkout, cached in target/ afterwards",
            stale.len(),
            stale.join(", ")
        );
    }
}

fn write_records(path: &Path, records: &[PreferenceRecord]) -> anyhow::Result<()> {
    let mut writer = vapr_data::PreferenceWriter::create(path)?;
    for r in records {
        writer.write(r)?;
    }
    writer.sync()?;
    Ok(())
}

/// Forwards pipeline progress as `(done, total)` over a channel.
struct Forward {
    tx: mpsc::Sender<(usize, usize)>,
    done: usize,
    total: usize,
}

impl Forward {
    fn new(tx: mpsc::Sender<(usize, usize)>) -> Self {
        Forward {
            tx,
            done: 0,
            total: 0,
        }
    }

    fn send(&self) {
        // The receiver lives until the worker ends; a send error cannot happen.
        let _ = self.tx.send((self.done, self.total));
    }
}

impl Progress for Forward {
    fn start(&mut self, total: u64, done: u64) {
        self.total = total as usize;
        self.done = done as usize;
        self.send();
    }

    fn finished(&mut self, _status: &str) {
        self.done += 1;
        self.send();
    }
}

#[cfg(test)]
mod tests;
