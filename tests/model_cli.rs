//! End-to-end tests: how model-folder problems reach the user. Broken copies of the tiny
//! Qwen2-VL fixture folders are fed to `vapr score`; each must fail with a message that names
//! the file and the field or tensor at fault (the loader itself is tested in
//! host/crates/model/tests/parity_qwen2_vl.rs).

mod support;

use std::path::{Path, PathBuf};

use support::{repo_root, vapr};
use vapr_model::safetensors_io::{SaveDtype, WeightIndex, write_safetensors};

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/qwen2_vl").join(name)
}

/// Copies a fixture model folder into `dst`.
fn copy_folder(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dst.join(entry.file_name())).unwrap();
    }
}

/// Runs `vapr score` on `model` with one fixture pair; returns (success, stderr).
fn score(model: &Path, work: &Path) -> (bool, String) {
    let pairs = work.join("pairs.jsonl");
    let line = serde_json::json!({
        "id": "p0", "image": "a.png", "prompt": "How many red cubes are there?",
        "chosen": "There are three red cubes.", "rejected": "There are four red cubes.",
    });
    std::fs::write(&pairs, format!("{line}\n")).unwrap();
    let out = vapr()
        .arg("score")
        .arg("--model")
        .arg(model)
        .arg("--pairs")
        .arg(&pairs)
        .arg("--images")
        .arg(fixture("images"))
        .arg("--out")
        .arg(work.join("out.jsonl"))
        .output()
        .expect("failed to start vapr");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn test_intact_fixture_folder_scores() {
    let work = tempfile::tempdir().unwrap();
    let (ok, stderr) = score(&fixture("nested"), work.path());
    assert!(ok, "{stderr}");
}

#[test]
fn test_missing_weight_is_named_with_its_expected_shape() {
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model");
    copy_folder(&fixture("nested"), &model);
    let index = WeightIndex::from_dir(&model).unwrap();
    let victim = "model.language_model.layers.1.mlp.gate_proj.weight";
    let kept: Vec<(String, Vec<usize>, Vec<f32>)> = index
        .entries
        .iter()
        .filter(|(name, _)| name.as_str() != victim)
        .map(|(name, e)| (name.clone(), e.shape.clone(), index.read_f32(name).unwrap()))
        .collect();
    write_safetensors(&model.join("model.safetensors"), &kept, SaveDtype::F32).unwrap();
    let (ok, stderr) = score(&model, work.path());
    assert!(!ok);
    assert!(
        stderr.contains(victim) && stderr.contains("[96, 64]"),
        "{stderr}"
    );
}

#[test]
fn test_missing_shard_names_the_file() {
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model");
    copy_folder(&fixture("flat"), &model);
    std::fs::remove_file(model.join("model-00002-of-00002.safetensors")).unwrap();
    let (ok, stderr) = score(&model, work.path());
    assert!(!ok);
    assert!(
        stderr.contains("model-00002-of-00002.safetensors"),
        "{stderr}"
    );
}

#[test]
fn test_unsupported_model_type_and_bad_config_field_are_named() {
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model");
    copy_folder(&fixture("nested"), &model);
    let cfg_path = model.join("config.json");
    let cfg = std::fs::read_to_string(&cfg_path).unwrap();
    std::fs::write(&cfg_path, cfg.replace("\"qwen2_vl\"", "\"llava\"")).unwrap();
    let (ok, stderr) = score(&model, work.path());
    assert!(!ok);
    assert!(
        stderr.contains("model_type") && stderr.contains("llava"),
        "{stderr}"
    );

    let mut v: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    v["text_config"]
        .as_object_mut()
        .unwrap()
        .remove("hidden_size");
    std::fs::write(&cfg_path, v.to_string()).unwrap();
    let (ok, stderr) = score(&model, work.path());
    assert!(!ok);
    assert!(
        stderr.contains("config.json") && stderr.contains("text_config.hidden_size"),
        "{stderr}"
    );
}
