//! `vapr eval`: run a benchmark under its pinned protocol, re-score generations, compare two
//! runs with paired bootstrap intervals, and plot the yes-bias of several runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::generator::{GenDevice, load_generator};
use vapr_eval::Bench;
use vapr_eval::compare::{CompareOptions, compare_runs, render_table};
use vapr_eval::records::{GenerationRecord, RunDir, read_json, read_jsonl};
use vapr_eval::run::{Progress, RunOptions, limit_len, load_bench, run_loaded};
use vapr_eval::score::{MetricsFile, ScoreContext, summary, write_scores};
use vapr_model::Sampling;

/// Evaluate a model on a benchmark, re-score generations, or compare two runs.
///
/// Each benchmark runs under one pinned protocol (prompt, decoding, answer extraction,
/// metric; see docs/eval.md) whose name is written into every result file. A run writes
/// OUT/<bench>/ with generations.jsonl (raw outputs, append-only: a killed run resumes where
/// it stopped), scores.jsonl (per item), metrics.json and, for NaturalBench and POPE, a
/// yes-bias table and plot.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Paired bootstrap comparison of two runs (A − B), per benchmark and averaged.
    Compare(CompareArgs),
    /// Score an existing generations.jsonl (from `vapr eval` or converted from another harness).
    Score(ScoreArgs),
    /// Yes-bias table and plot over several runs (NaturalBench yes/no items and POPE).
    Bias(BiasArgs),
}

/// Where generation runs.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Device {
    Cpu,
    Cuda,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Model directory (Hugging Face layout: config.json, safetensors, tokenizer.json).
    #[arg(long, required = true)]
    pub model: Option<PathBuf>,
    /// Benchmark: cvbench, mmstar, naturalbench, pope or mmvp.
    #[arg(long, required = true)]
    pub bench: Option<Bench>,
    /// Benchmark files or directories: HF parquet shards, a VLMEvalKit TSV, or MMVP's
    /// Questions.csv. Several may be given; a directory contributes its files in name order.
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Evaluate only the first N items (rounded up to whole NaturalBench groups / MMVP pairs).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Prompts per generation batch (decoded together: left-padded, one KV cache; rows that
    /// finish early leave the batch).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Device for generation (`cuda` needs a build with `--features cuda`).
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: Device,
    /// Run directory; results go to OUT/<bench>/.
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// Override the protocol's max_new_tokens (recorded in run.json).
    #[arg(long)]
    pub max_new_tokens: Option<usize>,
    /// Sample at this temperature instead of decoding greedily (the pinned protocols are
    /// greedy; the sampling settings become part of the model id in every result file).
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Nucleus size for sampling (with --temperature).
    #[arg(long, default_value_t = 1.0, requires = "temperature")]
    pub top_p: f32,
    /// Seed of the sampler (with --temperature; every prompt draws from its own RNG with
    /// this seed, so an output does not depend on its batch).
    #[arg(long, default_value_t = 0, requires = "temperature")]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Run directory A (holding <bench>/ folders, or one benchmark's folder).
    pub run_a: PathBuf,
    /// Run directory B.
    pub run_b: PathBuf,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = vapr_eval::bootstrap::DEFAULT_RESAMPLES)]
    pub resamples: usize,
    /// RNG seed of the bootstrap.
    #[arg(long, default_value_t = vapr_eval::bootstrap::DEFAULT_SEED)]
    pub seed: u64,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Show every metric (per category, per split, …), not only the main ones.
    #[arg(long)]
    pub all_metrics: bool,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Benchmark the generations belong to.
    #[arg(long)]
    pub bench: Bench,
    /// generations.jsonl to score.
    #[arg(long)]
    pub generations: PathBuf,
    /// Run directory; results go to OUT/<bench>/.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct BiasArgs {
    /// Run directories (each with naturalbench/ and/or pope/ results).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where to write the PNG plot.
    #[arg(long, default_value = "yes_bias.png")]
    pub plot: PathBuf,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.command {
        Some(EvalCommand::Compare(a)) => compare(a),
        Some(EvalCommand::Score(a)) => score(a),
        Some(EvalCommand::Bias(a)) => bias(a),
        None => evaluate(args.run),
    }
}

fn evaluate(args: RunArgs) -> anyhow::Result<()> {
    let (Some(model), Some(bench), Some(out)) = (args.model, args.bench, args.out) else {
        bail!("--model, --bench, --data and --out are required");
    };
    if !model.is_dir() {
        bail!("model directory {} does not exist", model.display());
    }
    // Check the data first: a typo in --data should not wait for a model to load.
    let report = load_bench(bench, &args.data).with_context(|| format!("loading {bench} data"))?;
    let items = limit_len(&report.items, args.limit);
    eprintln!(
        "{bench}: {items} items ready ({} bad rows skipped)",
        report.skipped.len()
    );
    let sampling = match args.temperature {
        Some(t) if !(t > 0.0 && t.is_finite()) => {
            bail!("--temperature must be a positive number (leave it out for greedy decoding)")
        }
        Some(temperature) if args.top_p > 0.0 && args.top_p <= 1.0 => Some(Sampling {
            temperature,
            top_p: args.top_p,
            seed: args.seed,
        }),
        Some(_) => bail!("--top-p must be in (0, 1]"),
        None => None,
    };
    let mut generator = make_generator(&model, args.device, sampling)?;
    let opts = RunOptions {
        bench,
        data: args.data,
        out,
        batch: args.batch,
        limit: args.limit,
        gen_params: args.max_new_tokens.map(|n| vapr_eval::GenParams {
            max_new_tokens: n,
            ..vapr_eval::bench::benchmark(bench).gen_params()
        }),
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} items {msg} (eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(bench.name());
    let outcome = run_loaded(&opts, report, generator.as_mut(), |p: Progress| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        if p.elapsed_s > 0.0 {
            bar.set_message(format!(
                "{:.2} items/s",
                p.generated_now as f64 / p.elapsed_s
            ));
        }
    })?;
    bar.finish_and_clear();
    println!("{}", summary(&outcome.metrics));
    eprintln!(
        "wrote {} ({} generated now, {} resumed)",
        outcome.dir.dir.display(),
        outcome.generated,
        outcome.resumed
    );
    Ok(())
}

/// The model behind `--model` on `--device`.
fn make_generator(
    model: &Path,
    device: Device,
    sampling: Option<Sampling>,
) -> anyhow::Result<Box<dyn vapr_eval::Generator>> {
    let device = match device {
        Device::Cpu => GenDevice::Cpu,
        Device::Cuda => GenDevice::Cuda,
    };
    let started = std::time::Instant::now();
    let generator = load_generator(model, device, sampling)?;
    eprintln!(
        "loaded {} in {:.1} s",
        model.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(generator)
}

fn score(args: ScoreArgs) -> anyhow::Result<()> {
    let (records, _) = read_jsonl::<GenerationRecord>(&args.generations)
        .with_context(|| format!("reading {}", args.generations.display()))?;
    if records.is_empty() {
        bail!("{} holds no generation records", args.generations.display());
    }
    let dir = RunDir::new(&args.out, args.bench);
    let metrics = write_scores(
        args.bench,
        &records,
        &dir,
        ScoreContext {
            source: Some(args.generations.clone()),
            ..ScoreContext::default()
        },
    )?;
    let same = std::fs::canonicalize(&args.generations).ok()
        == std::fs::canonicalize(dir.generations()).ok();
    if !same {
        // Keep the raw generations next to their scores, so the folder is a complete run.
        std::fs::copy(&args.generations, dir.generations())
            .with_context(|| format!("copying generations into {}", dir.dir.display()))?;
    }
    println!("{}", summary(&metrics));
    eprintln!("wrote {}", dir.dir.display());
    Ok(())
}

fn compare(args: CompareArgs) -> anyhow::Result<()> {
    if args.resamples == 0 {
        bail!("--resamples must be at least 1 (10,000 is the default; 1,000 is the usual minimum)");
    }
    let cmp = compare_runs(
        &args.run_a,
        &args.run_b,
        CompareOptions {
            resamples: args.resamples,
            seed: args.seed,
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&cmp)?);
    } else {
        print!("{}", render_table(&cmp, args.all_metrics));
    }
    Ok(())
}

fn bias(args: BiasArgs) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for run in &args.runs {
        let name = run
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut found = false;
        for bench in [Bench::Naturalbench, Bench::Pope] {
            let path = RunDir::new(run, bench).metrics();
            if !path.exists() {
                continue;
            }
            let m: MetricsFile = read_json(&path)?;
            for mut r in m.yes_bias {
                // One row per run: the whole-benchmark line, labelled with the run.
                if r.label.ends_with(" all") || r.label.ends_with(" yes/no") {
                    r.label = format!("{name}: {}", r.label);
                    rows.push(r);
                    found = true;
                }
            }
        }
        if !found {
            bail!("{} has no naturalbench/ or pope/ results", run.display());
        }
    }
    print!("{}", vapr_eval::bias::bias_table(&rows));
    vapr_eval::bias::write_bias_plot(&rows, "Yes-bias", &args.plot)?;
    eprintln!("wrote {}", args.plot.display());
    Ok(())
}
