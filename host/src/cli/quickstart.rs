//! `vapr quickstart`: the built-in main job.

use clap::Args;

#[derive(Debug, Args)]
pub struct QuickstartArgs {}

pub fn run(_args: QuickstartArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr quickstart` is not built yet")
}
