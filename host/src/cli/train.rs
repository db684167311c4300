//! `vapr train`: DPO/SFT training.

use clap::Args;

#[derive(Debug, Args)]
pub struct TrainArgs {}

pub fn run(_args: TrainArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr train` is not built yet")
}
