use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;

use crate::Size;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("size")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Size::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "How big is the dog compared with the child?",
        "The dog is large, probably a big breed or an adult dog.",
    ),
    (
        "How big is the red circle compared with the blue square?",
        "The red circle is larger than the blue square.",
    ),
    (
        "How big is the green triangle compared with the yellow circle?",
        "The green triangle is smaller than the yellow circle.",
    ),
    (
        "How big is the blue square compared with the red triangle?",
        "The blue square is the same size as the red triangle.",
    ),
    (
        "Is the giraffe taller than the tree?",
        "No, the giraffe is shorter than the tree.",
    ),
    (
        "What size is the pizza?",
        "The pizza is large and takes up most of the table.",
    ),
    (
        "How tall is the building?",
        "The building is very tall, towering over the small houses around it.",
    ),
    ("How long is the woman's hair?", "The woman has short hair."),
    (
        "How big is the elephant?",
        "The elephant is huge compared with the people next to it.",
    ),
];

#[test]
fn paper_example_flips_the_size_and_its_explanation() {
    let out = rule(EXAMPLES[0].0, EXAMPLES[0].1, 0);
    assert_eq!(
        out,
        "The dog is small, probably a small breed or a young dog."
    );
}

#[test]
fn synthetic_comparisons_flip() {
    assert_eq!(
        rule(EXAMPLES[1].0, EXAMPLES[1].1, 0),
        "The red circle is smaller than the blue square."
    );
    let out = rule(EXAMPLES[2].0, EXAMPLES[2].1, 0);
    assert!(
        out == "The green triangle is larger than the yellow circle."
            || out == "The green triangle is bigger than the yellow circle."
    );
    let out = rule(EXAMPLES[3].0, EXAMPLES[3].1, 0);
    assert!(
        out == "The blue square is larger than the red triangle."
            || out == "The blue square is smaller than the red triangle.",
        "{out}"
    );
}

#[test]
fn polar_answers_flip_consistently() {
    assert_eq!(
        rule(EXAMPLES[4].0, EXAMPLES[4].1, 0),
        "Yes, the giraffe is taller than the tree."
    );
}

#[test]
fn short_means_long_or_tall_by_context() {
    assert_eq!(
        rule(EXAMPLES[7].0, EXAMPLES[7].1, 0),
        "The woman has long hair."
    );
    assert_eq!(rule("How tall is he?", "He is short.", 0), "He is tall.");
}

#[test]
fn the_answer_and_its_explanation_flip_together() {
    let out = rule(EXAMPLES[6].0, EXAMPLES[6].1, 0);
    assert!(
        out.starts_with("The building is very short, towering over the ") && !out.contains("small"),
        "{out}"
    );
    assert_eq!(
        rule("Is the dog big?", "Yes, the dog is big.", 0),
        "No, the dog is small."
    );
}

#[test]
fn max_size_edits_param_caps_the_flips() {
    let s = sample(EXAMPLES[0].0, EXAMPLES[0].1).with_param("max-size-edits", "1");
    assert_eq!(
        Size::rule_edit(&s, 0).unwrap().rejected,
        "The dog is small, probably a big breed or an adult dog."
    );
    let bad = sample(EXAMPLES[0].0, EXAMPLES[0].1).with_param("max-size-edits", "many");
    assert!(matches!(
        Size::rule_edit(&bad, 0),
        Err(PluginError::InvalidInput(_))
    ));
}

#[test]
fn penalty_list_is_respected() {
    let s = sample("How big is the mouse?", "The mouse is tiny.").with_penalty("huge");
    for seed in 0..5 {
        assert_eq!(
            Size::rule_edit(&s, seed).unwrap().rejected,
            "The mouse is large."
        );
    }
    let s = s.with_penalty("large");
    assert!(
        matches!(Size::rule_edit(&s, 0), Err(PluginError::Refused(m)) if m.contains("penalty"))
    );
}

#[test]
fn refuses_answers_without_size_words() {
    let err = Size::rule_edit(&sample("How big is it?", "It is a dog."), 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no size word")));
}

#[test]
fn edits_are_small_and_means_meet_the_paper_profile() {
    let (mut gaps, mut lds, mut n) = (0, 0, 0);
    for (q, a) in EXAMPLES {
        for seed in 0..4 {
            let out = rule(q, a, seed);
            let (gap, ld) = edit_size(a, &out);
            assert!(
                (1..=4).contains(&ld) && gap <= 2,
                "{a:?} -> {out:?}: gap {gap}, ld {ld}"
            );
            gaps += gap;
            lds += ld;
            n += 1;
        }
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("size: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_size_questions() {
    let f = |q: &str, a: &str| Size::fit(&sample(q, a));
    for (q, a) in EXAMPLES {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(
        f(
            "What color is the small triangle?",
            "The small triangle is red."
        ) < 0.5
    );
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/size.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Size::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"size\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Size::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
