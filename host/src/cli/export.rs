//! `vapr export`: export preference pairs to other trainers' formats.

use clap::Args;

#[derive(Debug, Args)]
pub struct ExportArgs {}

pub fn run(_args: ExportArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr export` is not built yet")
}
