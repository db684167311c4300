//! End-to-end tests of `vapr quickstart` at the `test` scale (seconds): every step runs, every
//! artefact is written, metrics.json holds the five models with sane values, and a second run
//! with the same seed reproduces the metrics exactly (timings aside).

mod support;

use std::path::Path;

use serde_json::Value;
use support::{run_ok, vapr};

const MODELS: [&str; 5] = [
    "sft-base",
    "sft-on-chosen",
    "dpo-vapr",
    "dpo-length-biased",
    "dpo-style-biased",
];

const CATEGORIES: [&str; 10] = [
    "counting",
    "spatial",
    "object",
    "color",
    "size",
    "background",
    "existence",
    "referential",
    "captioning",
    "reasoning",
];

fn quickstart(dir: &Path, seed: &str) -> (String, Value) {
    let out = run_ok(
        vapr()
            .args(["quickstart", "--scale", "test", "--seed", seed, "--out"])
            .arg(dir),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let text = std::fs::read_to_string(dir.join("metrics.json")).unwrap();
    (stdout, serde_json::from_str(&text).unwrap())
}

/// metrics.json without what legitimately differs between runs (wall times).
fn without_timings(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    o.remove("wall_seconds");
    o.remove("step_seconds");
    v
}

fn unit(v: &Value, what: &str) -> f64 {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"));
    assert!((0.0..=1.0).contains(&x), "{what} = {x} outside [0, 1]");
    x
}

#[test]
fn test_scale_runs_every_step_writes_every_artefact_and_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let (stdout, m) = quickstart(a.path(), "3");

    // Artefacts of every step.
    for f in [
        "synth/train.json",
        "synth/eval.jsonl",
        "models/scratch/config.json",
        "models/scratch/tokenizer.json",
        "models/scratch/tokenizer_config.json",
        "models/scratch/preprocessor_config.json",
        "models/scratch/model.safetensors",
        "data/sft.jsonl",
        "runs/sft-base/final/model.safetensors",
        "runs/sft-base/metrics.jsonl",
        "runs/sft-on-chosen/final/model.safetensors",
        "runs/dpo-vapr/final/model.safetensors",
        "runs/dpo-length-biased/final/model.safetensors",
        "runs/dpo-style-biased/final/model.safetensors",
        "predictions/sft-base.jsonl",
        "metrics.json",
        "report.md",
        "report.html",
        "quickstart.log",
    ] {
        assert!(a.path().join(f).is_file(), "missing {f}");
    }
    let pngs = std::fs::read_dir(a.path().join("plots"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert!(pngs >= 1, "no PNG plot in the run directory");
    let log = std::fs::read_to_string(a.path().join("quickstart.log")).unwrap();
    for step in [
        "synth",
        "tokenizer",
        "SFT base",
        "pairs",
        "dpo-vapr",
        "eval",
    ] {
        assert!(log.contains(step), "log lacks step {step}:\n{log}");
    }

    // metrics.json: the five models in order, sane values.
    assert_eq!(m["scale"], "test");
    assert_eq!(m["seed"], 3);
    assert!(m["eval_method"].as_str().unwrap().contains("likelihood"));
    let models = m["models"].as_array().unwrap();
    let names: Vec<&str> = models.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, MODELS);
    let binary = m["eval"]["binary_questions"].as_u64().unwrap();
    let short = m["eval"]["short_questions"].as_u64().unwrap();
    assert_eq!(
        binary, short,
        "one binary and one short question per category and scene"
    );
    assert!(binary >= 10);
    unit(&m["eval"]["true_yes_rate"], "true_yes_rate");
    for x in models {
        let name = x["name"].as_str().unwrap();
        let acc = unit(&x["accuracy"], "accuracy");
        let b = unit(&x["binary_accuracy"], "binary_accuracy");
        let s = unit(&x["short_accuracy"], "short_accuracy");
        // Equal question counts: overall accuracy is the mean of the two kinds.
        assert!(
            (acc - (b + s) / 2.0).abs() < 1e-9,
            "{name}: {acc} vs {b}, {s}"
        );
        unit(&x["yes_rate"], "yes_rate");
        let cats = x["accuracy_by_category"].as_object().unwrap();
        let keys: Vec<&str> = cats.keys().map(String::as_str).collect();
        let mut want = CATEGORIES.to_vec();
        want.sort();
        assert_eq!(keys, want, "{name}");
        for (c, v) in cats {
            unit(v, c);
        }
        let log = x["train_log"].as_array().unwrap();
        assert!(!log.is_empty(), "{name} has no training curve");
        let dpo = name.starts_with("dpo-");
        for p in log {
            assert!(p["loss"].as_f64().unwrap().is_finite(), "{name}: {p}");
            assert_eq!(p["rewards_accuracy"].is_number(), dpo, "{name}: {p}");
            if dpo {
                unit(&p["rewards_accuracy"], "rewards_accuracy");
            }
        }
        if name.starts_with("dpo-") {
            // A DPO run starts at the reference: loss log 2 on the first step.
            let first = log[0]["loss"].as_f64().unwrap();
            assert!(
                (first - std::f64::consts::LN_2).abs() < 1e-3,
                "{name}: first loss {first}"
            );
        }
    }
    let sets = m["pair_sets"].as_array().unwrap();
    let set_names: Vec<&str> = sets.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(set_names, ["vapr", "length-biased", "style-biased"]);
    for s in sets {
        assert!(s["pairs"].as_u64().unwrap() > 0);
        assert!(a.path().join(s["path"].as_str().unwrap()).is_file());
    }
    for key in [
        "synth",
        "tokenizer",
        "sft",
        "pairs",
        "dpo-vapr",
        "sft-on-chosen",
        "eval",
    ] {
        assert!(
            m["step_seconds"][key].as_f64().is_some(),
            "no timing for {key}"
        );
    }
    // The summary table names every model.
    for name in MODELS {
        assert!(stdout.contains(name), "summary lacks {name}:\n{stdout}");
    }

    // Same seed, same numbers.
    let b = tempfile::tempdir().unwrap();
    let (_, m2) = quickstart(b.path(), "3");
    assert_eq!(without_timings(m), without_timings(m2));
}

#[test]
fn an_unknown_scale_is_refused_with_the_choices() {
    let dir = tempfile::tempdir().unwrap();
    let out = vapr()
        .args(["quickstart", "--scale", "huge", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("small") && err.contains("test"), "{err}");
}
