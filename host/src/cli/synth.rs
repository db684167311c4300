//! `vapr synth`: render the synthetic scene world.

use clap::Args;

#[derive(Debug, Args)]
pub struct SynthArgs {}

pub fn run(_args: SynthArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr synth` is not built yet")
}
