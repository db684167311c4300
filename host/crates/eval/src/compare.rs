//! `vapr eval compare RUN_A RUN_B`: align two runs by item id and report, per benchmark and for
//! the average of the benchmarks' headline metrics, the difference A − B with a paired
//! bootstrap 95% interval. Units and strata follow each metric (NaturalBench groups, MMVP
//! pairs, CV-Bench items within source, MMStar items within category, POPE questions within
//! split); the average resamples every benchmark independently and averages the draws.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::bench::{Benchmark, ScoredItem, Unit, benchmark, metrics_with_failures, units};
use crate::bootstrap::{Interval, identity, interval, resample};
use crate::error::{EvalError, Result};
use crate::item::Bench;
use crate::records::{RunDir, read_json, read_jsonl};
use crate::score::MetricsFile;

/// Bootstrap settings.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct CompareOptions {
    pub resamples: usize,
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            resamples: crate::bootstrap::DEFAULT_RESAMPLES,
            seed: crate::bootstrap::DEFAULT_SEED,
        }
    }
}

/// One metric of one benchmark in both runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricDelta {
    pub metric: String,
    pub a: f64,
    pub b: f64,
    #[serde(flatten)]
    pub diff: Interval,
}

/// One benchmark in both runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchComparison {
    pub bench: Bench,
    pub protocol: String,
    pub headline: String,
    pub resampling: String,
    pub units: usize,
    pub items: usize,
    /// Items only one run has (left out of the comparison).
    pub only_in_a: usize,
    pub only_in_b: usize,
    pub metrics: Vec<MetricDelta>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    pub run_a: PathBuf,
    pub run_b: PathBuf,
    pub resamples: usize,
    pub seed: u64,
    pub benches: Vec<BenchComparison>,
    /// Mean over benchmarks of the headline metric, with the averaged bootstrap draws.
    pub average: Option<MetricDelta>,
}

/// The benchmarks a run directory holds: the directory itself if it is one benchmark's run,
/// else its `<bench>/` subfolders.
pub fn run_benches(path: &Path) -> Result<BTreeMap<Bench, PathBuf>> {
    let mut out = BTreeMap::new();
    if path.join("scores.jsonl").exists() {
        let bench = match read_json::<MetricsFile>(&path.join("metrics.json")) {
            Ok(m) => m.bench,
            Err(_) => path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| EvalError::NotARun {
                    path: path.to_path_buf(),
                })?,
        };
        out.insert(bench, path.to_path_buf());
        return Ok(out);
    }
    for bench in Bench::ALL {
        let dir = RunDir::new(path, bench);
        if dir.scores().exists() {
            out.insert(bench, dir.dir);
        }
    }
    if out.is_empty() {
        return Err(EvalError::NotARun {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

fn read_scores(dir: &Path) -> Result<Vec<ScoredItem>> {
    Ok(read_jsonl(&dir.join("scores.jsonl"))?.0)
}

fn protocol_of(dir: &Path) -> Option<String> {
    read_json::<MetricsFile>(&dir.join("metrics.json"))
        .ok()
        .map(|m| m.protocol)
}

/// Compares two runs on every benchmark both hold.
pub fn compare_runs(run_a: &Path, run_b: &Path, opts: CompareOptions) -> Result<Comparison> {
    let a = run_benches(run_a)?;
    let b = run_benches(run_b)?;
    let mut benches = Vec::new();
    let mut headline_draws: Vec<Vec<f64>> = Vec::new();
    let mut headline_obs = Vec::new();
    for (bench, dir_a) in &a {
        let Some(dir_b) = b.get(bench) else { continue };
        let mut notes = Vec::new();
        let (pa, pb) = (protocol_of(dir_a), protocol_of(dir_b));
        if pa != pb {
            notes.push(format!(
                "protocols differ: A {pa:?}, B {pb:?}; scores are compared as stored"
            ));
        }
        let (items_a, items_b) = (read_scores(dir_a)?, read_scores(dir_b)?);
        let seed = opts.seed ^ (*bench as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let (cmp, draws, observed) =
            compare_items(*bench, &items_a, &items_b, opts.resamples, seed)?;
        let mut cmp = cmp;
        cmp.protocol = pa.unwrap_or_else(|| benchmark(*bench).protocol().to_string());
        cmp.notes.extend(notes);
        if let Some(d) = draws {
            headline_draws.push(d);
            headline_obs.push(observed);
        }
        benches.push(cmp);
    }
    if benches.is_empty() {
        return Err(EvalError::NoCommonBench {
            a: run_a.to_path_buf(),
            b: run_b.to_path_buf(),
        });
    }
    let average = (!headline_draws.is_empty()).then(|| {
        let k = headline_draws.len() as f64;
        let mean_draws: Vec<f64> = (0..opts.resamples)
            .map(|i| headline_draws.iter().map(|d| d[i]).sum::<f64>() / k)
            .collect();
        let (sa, sb): (f64, f64) = benches
            .iter()
            .filter_map(|c| c.metrics.iter().find(|m| m.metric == c.headline))
            .fold((0.0, 0.0), |(x, y), m| (x + m.a, y + m.b));
        MetricDelta {
            metric: "mean of headline metrics".into(),
            a: sa / k,
            b: sb / k,
            diff: interval(headline_obs.iter().sum::<f64>() / k, mean_draws),
        }
    });
    Ok(Comparison {
        run_a: run_a.to_path_buf(),
        run_b: run_b.to_path_buf(),
        resamples: opts.resamples,
        seed: opts.seed,
        benches,
        average,
    })
}

type Compared = (BenchComparison, Option<Vec<f64>>, f64);

/// Compares two sets of scored items of one benchmark. Returns the comparison, the headline's
/// resampled differences and its observed difference.
pub fn compare_items(
    bench: Bench,
    a: &[ScoredItem],
    b: &[ScoredItem],
    resamples: usize,
    seed: u64,
) -> Result<Compared> {
    let spec = benchmark(bench);
    let ids_b: HashMap<&str, &ScoredItem> = b.iter().map(|s| (s.id.as_str(), s)).collect();
    let ids_a: HashMap<&str, &ScoredItem> = a.iter().map(|s| (s.id.as_str(), s)).collect();
    let common_a: Vec<ScoredItem> = a
        .iter()
        .filter(|s| ids_b.contains_key(s.id.as_str()))
        .cloned()
        .collect();
    let common_b: Vec<ScoredItem> = common_a
        .iter()
        .map(|s| ids_b[s.id.as_str()].clone())
        .collect();
    let only_in_a = a.len() - common_a.len();
    let only_in_b = b
        .iter()
        .filter(|s| !ids_a.contains_key(s.id.as_str()))
        .count();
    if common_a.is_empty() {
        return Err(EvalError::NothingInCommon {
            bench: bench.to_string(),
            a: a.len(),
            b: b.len(),
        });
    }
    let (units_a, units_b) = paired_units(spec, &common_a, &common_b);
    // Strata in name order; each holds unit positions.
    let mut strata: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, u) in units_a.iter().enumerate() {
        strata.entry(u.stratum.as_str()).or_default().push(k);
    }
    let members: Vec<Vec<usize>> = strata.into_values().collect();
    let sizes: Vec<usize> = members.iter().map(Vec::len).collect();

    // Drawn positions per stratum → unit indices.
    let pick = |idx: &[Vec<usize>]| -> Vec<usize> {
        idx.iter()
            .zip(&members)
            .flat_map(|(draw, m)| draw.iter().map(move |&d| m[d]))
            .collect()
    };
    let obs_idx = identity(&sizes);
    let chosen = pick(&obs_idx);
    let obs_a = metrics_with_failures(
        spec,
        &chosen.iter().map(|&k| &units_a[k]).collect::<Vec<_>>(),
    );
    let obs_b = metrics_with_failures(
        spec,
        &chosen.iter().map(|&k| &units_b[k]).collect::<Vec<_>>(),
    );
    let keys: Vec<String> = obs_a
        .keys()
        .filter(|k| obs_b.contains_key(*k))
        .cloned()
        .collect();

    let draws = resample(&sizes, resamples, seed, |idx| {
        let chosen = pick(idx);
        let ma = metrics_with_failures(
            spec,
            &chosen.iter().map(|&k| &units_a[k]).collect::<Vec<_>>(),
        );
        let mb = metrics_with_failures(
            spec,
            &chosen.iter().map(|&k| &units_b[k]).collect::<Vec<_>>(),
        );
        // A key can vanish in a resample (a category not drawn): NaN, dropped by `interval`.
        keys.iter()
            .map(|k| match (ma.get(k), mb.get(k)) {
                (Some(x), Some(y)) => x - y,
                _ => f64::NAN,
            })
            .collect()
    });
    let mut metrics: Vec<MetricDelta> = Vec::new();
    let mut headline_draws = None;
    let mut headline_obs = 0.0;
    for (key, column) in keys
        .iter()
        .zip(draws.into_iter().chain(std::iter::repeat_with(Vec::new)))
    {
        let (va, vb) = (obs_a[key], obs_b[key]);
        if key == spec.headline() {
            headline_draws = Some(column.clone());
            headline_obs = va - vb;
        }
        metrics.push(MetricDelta {
            metric: key.clone(),
            a: va,
            b: vb,
            diff: interval(va - vb, column),
        });
    }
    // Headline first, then the summary keys, then the rest alphabetically.
    let summary = spec.summary_keys();
    let rank = |m: &MetricDelta| {
        summary
            .iter()
            .position(|k| *k == m.metric)
            .unwrap_or(usize::MAX)
    };
    metrics.sort_by(|x, y| rank(x).cmp(&rank(y)).then(x.metric.cmp(&y.metric)));
    Ok((
        BenchComparison {
            bench,
            protocol: spec.protocol().to_string(),
            headline: spec.headline().to_string(),
            resampling: spec.resampling().to_string(),
            units: units_a.len(),
            items: common_a.len(),
            only_in_a,
            only_in_b,
            metrics,
            notes: Vec::new(),
        },
        headline_draws,
        headline_obs,
    ))
}

/// Units of A and B with the same keys in the same order; a unit whose items differ between
/// the runs (a group only partly present in one) is left out of both.
fn paired_units<'a>(
    spec: &dyn Benchmark,
    a: &'a [ScoredItem],
    b: &'a [ScoredItem],
) -> (Vec<Unit<'a>>, Vec<Unit<'a>>) {
    let ua = units(spec, a);
    let mut ub: HashMap<String, Unit<'a>> = units(spec, b)
        .into_iter()
        .map(|u| (u.key.clone(), u))
        .collect();
    let mut out_a = Vec::new();
    let mut out_b = Vec::new();
    for u in ua {
        if let Some(v) = ub.remove(&u.key) {
            let same = u.items.len() == v.items.len()
                && u.items.iter().zip(&v.items).all(|(x, y)| x.id == y.id);
            if same {
                out_a.push(u);
                out_b.push(v);
            }
        }
    }
    (out_a, out_b)
}

/// The comparison as a fixed-width table; `*` marks intervals that exclude 0.
pub fn render_table(c: &Comparison, all_metrics: bool) -> String {
    let mut out = format!(
        "A = {}\nB = {}\npaired bootstrap: {} resamples, seed {}, 95% percentile interval; * = interval excludes 0\n\n",
        c.run_a.display(),
        c.run_b.display(),
        c.resamples,
        c.seed
    );
    out.push_str(&format!(
        "{:<14} {:<26} {:>8} {:>8} {:>9}  {:<20} {:>6}\n",
        "benchmark", "metric", "A", "B", "A-B", "95% CI", "p"
    ));
    let line = |bench: &str, m: &MetricDelta| {
        format!(
            "{:<14} {:<26} {:>7.2}% {:>7.2}% {:>+8.2}{} [{:+.2}, {:+.2}]{:<6} {:>6.4}\n",
            bench,
            m.metric,
            m.a * 100.0,
            m.b * 100.0,
            m.diff.delta * 100.0,
            if m.diff.significant { "*" } else { " " },
            m.diff.lo * 100.0,
            m.diff.hi * 100.0,
            "",
            m.diff.p_value
        )
    };
    for bc in &c.benches {
        let summary = benchmark(bc.bench).summary_keys();
        for m in bc.metrics.iter().filter(|m| {
            all_metrics
                || summary.contains(&m.metric.as_str())
                || m.metric == "extraction_failure_rate"
        }) {
            out.push_str(&line(bc.bench.name(), m));
        }
        out.push_str(&format!(
            "{:<14} unit: {} ({} units, {} items; only in A {}, only in B {})\n",
            "", bc.resampling, bc.units, bc.items, bc.only_in_a, bc.only_in_b
        ));
        for n in &bc.notes {
            out.push_str(&format!("{:<14} note: {n}\n", ""));
        }
    }
    if let Some(avg) = &c.average {
        out.push_str(&line("average", avg));
    }
    out.push_str("\nDifferences are in percentage points.\n");
    out
}
