//! End-to-end tests of the data commands: `vapr synth`, `vapr stats`, `vapr export`,
//! driving the real binary on files written here.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::{run_ok, vapr};

fn write_pairs(path: &Path) {
    let long_c = format!("{} The end.", "word ".repeat(110));
    let long_r = format!("{} The end.", "word ".repeat(100));
    let lines = [
        json!({"id": "a#0", "image": "a.png", "prompt": "How many cats?", "chosen": "There are two cats.", "rejected": "There are three cats.", "category": "counting"}),
        json!({"id": "b#0", "image": null, "prompt": "Is it big?", "chosen": "The dog is big.", "rejected": "The dog is very big."}),
        json!({"id": "c#0", "image": "c.png", "prompt": "Describe.", "chosen": long_c, "rejected": long_r}),
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

#[test]
fn stats_json_has_the_documented_keys_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.jsonl");
    write_pairs(&pairs);
    let out = run_ok(vapr().args(["stats", "--json"]).arg(&pairs));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["pairs"], json!({"all": 3, "short": 2, "long": 1}));
    assert_eq!(v["pct_chosen_longer"]["long"], 100.0);
    assert_eq!(v["pct_chosen_shorter"]["short"], 50.0);
    assert_eq!(v["mean_delta_chosen_longer"]["all"], 10.0);
    assert_eq!(v["mean_delta_rejected_longer"]["all"], 1.0);
    assert_eq!(v["mean_delta_rejected_longer"]["long"], Value::Null);
    assert_eq!(v["mean_levenshtein"]["short"], 1.0);
    // The table form names the file and the pair count.
    let table = String::from_utf8(run_ok(vapr().arg("stats").arg(&pairs)).stdout).unwrap();
    assert!(
        table.contains("pairs.jsonl (3 pairs)") && table.contains("% chosen longer"),
        "{table}"
    );
}

#[test]
fn stats_of_several_files_maps_each_path_and_exports_keep_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = dir.path().join("pairs.jsonl");
    write_pairs(&pairs);
    let trl = dir.path().join("trl.jsonl");
    run_ok(
        vapr()
            .args(["export", "--format", "trl"])
            .arg(&pairs)
            .arg(&trl),
    );
    let lf = dir.path().join("lf/vapr.json");
    let out = run_ok(
        vapr()
            .args(["export", "--format", "llamafactory"])
            .arg(&pairs)
            .arg(&lf),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("wrote 3 pairs"));
    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("lf/dataset_info.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(info["vapr"]["formatting"], "sharegpt");
    let out = run_ok(
        vapr()
            .args(["stats", "--json"])
            .arg(&pairs)
            .arg(&trl)
            .arg(&lf),
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects = v.as_object().unwrap();
    assert_eq!(objects.len(), 3);
    let original = &v[pairs.display().to_string()];
    assert_eq!(
        &v[trl.display().to_string()],
        original,
        "TRL export keeps every answer"
    );
    assert_eq!(
        &v[lf.display().to_string()],
        original,
        "LLaMA-Factory export keeps every answer"
    );
}

#[test]
fn stats_reports_a_missing_file_by_name() {
    let out = vapr()
        .args(["stats", "/nonexistent/pairs.jsonl"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("vapr:") && err.contains("/nonexistent/pairs.jsonl"),
        "{err}"
    );
}

#[test]
fn synth_writes_a_deterministic_dataset_with_all_categories() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        run_ok(
            vapr()
                .args([
                    "synth", "--n", "5", "--n-eval", "2", "--seed", "7", "--size", "64", "--out",
                ])
                .arg(out),
        );
    }
    for file in [
        "train.json",
        "eval.jsonl",
        "images/train-000004.png",
        "images/eval-000001.png",
    ] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    let train: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("train.json")).unwrap()).unwrap();
    let records = train.as_array().unwrap();
    assert_eq!(records.len(), 50);
    let mut categories: Vec<&str> = records
        .iter()
        .map(|r| r["category"].as_str().unwrap())
        .collect();
    categories.sort();
    categories.dedup();
    assert_eq!(categories.len(), 10);
    assert!(
        records[0]["conversations"][0]["value"]
            .as_str()
            .unwrap()
            .starts_with("<image>\n")
    );
    let eval = std::fs::read_to_string(a.join("eval.jsonl")).unwrap();
    assert_eq!(eval.lines().count(), 40);
    let first: Value = serde_json::from_str(eval.lines().next().unwrap()).unwrap();
    for key in [
        "id",
        "image",
        "question",
        "category",
        "kind",
        "answer",
        "candidates",
    ] {
        assert!(first.get(key).is_some(), "eval record has `{key}`");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["eval_yes_rate"], 0.5);
}

#[test]
fn stats_of_a_file_without_pairs_is_an_error_naming_the_first_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sft.jsonl");
    std::fs::write(
        &path,
        "{\"id\": \"a\", \"question\": \"Q?\", \"answer\": \"A.\"}\n",
    )
    .unwrap();
    let out = vapr().arg("stats").arg(&path).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no preference pairs")
            && err.contains("sft.jsonl:1")
            && err.contains("chosen"),
        "{err}"
    );
}

#[test]
fn long_help_explains_the_formats() {
    let out = run_ok(vapr().args(["stats", "--help"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("pct_chosen_longer"));
    let out = run_ok(vapr().args(["synth", "--help"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("eval.jsonl"));
}
