//! The loss functions against the DPO loss values the fixture generator computed with
//! PyTorch for the tiny Qwen2-VL folders (tests/fixtures/qwen2_vl/expected.json), per pair and
//! per batch, for every loss type.

use std::path::PathBuf;

use burn::backend::NdArray;
use burn::tensor::Tensor;
use vapr_train::LossType;
use vapr_train::loss::{LossConfig, LossInputs, preference_loss};

type B = NdArray<f32>;

fn expected() -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../tests/fixtures/qwen2_vl/expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn inputs(pairs: &[serde_json::Value]) -> LossInputs<B> {
    let d = Default::default();
    let col = |key: &str| {
        let v: Vec<f32> = pairs
            .iter()
            .map(|p| p[key].as_f64().unwrap() as f32)
            .collect();
        Tensor::<B, 1>::from_floats(v.as_slice(), &d)
    };
    let len = |key: &str| {
        let v: Vec<f32> = pairs
            .iter()
            .map(|p| p[key].as_array().unwrap().len() as f32)
            .collect();
        Tensor::<B, 1>::from_floats(v.as_slice(), &d)
    };
    LossInputs {
        policy_chosen: col("chosen_logps"),
        policy_rejected: col("rejected_logps"),
        ref_chosen: col("ref_chosen_logps"),
        ref_rejected: col("ref_rejected_logps"),
        chosen_tokens: len("chosen_ids"),
        rejected_tokens: len("rejected_ids"),
    }
}

#[test]
fn every_loss_type_matches_the_fixture_values() {
    let e = expected();
    for layout in ["flat", "nested"] {
        let m = &e["models"][layout];
        let beta = m["beta"].as_f64().unwrap();
        let eps = m["label_smoothing"].as_f64().unwrap();
        let pairs = m["pairs"].as_array().unwrap();
        let cases = [
            ("sigmoid", LossType::Sigmoid, 0.0),
            ("sigmoid_label_smoothing", LossType::Sigmoid, eps),
            ("ipo", LossType::Ipo, 0.0),
            ("hinge", LossType::Hinge, 0.0),
            ("robust", LossType::Robust, eps),
        ];
        for (name, loss_type, smoothing) in cases {
            let cfg = LossConfig {
                terms: vec![(loss_type, 1.0)],
                beta,
                label_smoothing: smoothing,
                sft_weight: 0.0,
            };
            // Per pair, then the batch mean.
            for (i, p) in pairs.iter().enumerate() {
                let got: f32 =
                    preference_loss(&cfg, &inputs(std::slice::from_ref(p))).into_scalar();
                let want = p["losses"][name].as_f64().unwrap();
                assert!(
                    (got as f64 - want).abs() <= 1e-4 * want.abs().max(1.0),
                    "{layout} pair {i} {name}: {got} vs {want}"
                );
            }
            let got: f32 = preference_loss(&cfg, &inputs(pairs)).into_scalar();
            let want = m["losses"][name].as_f64().unwrap();
            assert!(
                (got as f64 - want).abs() <= 1e-4 * want.abs().max(1.0),
                "{layout} batch {name}: {got} vs {want}"
            );
        }
    }
}
