//! LLaVA-1.5 (llava-hf layout) against transformers 5.24 on the tiny fixtures of
//! `tools/fixtures/make_llava.py` (`tests/fixtures/llava/`): prompts and ids, per-sequence
//! completion log-probs (1e-4 relative), logits, gradients of named parameters (1e-3), both key
//! layouts, save → reload, LoRA, greedy generation.

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::backend::{Autodiff, NdArray};
use burn::tensor::DType;
use burn::tensor::backend::Backend;
use serde_json::Value;
use vapr_model::llava::processor::ClipImage;
use vapr_model::safetensors_io::WeightIndex;
use vapr_model::{
    AnyImage, AnyLoadedModel, AnyTensor, GenerationConfig, HfLayout, LlavaLayout, LoraSpec,
    ModelLayout, Sequence, VlModel, generate, load_any_model_dir,
};

type B = NdArray<f32>;
type AD = Autodiff<B>;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/llava")
}

fn expected() -> &'static Value {
    static E: OnceLock<Value> = OnceLock::new();
    E.get_or_init(|| {
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap()
    })
}

fn tensors() -> &'static WeightIndex {
    static T: OnceLock<WeightIndex> = OnceLock::new();
    T.get_or_init(|| {
        WeightIndex::from_files(vec![fixtures().join("expected.safetensors")]).unwrap()
    })
}

fn load<BK: Backend>(name: &str) -> AnyLoadedModel<BK> {
    load_any_model_dir::<BK>(&fixtures().join(name), &Default::default(), DType::F32).unwrap()
}

/// transformers' pixel values of a fixture image, `[3, 42, 42]`.
fn image(name: &str) -> AnyImage {
    AnyImage::Llava(ClipImage {
        pixels: tensors().read_f32(&format!("pixel_values.{name}")).unwrap(),
        height: 42,
        width: 42,
    })
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

/// The fixture's pairs as 2·3 sequences (chosen, rejected per pair) over images [a, b], with
/// prompts built by vapr (checked against transformers' ids on the way).
fn sequences<BK: Backend>(
    lm: &AnyLoadedModel<BK>,
    model: &str,
) -> (Vec<Sequence>, Vec<AnyImage>, Vec<f32>) {
    let names = ["a.png", "b.png"];
    let images: Vec<AnyImage> = names.iter().map(|n| image(n)).collect();
    let mut seqs = Vec::new();
    let mut want = Vec::new();
    for pair in expected()["models"][model]["pairs"].as_array().unwrap() {
        let img = pair["image"].as_str();
        let shown: Vec<AnyImage> = img.map(image).into_iter().collect();
        let prompt = lm
            .prompt_ids(pair["question"].as_str().unwrap(), &shown)
            .unwrap();
        assert_eq!(prompt, ids(&pair["prompt_ids"]), "prompt of {pair}");
        assert_eq!(
            lm.chat
                .render_user_turn(pair["question"].as_str().unwrap(), shown.len())
                .unwrap(),
            pair["prompt_text"].as_str().unwrap()
        );
        let index: Vec<usize> = img
            .map(|n| names.iter().position(|m| *m == n).unwrap())
            .into_iter()
            .collect();
        for side in ["chosen", "rejected"] {
            let text = match side {
                "chosen" => pair_text(pair, 2),
                _ => pair_text(pair, 3),
            };
            let comp = lm.completion_ids(&text).unwrap();
            assert_eq!(comp, ids(&pair[format!("{side}_ids")]), "{side} of {pair}");
            seqs.push(Sequence {
                ids: [prompt.clone(), comp].concat(),
                images: index.clone(),
                completion_start: prompt.len(),
            });
            want.push(pair[format!("{side}_logps")].as_f64().unwrap() as f32);
        }
    }
    (seqs, images, want)
}

/// The answers of the generator's PAIRS (not stored in expected.json by text).
fn pair_text(pair: &Value, field: usize) -> String {
    const PAIRS: [(&str, &str, &str); 3] = [
        (
            "How many red cubes are there?",
            "There are three red cubes.",
            "There are four red cubes.",
        ),
        (
            "Is there a dog in the picture?",
            "Yes, a small brown dog.",
            "No, there is no dog.",
        ),
        (
            "What colour is the sphere?",
            "The sphere is blue.",
            "The sphere is green, left of the bus.",
        ),
    ];
    let q = pair["question"].as_str().unwrap();
    let p = PAIRS.iter().find(|p| p.0 == q).unwrap();
    match field {
        2 => p.1.to_string(),
        _ => p.2.to_string(),
    }
}

fn logps<BK: Backend>(lm: &AnyLoadedModel<BK>, seqs: &[Sequence], images: &[AnyImage]) -> Vec<f32> {
    let refs: Vec<&AnyImage> = images.iter().collect();
    let emb = lm.model.encode_images(&refs).unwrap();
    lm.model
        .completion_stats(seqs, Some(&emb))
        .unwrap()
        .logps
        .into_data()
        .to_vec::<f32>()
        .unwrap()
}

fn assert_rel(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let rel = (g - w).abs() / w.abs().max(1.0);
        assert!(rel < tol, "{what}[{i}]: {g} vs {w} (relative {rel:e})");
    }
}

#[test]
fn test_published_layout_f16_sharded_logprobs_match_transformers() {
    let lm = load::<B>("published");
    assert_eq!(lm.layout, ModelLayout::Llava(LlavaLayout::PUBLISHED));
    assert_eq!(lm.report.files.len(), 2);
    assert!(!lm.report.tied);
    let (seqs, images, want) = sequences(&lm, "published");
    assert_rel(&logps(&lm, &seqs, &images), &want, 1e-4, "published logps");
}

#[test]
fn test_recent_layout_logprobs_match_transformers() {
    let lm = load::<B>("recent");
    assert_eq!(lm.layout, ModelLayout::Llava(LlavaLayout::RECENT));
    let (seqs, images, want) = sequences(&lm, "recent");
    assert_rel(&logps(&lm, &seqs, &images), &want, 1e-4, "recent logps");
}

#[test]
fn test_logits_rows_match_transformers() {
    let lm = load::<B>("published");
    let (seqs, images, _) = sequences(&lm, "published");
    let refs: Vec<&AnyImage> = images.iter().collect();
    let emb = lm.model.encode_images(&refs).unwrap();
    let got = lm
        .model
        .forward_logits(&seqs[..1], Some(&emb))
        .unwrap()
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let want = tensors().read_f32("published.logits.pair0.chosen").unwrap();
    assert_eq!(got.len(), want.len());
    let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = got
        .iter()
        .zip(&want)
        .fold(0f32, |m, (g, w)| m.max((g - w).abs()));
    assert!(worst < 1e-4 * scale, "max |Δlogit| {worst} (scale {scale})");
}

#[test]
fn test_gradients_of_summed_chosen_logprobs_match_torch() {
    let lm = load::<AD>("published");
    let (seqs, images, _) = sequences(&lm, "published");
    let chosen: Vec<Sequence> = seqs.iter().step_by(2).cloned().collect();
    let refs: Vec<&AnyImage> = images.iter().collect();
    let emb = lm.model.encode_images(&refs).unwrap();
    let total = lm
        .model
        .completion_stats(&chosen, Some(&emb))
        .unwrap()
        .logps
        .sum();
    let grads = total.backward();
    let params = lm.model.named_parameters(lm.layout).unwrap();
    let names = expected()["models"]["published"]["grad_names"]
        .as_array()
        .unwrap();
    assert!(names.len() >= 10);
    for name in names {
        let name = name.as_str().unwrap();
        let (_, p) = params
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no parameter {name}"));
        let want = tensors()
            .read_f32(&format!("published.grad.{name}"))
            .unwrap();
        let got: Vec<f32> = match &p.tensor {
            AnyTensor::D1(t) => t.grad(&grads).unwrap().into_data().to_vec().unwrap(),
            AnyTensor::D2(t) => {
                // Linear weights are [in, out] here, [out, in] (or a conv kernel) in torch.
                let g = t.grad(&grads).unwrap();
                let g = if name.ends_with("position_embedding.weight") {
                    g
                } else {
                    g.transpose()
                };
                g.into_data().to_vec().unwrap()
            }
        };
        assert_eq!(got.len(), want.len(), "{name}");
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(scale > 0.0, "{name}: zero reference gradient");
        let worst = got
            .iter()
            .zip(&want)
            .fold(0f32, |m, (g, w)| m.max((g - w).abs()));
        assert!(
            worst <= 1e-3 * scale,
            "{name}: max |Δ| {worst}, scale {scale}"
        );
    }
}

#[test]
fn test_save_then_load_gives_identical_logits_in_the_same_layout() {
    for name in ["published", "recent"] {
        let lm = load::<B>(name);
        let out = tempfile::tempdir().unwrap();
        lm.save_pretrained(out.path()).unwrap();
        let src = WeightIndex::from_dir(&fixtures().join(name)).unwrap();
        let saved = WeightIndex::from_dir(out.path()).unwrap();
        let keys = |w: &WeightIndex| w.entries.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&saved), keys(&src), "{name}: key names");
        for (k, e) in &src.entries {
            assert_eq!(saved.entries[k].shape, e.shape, "{name}: shape of {k}");
        }
        let again = load::<B>(out.path().to_str().unwrap());
        assert_eq!(again.layout, lm.layout);
        let (seqs, images, _) = sequences(&lm, name);
        assert_eq!(logps(&again, &seqs, &images), logps(&lm, &seqs, &images));
    }
}

#[test]
fn test_in_memory_clip_names_without_vision_model_load() {
    // transformers 5's save_pretrained writes CLIP without the `vision_model.` wrapper.
    let lm = load::<B>("published");
    let layout = LlavaLayout {
        names: HfLayout::Flat,
        clip_wrapper: false,
    };
    let out = tempfile::tempdir().unwrap();
    for f in [
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "chat_template.json",
    ] {
        std::fs::copy(fixtures().join("published").join(f), out.path().join(f)).unwrap();
    }
    lm.model
        .save_weights(
            ModelLayout::Llava(layout),
            &out.path().join("model.safetensors"),
        )
        .unwrap();
    let saved = WeightIndex::from_dir(out.path()).unwrap();
    assert!(
        saved
            .entries
            .contains_key("vision_tower.embeddings.class_embedding")
    );
    let again = load::<B>(out.path().to_str().unwrap());
    assert_eq!(again.layout, ModelLayout::Llava(layout));
    let (seqs, images, want) = sequences(&lm, "published");
    assert_rel(
        &logps(&again, &seqs, &images),
        &want,
        1e-4,
        "reloaded logps",
    );
}

#[test]
fn test_missing_and_unused_tensors_are_errors_naming_them() {
    let src = fixtures().join("recent");
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let lm = load::<B>("recent");
    let path = dir.path().join("model.safetensors");
    let mut all = vapr_model::llava::hf_tensors(
        match &lm.model {
            VlModel::Llava(m) => m,
            _ => unreachable!(),
        },
        LlavaLayout::RECENT,
    );
    all.retain(|(n, _, _)| n != "model.multi_modal_projector.linear_2.bias");
    all.push(("model.extra.weight".into(), vec![2], vec![0.0, 1.0]));
    vapr_model::safetensors_io::write_safetensors(
        &path,
        &all,
        vapr_model::safetensors_io::SaveDtype::F32,
    )
    .unwrap();
    let err = load_any_model_dir::<B>(dir.path(), &Default::default(), DType::F32)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("model.multi_modal_projector.linear_2.bias"),
        "{err}"
    );
    all.retain(|(n, _, _)| n != "model.extra.weight");
    all.push((
        "model.multi_modal_projector.linear_2.bias".into(),
        vec![32],
        vec![0.0; 32],
    ));
    all.push(("model.extra.weight".into(), vec![2], vec![0.0, 1.0]));
    vapr_model::safetensors_io::write_safetensors(
        &path,
        &all,
        vapr_model::safetensors_io::SaveDtype::F32,
    )
    .unwrap();
    let err = load_any_model_dir::<B>(dir.path(), &Default::default(), DType::F32)
        .unwrap_err()
        .to_string();
    assert!(err.contains("model.extra.weight"), "{err}");
}

#[test]
fn test_fresh_lora_keeps_logprobs_exports_peft_names_and_trains_only_adapters() {
    // Autodiff backend: only there do parameters carry a require-grad flag.
    let lm = load::<AD>("published");
    let (seqs, images, _) = sequences(&lm, "published");
    let before = logps(&lm, &seqs, &images);
    let spec = LoraSpec {
        rank: 4,
        alpha: 8.0,
        targets: vec!["q_proj".into(), "v_proj".into(), "linear_1".into()],
        vision: true,
    };
    let (model, n) = lm.model.clone().with_lora(&spec, &Default::default());
    // 2 decoder layers × 2 + 3 CLIP layers × 2 + linear_1.
    assert_eq!(n, 11);
    let lm = AnyLoadedModel { model, ..lm };
    assert_eq!(logps(&lm, &seqs, &images), before);
    let peft = lm.model.peft_tensors(lm.layout).unwrap();
    assert_eq!(peft.len(), 22);
    assert!(peft.iter().any(|(n, s, _)| n
        == "base_model.model.language_model.model.layers.0.self_attn.q_proj.lora_A.weight"
        && s == &vec![4, 32]));
    assert!(peft.iter().any(|(n, s, _)| n
        == "base_model.model.vision_tower.vision_model.encoder.layers.2.self_attn.v_proj.lora_B.weight"
        && s == &vec![32, 4]));
    let trainable: Vec<String> = lm
        .model
        .named_parameters(lm.layout)
        .unwrap()
        .into_iter()
        .filter(|(_, p)| p.require_grad)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(trainable.len(), 22);
    assert!(
        trainable.iter().all(|n| n.contains(".lora.")),
        "{trainable:?}"
    );
}

#[test]
fn test_freezing_parts_marks_their_parameters() {
    let lm = load::<AD>("recent");
    let count = |m: &VlModel<AD>| {
        m.named_parameters(lm.layout)
            .unwrap()
            .into_iter()
            .filter(|(_, p)| p.require_grad)
            .map(|(n, _)| n)
            .collect::<Vec<_>>()
    };
    let all = count(&lm.model).len();
    let frozen = lm.model.clone().freeze_vision_tower().freeze_projector();
    let left = count(&frozen);
    assert!(left.len() < all);
    assert!(
        left.iter()
            .all(|n| n.starts_with("model.language_model.") || n == "lm_head.weight")
    );
    let none = count(&frozen.freeze_language_model());
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn test_greedy_generation_matches_transformers() {
    let lm = load::<B>("published");
    for rec in expected()["models"]["published"]["generate"]
        .as_array()
        .unwrap()
    {
        let shown: Vec<AnyImage> = rec["image"].as_str().map(image).into_iter().collect();
        let prompt = lm
            .prompt_ids(rec["question"].as_str().unwrap(), &shown)
            .unwrap();
        assert_eq!(prompt, ids(&rec["prompt_ids"]));
        let emb = (!shown.is_empty()).then(|| {
            let refs: Vec<&AnyImage> = shown.iter().collect();
            lm.model.encode_images(&refs).unwrap()
        });
        let seq = Sequence {
            images: if shown.is_empty() { vec![] } else { vec![0] },
            completion_start: prompt.len(),
            ids: prompt,
        };
        let want = ids(&rec["greedy_ids"]);
        let cfg = GenerationConfig::greedy(want.len(), vec![lm.chat.end_of_turn_id]);
        let g = generate(&lm.model, &seq, emb.as_ref(), &cfg, None).unwrap();
        assert_eq!(g.ids, want, "{}", rec["question"]);
    }
}
