//! The evaluation runner: load a benchmark, generate what is not yet generated (resuming from
//! the append-only `generations.jsonl`), then score.
//!
//! A killed run loses at most the batch in flight: every batch is appended and synced before
//! the next starts, and on start the finished ids are read back and skipped.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use crate::bench::{LoadReport, benchmark};
use crate::error::{EvalError, Result};
use crate::generate::{GenRequest, Generator, truncate_at_stop};
use crate::item::{Bench, GenParams, Item};
use crate::records::{
    GenerationRecord, JsonlAppender, RunDir, RunInfo, read_json, read_jsonl, write_json,
};
use crate::score::{MetricsFile, ScoreContext, write_scores};
use crate::table::read_rows;

/// Settings of one benchmark run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub bench: Bench,
    /// Benchmark files or directories (parquet shards, TSV, CSV).
    pub data: Vec<PathBuf>,
    /// The run directory; results go to `out/<bench>/`.
    pub out: PathBuf,
    /// Prompts per generator call.
    pub batch: usize,
    /// Only the first N items (rounded up to whole NaturalBench groups / MMVP pairs).
    pub limit: Option<usize>,
    /// Overrides the protocol's decoding settings (recorded in `run.json`).
    pub gen_params: Option<GenParams>,
}

/// Progress after each batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// Items generated in this process (excludes those resumed from disk).
    pub generated_now: usize,
    pub elapsed_s: f64,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub dir: RunDir,
    pub resumed: usize,
    pub generated: usize,
    pub skipped_rows: usize,
    pub metrics: MetricsFile,
}

/// Loads the benchmark items from the data files.
pub fn load_bench(bench: Bench, data: &[PathBuf]) -> Result<LoadReport> {
    let rows = read_rows(data)?;
    let files = crate::table::expand_paths(data)?.len();
    let report = benchmark(bench).load(&rows)?;
    if report.items.is_empty() {
        return Err(EvalError::NoItems {
            bench: bench.name(),
            files,
            skipped: report.skipped.len(),
        });
    }
    let mut seen = HashSet::new();
    if let Some(dup) = report.items.iter().find(|i| !seen.insert(i.id.as_str())) {
        return Err(EvalError::BadRow {
            path: data.first().cloned().unwrap_or_default(),
            row: 0,
            message: format!(
                "item id {:?} occurs twice; are the same shards given twice?",
                dup.id
            ),
        });
    }
    Ok(report)
}

/// The first `limit` items, extended to finish the last group or pair.
pub fn take_limit(mut items: Vec<Item>, limit: Option<usize>) -> Vec<Item> {
    items.truncate(limit_len(&items, limit));
    items
}

/// How many items [`take_limit`] keeps.
pub fn limit_len(items: &[Item], limit: Option<usize>) -> usize {
    let Some(limit) = limit else {
        return items.len();
    };
    let mut end = limit.min(items.len());
    if let Some(g) = end.checked_sub(1).and_then(|last| items[last].info.group) {
        while end < items.len() && items[end].info.group == Some(g) {
            end += 1;
        }
    }
    end
}

/// Runs (or resumes) one benchmark with `generator` and scores it.
pub fn run_bench(
    opts: &RunOptions,
    generator: &mut dyn Generator,
    progress: impl FnMut(Progress),
) -> Result<RunOutcome> {
    let report = load_bench(opts.bench, &opts.data)?;
    run_loaded(opts, report, generator, progress)
}

/// Like [`run_bench`] on items already loaded with [`load_bench`] from `opts.data`.
pub fn run_loaded(
    opts: &RunOptions,
    report: LoadReport,
    generator: &mut dyn Generator,
    mut progress: impl FnMut(Progress),
) -> Result<RunOutcome> {
    let b = benchmark(opts.bench);
    let skipped_rows = report.skipped.len();
    let items = take_limit(report.items, opts.limit);
    let params = opts.gen_params.clone().unwrap_or_else(|| b.gen_params());
    let dir = RunDir::new(&opts.out, opts.bench);
    std::fs::create_dir_all(&dir.dir).map_err(|e| EvalError::io(&dir.dir, e))?;

    let info = RunInfo {
        bench: opts.bench,
        protocol: b.protocol().to_string(),
        model: generator.model_id(),
        gen_params: params.clone(),
        data: opts.data.clone(),
        limit: opts.limit,
        vapr_eval_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    check_or_write_run_info(&dir, &info)?;

    let (mut records, valid_len) = if dir.generations().exists() {
        read_jsonl::<GenerationRecord>(&dir.generations())?
    } else {
        (Vec::new(), 0)
    };
    let done: HashSet<String> = records.iter().map(|r| r.id.clone()).collect();
    let pending: Vec<&Item> = items.iter().filter(|i| !done.contains(&i.id)).collect();
    let resumed = items.len() - pending.len();
    if resumed > 0 {
        tracing::info!(
            "{}: resuming, {resumed} of {} items already generated",
            opts.bench,
            items.len()
        );
    }
    let mut appender = JsonlAppender::open(&dir.generations(), valid_len)?;
    let start = Instant::now();
    let mut generated = 0;
    progress(Progress {
        done: resumed,
        total: items.len(),
        generated_now: 0,
        elapsed_s: 0.0,
    });
    for chunk in pending.chunks(opts.batch.max(1)) {
        let requests: Vec<GenRequest<'_>> = chunk
            .iter()
            .map(|i| GenRequest {
                id: &i.id,
                prompt: &i.prompt,
                images: &i.images,
            })
            .collect();
        let outputs =
            generator
                .generate(&requests, &params)
                .map_err(|source| EvalError::Generation {
                    first_id: chunk[0].id.clone(),
                    source,
                })?;
        if outputs.len() != chunk.len() {
            return Err(EvalError::GenerationCount {
                expected: chunk.len(),
                got: outputs.len(),
            });
        }
        let new: Vec<GenerationRecord> = chunk
            .iter()
            .zip(outputs)
            .map(|(item, out)| GenerationRecord {
                id: item.id.clone(),
                bench: opts.bench,
                protocol: b.protocol().to_string(),
                model: info.model.clone(),
                prompt: item.prompt.clone(),
                n_images: item.images.len(),
                gold: item.gold.clone(),
                info: item.info.clone(),
                output: truncate_at_stop(&out, &params.stop).to_string(),
            })
            .collect();
        appender.append(&new)?;
        generated += new.len();
        records.extend(new);
        progress(Progress {
            done: resumed + generated,
            total: items.len(),
            generated_now: generated,
            elapsed_s: start.elapsed().as_secs_f64(),
        });
    }
    // Score exactly this run's items (a resumed file may hold more after a smaller --limit).
    let wanted: HashSet<&str> = items.iter().map(|i| i.id.as_str()).collect();
    let mut chosen: Vec<GenerationRecord> = records
        .into_iter()
        .filter(|r| wanted.contains(r.id.as_str()))
        .collect();
    // Keep benchmark order, so scores.jsonl lines up with the data.
    let order: std::collections::HashMap<&str, usize> = items
        .iter()
        .enumerate()
        .map(|(k, i)| (i.id.as_str(), k))
        .collect();
    chosen.sort_by_key(|r| order[r.id.as_str()]);
    let metrics = write_scores(
        opts.bench,
        &chosen,
        &dir,
        ScoreContext {
            skipped_rows,
            notes: report.notes,
            source: None,
        },
    )?;
    Ok(RunOutcome {
        dir,
        resumed,
        generated,
        skipped_rows,
        metrics,
    })
}

/// A resumed run must use the same benchmark protocol, model and decoding settings.
fn check_or_write_run_info(dir: &RunDir, info: &RunInfo) -> Result<()> {
    let path = dir.run_json();
    if path.exists() {
        let old: RunInfo = read_json(&path)?;
        let checks: [(&'static str, String, String); 3] = [
            ("protocol", old.protocol.clone(), info.protocol.clone()),
            ("model", old.model.clone(), info.model.clone()),
            (
                "gen_params",
                format!("{:?}", old.gen_params),
                format!("{:?}", info.gen_params),
            ),
        ];
        for (field, existing, requested) in checks {
            if existing != requested {
                return Err(EvalError::RunMismatch {
                    path,
                    field,
                    existing,
                    requested,
                });
            }
        }
    }
    write_json(&path, info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::ItemInfo;

    fn item(id: usize, group: Option<i64>) -> Item {
        Item {
            id: id.to_string(),
            prompt: String::new(),
            images: Vec::new(),
            gold: "yes".into(),
            info: ItemInfo {
                group,
                ..ItemInfo::default()
            },
        }
    }

    #[test]
    fn test_limit_finishes_the_last_group() {
        let grouped: Vec<Item> = (0..12).map(|i| item(i, Some(i as i64 / 4))).collect();
        assert_eq!(limit_len(&grouped, Some(5)), 8);
        assert_eq!(limit_len(&grouped, Some(4)), 4);
        assert_eq!(limit_len(&grouped, Some(100)), 12);
        assert_eq!(limit_len(&grouped, None), 12);
        let flat: Vec<Item> = (0..5).map(|i| item(i, None)).collect();
        assert_eq!(take_limit(flat, Some(3)).len(), 3);
    }
}
