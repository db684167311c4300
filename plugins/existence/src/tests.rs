use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;

use crate::Existence;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("existence")
}

fn rule(q: &str, a: &str) -> String {
    Existence::rule_edit(&sample(q, a), 0)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

/// (question, answer, expected rejected answer).
const EXAMPLES: &[(&str, &str, &str)] = &[
    (
        "Does the signal say it is OK to walk?",
        "Yes, it is safe to walk.",
        "No, it is not safe to walk.",
    ),
    (
        "Is there a green square in the image?",
        "Yes, there is a green square in the image.",
        "No, there is no green square in the image.",
    ),
    (
        "Is there a green square in the image?",
        "No, there is no green square in the image.",
        "Yes, there is a green square in the image.",
    ),
    (
        "Is there an orange circle in the image?",
        "No, there is no orange circle in the image.",
        "Yes, there is an orange circle in the image.",
    ),
    (
        "Are there any people in the picture?",
        "No, there are no people in the picture.",
        "Yes, there are some people in the picture.",
    ),
    (
        "Do you see a dog in the image?",
        "Yes, there is a dog lying on the grass.",
        "No, there is no dog lying on the grass.",
    ),
    ("Is the man wearing a hat?", "Yes", "No"),
    ("Is the man wearing a hat?", "No.", "Yes."),
    (
        "Is the man wearing a hat?",
        "Yes, the man is wearing a red cap.",
        "No, the man is not wearing a red cap.",
    ),
    ("Is the light on?", "No, it isn't.", "Yes, it is."),
    (
        "Can you see the ocean?",
        "Yes, I can see the ocean in the distance.",
        "No, I cannot see the ocean in the distance.",
    ),
    (
        "Is there a cat?",
        "There is a cat on the sofa.",
        "There is no cat on the sofa.",
    ),
    (
        "Is the door open?",
        "No, the door is closed. It has a brass handle.",
        "Yes, the door is not closed. It has a brass handle.",
    ),
];

#[test]
fn paper_and_synthetic_examples_flip_with_a_consistent_justification() {
    for (q, a, want) in EXAMPLES {
        assert_eq!(rule(q, a), *want, "{a}");
    }
}

#[test]
fn rule_is_seed_independent() {
    let s = sample(EXAMPLES[1].0, EXAMPLES[1].1);
    let a = Existence::rule_edit(&s, 1).unwrap().rejected;
    assert_eq!(a, Existence::rule_edit(&s, 99).unwrap().rejected);
}

#[test]
fn refuses_answers_with_nothing_to_flip() {
    let err = Existence::rule_edit(&sample("What is it?", "A small dog."), 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no yes/no")));
}

#[test]
fn parse_reply_requires_the_polarity_to_flip() {
    let s = sample(EXAMPLES[1].0, EXAMPLES[1].1);
    let e = Existence::parse_reply("\"No, there is no green square in the image.\"", &s).unwrap();
    assert_eq!(e.rejected, "No, there is no green square in the image.");
    let kept = Existence::parse_reply("Yes, there is a blue square in the image.", &s);
    assert!(matches!(kept, Err(PluginError::BadReply(m)) if m.contains("keeps")));
    let dropped = Existence::parse_reply("There is no green square in the image.", &s);
    assert!(matches!(dropped, Err(PluginError::BadReply(m)) if m.contains("drops")));
}

#[test]
fn edits_are_small_and_means_meet_the_paper_profile() {
    let (mut gaps, mut lds, mut n) = (0, 0, 0);
    for (q, a, _) in EXAMPLES {
        let out = rule(q, a);
        let (gap, ld) = edit_size(a, &out);
        assert!(
            (1..=3).contains(&ld) && gap <= 1,
            "{a:?} -> {out:?}: gap {gap}, ld {ld}"
        );
        gaps += gap;
        lds += ld;
        n += 1;
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("existence: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_existence_questions() {
    let f = |q: &str, a: &str| Existence::fit(&sample(q, a));
    for (q, a, _) in EXAMPLES {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(
        f(
            "Are there more circles than squares?",
            "No, there are fewer circles."
        ) <= 0.4
    );
    assert!(f("How many dogs are there?", "There are two dogs.") <= 0.4);
    assert!(f("What color is the car?", "The car is red.") == 0.0);
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/existence.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Existence::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"existence\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Existence::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
