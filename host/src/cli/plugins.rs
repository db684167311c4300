//! `vapr plugins …`: the plugin author's loop.

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// List discovered plugins.
    List {},
}

pub fn run(_cmd: PluginsCommand) -> anyhow::Result<()> {
    anyhow::bail!("`vapr plugins` is not built yet")
}

#[derive(Debug, Args)]
pub struct BenchArgs {}

pub fn bench(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr bench plugins` is not built yet")
}
