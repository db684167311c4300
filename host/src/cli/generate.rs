//! `vapr generate`: generate preference pairs.

use clap::Args;

#[derive(Debug, Args)]
pub struct GenerateArgs {}

pub fn run(_args: GenerateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr generate` is not built yet")
}
