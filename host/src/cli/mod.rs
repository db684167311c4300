//! Command-line interface: one module per subcommand, each a clap `Args` struct and a
//! `run` function that calls into a room crate.

use clap::{Parser, Subcommand};

pub mod bench;
pub mod eval;
pub mod export;
pub mod generate;
pub mod plugins;
pub mod quickstart;
pub mod score;
pub mod stats;
pub mod synth;
pub mod train;

/// vapr: hard-negative preference data and DPO training for vision-language models.
///
/// Generate VaPR preference pairs from supervised (image, question, answer) data with
/// sandboxed WebAssembly plugins, check their length and style bias, DPO-train Qwen2-VL,
/// Qwen2.5-VL or LLaVA-1.5 on them, and evaluate the result.
#[derive(Debug, Parser)]
#[command(name = "vapr", version, propagate_version = true)]
pub struct Cli {
    /// More log output (-v info, -vv debug, -vvv trace). `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole method end to end on a synthetic world (no network, no GPU).
    Quickstart(quickstart::QuickstartArgs),
    /// Render a synthetic scene dataset with questions and ground-truth answers.
    Synth(synth::SynthArgs),
    /// Turn supervised data into VaPR preference pairs.
    Generate(generate::GenerateArgs),
    /// Print the length/style bias table of preference datasets.
    Stats(stats::StatsArgs),
    /// Convert a preference JSONL file to another trainer's format.
    Export(export::ExportArgs),
    /// DPO- or SFT-train a model from a TOML config.
    Train(train::TrainArgs),
    /// Compute per-pair completion log-probs (reference log-prob precompute).
    Score(score::ScoreArgs),
    /// Evaluate a model on a benchmark, or compare two evaluation runs.
    Eval(eval::EvalArgs),
    /// Build, list, scaffold and run plugins.
    #[command(subcommand)]
    Plugins(plugins::PluginsCommand),
    /// Micro-benchmarks that print a table.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

impl Cli {
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Quickstart(args) => quickstart::run(args),
            Command::Synth(args) => synth::run(args),
            Command::Generate(args) => generate::run(args),
            Command::Stats(args) => stats::run(args),
            Command::Export(args) => export::run(args),
            Command::Train(args) => train::run(args),
            Command::Score(args) => score::run(args),
            Command::Eval(args) => eval::run(args),
            Command::Plugins(cmd) => plugins::run(cmd),
            Command::Bench(cmd) => bench::run(cmd),
        }
    }
}

/// Logs go to stderr so that stdout stays parseable (`--json` outputs).
pub fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "warn",
        (false, 0) => "warn,vapr=info",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
