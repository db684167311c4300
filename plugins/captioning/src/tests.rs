use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::{edit_size, sentence_spans};
use vapr_plugin_sdk::text::{sentence_count, word_strings};

use crate::Captioning;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("captioning")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Captioning::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

const SYNTH: &str = "The image shows three shapes on a light gray background. A large red circle is in the top-left corner. A small blue square is in the center. A small green triangle is at the bottom right.";

const EXAMPLES: &[(&str, &str)] = &[
    ("Describe the image.", SYNTH),
    (
        "Describe the image concisely.",
        "A green jet with white and pink accents drives down the middle of the road between tall buildings.",
    ),
    (
        "What do you think is going on in this snapshot?",
        "A group of people are standing on a beach. Some are holding surfboards, and a red flag flies near the water.",
    ),
    (
        "Write a detailed description of the given image.",
        "The image shows a kitchen with white cabinets. A wooden table stands in the middle of the room. Two chairs are placed next to it.",
    ),
    (
        "Provide a brief description of the given image.",
        "A brown dog runs across a grassy field.",
    ),
    (
        "Describe the image.",
        "The image shows two shapes on a plain white background. A small yellow triangle is in the bottom-left corner. A large purple circle is on the right.",
    ),
];

/// Words changed per sentence (aligned sentences, same token count).
fn changes_per_sentence(a: &str, b: &str) -> Vec<usize> {
    let (sa, sb) = (sentence_spans(a), sentence_spans(b));
    assert_eq!(sa.len(), sb.len());
    sa.iter()
        .zip(&sb)
        .map(|(&(s1, e1), &(s2, e2))| {
            vapr_plugin_sdk::text::levenshtein_words(&a[s1..e1], &b[s2..e2])
        })
        .collect()
}

#[test]
fn synthetic_caption_gets_one_detail_changed_per_sentence() {
    for seed in 0..8 {
        let out = rule("Describe the image.", SYNTH, seed);
        assert_eq!(sentence_count(&out), 4);
        assert_eq!(word_strings(&out).len(), word_strings(SYNTH).len(), "{out}");
        assert_eq!(changes_per_sentence(SYNTH, &out), [1, 1, 1, 1], "{out}");
    }
}

#[test]
fn one_sentence_caption_gets_two_details_changed() {
    for seed in 0..8 {
        let (q, a) = EXAMPLES[1];
        let out = rule(q, a, seed);
        let (gap, ld) = edit_size(a, &out);
        // Two details, plus an article when a/an must follow the new word.
        assert!(gap <= 1 && (2..=3).contains(&ld), "{out}");
    }
}

#[test]
fn edit_count_params() {
    let s = sample("Describe the image.", SYNTH).with_param("max-edits", "2");
    let out = Captioning::rule_edit(&s, 0).unwrap();
    assert_eq!(edit_size(SYNTH, &out.rejected).1, 2);
    assert!(
        out.extra
            .contains(&("details".to_string(), "2".to_string()))
    );
}

#[test]
fn refuses_captions_without_details() {
    let err = Captioning::rule_edit(
        &sample("Describe the image.", "It is hard to say what this is."),
        0,
    )
    .unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no colour")));
}

#[test]
fn penalty_list_is_respected() {
    let mut s = sample("Describe the image.", SYNTH);
    for banned in ["blue", "green", "yellow", "purple", "orange"] {
        s = s.with_penalty(banned);
    }
    for seed in 0..8 {
        let out = Captioning::rule_edit(&s, seed).unwrap().rejected;
        for banned in ["yellow", "purple", "orange"] {
            assert!(!out.contains(banned), "{out}");
        }
    }
}

#[test]
fn edits_are_small_and_means_meet_the_paper_profile() {
    let (mut gaps, mut lds, mut n) = (0, 0, 0);
    for (q, a) in EXAMPLES {
        for seed in 0..4 {
            let out = rule(q, a, seed);
            let (gap, ld) = edit_size(a, &out);
            assert!(
                (2..=6).contains(&ld) && gap <= 3,
                "{a:?} -> {out:?}: gap {gap}, ld {ld}"
            );
            gaps += gap;
            lds += ld;
            n += 1;
        }
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("captioning: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_description_requests() {
    let f = |q: &str, a: &str| Captioning::fit(&sample(q, a));
    for (q, a) in EXAMPLES {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(f("What color is the car?", "The car is red.") == 0.0);
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/captioning.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Captioning::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"captioning\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Captioning::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
