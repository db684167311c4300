//! End-to-end tests of `vapr score` and `vapr train` on the tiny Qwen2-VL fixture folders
//! (written by tools/fixtures/make_fixtures.py with transformers).

mod support;

use std::path::{Path, PathBuf};

use support::{read_json, read_jsonl, repo_root, run_ok, vapr};

/// The fixture pairs (tools/fixtures/make_fixtures.py `PAIRS`), as a preference JSONL.
const PAIRS: [(&str, &str, &str, &str); 3] = [
    (
        "a.png",
        "How many red cubes are there?",
        "There are three red cubes.",
        "There are four red cubes.",
    ),
    (
        "a.png",
        "Is there a dog in the picture?",
        "Yes, a small brown dog.",
        "No, there is no dog.",
    ),
    (
        "b.png",
        "What colour is the sphere?",
        "The sphere is blue.",
        "The sphere is green, left of the bus.",
    ),
];

fn fixture() -> PathBuf {
    repo_root().join("tests/fixtures/qwen2_vl")
}

fn write_pairs(dir: &Path) -> PathBuf {
    support::write_pairs(dir, &PAIRS)
}

fn expected() -> serde_json::Value {
    read_json(&fixture().join("expected.json"))
}

#[test]
fn score_reproduces_the_transformers_log_probs_for_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let expected = expected();
    for layout in ["flat", "nested"] {
        let out = dir.path().join(format!("{layout}.jsonl"));
        run_ok(
            vapr()
                .arg("score")
                .arg("--model")
                .arg(fixture().join(layout))
                .arg("--pairs")
                .arg(&pairs)
                .arg("--images")
                .arg(fixture().join("images"))
                .arg("--out")
                .arg(&out)
                .args(["--batch-size", "2"]),
        );
        let rows = read_jsonl(&out);
        assert_eq!(rows.len(), 3);
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(row["id"], format!("pair-{i}"));
            let want = &expected["models"][layout]["pairs"][i];
            for key in ["chosen_logps", "rejected_logps"] {
                let got = row[key].as_f64().unwrap();
                let w = want[key].as_f64().unwrap();
                assert!(
                    (got - w).abs() <= 1e-4 * w.abs(),
                    "{layout} pair {i} {key}: {got} vs transformers {w}"
                );
            }
        }
    }
}

fn config(dir: &Path, pairs: &Path, extra: &str) -> PathBuf {
    let text = format!(
        r#"
[model]
path = "{model}"

[data]
train = "{pairs}"
images = "{images}"

[training]
learning_rate = 1e-3
batch_size = 2
gradient_accumulation_steps = 1
max_steps = 3
warmup_ratio = 0.0
seed = 3
{extra}

[output]
dir = "{out}"
save_steps = 2
"#,
        model = fixture().join("flat").display(),
        pairs = pairs.display(),
        images = fixture().join("images").display(),
        out = dir.join("run").display(),
    );
    let path = dir.join("train.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn train_runs_end_to_end_and_writes_a_transformers_folder() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(dir.path(), &pairs, "");
    let out = run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let run = dir.path().join("run");
    assert!(String::from_utf8_lossy(&out.stdout).contains("final"));
    let metrics = read_jsonl(&run.join("metrics.jsonl"));
    assert_eq!(metrics.len(), 3);
    for key in [
        "loss",
        "grad_norm",
        "learning_rate",
        "epoch",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/accuracies",
        "rewards/margins",
        "logps/chosen",
        "logps/rejected",
        "logits/chosen",
        "logits/rejected",
        "tokens_per_second",
    ] {
        assert!(metrics[0].get(key).is_some(), "metrics lack {key}");
    }
    // Step 1 runs at the reference: loss ln 2 up to the tiny float noise of batching.
    let first_loss = metrics[0]["loss"].as_f64().unwrap();
    assert!(
        (first_loss - std::f64::consts::LN_2).abs() < 1e-4,
        "{first_loss}"
    );
    for step in [2, 3] {
        assert!(
            run.join(format!("checkpoint-{step}/trainer_state.json"))
                .is_file()
        );
        assert!(
            run.join(format!("checkpoint-{step}/optimizer.safetensors"))
                .is_file()
        );
    }
    for f in [
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "preprocessor_config.json",
    ] {
        assert!(run.join("final").join(f).is_file(), "final/{f} missing");
    }
    // The reference log-probs were cached beside the dataset, keyed by the two hashes.
    let cached: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("pairs.ref-logps.")
        })
        .collect();
    assert_eq!(cached.len(), 1);
    // The saved folder scores like any model folder.
    let scored = dir.path().join("scored.jsonl");
    run_ok(
        vapr()
            .arg("score")
            .arg("--model")
            .arg(run.join("final"))
            .arg("--pairs")
            .arg(&pairs)
            .arg("--images")
            .arg(fixture().join("images"))
            .arg("--out")
            .arg(&scored),
    );
    assert_eq!(read_jsonl(&scored).len(), 3);
}

#[test]
fn lora_training_writes_peft_adapters() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(
        dir.path(),
        &pairs,
        "reference = \"online\"\n\n[lora]\nrank = 2\nalpha = 4.0\ntargets = [\"q_proj\", \"v_proj\"]",
    );
    run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let fin = dir.path().join("run/final");
    assert!(fin.join("adapter_model.safetensors").is_file());
    let adapter: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fin.join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(adapter["peft_type"], "LORA");
    assert_eq!(adapter["r"], 2);
    assert_eq!(
        adapter["target_modules"],
        r"(.*\.)?layers\.\d+\.(self_attn|mlp)\.(q_proj|v_proj)"
    );
    assert!(!fin.join("model.safetensors").exists());
}

#[test]
fn unknown_config_keys_and_missing_cuda_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(dir.path(), &pairs, "learnig_rate = 1.0");
    let out = vapr()
        .arg("train")
        .arg("--config")
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("learnig_rate") && err.contains("train.toml"),
        "{err}"
    );

    let out = vapr()
        .arg("score")
        .arg("--model")
        .arg(fixture().join("flat"))
        .arg("--pairs")
        .arg(&pairs)
        .arg("--out")
        .arg(dir.path().join("x.jsonl"))
        .args(["--device", "cuda"])
        .output()
        .unwrap();
    if !cfg!(feature = "cuda") {
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("built without CUDA support"), "{err}");
    }
}

#[test]
fn resume_after_a_crash_repeats_the_uninterrupted_step() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(dir.path(), &pairs, "");
    run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let run = dir.path().join("run");
    let full = read_jsonl(&run.join("metrics.jsonl"));
    // Simulate a crash after step 3 was logged but before it was saved.
    std::fs::remove_dir_all(run.join("checkpoint-3")).unwrap();
    std::fs::remove_dir_all(run.join("final")).unwrap();
    run_ok(
        vapr()
            .arg("train")
            .arg("--config")
            .arg(&cfg)
            .arg("--resume"),
    );
    let resumed = read_jsonl(&run.join("metrics.jsonl"));
    assert_eq!(resumed.len(), 3, "step 3 is logged once: {resumed:?}");
    for key in [
        "step",
        "loss",
        "grad_norm",
        "learning_rate",
        "rewards/margins",
        "logps/chosen",
        "epoch",
    ] {
        assert_eq!(resumed[2][key], full[2][key], "{key}");
    }
    assert!(run.join("checkpoint-3/trainer_state.json").is_file());
    assert!(run.join("final/model.safetensors").is_file());
}

#[test]
fn sft_mode_trains_on_the_chosen_answers_only() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(dir.path(), &pairs, "mode = \"sft\"");
    run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let metrics = read_jsonl(&dir.path().join("run/metrics.jsonl"));
    assert_eq!(metrics.len(), 3);
    assert!(metrics[0].get("rewards/accuracies").is_none());
    assert!(metrics[0].get("logps/rejected").is_none());
    let (a, b) = (
        metrics[0]["logps/chosen"].as_f64().unwrap(),
        metrics[2]["logps/chosen"].as_f64().unwrap(),
    );
    assert!(b > a, "chosen log-probs rise: {a} -> {b}");
    assert!(dir.path().join("run/final/model.safetensors").is_file());
}
