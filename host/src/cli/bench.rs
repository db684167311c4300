//! `vapr bench …`: benchmarks that print a table (the numbers behind docs/benchmarks.md).

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Plugin call latency (instantiate + call + teardown) and calls/s on N threads.
    Plugins(super::plugins::BenchArgs),
}

pub fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Plugins(args) => super::plugins::bench(args),
    }
}
