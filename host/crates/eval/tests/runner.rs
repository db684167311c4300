//! The runner end to end with scripted generators: outputs, resume after a failure, scores,
//! metrics and the paired comparison of two runs.

mod common;

use std::cell::Cell;

use common::*;
use vapr_eval::compare::{CompareOptions, compare_runs};
use vapr_eval::records::{GenerationRecord, RunDir, read_json, read_jsonl};
use vapr_eval::run::{RunOptions, run_bench};
use vapr_eval::score::MetricsFile;
use vapr_eval::{Bench, FnGenerator, GenParams, GenRequest, Generator};

/// A POPE file: 40 questions, 20 per split, gold alternating yes/no.
fn pope_data(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("pope.parquet");
    let n = 40;
    let qids: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let q: Vec<String> = (0..n)
        .map(|i| format!("Is there a thing {i} in the image?"))
        .collect();
    let answers: Vec<&str> = (0..n)
        .map(|i| if i % 2 == 0 { "yes" } else { "no" })
        .collect();
    let splits: Vec<&str> = (0..n)
        .map(|i| if i < 20 { "random" } else { "adversarial" })
        .collect();
    write_parquet(
        &path,
        vec![
            ("question_id", strs(&as_refs(&qids))),
            ("question", strs(&as_refs(&q))),
            ("answer", strs(&answers)),
            ("image", png_images(n)),
            ("category", strs(&splits)),
        ],
    );
    path
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn thing_number(r: &GenRequest<'_>) -> usize {
    r.prompt.split_whitespace().nth(4).unwrap().parse().unwrap()
}

/// A generator that fails after `fail_after` items, like a killed process.
struct Flaky {
    calls: Cell<usize>,
    fail_after: usize,
}

impl Generator for Flaky {
    fn model_id(&self) -> String {
        "always-yes".into()
    }
    fn generate(
        &mut self,
        batch: &[GenRequest<'_>],
        _p: &GenParams,
    ) -> Result<Vec<String>, vapr_eval::GenError> {
        if self.calls.get() + batch.len() > self.fail_after {
            return Err("out of memory".into());
        }
        self.calls.set(self.calls.get() + batch.len());
        Ok(batch.iter().map(|_| "Yes.\n\nextra".to_string()).collect())
    }
}

#[test]
fn test_run_resumes_without_redoing_finished_items() {
    let dir = tempfile::tempdir().unwrap();
    let data = pope_data(dir.path());
    let out = dir.path().join("run");
    let opts = RunOptions {
        bench: Bench::Pope,
        data: vec![data],
        out: out.clone(),
        batch: 4,
        limit: None,
        gen_params: None,
    };
    let mut flaky = Flaky {
        calls: Cell::new(0),
        fail_after: 12,
    };
    let err = run_bench(&opts, &mut flaky, |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("out of memory") && err.contains("random/12"),
        "{err}"
    );
    let gens = RunDir::new(&out, Bench::Pope).generations();
    assert_eq!(read_jsonl::<GenerationRecord>(&gens).unwrap().0.len(), 12);

    // Resume: only the 28 missing items are generated.
    let mut second = Flaky {
        calls: Cell::new(0),
        fail_after: usize::MAX,
    };
    let mut last = None;
    let outcome = run_bench(&opts, &mut second, |p| last = Some(p)).unwrap();
    assert_eq!(
        (outcome.resumed, outcome.generated, second.calls.get()),
        (12, 28, 28)
    );
    let p = last.unwrap();
    assert_eq!((p.done, p.total, p.generated_now), (40, 40, 28));
    let records = read_jsonl::<GenerationRecord>(&gens).unwrap().0;
    assert_eq!(records.len(), 40);
    assert_eq!(
        records[0].output, "Yes.\n\nextra",
        "POPE has no stop string"
    );
    assert_eq!(records[0].protocol, "pope/official-v1");

    // Always "yes": accuracy 0.5, recall 1, precision 0.5, predicted yes ratio 1.
    let m: MetricsFile = read_json(&RunDir::new(&out, Bench::Pope).metrics()).unwrap();
    assert_eq!(m.protocol, "pope/official-v1");
    assert_eq!(m.metrics["accuracy"], 0.5);
    assert_eq!(m.metrics["recall"], 1.0);
    assert_eq!(m.metrics["yes_ratio"], 1.0);
    assert_eq!(m.metrics["true_yes_ratio"], 0.5);
    assert_eq!(m.yes_bias.last().unwrap().incorrect_yes, 20);
    assert!(RunDir::new(&out, Bench::Pope).bias_plot().exists());

    // A different model cannot continue this run.
    let mut other = FnGenerator::new("other-model", |_r: &GenRequest<'_>| "No".to_string());
    let err = run_bench(&opts, &mut other, |_| {})
        .unwrap_err()
        .to_string();
    assert!(err.contains("model") && err.contains("always-yes"), "{err}");
}

#[test]
fn test_stop_strings_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = pope_data(dir.path());
    let opts = RunOptions {
        bench: Bench::Pope,
        data: vec![data],
        out: dir.path().join("run"),
        batch: 3,
        limit: Some(5),
        gen_params: Some(GenParams {
            max_new_tokens: 4,
            stop: vec!["\n\n".into()],
        }),
    };
    let mut g = FnGenerator::new("m", |_r: &GenRequest<'_>| "No\n\nYes".to_string());
    let outcome = run_bench(&opts, &mut g, |_| {}).unwrap();
    assert_eq!(outcome.metrics.items, 5);
    let records = read_jsonl::<GenerationRecord>(&outcome.dir.generations())
        .unwrap()
        .0;
    assert!(records.iter().all(|r| r.output == "No"));
}

#[test]
fn test_compare_two_runs_finds_the_real_difference() {
    let dir = tempfile::tempdir().unwrap();
    let data = pope_data(dir.path());
    let run = |name: &str, g: &mut dyn Generator| {
        let opts = RunOptions {
            bench: Bench::Pope,
            data: vec![data.clone()],
            out: dir.path().join(name),
            batch: 8,
            limit: None,
            gen_params: None,
        };
        run_bench(&opts, g, |_| {}).unwrap();
        dir.path().join(name)
    };
    // A is always right; B says yes to everything.
    let mut good = FnGenerator::new("good", |r: &GenRequest<'_>| {
        if thing_number(r).is_multiple_of(2) {
            "Yes".into()
        } else {
            "No".into()
        }
    });
    let mut yes = FnGenerator::new("yes", |_r: &GenRequest<'_>| "Yes".to_string());
    let a = run("a", &mut good);
    let b = run("b", &mut yes);
    let opts = CompareOptions {
        resamples: 2000,
        seed: 3,
    };
    let cmp = compare_runs(&a, &b, opts).unwrap();
    let acc = cmp.benches[0]
        .metrics
        .iter()
        .find(|m| m.metric == "accuracy")
        .unwrap();
    assert_eq!((acc.a, acc.b, acc.diff.delta), (1.0, 0.5, 0.5));
    assert!(
        acc.diff.lo < 0.5 && acc.diff.hi > 0.3 && acc.diff.significant,
        "{acc:?}"
    );
    let avg = cmp.average.as_ref().unwrap();
    assert_eq!(cmp.benches[0].headline, "f1");
    assert!(
        (avg.diff.delta - (1.0 - 2.0 / 3.0)).abs() < 1e-12,
        "{avg:?}"
    );
    // A run compared with itself: zero difference, interval [0, 0], not significant.
    let same = compare_runs(&a, &a, opts).unwrap();
    let acc = same.benches[0]
        .metrics
        .iter()
        .find(|m| m.metric == "accuracy")
        .unwrap();
    assert_eq!(
        (
            acc.diff.delta,
            acc.diff.lo,
            acc.diff.hi,
            acc.diff.significant
        ),
        (0.0, 0.0, 0.0, false)
    );
}

fn write_scores(dir: &std::path::Path, items: &[vapr_eval::bench::ScoredItem]) {
    std::fs::create_dir_all(dir).unwrap();
    vapr_eval::records::write_jsonl(&dir.join("scores.jsonl"), items).unwrap();
}

fn scored(id: String, correct: bool, info: vapr_eval::ItemInfo) -> vapr_eval::bench::ScoredItem {
    vapr_eval::bench::ScoredItem {
        id,
        gold: "A".into(),
        pred: Some(if correct { "A" } else { "B" }.into()),
        extracted: true,
        correct,
        info,
    }
}

#[test]
fn test_compare_averages_benchmarks_and_resamples_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    // MMVP, 100 pairs: A gets every pair, B misses one item in each of the first 30 pairs.
    let mmvp = |miss: usize| -> Vec<_> {
        (0..200)
            .map(|i| {
                let info = vapr_eval::ItemInfo {
                    group: Some(i as i64 / 2),
                    slot: Some((i % 2) as u8),
                    ..Default::default()
                };
                scored((i + 1).to_string(), !(i / 2 < miss && i % 2 == 0), info)
            })
            .collect()
    };
    // MMStar, 600 items: both 50% right, on different items.
    let mmstar = |offset: usize| -> Vec<_> {
        (0..600)
            .map(|i| {
                let info = vapr_eval::ItemInfo {
                    category: Some(format!("cat{}", i / 100)),
                    ..Default::default()
                };
                scored(i.to_string(), (i + offset).is_multiple_of(2), info)
            })
            .collect()
    };
    write_scores(&a.join("mmvp"), &mmvp(0));
    write_scores(&b.join("mmvp"), &mmvp(30));
    write_scores(&a.join("mmstar"), &mmstar(0));
    write_scores(&b.join("mmstar"), &mmstar(1));
    let cmp = compare_runs(
        &a,
        &b,
        CompareOptions {
            resamples: 2000,
            seed: 1,
        },
    )
    .unwrap();
    let bench = |name: Bench| cmp.benches.iter().find(|c| c.bench == name).unwrap();
    assert_eq!(
        (bench(Bench::Mmvp).units, bench(Bench::Mmvp).items),
        (100, 200)
    );
    assert_eq!(bench(Bench::Mmstar).units, 600);
    let pair = &bench(Bench::Mmvp).metrics[0];
    assert_eq!(pair.metric, "pair_accuracy");
    assert!((pair.diff.delta - 0.3).abs() < 1e-12);
    assert!(
        pair.diff.lo < 0.3 && pair.diff.hi > 0.3 && pair.diff.significant,
        "{pair:?}"
    );
    let overall = &bench(Bench::Mmstar).metrics[0];
    assert_eq!(overall.diff.delta, 0.0);
    assert!(overall.diff.lo < 0.0 && overall.diff.hi > 0.0 && !overall.diff.significant);
    // The average of the headline differences: (0.30 + 0) / 2.
    let avg = cmp.average.unwrap();
    assert!((avg.diff.delta - 0.15).abs() < 1e-12);
    assert!(avg.diff.lo < 0.15 && avg.diff.hi > 0.15, "{avg:?}");
}
