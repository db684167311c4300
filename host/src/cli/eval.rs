//! `vapr eval`: evaluation harness.

use clap::Args;

#[derive(Debug, Args)]
pub struct EvalArgs {}

pub fn run(_args: EvalArgs) -> anyhow::Result<()> {
    anyhow::bail!("`vapr eval` is not built yet")
}
