use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;

use crate::Reasoning;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("reasoning")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Reasoning::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "Are there more circles than squares?",
        "No, there are fewer circles than squares: there are two circles and three squares.",
    ),
    (
        "Are there more triangles than circles?",
        "Yes, there are more triangles than circles: there are four triangles and one circle.",
    ),
    (
        "Are there more red shapes than blue shapes?",
        "No, there are as many red shapes as blue shapes: there are two of each.",
    ),
    (
        "Why might the man be holding an umbrella?",
        "The man is likely holding the umbrella to protect himself from the rain, which suggests the weather is wet.",
    ),
    (
        "What might be the purpose of this design?",
        "The cake has a unique, creative design with detailed decorations, likely made for a special celebration.",
    ),
    (
        "What can be inferred about the people in the image?",
        "The people are likely tourists, as they are taking photos and carrying backpacks.",
    ),
    (
        "What challenges might the cyclist face in this situation?",
        "The cyclist may face difficulty because the road is wet and crowded with cars.",
    ),
    (
        "Is it safe to cross the street now?",
        "No, it is not safe to cross because the traffic light is red.",
    ),
    (
        "Why is the street empty?",
        "The street is empty because it is early in the morning.",
    ),
];

#[test]
fn synthetic_comparison_flips_with_its_counts() {
    assert_eq!(
        rule(EXAMPLES[0].0, EXAMPLES[0].1, 0),
        "Yes, there are more circles than squares: there are four circles and three squares."
    );
    assert_eq!(
        rule(EXAMPLES[1].0, EXAMPLES[1].1, 0),
        "No, there are fewer triangles than circles: there are no triangles and one circle."
    );
}

#[test]
fn synthetic_world_wording_with_zero_and_equal_counts() {
    assert_eq!(
        rule(
            "Are there more circles than squares?",
            "No, there are fewer circles than squares: there are no circles and two squares.",
            0
        ),
        "Yes, there are more circles than squares: there are three circles and two squares."
    );
    assert_eq!(
        rule(
            "Are there more circles than squares?",
            "No, there are as many circles as squares: there are two circles and two squares.",
            0
        ),
        "Yes, there are more circles than squares: there are three circles and two squares."
    );
}

#[test]
fn counts_change_minimally_to_back_the_flipped_comparison() {
    assert_eq!(
        rule(
            "Are there more purple shapes than orange shapes?",
            "Yes, there are more purple shapes than orange shapes: there is one purple shape and no orange shapes.",
            0
        ),
        "No, there are fewer purple shapes than orange shapes: there is one purple shape and two orange shapes."
    );
}

#[test]
fn the_cheaper_count_changes() {
    // Raising "one green shape" would change count, noun and verb; lowering the other
    // count changes two words.
    assert_eq!(
        rule(
            "Are there more green shapes than orange shapes?",
            "No, there are as many green shapes as orange shapes: there is one green shape and one orange shape.",
            0
        ),
        "Yes, there are more green shapes than orange shapes: there is one green shape and no orange shapes."
    );
}

#[test]
fn as_many_becomes_a_strict_comparison() {
    assert_eq!(
        rule(EXAMPLES[2].0, EXAMPLES[2].1, 0),
        "Yes, there are more red shapes than blue shapes: there are two of each."
    );
}

#[test]
fn free_form_explanations_flip_one_or_two_claims() {
    let a = EXAMPLES[3].1;
    for seed in 0..6 {
        let out = rule(EXAMPLES[3].0, a, seed);
        let (gap, ld) = edit_size(a, &out);
        assert!(gap == 0 && (1..=2).contains(&ld), "{out}");
    }
    let short = rule(EXAMPLES[8].0, EXAMPLES[8].1, 0);
    assert_eq!(edit_size(EXAMPLES[8].1, &short).1, 1, "{short}");
    assert!(short.contains("because it is"), "{short}");
}

#[test]
fn hedges_flip_only_when_nothing_else_can() {
    let a = "The people are likely gathered for an outdoor concert, as there is a stage.";
    for seed in 0..6 {
        let out = rule("Why might the people be gathered here?", a, seed);
        assert!(
            out.contains("likely gathered") && out.contains("indoor concert"),
            "{out}"
        );
    }
    assert_eq!(
        rule("What is in the box?", "It is likely a gift.", 0),
        "It is unlikely a gift."
    );
}

#[test]
fn a_negated_conclusion_is_affirmed_with_its_yes_no() {
    assert_eq!(
        rule(EXAMPLES[7].0, EXAMPLES[7].1, 0),
        "Yes, it is safe to cross because the traffic light is red."
    );
}

#[test]
fn refuses_answers_with_nothing_to_reverse() {
    let err = Reasoning::rule_edit(&sample("Why?", "A dog and a cat."), 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no conclusion")));
}

#[test]
fn penalty_list_is_respected() {
    let s = sample(EXAMPLES[8].0, EXAMPLES[8].1)
        .with_penalty("full")
        .with_penalty("crowded");
    for seed in 0..6 {
        let out = Reasoning::rule_edit(&s, seed).unwrap().rejected;
        assert!(!out.contains("full") && !out.contains("crowded"), "{out}");
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
                (1..=7).contains(&ld) && gap <= 2,
                "{a:?} -> {out:?}: gap {gap}, ld {ld}"
            );
            gaps += gap;
            lds += ld;
            n += 1;
        }
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("reasoning: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_reasoning_questions() {
    let f = |q: &str, a: &str| Reasoning::fit(&sample(q, a));
    for (q, a) in &EXAMPLES[..7] {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(f("How many more circles than squares are there?", "One more.") <= 0.5);
    assert!(f("What color is the car?", "The car is red.") == 0.0);
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/reasoning.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Reasoning::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"reasoning\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Reasoning::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
