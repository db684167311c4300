//! `vapr score`: per-pair completion log-probs.

use clap::Args;

#[derive(Debug, Args)]
pub struct ScoreArgs {}

pub fn run(_args: ScoreArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr score` is not built yet")
}
