//! Batched generation: left-padded prompts of different lengths, with and without an image, give
//! every row the ids it gets alone, and those equal transformers' batched greedy ids
//! (tests/fixtures/qwen2_vl/generate_batch.json, written by tools/fixtures/make_fixtures.py).

use std::path::{Path, PathBuf};

use burn::backend::NdArray;
use burn::tensor::DType;
use serde_json::Value;
use vapr_model::generate::{BatchDecoder, generate_batch};
use vapr_model::{
    GenerationConfig, ImageEmbeds, LoadedModel, ProcessedImage, Sampling, Sequence, StopReason,
    generate, load_model_dir,
};

type B = NdArray<f32>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/qwen2_vl")
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join(name)).unwrap()).unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

fn load(name: &str) -> LoadedModel<B> {
    load_model_dir::<B>(&fixtures().join(name), &Default::default(), DType::F32).unwrap()
}

/// Prompts of `(image, question)` records as one batch: the images of all rows encoded in one
/// call, each row pointing at its own.
fn batch(lm: &LoadedModel<B>, recs: &[Value]) -> (Vec<Sequence>, Option<ImageEmbeds<B>>) {
    let mut processed: Vec<ProcessedImage> = Vec::new();
    let mut seqs = Vec::new();
    for rec in recs {
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
        if let Some(want) = rec.get("prompt_ids") {
            assert_eq!(prompt, ids(want), "prompt ids differ");
        }
        let first = processed.len();
        processed.extend(imgs);
        seqs.push(Sequence {
            completion_start: prompt.len(),
            images: (first..processed.len()).collect(),
            ids: prompt,
        });
    }
    let embeds = (!processed.is_empty()).then(|| {
        let (pixels, grids) = lm.pixel_tensor(&processed);
        lm.model.encode_images(pixels, &grids).unwrap()
    });
    (seqs, embeds)
}

/// The row alone: its images re-encoded on their own, indices from 0.
fn alone(lm: &LoadedModel<B>, rec: &Value) -> (Sequence, Option<ImageEmbeds<B>>) {
    let (mut seqs, im) = batch(lm, std::slice::from_ref(rec));
    (seqs.pop().unwrap(), im)
}

#[test]
fn test_batched_greedy_ids_match_transformers_left_padded_batch() {
    let exp = json("generate_batch.json");
    let max_new = exp["max_new_tokens"].as_u64().unwrap() as usize;
    for name in ["nested", "flat"] {
        let lm = load(name);
        let recs = exp["models"][name].as_array().unwrap().clone();
        let (seqs, im) = batch(&lm, &recs);
        let lens: Vec<usize> = seqs.iter().map(|s| s.ids.len()).collect();
        assert_eq!(lens, [45, 64, 56, 37], "{name}: prompt lengths");
        let cfg = GenerationConfig::greedy(max_new, vec![lm.chat.end_of_turn_id]);
        let got = generate_batch(&lm.model, &seqs, im.as_ref(), &cfg, None).unwrap();
        for (rec, g) in recs.iter().zip(&got) {
            let want = ids(&rec["greedy_ids"]);
            assert_eq!(
                g.ids, want,
                "{name} {:?}: greedy ids differ",
                rec["question"]
            );
            let stop = if want.last() == Some(&lm.chat.end_of_turn_id) {
                StopReason::Eos
            } else {
                StopReason::MaxNewTokens
            };
            assert_eq!(g.stop, stop);
        }
    }
}

#[test]
fn test_batched_greedy_equals_unbatched_for_every_row() {
    let exp = json("generate.json");
    for name in ["nested", "flat"] {
        let lm = load(name);
        let recs = exp["models"][name].as_array().unwrap().clone();
        // Different lengths, two with an image and one without; reversed too, so the padded
        // row is in a different place.
        for order in [recs.clone(), recs.iter().rev().cloned().collect()] {
            let (seqs, im) = batch(&lm, &order);
            let lens: Vec<usize> = seqs.iter().map(|s| s.ids.len()).collect();
            assert!(lens.iter().any(|&l| l != lens[0]), "{lens:?}");
            let cfg = GenerationConfig::greedy(12, vec![lm.chat.end_of_turn_id]);
            let got = generate_batch(&lm.model, &seqs, im.as_ref(), &cfg, None).unwrap();
            assert_eq!(got.len(), order.len());
            for (rec, g) in order.iter().zip(&got) {
                let (seq, im) = alone(&lm, rec);
                let single = generate(&lm.model, &seq, im.as_ref(), &cfg, None).unwrap();
                assert_eq!(g.ids, single.ids, "{name} {:?}", rec["question"]);
                assert_eq!(g.stop, single.stop);
            }
        }
    }
}

#[test]
fn test_batched_prefill_logits_equal_unbatched() {
    let exp = json("generate.json");
    let lm = load("nested");
    let recs = exp["models"]["nested"].as_array().unwrap().clone();
    let (seqs, im) = batch(&lm, &recs);
    let mut cache = lm.model.new_cache();
    let logits = lm
        .model
        .prefill_batch(&seqs, im.as_ref(), &mut cache)
        .unwrap();
    let [rows, vocab] = logits.dims();
    assert_eq!(rows, 3);
    let flat = logits.into_data().to_vec::<f32>().unwrap();
    for (r, rec) in recs.iter().enumerate() {
        let (seq, im) = alone(&lm, rec);
        let mut c = lm.model.new_cache();
        let single = lm.model.prefill(&seq, im.as_ref(), &mut c).unwrap();
        let diff = single
            .iter()
            .zip(&flat[r * vocab..(r + 1) * vocab])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(diff < 1e-4, "row {r}: max |Δ logits| = {diff}");
    }
}

#[test]
fn test_rows_stop_independently_and_finished_rows_leave_the_batch() {
    let exp = json("generate.json");
    let lm = load("flat");
    let recs = exp["models"]["flat"].as_array().unwrap().clone();
    let (seqs, im) = batch(&lm, &recs);
    // Row 1 stops at its own 2nd greedy token (as an EOS id); the others run to the limit.
    let want1 = ids(&recs[1]["greedy_ids"]);
    let eos = want1[1];
    let cfg = GenerationConfig::greedy(8, vec![eos]);
    let got = generate_batch(&lm.model, &seqs, im.as_ref(), &cfg, None).unwrap();
    assert_eq!(got[1].ids, want1[..2].to_vec());
    assert_eq!(got[1].stop, StopReason::Eos);
    for (rec, g) in recs.iter().zip(&got) {
        let (seq, im) = alone(&lm, rec);
        let single = generate(&lm.model, &seq, im.as_ref(), &cfg, None).unwrap();
        assert_eq!(g.ids, single.ids);
    }
    // Seeded sampling: each row draws from its own RNG, so a row's sample does not depend on
    // its batch-mates.
    let mut cfg = GenerationConfig::greedy(6, vec![]);
    cfg.sampling = Some(Sampling {
        temperature: 1.0,
        top_p: 0.9,
        seed: 11,
    });
    let got = generate_batch(&lm.model, &seqs, im.as_ref(), &cfg, None).unwrap();
    for (rec, g) in recs.iter().zip(&got) {
        let (seq, im) = alone(&lm, rec);
        assert_eq!(
            g.ids,
            generate(&lm.model, &seq, im.as_ref(), &cfg, None)
                .unwrap()
                .ids
        );
    }
}

/// Throughput of batched vs one-by-one greedy decoding on the tiny model: 8 prompts (37–64
/// tokens, 5 with an image), 32 new tokens each, image encoding excluded. Printed (run with
/// --nocapture); the ids must agree.
#[test]
fn test_batched_vs_unbatched_throughput_on_tiny_model() {
    let mut recs = json("generate.json")["models"]["nested"]
        .as_array()
        .unwrap()
        .clone();
    recs.extend(
        json("generate_batch.json")["models"]["nested"]
            .as_array()
            .unwrap()
            .iter()
            .cloned(),
    );
    recs.push(recs[1].clone());
    assert_eq!(recs.len(), 8);
    let lm = load("nested");
    let cfg = GenerationConfig::greedy(32, vec![]);
    let singles: Vec<_> = recs.iter().map(|r| alone(&lm, r)).collect();
    let (seqs, im) = batch(&lm, &recs);
    // Warm-up.
    generate_batch(&lm.model, &seqs[..2], im.as_ref(), &cfg, None).unwrap();
    let t = std::time::Instant::now();
    let one_by_one: Vec<_> = singles
        .iter()
        .map(|(s, im)| generate(&lm.model, s, im.as_ref(), &cfg, None).unwrap())
        .collect();
    let unbatched_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let batched = generate_batch(&lm.model, &seqs, im.as_ref(), &cfg, None).unwrap();
    let batched_s = t.elapsed().as_secs_f64();
    for (a, b) in one_by_one.iter().zip(&batched) {
        assert_eq!(a.ids, b.ids);
    }
    let tokens: usize = batched.iter().map(|g| g.ids.len()).sum();
    assert_eq!(tokens, 8 * 32);
    eprintln!(
        "tiny qwen2_vl (nested), CPU NdArray f32, 8 prompts x 32 new tokens: one by one {:.0} tokens/s ({:.3} s), batch of 8 {:.0} tokens/s ({:.3} s; prefill {:.1} ms)",
        tokens as f64 / unbatched_s,
        unbatched_s,
        tokens as f64 / batched_s,
        batched_s,
        batched[0].prefill_s * 1e3
    );
}
