//! `vapr bench …`: benchmarks that print a table (the numbers behind docs/benchmarks.md).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Plugin call latency (instantiate + call + teardown) and calls/s on N threads.
    Plugins(super::plugins::BenchArgs),
    /// DPO forward+backward time per pair on CPU (tiny Qwen2-VL fixture by default).
    Train(super::train::BenchTrainArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Plugins(args) => super::plugins::bench(args),
        BenchCommand::Train(args) => super::train::bench(args),
    }
}
