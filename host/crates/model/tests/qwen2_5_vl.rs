//! Parity of the burn Qwen2.5-VL with transformers, against the committed fixtures written by
//! `tools/fixtures/make_qwen2_5_vl.py` (tests/fixtures/qwen2_5_vl/): window order, processor
//! (exact without resize, 1e-2 after a resize), log-probs (1e-4 relative, f32), gradients (1e-3
//! relative to the largest entry), both key layouts, tied embeddings, save → reload, LoRA, greedy
//! generation.

use std::path::{Path, PathBuf};

use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor};
use serde_json::Value;
use vapr_model::qwen2_vl::{VisionArch, peft_tensors, window_index};
use vapr_model::safetensors_io::WeightIndex;
use vapr_model::{
    AnyTensor, GenerationConfig, HfLayout, LoadedModel, ProcessedImage, Qwen2Vl, Sequence,
    generate, load_model_dir,
};

type B = NdArray<f32>;
type AD = Autodiff<NdArray<f32>>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/qwen2_5_vl")
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

fn usizes(v: &Value) -> Vec<usize> {
    ids(v).into_iter().map(|x| x as usize).collect()
}

fn load<BK: Backend>(name: &str) -> LoadedModel<BK> {
    load_model_dir::<BK>(&fixtures().join(name), &Default::default(), DType::F32).unwrap()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

#[test]
fn test_window_index_matches_transformers() {
    let exp = expected();
    for case in exp["windows"].as_array().unwrap() {
        let grids: Vec<[usize; 3]> = case["grid_thw"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let g = usizes(g);
                [g[0], g[1], g[2]]
            })
            .collect();
        // window_size px → merged tokens per window side (patch 14, merge 2).
        let window = case["window_size"].as_u64().unwrap() as usize / 28;
        let (order, segments) = window_index(&grids, 2, window);
        assert_eq!(order, usizes(&case["window_index"]), "{grids:?}");
        let mut cu = vec![0];
        cu.extend(segments.iter().map(|(start, len)| start + len));
        assert_eq!(cu, usizes(&case["cu_window_seqlens"]), "{grids:?}");
    }
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
    assert_eq!(img.grid.to_vec(), usizes(&e["image_grid_thw"]));
    let want = expected_tensors().read_f32("pixel_values.a.png").unwrap();
    let max = max_abs_diff(&want, &img.pixel_values);
    assert!(max < 1e-5, "max |Δ| = {max}");
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
    // The flat folder has the hub's `min_pixels`/`max_pixels` and its template in
    // chat_template.json; the nested one `size.{shortest,longest}_edge` and chat_template.jinja.
    let lm = load::<B>("flat");
    let img = lm
        .processor
        .process_file(&fixtures().join("images/b.png"))
        .unwrap();
    let e = &exp["processor"]["b.png"];
    assert_eq!(e["original_hw"], serde_json::json!([95, 90]));
    assert_eq!(img.grid.to_vec(), usizes(&e["image_grid_thw"]));
    let want = expected_tensors().read_f32("pixel_values.b.png").unwrap();
    let max = max_abs_diff(&want, &img.pixel_values);
    assert!(max < 1e-2, "max |Δ| = {max}");
    assert_eq!(
        lm.prompt_ids("Describe.", &[img]).unwrap(),
        ids(&e["input_ids"])
    );
}

/// The batch [chosen_0, rejected_0, chosen_1, …] with one encoding per distinct image.
fn pair_batch<BK: Backend>(
    lm: &LoadedModel<BK>,
    pairs: &[Value],
) -> (Vec<Sequence>, Vec<ProcessedImage>) {
    let mut names: Vec<String> = Vec::new();
    let mut images = Vec::new();
    let mut seqs = Vec::new();
    for p in pairs {
        let name = p["image"].as_str().unwrap().to_string();
        let idx = names.iter().position(|n| *n == name).unwrap_or_else(|| {
            images.push(
                lm.processor
                    .process_file(&fixtures().join("images").join(&name))
                    .unwrap(),
            );
            names.push(name);
            names.len() - 1
        });
        let prompt = lm
            .prompt_ids(p["question"].as_str().unwrap(), &[images[idx].clone()])
            .unwrap();
        assert_eq!(prompt, ids(&p["prompt_ids"]), "{:?}", p["question"]);
        for side in ["chosen", "rejected"] {
            seqs.push(Sequence {
                ids: [prompt.clone(), ids(&p[format!("{side}_ids")])].concat(),
                images: vec![idx],
                completion_start: prompt.len(),
            });
        }
    }
    (seqs, images)
}

/// Σ log-probs of every sequence of the fixture pairs under `model`, both images encoded in
/// one call.
fn batch_logps<BK: Backend>(
    lm: &LoadedModel<BK>,
    model: &Qwen2Vl<BK>,
    pairs: &[Value],
) -> Vec<f32> {
    let (seqs, images) = pair_batch(lm, pairs);
    let (pixels, grids) = lm.pixel_tensor(&images);
    assert_ne!(
        grids[0], grids[1],
        "the two images should have different grids"
    );
    let emb = model.encode_images(pixels, &grids).unwrap();
    let stats = model.completion_stats(&seqs, Some(&emb)).unwrap();
    stats.logps.into_data().to_vec::<f32>().unwrap()
}

fn check_logps(model_name: &str) -> f32 {
    let exp = expected();
    let lm = load::<B>(model_name);
    let pairs = exp["models"][model_name]["pairs"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(
        lm.completion_ids("There are three red cubes.").unwrap(),
        ids(&pairs[0]["chosen_ids"])
    );
    let got = batch_logps(&lm, &lm.model, &pairs);
    let mut worst = 0f32;
    for (i, p) in pairs.iter().enumerate() {
        for (j, side) in ["chosen", "rejected"].iter().enumerate() {
            let want = p[format!("{side}_logps")].as_f64().unwrap() as f32;
            let rel = ((got[2 * i + j] - want) / want).abs();
            worst = worst.max(rel);
            assert!(
                rel < 1e-4,
                "{model_name} pair {i} {side}: {} vs {want}",
                got[2 * i + j]
            );
        }
    }
    worst
}

#[test]
fn test_nested_layout_logprobs_match_transformers() {
    let lm = load::<B>("nested");
    assert_eq!(lm.layout, HfLayout::Nested);
    assert_eq!(lm.config.model_type(), "qwen2_5_vl");
    assert_eq!(
        lm.config.vision.arch,
        VisionArch::Qwen25Vl {
            window_size: 56,
            fullatt_block_indexes: vec![1]
        }
    );
    assert!(!lm.report.tied && lm.model.lm_head.is_some());
    let worst = check_logps("nested");
    eprintln!("nested: max relative log-prob difference {worst:e}");
}

#[test]
fn test_flat_tied_bf16_sharded_logprobs_match_transformers() {
    let lm = load::<B>("flat");
    assert_eq!(lm.layout, HfLayout::Flat);
    assert_eq!(lm.report.files.len(), 2);
    assert_eq!(lm.config.model_type(), "qwen2_5_vl");
    let worst = check_logps("flat");
    eprintln!("flat: max relative log-prob difference {worst:e}");
}

#[test]
fn test_tied_embeddings_have_no_head_and_share_the_embedding() {
    let lm = load::<B>("flat");
    assert!(lm.report.tied && lm.config.tie_word_embeddings);
    assert!(lm.model.lm_head.is_none());
    let names: Vec<String> = lm
        .model
        .named_parameters(HfLayout::Flat)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(!names.iter().any(|n| n.starts_with("lm_head")));
    // The logits of a hidden row are its dot products with the embedding rows.
    let hidden = Tensor::<B, 2>::ones([1, lm.config.text.hidden_size], &Default::default());
    let logits = lm
        .model
        .lm_logits(hidden)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    let emb = lm.model.language_model.embed_tokens.weight.val();
    let sums = emb.sum_dim(1).into_data().to_vec::<f32>().unwrap();
    assert!(max_abs_diff(&logits, &sums) < 1e-4);
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
        let total: Tensor<AD, 1> = lm
            .model
            .completion_stats(&chosen, Some(&emb))
            .unwrap()
            .logps
            .sum();
        let want_total = info["sum_chosen_logps"].as_f64().unwrap() as f32;
        let got_total = total.clone().into_data().to_vec::<f32>().unwrap()[0];
        assert!(((got_total - want_total) / want_total).abs() < 1e-4);
        let grads = total.backward();
        // Fixture names are the in-memory transformers names (nested layout).
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
            let max = max_abs_diff(&want, &got);
            assert!(scale > 0.0, "{name} {gname}: zero reference gradient");
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
        let keys = |dir: &Path| -> Vec<String> {
            WeightIndex::from_dir(dir)
                .unwrap()
                .entries
                .into_keys()
                .collect()
        };
        assert_eq!(keys(&fixtures().join(name)), keys(out.path()), "{name}");
        let again = load_model_dir::<B>(out.path(), &Default::default(), DType::F32).unwrap();
        assert_eq!(again.config, lm.config);
        let pairs = exp["models"][name]["pairs"].as_array().unwrap().clone();
        let (seqs, images) = pair_batch(&lm, &pairs);
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
fn test_fresh_lora_on_all_linears_keeps_logprobs_and_exports_peft_names() {
    let exp = expected();
    let lm = load::<AD>("nested");
    let pairs = exp["models"]["nested"]["pairs"].as_array().unwrap().clone();
    let before = batch_logps(&lm, &lm.model, &pairs[..2]);
    let spec = vapr_model::LoraSpec {
        rank: 2,
        alpha: 4.0,
        targets: vec!["all-linear".into()],
        vision: true,
    };
    let (model, n) = lm.model.clone().with_lora(&spec, &Default::default());
    // Decoder: 7 per layer × 2; vision: qkv, proj, gate/up/down × 3 blocks; merger: 2.
    assert_eq!(n, 14 + 15 + 2);
    assert_eq!(batch_logps(&lm, &model, &pairs[..2]), before);
    let peft = peft_tensors(&model, HfLayout::Nested);
    assert_eq!(peft.len(), 2 * n);
    for (module, shape) in [
        (
            "model.visual.blocks.0.mlp.gate_proj.lora_A.weight",
            vec![2, 16],
        ),
        (
            "model.visual.blocks.2.mlp.down_proj.lora_B.weight",
            vec![16, 2],
        ),
        ("model.visual.merger.mlp.0.lora_A.weight", vec![2, 64]),
    ] {
        let name = format!("base_model.model.{module}");
        assert!(
            peft.iter().any(|(n, s, _)| *n == name && *s == shape),
            "{name} {shape:?} missing"
        );
    }
    let trainable = model
        .named_parameters(HfLayout::Nested)
        .iter()
        .filter(|(_, p)| p.require_grad)
        .count();
    assert_eq!(trainable, 2 * n);
}

#[test]
fn test_freezing_the_tower_keeps_the_merger_trainable() {
    let lm = load::<AD>("flat");
    let model = lm.model.freeze_vision_tower();
    for (name, p) in model.named_parameters(HfLayout::Flat) {
        let frozen = name.starts_with("visual.") && !name.starts_with("visual.merger.");
        assert_eq!(p.require_grad, !frozen, "{name}");
    }
}

#[test]
fn test_a_qwen2_vl_vision_config_under_qwen2_5_vl_is_a_named_error() {
    // A Qwen2-VL folder relabelled as qwen2_5_vl: its vision config lacks the Qwen2.5-VL fields.
    let src = fixtures().join("../qwen2_vl/nested");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let cfg = dir.path().join("config.json");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("\"qwen2_vl\"", "\"qwen2_5_vl\"");
    std::fs::write(&cfg, text).unwrap();
    let err = load_model_dir::<B>(dir.path(), &Default::default(), DType::F32).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("config.json") && msg.contains("vision_config."),
        "{msg}"
    );
}

#[test]
fn test_greedy_generation_matches_transformers() {
    let exp: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("generate.json")).unwrap())
            .unwrap();
    let max_new = exp["max_new_tokens"].as_u64().unwrap() as usize;
    for name in ["nested", "flat"] {
        let lm = load::<B>(name);
        assert_eq!(
            lm.chat.end_of_turn_id as u64,
            exp["eos_token_id"].as_u64().unwrap()
        );
        for rec in exp["models"][name].as_array().unwrap() {
            let imgs: Vec<ProcessedImage> = rec["image"]
                .as_str()
                .map(|n| {
                    lm.processor
                        .process_file(&fixtures().join("images").join(n))
                        .unwrap()
                })
                .into_iter()
                .collect();
            let prompt = lm
                .prompt_ids(rec["question"].as_str().unwrap(), &imgs)
                .unwrap();
            assert_eq!(prompt, ids(&rec["prompt_ids"]));
            let embeds = (!imgs.is_empty()).then(|| {
                let (pixels, grids) = lm.pixel_tensor(&imgs);
                lm.model.encode_images(pixels, &grids).unwrap()
            });
            let seq = Sequence {
                completion_start: prompt.len(),
                images: (0..imgs.len()).collect(),
                ids: prompt,
            };
            let cfg = GenerationConfig::greedy(max_new, vec![lm.chat.end_of_turn_id]);
            let got = generate(&lm.model, &seq, embeds.as_ref(), &cfg, None).unwrap();
            assert_eq!(
                got.ids,
                ids(&rec["greedy_ids"]),
                "{name} {:?}",
                rec["image"]
            );
        }
    }
}
