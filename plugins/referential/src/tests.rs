use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;

use crate::Referential;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("referential")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Referential::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "Describe the burger in the center of the plate.",
        "It is a huge burger with two cheese layers.",
    ),
    (
        "What is the shape in the top-left corner?",
        "The shape in the top-left corner is a small red circle.",
    ),
    (
        "What is the shape in the bottom-right corner?",
        "The shape in the bottom-right corner is a large blue square.",
    ),
    (
        "What is the shape in the center?",
        "The shape in the center is a small green triangle.",
    ),
    (
        "Please provide a short description for this region: [0.12, 0.3, 0.45, 0.88].",
        "A man in a red shirt holding a white frisbee.",
    ),
    (
        "What is the object on the left side of the table?",
        "It is a tall glass vase with yellow flowers.",
    ),
    (
        "Please provide a short description for this region: [0.5, 0.1, 0.9, 0.6].",
        "Two brown horses grazing.",
    ),
];

#[test]
fn paper_example_changes_two_attributes_of_the_burger() {
    for seed in 0..6 {
        let out = rule(EXAMPLES[0].0, EXAMPLES[0].1, seed);
        let (gap, ld) = edit_size(EXAMPLES[0].1, &out);
        assert_eq!((gap, ld), (0, 2), "{out}");
        assert!(
            out.contains("burger") && !out.contains("huge") && !out.contains("two"),
            "{out}"
        );
    }
}

#[test]
fn synthetic_referent_keeps_its_locator_and_changes_attributes() {
    for (q, a) in &EXAMPLES[1..4] {
        for seed in 0..6 {
            let out = rule(q, a, seed);
            let locator: String = a.split(" is a").next().unwrap().to_string();
            assert!(out.starts_with(&format!("{locator} is a")), "{out}");
            assert_eq!(edit_size(a, &out), (0, 2), "{a} -> {out}");
        }
    }
}

#[test]
fn attributes_param_limits_the_changes() {
    let s = sample(EXAMPLES[1].0, EXAMPLES[1].1).with_param("attributes", "1");
    let out = Referential::rule_edit(&s, 0).unwrap().rejected;
    assert_eq!(edit_size(EXAMPLES[1].1, &out), (0, 1), "{out}");
}

#[test]
fn refuses_answers_without_attributes() {
    let err = Referential::rule_edit(
        &sample("What is the thing on the left?", "It is hard to see."),
        0,
    )
    .unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no colour")));
}

#[test]
fn penalty_list_is_respected() {
    let mut s = sample(EXAMPLES[1].0, EXAMPLES[1].1).with_param("attributes", "1");
    for c in ["large", "big"] {
        s = s.with_penalty(c);
    }
    for seed in 0..8 {
        let out = Referential::rule_edit(&s, seed).unwrap().rejected;
        assert!(!out.contains("large") && !out.contains("big"), "{out}");
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
                (1..=3).contains(&ld) && gap <= 1,
                "{a:?} -> {out:?}: gap {gap}, ld {ld}"
            );
            gaps += gap;
            lds += ld;
            n += 1;
        }
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("referential: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_referring_questions() {
    let f = |q: &str, a: &str| Referential::fit(&sample(q, a));
    for (q, a) in EXAMPLES {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(f("What color is the car?", "The car is red.") < 0.3);
    assert!(f("Describe the image.", "A red car on a street.") < 0.3);
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/referential.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Referential::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"referential\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Referential::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
