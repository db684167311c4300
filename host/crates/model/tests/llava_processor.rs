//! LLaVA-1.5 preprocessing against transformers, with the fixtures written by
//! `tools/fixtures/make_llava_processor.py` (tests/fixtures/llava_processor/): CLIP pixels
//! (the contract is 1e-6 without a resize and 1e-2 after one; the Pillow-exact resize gives
//! max |Δ| = 0 on every fixture image, so both are checked at 1e-6), the original LLaVA
//! pad-to-square,
//! `<image>` token counts, the llava-hf chat template with `{% generation %}` blocks, and prompt
//! ids of a Llama tokenizer that adds BOS by default.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use vapr_model::ChatTokenizer;
use vapr_model::chat::rewrite_generation_tags;
use vapr_model::llava::processor::{ClipImage, ClipProcessor, ImageTokens, ResizeTarget};
use vapr_model::safetensors_io::WeightIndex;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../tests/fixtures/llava_processor")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
        .unwrap()
}

fn processor() -> ClipProcessor {
    ClipProcessor::from_dir(&fixtures()).unwrap()
}

fn chat() -> ChatTokenizer {
    ChatTokenizer::from_dir(&fixtures()).unwrap()
}

/// Max |Δ| between a processed image and transformers' `pixel_values[0]` stored under `key`.
fn max_diff(img: &ClipImage, key: &str) -> f32 {
    let want = WeightIndex::from_files(vec![fixtures().join("expected.safetensors")])
        .unwrap()
        .read_f32(key)
        .unwrap();
    let shape: Vec<usize> = expected()["pixel_shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    assert_eq!(vec![3, img.height, img.width], shape, "{key}");
    assert_eq!(img.pixels.len(), want.len(), "{key}");
    img.pixels
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max)
}

fn process(p: &ClipProcessor, name: &str) -> ClipImage {
    p.process_file(&fixtures().join("images").join(name))
        .unwrap()
}

fn ids(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as u32)
        .collect()
}

#[test]
fn test_preprocessor_config_of_the_fixture_is_read() {
    let p = processor();
    assert_eq!(p.size, ResizeTarget::ShortestEdge(30));
    assert_eq!(p.crop_size, (28, 28));
    assert!(p.do_resize && p.do_center_crop && p.do_rescale && p.do_normalize);
    assert!(
        !p.pad_to_square,
        "llava-hf's CLIPImageProcessor does not pad"
    );
    assert_eq!(p.output_size(45, 37), (28, 28));
}

#[test]
fn test_pixels_exact_without_resize() {
    // a.png: shortest edge already 30, only cropped; e.png: RGBA composited onto white.
    let p = processor();
    for name in ["a.png", "e.png"] {
        let d = max_diff(&process(&p, name), &format!("default.{name}"));
        assert!(d <= 1e-6, "{name}: max |Δ| = {d}");
    }
}

#[test]
fn test_pixels_after_resize_match_pillow_bicubic() {
    // b.png downscaled, c.png upscaled, d.png landscape.
    let p = processor();
    for name in ["b.png", "c.png", "d.png"] {
        let d = max_diff(&process(&p, name), &format!("default.{name}"));
        assert!(d <= 1e-6, "{name}: max |Δ| = {d}");
    }
}

#[test]
fn test_pad_to_square_matches_llava_image_processor() {
    let p = processor().with_pad_to_square(true);
    for name in ["a.png", "b.png", "c.png", "d.png", "e.png"] {
        let d = max_diff(&process(&p, name), &format!("pad.{name}"));
        assert!(d <= 1e-6, "{name}: max |Δ| = {d}");
    }
    // Padding changes the result of a non-square image.
    let plain = process(&processor(), "d.png");
    assert_ne!(process(&p, "d.png").pixels, plain.pixels);
}

#[test]
fn test_process_rgb_rejects_a_wrong_buffer_and_process_file_names_the_file() {
    let p = processor();
    assert!(p.process_rgb(&[0; 10], 2, 2).is_err());
    let missing = fixtures().join("images/missing.png");
    let err = p.process_file(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.png"), "{err}");
}

#[test]
fn test_image_token_count_matches_the_processor_and_config() {
    let exp = expected();
    let p = processor();
    let tokens = ImageTokens::from_dir(&fixtures(), &p).unwrap();
    assert_eq!(tokens.image_token, "<image>");
    let img = process(&p, "b.png");
    assert_eq!(
        tokens.for_image(&img) as u64,
        exp["image_tokens_per_image"].as_u64().unwrap()
    );
}

#[test]
fn test_rendered_prompts_equal_transformers_for_every_template_and_conversation() {
    let exp = expected();
    let base = chat();
    let mut checked = 0;
    for (tname, tpl) in exp["templates"].as_object().unwrap() {
        let mut c = base.clone();
        c.template = rewrite_generation_tags(tpl.as_str().unwrap());
        for (cname, conv) in exp["conversations"].as_object().unwrap() {
            let got = c
                .render(
                    &conv["messages"],
                    conv["add_generation_prompt"].as_bool().unwrap(),
                )
                .unwrap();
            let want = exp["rendered"][tname][cname].as_str().unwrap();
            assert_eq!(got, want, "template {tname}, conversation {cname}");
            checked += 1;
        }
    }
    assert_eq!(checked, 7 * 5);
    // The folder's own template (chat_template.json) is the llava-hf one.
    assert_eq!(
        base.render_user_turn("What is shown in this image?", 1)
            .unwrap(),
        exp["rendered"]["llava_hf"]["one_image"].as_str().unwrap()
    );
}

#[test]
fn test_prompt_ids_equal_llava_processor_with_bos_and_image_expansion() {
    let exp = expected();
    let base = chat();
    let per_image = exp["image_tokens_per_image"].as_u64().unwrap() as usize;
    for case in exp["prompt_ids"].as_array().unwrap() {
        let (tname, cname) = (
            case["template"].as_str().unwrap(),
            case["conversation"].as_str().unwrap(),
        );
        let mut c = base.clone();
        c.template = rewrite_generation_tags(exp["templates"][tname].as_str().unwrap());
        let messages = &exp["conversations"][cname]["messages"];
        let question = messages[0]["content"].as_array().unwrap().last().unwrap()["text"]
            .as_str()
            .unwrap();
        let counts = vec![per_image; case["images"].as_array().unwrap().len()];
        let got = c.prompt_ids(question, "<image>", &counts).unwrap();
        assert_eq!(got, ids(&case["input_ids"]), "{tname} / {cname}");
        // One BOS at the start, also when the template writes it itself.
        let bos = exp["bos_token_id"].as_u64().unwrap() as u32;
        assert_eq!(got[0], bos);
        assert_eq!(got.iter().filter(|&&t| t == bos).count(), 1);
    }
    // Completion: answer without special tokens, then `</s>`.
    let mut comp = base
        .encode(exp["completion"]["text"].as_str().unwrap(), false)
        .unwrap();
    comp.push(base.end_of_turn_id);
    assert_eq!(comp, ids(&exp["completion"]["ids"]));
}

/// A copy of the fixture tokenizer folder with extra `tokenizer_config.json` fields.
fn tokenizer_with(extra: Value) -> (tempfile::TempDir, ChatTokenizer) {
    let dir = tempfile::tempdir().unwrap();
    for f in ["tokenizer.json", "chat_template.json"] {
        std::fs::copy(fixtures().join(f), dir.path().join(f)).unwrap();
    }
    let mut cfg: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    for (k, v) in extra.as_object().unwrap() {
        cfg[k] = v.clone();
    }
    std::fs::write(dir.path().join("tokenizer_config.json"), cfg.to_string()).unwrap();
    let chat = ChatTokenizer::from_dir(dir.path()).unwrap();
    (dir, chat)
}

#[test]
fn test_add_bos_and_add_eos_flags_rebuild_the_post_processor() {
    let plain = chat().encode("How many?", true).unwrap();
    let (_d, no_bos) = tokenizer_with(json!({"add_bos_token": false}));
    assert_eq!(no_bos.encode("How many?", true).unwrap(), plain[1..]);
    let (_d, both) = tokenizer_with(json!({"add_bos_token": true, "add_eos_token": true}));
    let ids = both.encode("How many?", true).unwrap();
    assert_eq!(ids[..ids.len() - 1], plain[..]);
    assert_eq!(*ids.last().unwrap(), both.end_of_turn_id);
    // Without special tokens the flags change nothing.
    assert_eq!(
        both.encode("How many?", false).unwrap(),
        plain[1..].to_vec()
    );
}

/// The JPEG decoder (the `image` crate's zune-jpeg) is not bit-exact with Pillow's
/// libjpeg-turbo: IDCT and chroma-upsampling rounding differ by a few uint8 levels (measured:
/// up to 2 levels on f.jpg, up to 4 on noisier 4:2:0 images, PNG exact). Pinned here so a
/// decoder change that makes it worse is noticed; all families share this decoder.
#[test]
fn test_jpeg_decoding_stays_within_a_few_levels_of_pillow() {
    let p = processor();
    let img = process(&p, "f.jpg");
    let want = WeightIndex::from_files(vec![fixtures().join("expected.safetensors")])
        .unwrap()
        .read_f32("default.f.jpg")
        .unwrap();
    let plane = img.height * img.width;
    let mut worst = 0f64;
    for (i, (a, b)) in img.pixels.iter().zip(&want).enumerate() {
        // Back to uint8 levels: |Δ| · std · 255.
        let levels = (a - b).abs() as f64 * p.image_std[i / plane] * 255.0;
        worst = worst.max(levels);
    }
    assert!(
        worst <= 4.01,
        "f.jpg differs from Pillow by {worst:.2} levels"
    );
}
