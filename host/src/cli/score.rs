//! `vapr score`: per-pair completion log-probs (the reference log-prob precompute step).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

/// Sum the log-probs of each pair's chosen and rejected completion under a model.
///
/// Writes one JSON object per pair: `id`, `chosen_logps`, `rejected_logps` (float32 sums over
/// the completion tokens, end-of-turn token included) — the same numbers TRL's DPO trainer
/// computes, usable as precomputed reference log-probs.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// A Hugging Face model folder: Qwen2-VL, Qwen2.5-VL or LLaVA-1.5 (llava-hf), picked from
    /// its `config.json` `model_type`.
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// Preference JSONL (`id`, `image`, `prompt`, `chosen`, `rejected`).
    #[arg(long, value_name = "FILE.jsonl")]
    pub pairs: PathBuf,
    /// Directory the records' image paths are relative to (default: the pairs file's).
    #[arg(long, value_name = "DIR")]
    pub images: Option<PathBuf>,
    /// Output JSONL.
    #[arg(long, value_name = "OUT.jsonl")]
    pub out: PathBuf,
    /// `cpu` or `cuda`.
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub device: String,
    /// Pairs per forward pass.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
}

pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "score [{elapsed_precise}] {wide_bar} {pos}/{len} pairs ETA {eta}",
        )
        .expect("valid template"),
    );
    let n = vapr_train::run::score(
        &args.device,
        &args.model,
        &args.pairs,
        args.images.as_deref(),
        &args.out,
        args.batch_size,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )
    .with_context(|| {
        format!(
            "scoring {} with {}",
            args.pairs.display(),
            args.model.display()
        )
    })?;
    bar.finish_and_clear();
    eprintln!("scored {n} pairs -> {}", args.out.display());
    Ok(())
}
