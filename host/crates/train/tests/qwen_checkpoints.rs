//! Qwen2-VL checkpoints on the tiny fixture folder: full weights saved under the Hugging Face
//! names reload to identical log-probs, and resume (full fine-tuning and LoRA/PEFT) continues
//! with an identical next step.

use std::path::PathBuf;

use burn::backend::{Autodiff, NdArray};
use burn::module::AutodiffModule;
use burn::tensor::DType;
use vapr_model::{LoadedModel, load_model_dir};
use vapr_train::checkpoint::resolve_resume;
use vapr_train::config::{FreezeSection, LoraSection};
use vapr_train::data::load_pairs;
use vapr_train::qwen::{ImageRef, QwenLazyEncoder, QwenPolicy, QwenSetup};
use vapr_train::refcache::score_pairs;
use vapr_train::tensors::module_tensors;
use vapr_train::{Checkpointable, EncodedPair, PairEncoder, Reference, TrainSettings, Trainer};

type B = NdArray<f32>;
type AB = Autodiff<B>;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn load() -> (QwenPolicy<AB>, Vec<EncodedPair<ImageRef>>, u32) {
    load_with(None)
}

fn load_with(lora: Option<LoraSection>) -> (QwenPolicy<AB>, Vec<EncodedPair<ImageRef>>, u32) {
    let dir = root().join("tests/fixtures/qwen2_vl/flat");
    let loaded = load_model_dir::<AB>(&dir, &Default::default(), DType::F32).unwrap();
    let enc = QwenLazyEncoder(&loaded);
    let pairs = load_pairs(
        &root().join("configs/train/tiny_fixture_pairs.jsonl"),
        Some(&root().join("tests/fixtures/qwen2_vl/images")),
        &enc,
    )
    .unwrap();
    let pad = enc.pad_id();
    let LoadedModel {
        model,
        layout,
        dir,
        processor,
        ..
    } = loaded;
    let setup = QwenSetup {
        layout,
        source: dir,
        dtype: DType::F32,
        freeze: FreezeSection::default(),
        lora,
        processor,
    };
    (QwenPolicy::prepare(model, setup).0, pairs, pad)
}

fn settings() -> TrainSettings {
    TrainSettings {
        learning_rate: 1e-3,
        warmup_ratio: 0.0,
        batch_size: 2,
        grad_accum: 1,
        max_steps: Some(4),
        ..TrainSettings::default()
    }
}

fn trainer(lora: Option<LoraSection>) -> Trainer<AB, QwenPolicy<AB>> {
    let (policy, pairs, pad) = load_with(lora);
    let rows = score_pairs(&policy.valid(), &pairs, 3, pad, |_| {}).unwrap();
    let reference = Reference::Precomputed(
        rows.iter()
            .map(|r| [r.chosen_logps, r.rejected_logps])
            .collect(),
    );
    Trainer::new(settings(), policy, pairs, reference, pad).unwrap()
}

fn resume_is_exact(lora: Option<LoraSection>) {
    let out = tempfile::tempdir().unwrap();
    let mut t = trainer(lora.clone());
    t.step().unwrap();
    t.step().unwrap();
    let ck = t.save_checkpoint(out.path(), None).unwrap();
    let want = t.step().unwrap();
    let want_weights = module_tensors(t.model());
    let mut r = trainer(lora)
        .resume(&resolve_resume(out.path()).unwrap(), None)
        .unwrap();
    assert_eq!(ck, out.path().join("checkpoint-2"));
    let got = r.step().unwrap();
    assert_eq!(got.loss, want.loss);
    assert_eq!(got.grad_norm, want.grad_norm);
    assert_eq!(got.rewards_margins, want.rewards_margins);
    assert_eq!(module_tensors(r.model()), want_weights);
}

#[test]
fn full_weights_save_under_hf_names_and_reload_to_identical_log_probs() {
    let (policy, pairs, pad) = load();
    let dir = tempfile::tempdir().unwrap();
    policy.save_weights(dir.path()).unwrap();
    let names: Vec<String> = {
        let bytes = std::fs::read(dir.path().join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        st.names().into_iter().map(String::from).collect()
    };
    assert!(
        names
            .iter()
            .any(|n| n == "model.layers.0.self_attn.q_proj.weight"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "visual.merger.mlp.0.weight"),
        "{names:?}"
    );
    let reloaded = load().0.load_weights(dir.path()).unwrap();
    let a = score_pairs(&policy.valid(), &pairs, 3, pad, |_| {}).unwrap();
    let b = score_pairs(&reloaded.valid(), &pairs, 3, pad, |_| {}).unwrap();
    assert_eq!(a, b);
}

#[test]
fn full_fine_tuning_resumes_exactly() {
    resume_is_exact(None);
}

#[test]
fn lora_resumes_exactly_from_peft_adapters() {
    resume_is_exact(Some(LoraSection {
        rank: 2,
        alpha: 4.0,
        targets: vec!["q_proj".into(), "v_proj".into()],
    }));
}

/// PEFT matches a list of names anywhere (Qwen2.5-VL's vision MLP also has `gate_proj`…), so
/// the adapter config must name the decoder only, as a regex.
#[test]
fn lora_adapter_config_targets_only_decoder_layers() {
    let (policy, _, _) = load_with(Some(LoraSection {
        rank: 2,
        alpha: 4.0,
        targets: vec!["all-linear".into()],
    }));
    let dir = tempfile::tempdir().unwrap();
    policy.save_weights(dir.path()).unwrap();
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("adapter_config.json")).unwrap())
            .unwrap();
    assert_eq!(
        cfg["target_modules"],
        r"(.*\.)?layers\.\d+\.(self_attn|mlp)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
    );
    assert_eq!(cfg["r"], 2);
    assert_eq!(cfg["peft_type"], "LORA");
}
