//! `vapr stats`: bias statistics of preference datasets.

use std::ops::ControlFlow;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use serde_json::{Map, Value};
use vapr_report::{BiasAccumulator, LONG_TOKENS};

const LONG_HELP: &str = "Print the paper's length/style bias table for preference datasets: % of pairs where\nthe chosen answer is longer / shorter than the rejected one, mean token-length delta in\neach direction and mean word-level Levenshtein distance — over all pairs, short pairs\n(chosen answer under 100 tokens) and long pairs (100 tokens or more).\n\nReads our preference JSONL, TRL and LLaMA-Factory exports, or any JSON/JSONL/parquet\nfile with `chosen` and `rejected` columns (strings, messages or message lists).\nTokens are vapr's word/number/punctuation tokens (tokenizer-independent).\n\nWith --json, one file prints one object with the keys pct_chosen_longer,\npct_chosen_shorter, mean_delta_chosen_longer, mean_delta_rejected_longer,\nmean_levenshtein (each {all, short, long}; null for an empty bucket) and pairs; several\nfiles print one object mapping each path to its object.";

/// Arguments of `vapr stats` (the long help is [`LONG_HELP`]).
#[derive(Debug, Args)]
#[command(after_long_help = LONG_HELP)]
pub struct StatsArgs {
    /// Preference datasets (files or directories of .json/.jsonl/.parquet).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Fail on the first malformed record instead of skipping it.
    #[arg(long)]
    pub strict: bool,
}

pub fn run(args: StatsArgs) -> anyhow::Result<()> {
    let mut results = Vec::new();
    for file in &args.files {
        let mut acc = BiasAccumulator::new();
        let report = vapr_data::for_each_pair(std::slice::from_ref(file), args.strict, |p| {
            acc.add(&p.chosen, &p.rejected);
            ControlFlow::Continue(())
        })
        .with_context(|| format!("reading {}", file.display()))?;
        if acc.pairs() == 0 {
            match report.issues.first() {
                Some(first) => anyhow::bail!(
                    "no preference pairs in {}: all {} records were skipped (first: {}: {})",
                    file.display(),
                    report.skipped_total(),
                    first.location,
                    first.detail
                ),
                None => anyhow::bail!(
                    "no preference pairs in {}: it holds no records",
                    file.display()
                ),
            }
        }
        if report.skipped_total() > 0 {
            tracing::warn!(
                "{}: skipped {} malformed records",
                file.display(),
                report.skipped_total()
            );
        }
        results.push((file, acc, report.skipped_total()));
    }
    if args.json {
        let value = if let [(_, acc, _)] = results.as_slice() {
            serde_json::to_value(acc.finish())?
        } else {
            let mut all = Map::new();
            for (file, acc, _) in &results {
                all.insert(
                    file.display().to_string(),
                    serde_json::to_value(acc.finish())?,
                );
            }
            Value::Object(all)
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    for (i, (file, acc, skipped)) in results.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let skipped = if *skipped > 0 {
            format!(", {skipped} malformed records skipped")
        } else {
            String::new()
        };
        println!("## {} ({} pairs{skipped})\n", file.display(), acc.pairs());
        print!("{}", acc.finish().to_markdown());
        let gap = acc
            .mean_abs_token_gap()
            .map_or("–".to_string(), |g| format!("{g:.2}"));
        println!(
            "\nmean |token gap| {gap}; short/long by the chosen answer's length ({LONG_TOKENS} tokens)"
        );
    }
    Ok(())
}
