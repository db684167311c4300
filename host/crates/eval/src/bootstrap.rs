//! Paired bootstrap for the difference of two models' metrics on the same items (Efron &
//! Tibshirani; Koehn 2004): resample units with replacement — the same indices for both
//! models — within each stratum, recompute the statistics, and take the 2.5th and 97.5th
//! percentiles of the differences.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Default number of resamples.
pub const DEFAULT_RESAMPLES: usize = 10_000;
/// Default seed (fixed, so reruns print the same interval).
pub const DEFAULT_SEED: u64 = 20_250_705;

/// A difference with its bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Observed difference A − B.
    pub delta: f64,
    /// 2.5th percentile of the resampled differences.
    pub lo: f64,
    /// 97.5th percentile.
    pub hi: f64,
    /// Two-sided bootstrap p ≈ 2 · min(share ≤ 0, share ≥ 0), capped at 1.
    pub p_value: f64,
    /// The interval excludes 0.
    pub significant: bool,
}

/// Resamples per RNG block: block k draws from ChaCha8 stream k of the seed, so the result
/// does not depend on how many threads share the work.
const BLOCK: usize = 256;

/// Resamples `strata` (the number of units in each) `resamples` times and calls `stat` with
/// the drawn unit indices per stratum; `stat` returns one value per tracked statistic (the
/// differences A − B). Returns, per statistic, the resampled values. Blocks of resamples run
/// on all available cores; the draws are the same for any number of threads.
pub fn resample<F>(strata: &[usize], resamples: usize, seed: u64, stat: F) -> Vec<Vec<f64>>
where
    F: Fn(&[Vec<usize>]) -> Vec<f64> + Sync,
{
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    resample_on(threads, strata, resamples, seed, stat)
}

fn resample_on<F>(
    threads: usize,
    strata: &[usize],
    resamples: usize,
    seed: u64,
    stat: F,
) -> Vec<Vec<f64>>
where
    F: Fn(&[Vec<usize>]) -> Vec<f64> + Sync,
{
    let blocks = resamples.div_ceil(BLOCK);
    let threads = threads.clamp(1, blocks.max(1));
    let run_block = |k: usize| -> Vec<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(k as u64);
        let mut idx: Vec<Vec<usize>> = strata.iter().map(|&n| vec![0; n]).collect();
        (0..BLOCK.min(resamples - k * BLOCK))
            .map(|_| {
                for (draw, &n) in idx.iter_mut().zip(strata) {
                    for slot in draw.iter_mut() {
                        *slot = rng.random_range(0..n);
                    }
                }
                stat(&idx)
            })
            .collect()
    };
    let mut per_block: Vec<Vec<Vec<f64>>> = vec![Vec::new(); blocks];
    std::thread::scope(|scope| {
        let run_block = &run_block;
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..blocks)
                        .step_by(threads)
                        .map(|k| (k, run_block(k)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for w in workers {
            for (k, rows) in w.join().expect("bootstrap worker panicked") {
                per_block[k] = rows;
            }
        }
    });
    let mut out: Vec<Vec<f64>> = Vec::new();
    for row in per_block.into_iter().flatten() {
        if out.is_empty() {
            out = row.iter().map(|_| Vec::with_capacity(resamples)).collect();
        }
        for (column, v) in out.iter_mut().zip(row) {
            column.push(v);
        }
    }
    out
}

/// The identity draw (every unit once), for the observed statistic.
pub fn identity(strata: &[usize]) -> Vec<Vec<usize>> {
    strata.iter().map(|&n| (0..n).collect()).collect()
}

/// Percentile interval of resampled differences around the observed one.
pub fn interval(observed: f64, mut draws: Vec<f64>) -> Interval {
    draws.retain(|v| v.is_finite());
    draws.sort_by(f64::total_cmp);
    let n = draws.len();
    if n == 0 {
        return Interval {
            delta: observed,
            lo: observed,
            hi: observed,
            p_value: 1.0,
            significant: false,
        };
    }
    let le = draws.iter().filter(|v| **v <= 0.0).count() as f64 / n as f64;
    let ge = draws.iter().filter(|v| **v >= 0.0).count() as f64 / n as f64;
    let (lo, hi) = (quantile(&draws, 0.025), quantile(&draws, 0.975));
    Interval {
        delta: observed,
        lo,
        hi,
        p_value: (2.0 * le.min(ge)).min(1.0),
        significant: lo > 0.0 || hi < 0.0,
    }
}

/// Linear-interpolated quantile of sorted values (numpy's default).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (next - sorted[i]) * frac,
        None => sorted[i],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean of a 0/1 vector over drawn indices.
    fn mean(v: &[f64], idx: &[usize]) -> f64 {
        idx.iter().map(|&i| v[i]).sum::<f64>() / idx.len() as f64
    }

    #[test]
    fn test_known_difference_is_covered_and_significant() {
        // A is right on 80% of 500 items, B on 60%, paired: B right ⇒ A right.
        let n = 500;
        let a: Vec<f64> = (0..n).map(|i| f64::from(i % 10 < 8)).collect();
        let b: Vec<f64> = (0..n).map(|i| f64::from(i % 10 < 6)).collect();
        let strata = [n];
        let stat = |idx: &[Vec<usize>]| vec![mean(&a, &idx[0]) - mean(&b, &idx[0])];
        let observed = stat(&identity(&strata))[0];
        assert!((observed - 0.2).abs() < 1e-12);
        let draws = resample(&strata, 2000, 7, stat).remove(0);
        let iv = interval(observed, draws);
        assert!(iv.lo < 0.2 && 0.2 < iv.hi, "{iv:?}");
        assert!(iv.significant && iv.lo > 0.15 && iv.hi < 0.25, "{iv:?}");
        assert!(iv.p_value < 0.01);
    }

    #[test]
    fn test_no_difference_covers_zero() {
        // Same accuracy, disagreeing on different items.
        let n = 400;
        let a: Vec<f64> = (0..n).map(|i| f64::from(i % 4 != 0)).collect();
        let b: Vec<f64> = (0..n).map(|i| f64::from(i % 4 != 1)).collect();
        let strata = [n];
        let stat = |idx: &[Vec<usize>]| vec![mean(&a, &idx[0]) - mean(&b, &idx[0])];
        let draws = resample(&strata, 2000, 11, stat).remove(0);
        let iv = interval(0.0, draws);
        assert!(iv.lo < 0.0 && iv.hi > 0.0 && !iv.significant, "{iv:?}");
    }

    #[test]
    fn test_draws_do_not_depend_on_thread_count() {
        let stat = |idx: &[Vec<usize>]| vec![idx[0].iter().sum::<usize>() as f64, idx[1][0] as f64];
        let one = resample_on(1, &[10, 3], 700, 9, stat);
        assert_eq!(one, resample_on(3, &[10, 3], 700, 9, stat));
        assert_eq!(one[0].len(), 700);
    }

    #[test]
    fn test_same_seed_same_draws() {
        let run = || {
            resample(&[10, 3], 50, 5, |idx| {
                vec![idx[0].iter().sum::<usize>() as f64, idx[1][0] as f64]
            })
        };
        assert_eq!(run(), run());
    }
}
