//! End-to-end tests of `vapr score` and `vapr train` on the tiny LLaVA-1.5 fixture folders
//! (llava-hf layouts written by tools/fixtures/make_llava.py with transformers): the family is
//! picked from `config.json`, the same trainer code runs, checkpoints keep the source layout.

mod support;

use std::path::{Path, PathBuf};

use support::{read_json, read_jsonl, repo_root, run_ok, vapr};

/// The fixture pairs (tools/fixtures/make_llava.py `PAIRS`); the third has no image.
const PAIRS: [(Option<&str>, &str, &str, &str); 3] = [
    (
        Some("a.png"),
        "How many red cubes are there?",
        "There are three red cubes.",
        "There are four red cubes.",
    ),
    (
        Some("b.png"),
        "Is there a dog in the picture?",
        "Yes, a small brown dog.",
        "No, there is no dog.",
    ),
    (
        None,
        "What colour is the sphere?",
        "The sphere is blue.",
        "The sphere is green, left of the bus.",
    ),
];

fn fixture() -> PathBuf {
    repo_root().join("tests/fixtures/llava")
}

fn write_pairs(dir: &Path) -> PathBuf {
    support::write_pairs(dir, &PAIRS)
}

fn expected() -> serde_json::Value {
    read_json(&fixture().join("expected.json"))
}

fn score(model: &Path, pairs: &Path, out: &Path) {
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
}

/// Tensor names of a folder's safetensors files.
fn tensor_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "safetensors") {
            let bytes = std::fs::read(&p).unwrap();
            let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
            let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
            names.extend(
                header
                    .as_object()
                    .unwrap()
                    .keys()
                    .filter(|k| *k != "__metadata__")
                    .cloned(),
            );
        }
    }
    names.sort();
    names
}

#[test]
fn score_reproduces_the_transformers_log_probs_for_both_llava_layouts() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let expected = expected();
    for layout in ["published", "recent"] {
        let out = dir.path().join(format!("{layout}.jsonl"));
        score(&fixture().join(layout), &pairs, &out);
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

fn config(dir: &Path, pairs: &Path, model: &str, extra: &str) -> PathBuf {
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
        model = fixture().join(model).display(),
        pairs = pairs.display(),
        images = fixture().join("images").display(),
        out = dir.join("run").display(),
    );
    let path = dir.join("train.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn dpo_training_runs_on_llava_and_saves_the_published_layout() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(dir.path(), &pairs, "published", "");
    let out = run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("frozen: vision tower, projector"),
        "{stderr}"
    );
    let run = dir.path().join("run");
    let metrics = read_jsonl(&run.join("metrics.jsonl"));
    assert_eq!(metrics.len(), 3);
    // Step 1 runs at the reference: loss ln 2 up to float noise; later steps move off it.
    let first = metrics[0]["loss"].as_f64().unwrap();
    assert!((first - std::f64::consts::LN_2).abs() < 1e-4, "{first}");
    assert!(metrics[2]["rewards/margins"].as_f64().unwrap() != 0.0);
    assert!(run.join("checkpoint-2/trainer_state.json").is_file());
    let fin = run.join("final");
    for f in [
        "config.json",
        "tokenizer.json",
        "preprocessor_config.json",
        "chat_template.json",
    ] {
        assert!(fin.join(f).is_file(), "final/{f} missing");
    }
    // Same tensor names as the hub folder (published layout), all in one file.
    assert_eq!(
        tensor_names(&fin),
        tensor_names(&fixture().join("published"))
    );
    // The trained folder scores like any model folder, and differs from the base.
    let scored = dir.path().join("scored.jsonl");
    score(&fin, &pairs, &scored);
    let rows = read_jsonl(&scored);
    let base = &expected()["models"]["published"]["pairs"][0]["chosen_logps"];
    assert!((rows[0]["chosen_logps"].as_f64().unwrap() - base.as_f64().unwrap()).abs() > 1e-3);
}

#[test]
fn lora_training_on_llava_writes_peft_adapters_in_hub_names() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let cfg = config(
        dir.path(),
        &pairs,
        "recent",
        "reference = \"online\"\n\n[lora]\nrank = 2\nalpha = 4.0\ntargets = [\"q_proj\", \"v_proj\"]",
    );
    run_ok(vapr().arg("train").arg("--config").arg(&cfg));
    let fin = dir.path().join("run/final");
    let adapter: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fin.join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(adapter["peft_type"], "LORA");
    // A regex over the decoder only: CLIP's q_proj/v_proj are not adapted.
    assert_eq!(
        adapter["target_modules"],
        r".*language_model\..*\.(q_proj|v_proj)"
    );
    assert!(!fin.join("model.safetensors").exists());
    let names = tensor_names(&fin);
    // 2 decoder layers × (q, v) × (A, B); the recent layout's module names.
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(names.contains(
        &"base_model.model.model.language_model.layers.1.self_attn.v_proj.lora_B.weight".into()
    ));
}

#[test]
fn an_unsupported_model_type_names_the_supported_ones() {
    let dir = tempfile::tempdir().unwrap();
    let pairs = write_pairs(dir.path());
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    for e in std::fs::read_dir(fixture().join("recent")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), model.join(e.file_name())).unwrap();
    }
    let cfg = std::fs::read_to_string(model.join("config.json")).unwrap();
    std::fs::write(
        model.join("config.json"),
        cfg.replace(
            "\"model_type\": \"llava\"",
            "\"model_type\": \"llava_next\"",
        ),
    )
    .unwrap();
    let out = vapr()
        .arg("score")
        .arg("--model")
        .arg(&model)
        .arg("--pairs")
        .arg(&pairs)
        .arg("--out")
        .arg(dir.path().join("x.jsonl"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("llava_next") && err.contains("qwen2_vl, qwen2_5_vl, llava"),
        "{err}"
    );
}

#[test]
fn resume_repeats_the_uninterrupted_step_with_full_weights_and_with_lora() {
    let lora = "\n[lora]\nrank = 2\nalpha = 4.0\ntargets = [\"q_proj\", \"o_proj\"]";
    for (model, extra) in [("published", ""), ("recent", lora)] {
        let dir = tempfile::tempdir().unwrap();
        let pairs = write_pairs(dir.path());
        let cfg = config(dir.path(), &pairs, model, extra);
        run_ok(vapr().arg("train").arg("--config").arg(&cfg));
        let run = dir.path().join("run");
        let full = read_jsonl(&run.join("metrics.jsonl"));
        // A crash after step 3 was logged but before it was saved: resume from checkpoint-2,
        // which reloads the weights (or adapters) through the family's loader.
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
        assert_eq!(resumed.len(), 3, "{model}: {resumed:?}");
        for key in ["loss", "grad_norm", "rewards/margins", "logps/chosen"] {
            assert_eq!(resumed[2][key], full[2][key], "{model}: {key}");
        }
    }
}
