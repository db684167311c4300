use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;

use crate::Spatial;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("spatial")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Spatial::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

/// (question, answer) pairs: the paper's example, the synthetic world, LLaVA-style answers.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "Where is the man relative to the baby elephant?",
        "The man is standing next to the baby elephant.",
    ),
    (
        "Where is the blue square relative to the green triangle?",
        "The blue square is to the left of the green triangle.",
    ),
    (
        "Where is the red circle relative to the yellow square?",
        "The red circle is above the yellow square.",
    ),
    (
        "Where is the purple triangle relative to the blue circle?",
        "The purple triangle is below the blue circle.",
    ),
    (
        "Where is the green square relative to the red triangle?",
        "The green square is to the right of the red triangle.",
    ),
    (
        "Is the cup to the left or to the right of the plate?",
        "The cup is to the left of the plate.",
    ),
    (
        "Where is the cat located?",
        "The cat is lying on the couch, next to a pillow.",
    ),
    (
        "What is the position of the lamp in relation to the bed?",
        "The lamp is behind the bed, on a small table.",
    ),
    (
        "Where is the dog?",
        "The dog is sitting in front of the fireplace.",
    ),
    (
        "Which side of the picture is the car on?",
        "The car is on the right side of the picture.",
    ),
    (
        "Is the cup to the left of the plate?",
        "Yes, the cup is to the left of the plate.",
    ),
    ("Where are the shoes?", "The shoes are under the bed."),
    (
        "Where is the laptop?",
        "The laptop is on top of the desk, near the window.",
    ),
    ("Where is the bird?", "The bird is inside the cage."),
];

#[test]
fn paper_example_next_to_becomes_far_from() {
    let out = rule(EXAMPLES[0].0, EXAMPLES[0].1, 0);
    assert_eq!(out, "The man is standing far from the baby elephant.");
}

#[test]
fn synthetic_relations_flip_to_their_opposites() {
    assert_eq!(
        rule(EXAMPLES[1].0, EXAMPLES[1].1, 3),
        "The blue square is to the right of the green triangle."
    );
    assert_eq!(
        rule(EXAMPLES[2].0, EXAMPLES[2].1, 3),
        "The red circle is below the yellow square."
    );
    assert_eq!(
        rule(EXAMPLES[3].0, EXAMPLES[3].1, 3),
        "The purple triangle is above the blue circle."
    );
    assert_eq!(
        rule(EXAMPLES[4].0, EXAMPLES[4].1, 3),
        "The green square is to the left of the red triangle."
    );
}

#[test]
fn polar_answer_flips_yes_no_with_the_relation() {
    assert_eq!(
        rule(EXAMPLES[10].0, EXAMPLES[10].1, 1),
        "No, the cup is to the right of the plate."
    );
    assert_eq!(
        rule("Is the cup to the left of the plate?", "Yes.", 1),
        "No."
    );
}

#[test]
fn clear_relations_win_over_weak_ones() {
    // "on the couch" is a weak relation; "next to" is the one to contradict.
    for seed in 0..10 {
        let out = rule(EXAMPLES[6].0, EXAMPLES[6].1, seed);
        assert_eq!(
            out, "The cat is lying on the couch, far from a pillow.",
            "seed {seed}"
        );
    }
    assert_eq!(
        rule(EXAMPLES[11].0, EXAMPLES[11].1, 0),
        "The shoes are above the bed."
    );
    assert_eq!(
        rule(EXAMPLES[13].0, EXAMPLES[13].1, 0),
        "The bird is outside the cage."
    );
}

#[test]
fn every_occurrence_of_the_relation_changes_and_case_is_kept() {
    let a = "Left of the door is a plant; the lamp is also left of the door.";
    assert_eq!(
        rule("Where is the plant?", a, 0),
        "Right of the door is a plant; the lamp is also right of the door."
    );
}

#[test]
fn penalty_list_is_respected() {
    let s = sample(EXAMPLES[0].0, EXAMPLES[0].1).with_penalty("far from");
    let err = Spatial::rule_edit(&s, 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("penalty")));
    // "far from" may become "next to" or "close to"; banning one leaves the other.
    let s = sample("Where is the boat?", "The boat is far from the shore.").with_penalty("next to");
    for seed in 0..8 {
        assert_eq!(
            Spatial::rule_edit(&s, seed).unwrap().rejected,
            "The boat is close to the shore."
        );
    }
}

#[test]
fn refuses_answers_without_a_relation() {
    let err =
        Spatial::rule_edit(&sample("Where is the cat?", "It is a tabby cat."), 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no spatial relation")));
}

#[test]
fn same_seed_same_edit() {
    for (q, a) in EXAMPLES {
        assert_eq!(rule(q, a, 42), rule(q, a, 42));
    }
}

#[test]
fn edits_are_small_and_means_meet_the_paper_profile() {
    let (mut gaps, mut lds) = (0usize, 0usize);
    let mut n = 0;
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
    eprintln!("spatial: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_relation_questions() {
    let f = |q: &str, a: &str| Spatial::fit(&sample(q, a));
    assert!(f(EXAMPLES[1].0, EXAMPLES[1].1) >= 0.9);
    assert!(
        f(
            "Which side of the picture is the car on?",
            "The car is on the right side."
        ) >= 0.9
    );
    assert!(f("Where was this photo taken?", "In a kitchen.") < 0.5);
    assert!(f("What color is the car?", "The car is red.") < 0.1);
    // A relation question whose answer states no relation: half weight.
    assert!(
        f(
            "What is the vehicle to the left of the man?",
            "The vehicle is a truck."
        ) < 0.5
    );
}

#[test]
fn parse_reply_cleans_and_refuses() {
    let s = sample(EXAMPLES[1].0, EXAMPLES[1].1).with_penalty("above");
    let e = Spatial::parse_reply(
        "Rejected answer: \"The blue square is to the right of the green triangle.\"",
        &s,
    )
    .unwrap();
    assert_eq!(
        e.rejected,
        "The blue square is to the right of the green triangle."
    );
    assert!(matches!(
        Spatial::parse_reply(EXAMPLES[1].1, &s),
        Err(PluginError::BadReply(_))
    ));
    let banned = Spatial::parse_reply("The blue square is above the green triangle.", &s);
    assert!(matches!(banned, Err(PluginError::BadReply(m)) if m.contains("above")));
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/spatial.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Spatial::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"spatial\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Spatial::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
