//! `vapr synth`: render the synthetic scene world.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use vapr_data::synth::{SynthConfig, generate};

const LONG_HELP: &str = "Render synthetic scenes (anti-aliased circles, squares and triangles in six colours and\ntwo sizes on light backgrounds, on a 3x3 grid) with ground-truth questions for all ten\ncategories.\n\nWrites DIR/train.json (LLaVA conversation layout, one record per scene and category,\nwith a `category` field; feed it to `vapr generate --input DIR/train.json`),\nDIR/eval.jsonl (held-out binary and short-answer questions with candidate answers),\nDIR/manifest.json and DIR/images/*.png. The same seed gives the same bytes.";

/// Arguments of `vapr synth` (the long help is [`LONG_HELP`]).
#[derive(Debug, Args)]
#[command(after_long_help = LONG_HELP)]
pub struct SynthArgs {
    /// Output directory (created if missing; existing files are overwritten).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Training scenes; each yields one question per category (10 records).
    #[arg(long, default_value_t = 200)]
    pub n: usize,
    /// Held-out evaluation scenes, each yielding a binary and a short question per
    /// category [default: n/4, at least 10].
    #[arg(long, value_name = "N")]
    pub n_eval: Option<usize>,
    /// Random seed; scene i depends only on (seed, split, i).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Image side in pixels (at least 32).
    #[arg(long, value_name = "PX", default_value_t = 224)]
    pub size: u32,
}

pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    let mut config = SynthConfig::new(args.n, args.seed, args.size);
    if let Some(n_eval) = args.n_eval {
        config.n_eval = n_eval;
    }
    let total = (config.n + config.n_eval) as u64;
    let bar = ProgressBar::new(total).with_style(
        ProgressStyle::with_template(
            "{spinner} rendering {pos}/{len} scenes [{elapsed_precise}] {per_sec} eta {eta}",
        )
        .expect("valid template"),
    );
    let start = Instant::now();
    let summary = generate(&args.out, &config, |done| bar.inc(done as u64))
        .with_context(|| format!("synthesising into {}", args.out.display()))?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "wrote {} training records ({} scenes) to {}",
        summary.train_records,
        summary.train_scenes,
        args.out.join("train.json").display()
    );
    println!(
        "wrote {} evaluation questions ({} scenes, binary yes-rate {:.3}) to {}",
        summary.eval_records,
        summary.eval_scenes,
        summary.eval_yes_rate,
        args.out.join("eval.jsonl").display()
    );
    println!(
        "{} images in {secs:.1}s ({:.0} images/s)",
        total,
        total as f64 / secs.max(1e-9)
    );
    Ok(())
}
