//! End-to-end tests of `vapr score` and `vapr train` on the tiny Qwen2.5-VL fixture folders
//! (written by tools/fixtures/make_qwen2_5_vl.py with transformers): scoring reproduces
//! transformers' log-probs in both key layouts, and a few DPO steps (window-attention vision
//! tower trained too) run from a config file and leave a checkpoint vapr scores again.

mod support;

use std::path::{Path, PathBuf};

use support::{read_json, read_jsonl, repo_root, run_ok, vapr};

/// The fixture pairs (tools/fixtures/make_qwen2_5_vl.py `PAIRS`), as a preference JSONL.
const PAIRS: [(&str, &str, &str, &str); 3] = [
    (
        "a.png",
        "How many red cubes are there?",
        "There are three red cubes.",
        "There are four red cubes.",
    ),
    (
        "b.png",
        "What colour is the sphere?",
        "The sphere is blue.",
        "The sphere is green, left of the bus.",
    ),
    (
        "a.png",
        "Is there a dog in the picture?",
        "Yes, a small brown dog.",
        "No, there is no dog.",
    ),
];

fn fixture() -> PathBuf {
    repo_root().join("tests/fixtures/qwen2_5_vl")
}

fn write_pairs(dir: &Path) -> PathBuf {
    support::write_pairs(dir, &PAIRS)
}

fn expected() -> serde_json::Value {
    read_json(&fixture().join("expected.json"))
}

fn score(model: &Path, pairs: &Path, out: &Path) -> Vec<serde_json::Value> {
    run_ok(
        vapr()
            .arg("score")
            .arg("--model")
            .arg(model)
            .arg("--pairs")
            .arg(pairs)
            .arg("--images")
            .arg(fixture().join("images"))
            .arg("--out")
            .arg(out)
            .args(["--batch-size", "2"]),
    );
    read_jsonl(out)
}

#[test]
fn score_reproduces_the_transformers_log_probs_for_both_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let expected = expected();
    for layout in ["flat", "nested"] {
        let rows = score(
            &fixture().join(layout),
            &pairs,
            &dir.path().join(format!("{layout}.jsonl")),
        );
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

/// A tiny DPO run modelled on configs/train/tiny_fixture_dpo.toml, on the flat (hub-layout,
/// tied) folder, with the vision tower and merger trainable so window attention is trained.
fn config(dir: &Path, pairs: &Path) -> PathBuf {
    let text = format!(
        r#"
[model]
path = "{model}"
device = "cpu"
dtype = "f32"

[data]
train = "{pairs}"
images = "{images}"

[training]
loss = ["sigmoid"]
beta = 0.1
learning_rate = 1e-3
warmup_ratio = 0.0
batch_size = 2
gradient_accumulation_steps = 1
max_steps = 3
seed = 3

[freeze]
vision_tower = false
projector = false

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
fn dpo_training_runs_and_its_checkpoint_scores_with_a_wider_margin() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(dir.path(), &pairs);
    run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let run = dir.path().join("run");
    let metrics = read_jsonl(&run.join("metrics.jsonl"));
    assert_eq!(metrics.len(), 3);
    // Step 1 runs at the reference: loss ln 2 up to float noise of batching.
    let first = metrics[0]["loss"].as_f64().unwrap();
    assert!((first - std::f64::consts::LN_2).abs() < 1e-4, "{first}");
    assert!(metrics[0]["grad_norm"].as_f64().unwrap() > 0.0);
    assert!(run.join("checkpoint-2/trainer_state.json").is_file());
    let fin = run.join("final");
    for f in [
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "chat_template.json",
        "preprocessor_config.json",
    ] {
        assert!(fin.join(f).is_file(), "final/{f} missing");
    }
    // The checkpoint keeps the hub layout: tied (no lm_head), `visual.*` with the Qwen2.5-VL
    // tower's gated MLP and RMSNorm (no norm bias).
    let header = safetensors_names(&fin.join("model.safetensors"));
    assert!(
        header
            .iter()
            .any(|n| n == "visual.blocks.0.mlp.gate_proj.weight")
    );
    assert!(
        header
            .iter()
            .any(|n| n == "model.layers.0.self_attn.q_proj.weight")
    );
    assert!(
        !header
            .iter()
            .any(|n| n == "lm_head.weight" || n.ends_with("norm1.bias"))
    );
    // vapr reloads the checkpoint; DPO widened the chosen-rejected margin on the training pairs.
    let base = score(
        &fixture().join("flat"),
        &pairs,
        &dir.path().join("base.jsonl"),
    );
    let tuned = score(&fin, &pairs, &dir.path().join("tuned.jsonl"));
    let margin = |rows: &[serde_json::Value]| -> f64 {
        rows.iter()
            .map(|r| r["chosen_logps"].as_f64().unwrap() - r["rejected_logps"].as_f64().unwrap())
            .sum()
    };
    assert!(
        margin(&tuned) > margin(&base),
        "margin {} -> {}",
        margin(&base),
        margin(&tuned)
    );
}

/// Tensor names in a safetensors file's header.
fn safetensors_names(path: &Path) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    header
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect()
}
