//! Generation with a KV cache against transformers: greedy ids on the tiny fixture models equal
//! `model.generate(do_sample=False)` (tests/fixtures/qwen2_vl/generate.json, written by
//! tools/fixtures/make_fixtures.py), and cached decoding equals recomputing the whole sequence.

use std::path::{Path, PathBuf};

use burn::backend::NdArray;
use burn::tensor::DType;
use serde_json::Value;
use vapr_model::{
    Generation, GenerationConfig, ImageEmbeds, LoadedModel, Sampling, Sequence, StopReason,
    generate, load_model_dir,
};

type B = NdArray<f32>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/qwen2_vl")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("generate.json")).unwrap())
        .unwrap()
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

/// The prompt of a fixture record (checked against transformers' ids) and its image encoding.
fn prompt(lm: &LoadedModel<B>, rec: &Value) -> (Sequence, Option<ImageEmbeds<B>>) {
    let imgs: Vec<_> = rec["image"]
        .as_str()
        .map(|name| {
            lm.processor
                .process_file(&fixtures().join("images").join(name))
                .unwrap()
        })
        .into_iter()
        .collect();
    let prompt_ids = lm
        .prompt_ids(rec["question"].as_str().unwrap(), &imgs)
        .unwrap();
    assert_eq!(prompt_ids, ids(&rec["prompt_ids"]), "prompt ids differ");
    let embeds = (!imgs.is_empty()).then(|| {
        let (pixels, grids) = lm.pixel_tensor(&imgs);
        lm.model.encode_images(pixels, &grids).unwrap()
    });
    let seq = Sequence {
        completion_start: prompt_ids.len(),
        images: (0..imgs.len()).collect(),
        ids: prompt_ids,
    };
    (seq, embeds)
}

fn greedy(
    lm: &LoadedModel<B>,
    seq: &Sequence,
    im: Option<&ImageEmbeds<B>>,
    n: usize,
) -> Generation {
    let cfg = GenerationConfig::greedy(n, vec![lm.chat.end_of_turn_id]);
    generate(&lm.model, seq, im, &cfg, None).unwrap()
}

#[test]
fn test_greedy_ids_match_transformers_on_both_fixture_models() {
    let exp = expected();
    let max_new = exp["max_new_tokens"].as_u64().unwrap() as usize;
    for name in ["nested", "flat"] {
        let lm = load(name);
        assert_eq!(
            lm.chat.end_of_turn_id as u64,
            exp["eos_token_id"].as_u64().unwrap()
        );
        for rec in exp["models"][name].as_array().unwrap() {
            let (seq, im) = prompt(&lm, rec);
            let got = greedy(&lm, &seq, im.as_ref(), max_new);
            let want = ids(&rec["greedy_ids"]);
            assert_eq!(
                got.ids, want,
                "{name} {:?}: greedy ids differ",
                rec["image"]
            );
            let stop = if want.last() == Some(&lm.chat.end_of_turn_id) {
                StopReason::Eos
            } else {
                StopReason::MaxNewTokens
            };
            assert_eq!(got.stop, stop);
        }
    }
}

#[test]
fn test_cached_decoding_equals_recomputing_the_whole_sequence() {
    let exp = expected();
    let lm = load("nested");
    let rec = &exp["models"]["nested"][0];
    let (seq, im) = prompt(&lm, rec);
    let mut cache = lm.model.new_cache();
    let mut cached = lm.model.prefill(&seq, im.as_ref(), &mut cache).unwrap();
    let mut full = seq.clone();
    for step in 0..8 {
        // Reference: the whole sequence again, no cache, logits of its last position.
        let logits = lm
            .model
            .forward_logits(std::slice::from_ref(&full), im.as_ref())
            .unwrap();
        let [_, s, v] = logits.dims();
        let reference = logits
            .narrow(1, s - 1, 1)
            .reshape([v])
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let max_diff = reference
            .iter()
            .zip(&cached)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "step {step}: max |Δ logits| = {max_diff}");
        let next = vapr_model::generate::argmax(&reference);
        assert_eq!(next, vapr_model::generate::argmax(&cached));
        full.ids.push(next);
        cached = lm.model.decode_step(next, &mut cache).unwrap();
    }
    assert_eq!(cache.len(), full.ids.len());
}

#[test]
fn test_stop_string_and_seeded_sampling() {
    let exp = expected();
    let lm = load("flat");
    let rec = &exp["models"]["flat"][0];
    let (seq, im) = prompt(&lm, rec);
    let want = ids(&rec["greedy_ids"]);
    // Stop once the completion contains the text of the first three greedy tokens.
    let stop = lm.chat.tokenizer.decode(&want[..3], false).unwrap();
    let mut cfg = GenerationConfig::greedy(10, vec![]);
    cfg.stop_strings = vec![stop.clone()];
    let err = generate(&lm.model, &seq, im.as_ref(), &cfg, None).unwrap_err();
    assert!(err.to_string().contains("tokenizer"), "{err}");
    let g = generate(&lm.model, &seq, im.as_ref(), &cfg, Some(&lm.chat.tokenizer)).unwrap();
    assert_eq!(g.stop, StopReason::StopString, "{stop:?}");
    assert!(g.ids.len() <= 3 && want.starts_with(&g.ids), "{:?}", g.ids);
    // Sampling: the same seed gives the same ids; a near-zero nucleus is greedy.
    let sampled = |seed, top_p| {
        let mut cfg = GenerationConfig::greedy(6, vec![]);
        cfg.sampling = Some(Sampling {
            temperature: 1.0,
            top_p,
            seed,
        });
        generate(&lm.model, &seq, im.as_ref(), &cfg, None)
            .unwrap()
            .ids
    };
    assert_eq!(sampled(7, 0.9), sampled(7, 0.9));
    assert_eq!(sampled(7, 1e-6), want[..6].to_vec());
}

/// Throughput of cached greedy decoding on the tiny model (printed; run with --nocapture).
#[test]
fn test_decode_throughput_on_tiny_model() {
    let exp = expected();
    let lm = load("nested");
    let (seq, im) = prompt(&lm, &exp["models"]["nested"][0]);
    let g = greedy(&lm, &seq, im.as_ref(), 1); // warm-up
    assert_eq!(g.ids.len(), 1);
    let cfg = GenerationConfig::greedy(64, vec![]);
    let g = generate(&lm.model, &seq, im.as_ref(), &cfg, None).unwrap();
    assert_eq!((g.ids.len(), g.stop), (64, StopReason::MaxNewTokens));
    eprintln!(
        "tiny qwen2_vl (nested), CPU NdArray f32: prompt {} tokens prefill {:.1} ms; {} decode steps {:.1} tokens/s",
        seq.ids.len(),
        g.prefill_s * 1e3,
        g.ids.len() - 1,
        (g.ids.len() - 1) as f64 / g.decode_s
    );
}
