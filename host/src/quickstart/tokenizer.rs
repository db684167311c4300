//! A byte-level BPE tokenizer trained on the synthetic corpus with the `tokenizers` crate's
//! trainer, laid out like Qwen2-VL's: Qwen2's pre-tokenizer split, byte-level alphabet, NFC,
//! and the Qwen2-VL special tokens appended after the learned vocabulary.

use std::collections::HashSet;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use serde_json::json;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

/// Qwen2-VL's special tokens, in the order (and so with the relative ids) of the real
/// tokenizer.
pub const SPECIAL_TOKENS: [&str; 14] = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
];

/// Qwen2's pre-tokenizer split pattern (from Qwen2-VL's `tokenizer.json`).
const QWEN_SPLIT: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// Qwen2-VL-Instruct's chat template (as published in its `tokenizer_config.json`).
pub const CHAT_TEMPLATE: &str = "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] == 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

/// Text the template always adds; part of the corpus so it tokenizes into few pieces.
pub const TEMPLATE_TEXT: &str = "system\nYou are a helpful assistant.\nuser\nassistant\n";

/// Trains a BPE tokenizer of `vocab_size` learned tokens (the 256-byte alphabet included) on
/// `corpus`, then appends [`SPECIAL_TOKENS`]. Deterministic for a given corpus.
pub fn train_tokenizer<'a>(
    corpus: impl Iterator<Item = &'a str> + Send,
    vocab_size: usize,
) -> Result<Tokenizer> {
    let mut tok = Tokenizer::new(BPE::default());
    tok.with_normalizer(Some(NFC));
    let split = Split::new(
        SplitPattern::Regex(QWEN_SPLIT.into()),
        SplitDelimiterBehavior::Isolated,
        false,
    )
    .map_err(|e| anyhow!("Qwen2 split pattern: {e}"))?;
    tok.with_pre_tokenizer(Some(Sequence::new(vec![
        split.into(),
        ByteLevel::new(false, true, false).into(),
    ])));
    tok.with_decoder(Some(ByteLevel::default()));
    let alphabet: HashSet<char> = ByteLevel::alphabet().into_iter().collect();
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(vocab_size)
        .min_frequency(2)
        .initial_alphabet(alphabet)
        .show_progress(false)
        .build()
        .into();
    tok.train(&mut trainer, corpus)
        .map_err(|e| anyhow!("training the BPE tokenizer: {e}"))?;
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(*t, true))
        .collect();
    tok.add_special_tokens(&specials);
    Ok(tok)
}

/// Writes `tokenizer.json` and a `tokenizer_config.json` carrying the Qwen2-VL chat template,
/// `<|im_end|>` as EOS and `<|endoftext|>` as padding (as the Instruct checkpoints do).
pub fn write_tokenizer_files(tok: &Tokenizer, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("tokenizer.json");
    tok.save(&path, true)
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    let added: serde_json::Map<String, serde_json::Value> = SPECIAL_TOKENS
        .iter()
        .filter_map(|t| {
            let id = tok.token_to_id(t)?;
            Some((
                id.to_string(),
                json!({"content": t, "lstrip": false, "normalized": false, "rstrip": false,
                       "single_word": false, "special": true}),
            ))
        })
        .collect();
    let config = json!({
        "add_prefix_space": false,
        "added_tokens_decoder": added,
        "bos_token": null,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": false,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "model_max_length": 32768,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": false,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": null,
    });
    let path = dir.join("tokenizer_config.json");
    std::fs::write(&path, serde_json::to_string_pretty(&config)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Id of a special token the tokenizer must have.
pub fn special_id(tok: &Tokenizer, token: &str) -> Result<u32> {
    tok.token_to_id(token)
        .ok_or_else(|| anyhow!("the trained tokenizer lacks {token}"))
}
