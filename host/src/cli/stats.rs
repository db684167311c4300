//! `vapr stats`: bias statistics of preference datasets.

use clap::Args;

#[derive(Debug, Args)]
pub struct StatsArgs {}

pub fn run(_args: StatsArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr stats` is not built yet")
}
