//! `vapr quickstart`: the built-in main job (see `vapr::quickstart`).

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::quickstart::{Options, Scale};
use anyhow::Context;
use clap::Args;

const LONG_HELP: &str = "Runs the whole VaPR method in miniature on a synthetic visual world, on CPU, with no network\nand no downloads:\n\n  1. synth a training set and a held-out evaluation set (scenes of coloured shapes);\n  2. train a BPE tokenizer on the corpus and write a tiny Qwen2-VL folder (random init);\n  3. SFT it from scratch on the training answers: the \"instruct base model\";\n  4. build VaPR hard-negative pairs (bundled plugins, rule editor, validators) and two\n     control sets with length-biased and style-biased rejected answers;\n  5. DPO from the base on each pair set, and SFT on the VaPR chosen answers (baseline);\n  6. evaluate the five models on the held-out questions by likelihood ranking.\n\nWrites DIR/report.md, DIR/report.html, DIR/metrics.json, plots, DIR/quickstart.log and\nevery intermediate (data, pairs, model folders, training logs), and prints a summary table.\n\nScales: small (default, under 10 minutes on a 2-core CPU), tiny (a few minutes), test\n(seconds; for tests, its numbers mean nothing). The same seed gives the same numbers.";

/// Arguments of `vapr quickstart` (the long help is [`LONG_HELP`]).
#[derive(Debug, Args)]
#[command(after_long_help = LONG_HELP)]
pub struct QuickstartArgs {
    /// Run directory (created if missing; files of an earlier run are overwritten).
    #[arg(long, value_name = "DIR", default_value = "quickstart")]
    pub out: PathBuf,
    /// Size preset: world, model and number of training steps.
    #[arg(long, value_enum, default_value_t = Scale::Small)]
    pub scale: Scale,
    /// Where to train and evaluate (`cuda` needs a build with `--features cuda`).
    #[arg(long, default_value = "cpu", value_parser = ["cpu", "cuda"])]
    pub device: String,
    /// The one seed every step derives its randomness from.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(args: QuickstartArgs) -> anyhow::Result<()> {
    let opts = Options {
        out: args.out.clone(),
        scale: args.scale,
        device: args.device,
        seed: args.seed,
        progress: std::io::stderr().is_terminal(),
    };
    let results = crate::quickstart::run(&opts).context("vapr quickstart")?;
    let files = vapr_report::quickstart::write_report(&args.out, &results)
        .with_context(|| format!("writing the report into {}", args.out.display()))?;
    println!("{}", vapr_report::quickstart::summary_table(&results));
    println!(
        "report: {} (and {}), metrics: {}, {} plots under {}, log: {}",
        files.report_md.display(),
        files.report_html.display(),
        files.metrics_json.display(),
        files.plots.len(),
        args.out.join(vapr_report::quickstart::PLOTS_DIR).display(),
        args.out.join("quickstart.log").display()
    );
    Ok(())
}
