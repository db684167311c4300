//! `vapr train`: DPO/SFT training from a TOML config, with a live progress bar and metrics
//! appended to `<output>/metrics.jsonl`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use vapr_train::config::TrainConfig;
use vapr_train::run::{TrainEvent, train};

/// Train a Hugging Face model folder on preference pairs.
///
/// The family comes from the folder's `config.json` `model_type`: Qwen2-VL (`qwen2_vl`),
/// Qwen2.5-VL (`qwen2_5_vl`) or LLaVA-1.5 in the llava-hf layout (`llava`); the same trainer
/// runs all of them. The config names the model folder, the preference JSONL and its images, the loss
/// (sigmoid, ipo, hinge, robust; optional SFT term), β, optimiser and schedule, batch and
/// accumulation, LoRA or freezing, device, dtype, output directory and seed; see
/// `configs/train/` and `docs/training.md`. Unknown keys are errors.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The run configuration (TOML).
    #[arg(long, value_name = "FILE.toml")]
    pub config: PathBuf,
    /// Continue exactly from a checkpoint: a `checkpoint-<step>` directory, or an output
    /// directory (its newest complete checkpoint). Without a value: the config's output dir.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub resume: Option<Option<PathBuf>>,
}

pub fn run(args: TrainArgs) -> anyhow::Result<()> {
    let cfg = TrainConfig::from_file(&args.config)?;
    let resume = args
        .resume
        .map(|p| p.unwrap_or_else(|| cfg.output.dir.clone()));
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:>9} [{elapsed_precise}] {wide_bar} {pos}/{len} ETA {eta} {msg}",
        )
        .expect("valid template"),
    );
    let mut on = |event: TrainEvent| match event {
        TrainEvent::Prepared {
            pairs,
            trainable,
            total,
            summary,
        } => {
            bar.suspend(|| {
                eprintln!("{pairs} pairs; {trainable} of {total} parameters trainable ({summary})")
            });
        }
        TrainEvent::Scoring { done, total } => {
            bar.set_prefix("reference");
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        TrainEvent::ReferenceCache { path, reused } => {
            let verb = if reused { "reusing" } else { "wrote" };
            bar.suspend(|| eprintln!("{verb} reference log-probs {}", path.display()));
        }
        TrainEvent::Started { step, total_steps } => {
            bar.set_prefix("train");
            bar.set_length(total_steps as u64);
            bar.set_position(step as u64);
            bar.reset_eta();
        }
        TrainEvent::Step(m) => {
            bar.set_position(m.step as u64);
            let mut msg = format!("loss {:.4}", m.loss);
            if let (Some(acc), Some(margin)) = (m.rewards_accuracies, m.rewards_margins) {
                msg.push_str(&format!(" acc {acc:.2} margin {margin:.3}"));
            }
            msg.push_str(&format!(
                " |g| {:.3} lr {:.2e} {:.0} tok/s",
                m.grad_norm, m.learning_rate, m.tokens_per_second
            ));
            bar.set_message(msg);
        }
        TrainEvent::Saved(path) => bar.suspend(|| eprintln!("saved {}", path.display())),
    };
    let final_dir = train(&cfg, resume.as_deref(), &mut on)
        .with_context(|| format!("training with {}", args.config.display()))?;
    bar.finish();
    println!("{}", final_dir.display());
    Ok(())
}

/// `vapr bench train`: DPO forward+backward time per pair on CPU.
#[derive(Debug, Args)]
pub struct BenchTrainArgs {
    /// Model folder of any supported family (default: the tiny Qwen2-VL fixture).
    #[arg(long, default_value = "tests/fixtures/qwen2_vl/flat")]
    pub model: PathBuf,
    /// Pairs, all in one batch (default: the fixture's three pairs).
    #[arg(long, default_value = "configs/train/tiny_fixture_pairs.jsonl")]
    pub pairs: PathBuf,
    /// Images directory of the pairs.
    #[arg(long, default_value = "tests/fixtures/qwen2_vl/images")]
    pub images: PathBuf,
    /// Timed iterations (after 2 warm-up ones); the median is reported.
    #[arg(long, default_value_t = 10)]
    pub iterations: usize,
}

pub fn bench(args: BenchTrainArgs) -> anyhow::Result<()> {
    let r = vapr_train::bench::bench_train_step(
        &args.model,
        &args.pairs,
        Some(&args.images),
        2,
        args.iterations.max(1),
    )
    .with_context(|| format!("benchmarking a train step of {}", args.model.display()))?;
    println!("| model | pairs/step | tokens/step | forward ms | backward ms | fwd+bwd ms/pair |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {:.1} | {:.1} | {:.1} |",
        args.model.display(),
        r.pairs_per_step,
        r.tokens_per_step,
        r.forward_ms,
        r.backward_ms,
        r.ms_per_pair()
    );
    Ok(())
}
