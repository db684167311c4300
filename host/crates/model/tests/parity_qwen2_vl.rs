//! Parity of the burn Qwen2-VL with transformers, against the committed fixtures written by
//! `tools/fixtures/make_fixtures.py` (tests/fixtures/qwen2_vl/). Tolerances: processor exact
//! (1e-5) without resize, 1e-2 after a resize; log-probs 1e-4 relative (f32); gradients 1e-3
//! relative to the largest entry.

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, NdArray};
use burn::tensor::{DType, Tensor};
use serde_json::Value;
use vapr_model::safetensors_io::WeightIndex;
use vapr_model::{
    AnyTensor, HfLayout, LoadedModel, ModelError, ProcessedImage, Sequence, load_model_dir,
};

type B = NdArray<f32>;
type AD = Autodiff<NdArray<f32>>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/qwen2_vl")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
        .unwrap()
}

fn expected_tensors() -> WeightIndex {
    WeightIndex::from_files(vec![fixtures().join("expected.safetensors")]).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn load<BK: burn::tensor::backend::Backend>(name: &str) -> LoadedModel<BK> {
    load_model_dir::<BK>(&fixtures().join(name), &Default::default(), DType::F32).unwrap()
}

fn image(lm_dir: &str, name: &str) -> ProcessedImage {
    let lm = load::<B>(lm_dir);
    lm.processor
        .process_file(&fixtures().join("images").join(name))
        .unwrap()
}

#[test]
fn test_processor_matches_transformers_exactly_without_resize() {
    let exp = expected();
    let lm = load::<B>("nested");
    let img = lm
        .processor
        .process_file(&fixtures().join("images/a.png"))
        .unwrap();
    let e = &exp["processor"]["a.png"];
    assert_eq!(
        img.grid.to_vec(),
        ids(&e["image_grid_thw"])
            .iter()
            .map(|&x| x as usize)
            .collect::<Vec<_>>()
    );
    let want = expected_tensors().read_f32("pixel_values.a.png").unwrap();
    assert_eq!(want.len(), img.pixel_values.len());
    let max = want
        .iter()
        .zip(&img.pixel_values)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(max < 1e-5, "max |Δ| = {max}");
    // Prompt: template, image-token expansion and tokenization.
    assert_eq!(
        lm.chat.render_user_turn("Describe.", 1).unwrap(),
        e["prompt_text"].as_str().unwrap()
    );
    assert_eq!(
        lm.prompt_ids("Describe.", &[img]).unwrap(),
        ids(&e["input_ids"])
    );
}

#[test]
fn test_processor_after_bicubic_resize_is_within_1e_2() {
    let exp = expected();
    // The flat folder has the hub-style `min_pixels`/`max_pixels` config; same values.
    let lm = load::<B>("flat");
    let img = lm
        .processor
        .process_file(&fixtures().join("images/b.png"))
        .unwrap();
    let e = &exp["processor"]["b.png"];
    assert_eq!(img.grid.to_vec(), vec![1, 4, 6]);
    let want = expected_tensors().read_f32("pixel_values.b.png").unwrap();
    let max = want
        .iter()
        .zip(&img.pixel_values)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(max < 1e-2, "max |Δ| = {max}");
    assert_eq!(
        lm.prompt_ids("Describe.", &[img]).unwrap(),
        ids(&e["input_ids"])
    );
}

/// Builds the batch [chosen_0, rejected_0, chosen_1, …] with one encoding per distinct image.
fn pair_batch<BK: burn::tensor::backend::Backend>(
    lm: &LoadedModel<BK>,
    pairs: &[Value],
) -> (Vec<Sequence>, Vec<ProcessedImage>) {
    let mut names: Vec<String> = Vec::new();
    let mut images = Vec::new();
    let mut seqs = Vec::new();
    for p in pairs {
        let name = p["image"].as_str().unwrap().to_string();
        let idx = match names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                images.push(
                    lm.processor
                        .process_file(&fixtures().join("images").join(&name))
                        .unwrap(),
                );
                names.push(name);
                names.len() - 1
            }
        };
        let prompt = lm
            .prompt_ids(p["question"].as_str().unwrap(), &[images[idx].clone()])
            .unwrap();
        assert_eq!(
            prompt,
            ids(&p["prompt_ids"]),
            "prompt ids of {:?}",
            p["question"]
        );
        for side in ["chosen", "rejected"] {
            let comp = ids(&p[format!("{side}_ids")]);
            seqs.push(Sequence {
                ids: [prompt.clone(), comp].concat(),
                images: vec![idx],
                completion_start: prompt.len(),
            });
        }
    }
    (seqs, images)
}

fn check_logps(model_name: &str) {
    let exp = expected();
    let lm = load::<B>(model_name);
    let pairs = exp["models"][model_name]["pairs"]
        .as_array()
        .unwrap()
        .clone();
    // Completion tokenization (answer + end-of-turn) matches transformers.
    let answers = [("There are three red cubes.", &pairs[0]["chosen_ids"])];
    for (text, want) in answers {
        assert_eq!(lm.completion_ids(text).unwrap(), ids(want));
    }
    let (seqs, images) = pair_batch(&lm, &pairs);
    let (pixels, grids) = lm.pixel_tensor(&images);
    let emb = lm.model.encode_images(pixels, &grids).unwrap();
    let stats = lm.model.completion_stats(&seqs, Some(&emb)).unwrap();
    let got = stats.logps.into_data().to_vec::<f32>().unwrap();
    for (i, p) in pairs.iter().enumerate() {
        for (j, side) in ["chosen", "rejected"].iter().enumerate() {
            let want = p[format!("{side}_logps")].as_f64().unwrap() as f32;
            let g = got[2 * i + j];
            assert!(
                ((g - want) / want).abs() < 1e-4,
                "{model_name} pair {i} {side}: {g} vs {want}"
            );
        }
    }
    assert_eq!(stats.n_tokens[0], ids(&pairs[0]["chosen_ids"]).len());
}

#[test]
fn test_nested_layout_logprobs_match_transformers() {
    let lm = load::<B>("nested");
    assert_eq!(lm.layout, HfLayout::Nested);
    assert!(!lm.report.tied && lm.model.lm_head.is_some());
    check_logps("nested");
}

#[test]
fn test_flat_tied_bf16_sharded_logprobs_match_transformers() {
    let lm = load::<B>("flat");
    assert!(lm.report.tied && lm.model.lm_head.is_none());
    assert_eq!(lm.layout, HfLayout::Flat);
    assert_eq!(lm.report.files.len(), 2);
    check_logps("flat");
}

#[test]
fn test_logits_rows_match_transformers() {
    let exp = expected();
    for name in ["nested", "flat"] {
        let lm = load::<B>(name);
        let pairs = exp["models"][name]["pairs"].as_array().unwrap().clone();
        let (seqs, images) = pair_batch(&lm, &pairs[..1]);
        let (pixels, grids) = lm.pixel_tensor(&images);
        let emb = lm.model.encode_images(pixels, &grids).unwrap();
        // Batch of chosen + rejected (right-padded); row 0 is the chosen sequence.
        let logits = lm.model.forward_logits(&seqs, Some(&emb)).unwrap();
        let [_, s, v] = logits.dims();
        let len = seqs[0].ids.len();
        let got = logits
            .narrow(0, 0, 1)
            .reshape([s, v])
            .narrow(0, 0, len)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let want = expected_tensors()
            .read_f32(&format!("{name}.logits.pair0.chosen"))
            .unwrap();
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
        let max = want
            .iter()
            .zip(&got)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            max < 1e-4 * scale.max(1.0),
            "{name}: max |Δ| = {max} (scale {scale})"
        );
    }
}

#[test]
fn test_gradients_of_summed_chosen_logprobs_match_torch() {
    let exp = expected();
    let tensors = expected_tensors();
    for name in ["nested", "flat"] {
        let lm = load::<AD>(name);
        let info = &exp["models"][name];
        let pairs = info["pairs"].as_array().unwrap().clone();
        let (seqs, images) = pair_batch(&lm, &pairs);
        let chosen: Vec<Sequence> = seqs.iter().step_by(2).cloned().collect();
        let (pixels, grids) = lm.pixel_tensor(&images);
        let emb = lm.model.encode_images(pixels, &grids).unwrap();
        let stats = lm.model.completion_stats(&chosen, Some(&emb)).unwrap();
        let total: Tensor<AD, 1> = stats.logps.sum();
        let want_total = info["sum_chosen_logps"].as_f64().unwrap() as f32;
        let got_total = total.clone().into_data().to_vec::<f32>().unwrap()[0];
        assert!(((got_total - want_total) / want_total).abs() < 1e-4);
        let grads = total.backward();
        // Fixture names are transformers-5 names; map them to this folder's layout.
        let params = lm.model.named_parameters(HfLayout::Nested);
        for gname in info["grad_names"].as_array().unwrap() {
            let gname = gname.as_str().unwrap();
            let (_, p) = params
                .iter()
                .find(|(n, _)| n == gname)
                .unwrap_or_else(|| panic!("no param {gname}"));
            let got: Vec<f32> = match &p.tensor {
                AnyTensor::D1(t) => t.grad(&grads).unwrap().into_data().to_vec().unwrap(),
                // Stored [in, out]; torch's grad is [out, in].
                AnyTensor::D2(t) => t
                    .grad(&grads)
                    .unwrap()
                    .transpose()
                    .into_data()
                    .to_vec()
                    .unwrap(),
            };
            let want = tensors.read_f32(&format!("{name}.grad.{gname}")).unwrap();
            let scale = want.iter().fold(0f32, |m, x| m.max(x.abs()));
            let max = want
                .iter()
                .zip(&got)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            assert!(
                max <= 1e-3 * scale,
                "{name} {gname}: max |Δ| = {max}, scale {scale}"
            );
        }
    }
}

#[test]
fn test_save_then_load_gives_identical_logits_in_the_same_layout() {
    let exp = expected();
    for name in ["nested", "flat"] {
        let lm = load::<B>(name);
        let out = tempfile::tempdir().unwrap();
        lm.save_pretrained(out.path()).unwrap();
        let keys_before: Vec<String> = WeightIndex::from_dir(&fixtures().join(name))
            .unwrap()
            .entries
            .into_keys()
            .collect();
        let keys_after: Vec<String> = WeightIndex::from_dir(out.path())
            .unwrap()
            .entries
            .into_keys()
            .collect();
        assert_eq!(
            keys_before, keys_after,
            "{name}: saved key names differ from the source"
        );
        let again = load_model_dir::<B>(out.path(), &Default::default(), DType::F32).unwrap();
        let pairs = exp["models"][name]["pairs"].as_array().unwrap().clone();
        let (seqs, images) = pair_batch(&lm, &pairs[..1]);
        let run = |m: &LoadedModel<B>| {
            let (pixels, grids) = m.pixel_tensor(&images);
            let emb = m.model.encode_images(pixels, &grids).unwrap();
            m.model
                .forward_logits(&seqs, Some(&emb))
                .unwrap()
                .into_data()
                .to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(run(&lm), run(&again), "{name}");
    }
}

#[test]
fn test_missing_misshapen_and_unused_tensors_are_errors_naming_them() {
    let src = fixtures().join("nested");
    let lm = load::<B>("nested");
    let all = vapr_model::qwen2_vl::hf_tensors(&lm.model, HfLayout::Nested);
    let write = |tensors: &[(String, Vec<usize>, Vec<f32>)]| {
        let dir = tempfile::tempdir().unwrap();
        vapr_model::loaded::copy_side_files(&src, dir.path()).unwrap();
        vapr_model::safetensors_io::write_safetensors(
            &dir.path().join("model.safetensors"),
            tensors,
            vapr_model::safetensors_io::SaveDtype::F32,
        )
        .unwrap();
        dir
    };
    let victim = "model.language_model.layers.1.self_attn.v_proj.weight";
    let missing: Vec<_> = all.iter().filter(|t| t.0 != victim).cloned().collect();
    let dir = write(&missing);
    let err = load_model_dir::<B>(dir.path(), &Default::default(), DType::F32).unwrap_err();
    assert!(
        matches!(err, ModelError::MissingTensor { .. }) && err.to_string().contains(victim),
        "{err}"
    );

    let mut bad = all.clone();
    let t = bad.iter_mut().find(|t| t.0 == victim).unwrap();
    t.1 = vec![t.1[1], t.1[0]];
    let dir = write(&bad);
    let err = load_model_dir::<B>(dir.path(), &Default::default(), DType::F32).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ModelError::ShapeMismatch { .. }) && msg.contains(victim),
        "{msg}"
    );

    let mut extra = all.clone();
    extra.push((
        "model.language_model.layers.7.mlp.up_proj.weight".into(),
        vec![2, 2],
        vec![0.0; 4],
    ));
    let dir = write(&extra);
    let err = load_model_dir::<B>(dir.path(), &Default::default(), DType::F32).unwrap_err();
    assert!(err.to_string().contains("layers.7.mlp.up_proj"), "{err}");
}

#[test]
fn test_fresh_lora_keeps_logprobs_and_exports_peft_names() {
    let lm = load::<AD>("nested");
    let seq = Sequence {
        ids: vec![361, 82, 88, 274, 356, 198, 345, 288],
        images: vec![],
        completion_start: 4,
    };
    let before = lm
        .model
        .completion_stats(std::slice::from_ref(&seq), None)
        .unwrap()
        .logps
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let spec = vapr_model::LoraSpec {
        rank: 4,
        alpha: 8.0,
        targets: vec!["q_proj".into(), "v_proj".into()],
        vision: false,
    };
    let (model, n) = lm.model.clone().with_lora(&spec, &Default::default());
    assert_eq!(n, 4);
    let after = model
        .completion_stats(&[seq], None)
        .unwrap()
        .logps
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    assert_eq!(before, after);
    let peft = vapr_model::qwen2_vl::peft_tensors(&model, HfLayout::Nested);
    assert_eq!(peft.len(), 8);
    assert!(peft.iter().any(|(n, s, _)| n
        == "base_model.model.model.language_model.layers.0.self_attn.q_proj.lora_A.weight"
        && s == &vec![4, 64]));
    let trainable: usize = model
        .named_parameters(HfLayout::Nested)
        .iter()
        .filter(|(_, p)| p.require_grad)
        .count();
    assert_eq!(trainable, 8);
}

#[test]
fn test_image_token_count_mismatch_is_reported() {
    let lm = load::<B>("nested");
    let img = image("nested", "a.png");
    let mut prompt = lm.prompt_ids("Hi", std::slice::from_ref(&img)).unwrap();
    let pos = prompt
        .iter()
        .position(|&t| t == lm.config.image_token_id)
        .unwrap();
    prompt.remove(pos);
    let (pixels, grids) = lm.pixel_tensor(&[img]);
    let emb = lm.model.encode_images(pixels, &grids).unwrap();
    let seq = Sequence {
        completion_start: prompt.len() - 1,
        ids: prompt,
        images: vec![0],
    };
    let err = lm.model.completion_stats(&[seq], Some(&emb)).unwrap_err();
    assert!(err.to_string().contains("<|image_pad|>"), "{err}");
}
