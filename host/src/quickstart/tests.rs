//! Unit tests of the quickstart's building blocks: the trained tokenizer, the scratch model
//! folder (loads through `load_model_dir`, round-trips through `save_pretrained`), scoring.

use std::path::Path;

use burn::backend::NdArray;
use burn::tensor::DType;
use vapr_data::synth::{EvalKind, EvalRecord};
use vapr_model::load_model_dir;

use super::eval::{Prediction, chance_accuracy, score};
use super::scale::Scale;
use super::scratch::{mrope_section, write_scratch_model};
use super::tokenizer::{SPECIAL_TOKENS, TEMPLATE_TEXT, train_tokenizer};

const CORPUS: &[&str] = &[
    TEMPLATE_TEXT,
    "How many red circles are there?",
    "There are three red circles.",
    "What color is the large square?",
    "The large square is blue.",
    "Is there a green triangle in the image?",
    "No, there is no green triangle in the image.",
];

fn tokenizer() -> tokenizers::Tokenizer {
    // Five copies: BPE merges need pairs seen at least twice.
    train_tokenizer(CORPUS.iter().cycle().take(5 * CORPUS.len()).copied(), 400).unwrap()
}

#[test]
fn tokenizer_has_the_qwen_special_tokens_after_the_learned_vocabulary() {
    let tok = tokenizer();
    let learned = tok.get_vocab_size(false);
    assert!(learned > 256, "byte alphabet plus merges, got {learned}");
    for (i, t) in SPECIAL_TOKENS.iter().enumerate() {
        assert_eq!(tok.token_to_id(t), Some((learned + i) as u32), "{t}");
    }
    // A special token is one id even inside text.
    let enc = tok
        .encode(
            "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>",
            false,
        )
        .unwrap();
    let ids = enc.get_ids();
    assert_eq!(ids[0], tok.token_to_id("<|im_start|>").unwrap());
    assert!(ids.contains(&tok.token_to_id("<|image_pad|>").unwrap()));
}

#[test]
fn tokenizer_round_trips_text_and_merges_frequent_words() {
    let tok = tokenizer();
    for text in [
        "There are three red circles.",
        "Zebras? 42 purple hexagons!",
    ] {
        let enc = tok.encode(text, false).unwrap();
        assert_eq!(tok.decode(enc.get_ids(), false).unwrap(), text);
    }
    // Words seen often are merged into few tokens; unseen text falls back to bytes.
    let seen = tok
        .encode("There are three red circles.", false)
        .unwrap()
        .len();
    assert_eq!(seen, 6, "one token per word and one for the full stop");
}

#[test]
fn tokenizer_training_is_deterministic() {
    let a = tokenizer().to_string(false).unwrap();
    let b = tokenizer().to_string(false).unwrap();
    assert_eq!(a, b);
}

#[test]
fn mrope_sections_cover_half_the_head() {
    for head_dim in [8, 16, 24, 32, 128] {
        let s = mrope_section(head_dim);
        assert_eq!(s.iter().sum::<usize>(), head_dim / 2, "{head_dim}");
    }
    assert_eq!(mrope_section(128), [16, 24, 24], "Qwen2-VL's own split");
}

fn write_folder(dir: &Path, seed: u64) {
    let preset = Scale::Test.preset();
    write_scratch_model(dir, &preset.model, &tokenizer(), 56, seed).unwrap();
}

#[test]
fn scratch_folder_loads_as_a_hugging_face_qwen2_vl_and_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path(), 7);
    let tok = tokenizer();
    let lm = load_model_dir::<NdArray<f32>>(dir.path(), &Default::default(), DType::F32).unwrap();
    let size = Scale::Test.preset().model;
    assert_eq!(lm.config.text.vocab_size, tok.get_vocab_size(true));
    assert_eq!(lm.config.text.hidden_size, size.hidden);
    assert_eq!(
        lm.config.image_token_id,
        tok.token_to_id("<|image_pad|>").unwrap()
    );
    assert_eq!(
        lm.chat.end_of_turn_id,
        tok.token_to_id("<|im_end|>").unwrap()
    );
    assert!(lm.config.tie_word_embeddings);

    // The chat template and processor: a 56-pixel image is 4×4 patches → 2×2 merged tokens.
    let img = lm
        .processor
        .process_rgb(&vec![200u8; 56 * 56 * 3], 56, 56)
        .unwrap();
    let ids = lm
        .prompt_ids("What color is it?", std::slice::from_ref(&img))
        .unwrap();
    let pad = lm.config.image_token_id;
    assert_eq!(ids.iter().filter(|&&i| i == pad).count(), 4);
    let text = tok.decode(&ids, false).unwrap();
    assert!(
        text.starts_with("<|im_start|>system\nYou are a helpful assistant.<|im_end|>"),
        "{text}"
    );
    assert!(
        text.ends_with("What color is it?<|im_end|>\n<|im_start|>assistant\n"),
        "{text}"
    );

    // Weights: biases 0, norms 1, matrices ~N(0, 0.02²).
    let named = lm.model.named_parameters(lm.layout);
    let get = |name: &str| -> Vec<f32> {
        let (_, p) = named
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name}"));
        p.tensor.to_data().convert::<f32>().to_vec::<f32>().unwrap()
    };
    assert!(get("model.norm.weight").iter().all(|&v| v == 1.0));
    assert!(
        get("model.layers.0.self_attn.q_proj.bias")
            .iter()
            .all(|&v| v == 0.0)
    );
    let emb = get("model.embed_tokens.weight");
    let mean = emb.iter().sum::<f32>() / emb.len() as f32;
    let std = (emb.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / emb.len() as f32).sqrt();
    assert!(
        mean.abs() < 0.003 && (std - 0.02).abs() < 0.003,
        "mean {mean} std {std}"
    );

    // save_pretrained → load again: the same tensors.
    let again = dir.path().join("saved");
    lm.save_pretrained(&again).unwrap();
    let lm2 = load_model_dir::<NdArray<f32>>(&again, &Default::default(), DType::F32).unwrap();
    let a = lm.model.named_parameters(lm.layout);
    let b = lm2.model.named_parameters(lm2.layout);
    assert_eq!(a.len(), b.len());
    for ((na, pa), (nb, pb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        assert_eq!(pa.tensor.to_data(), pb.tensor.to_data(), "{na}");
    }
}

#[test]
fn scratch_weights_depend_on_the_seed_only() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    write_folder(dirs[0].path(), 1);
    write_folder(dirs[1].path(), 1);
    write_folder(dirs[2].path(), 2);
    let bytes = |d: &tempfile::TempDir| std::fs::read(d.path().join("model.safetensors")).unwrap();
    assert_eq!(bytes(&dirs[0]), bytes(&dirs[1]));
    assert_ne!(bytes(&dirs[0]), bytes(&dirs[2]));
}

fn pred(category: &str, kind: EvalKind, answer: &str, predicted: &str) -> Prediction {
    Prediction {
        id: format!("{category}-{answer}-{predicted}"),
        category: category.into(),
        kind,
        answer: answer.into(),
        predicted: predicted.into(),
        scores: vec![],
    }
}

#[test]
fn scores_count_accuracy_per_kind_and_category_and_the_yes_rate() {
    let preds = [
        pred("color", EvalKind::Binary, "yes", "yes"),
        pred("color", EvalKind::Binary, "no", "yes"),
        pred("color", EvalKind::Short, "red", "red"),
        pred("size", EvalKind::Binary, "no", "no"),
        pred("size", EvalKind::Short, "larger", "smaller"),
        pred("size", EvalKind::Short, "smaller", "smaller"),
    ];
    let s = score(&preds);
    assert_eq!(s.accuracy, 4.0 / 6.0);
    assert_eq!(s.binary_accuracy, 2.0 / 3.0);
    assert_eq!(s.short_accuracy, 2.0 / 3.0);
    assert_eq!(s.by_category["color"], 2.0 / 3.0);
    assert_eq!(s.by_category["size"], 2.0 / 3.0);
    assert_eq!(s.yes_rate, 2.0 / 3.0);
}

#[test]
fn chance_accuracy_is_the_mean_inverse_candidate_count() {
    let rec = |n: usize| EvalRecord {
        id: "x".into(),
        image: "i.png".into(),
        question: "q".into(),
        category: vapr_core::Category::Color,
        kind: EvalKind::Short,
        answer: "0".into(),
        candidates: (0..n).map(|i| i.to_string()).collect(),
    };
    assert_eq!(chance_accuracy(&[rec(2), rec(4)]), 0.375);
}
