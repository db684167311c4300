use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;
use vapr_plugin_sdk::text::lexicon;

use crate::Color;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("color")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Color::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

fn colours(text: &str) -> Vec<String> {
    lexicon::colors()
        .sites(text)
        .iter()
        .map(|s| s.entry.phrase.clone())
        .collect()
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "What colors are the flowers in the vase?",
        "The flowers in the vase are red, green, and purple.",
    ),
    (
        "What color is the small triangle?",
        "The small triangle is red.",
    ),
    (
        "What color is the large circle?",
        "The large circle is blue.",
    ),
    (
        "What color is the small square?",
        "The small square is yellow.",
    ),
    ("What color is the man's shirt?", "The man's shirt is blue."),
    (
        "What is the color of the bus?",
        "The bus is yellow with a black stripe.",
    ),
    (
        "What color is the car next to the red truck?",
        "The car next to the red truck is silver.",
    ),
    (
        "What colors are the kites in the sky?",
        "The kites are orange and white.",
    ),
    ("Is the car red?", "Yes, the car is red."),
    ("Is the car red?", "No, the car is blue."),
];

#[test]
fn paper_example_three_colours_become_three_other_distinct_colours() {
    let a = EXAMPLES[0].1;
    for seed in 0..10 {
        let out = rule(EXAMPLES[0].0, a, seed);
        let new = colours(&out);
        assert_eq!(new.len(), 3, "{out}");
        for c in &new {
            assert!(!["red", "green", "purple"].contains(&c.as_str()), "{out}");
        }
        assert!(
            new[0] != new[1] && new[1] != new[2] && new[0] != new[2],
            "{out}"
        );
        assert!(out.starts_with("The flowers in the vase are ") && out.ends_with('.'));
    }
}

#[test]
fn synthetic_colour_changes_to_another_palette_colour() {
    for (q, a) in &EXAMPLES[1..4] {
        for seed in 0..5 {
            let out = rule(q, a, seed);
            let (before, after) = (colours(a), colours(&out));
            assert_eq!(after.len(), 1);
            assert_ne!(before, after);
            assert!(lexicon::COLOR_PALETTE.contains(&after[0].as_str()));
        }
    }
}

#[test]
fn colours_named_by_the_question_stay() {
    for seed in 0..6 {
        let out = rule(EXAMPLES[6].0, EXAMPLES[6].1, seed);
        assert!(
            out.starts_with("The car next to the red truck is ") && !out.contains("silver"),
            "{out}"
        );
    }
    // "with a black stripe" is a second phrase: only the first (the bus colour) changes.
    let out = rule(EXAMPLES[5].0, EXAMPLES[5].1, 0);
    assert!(
        out.ends_with("with a black stripe.") && !out.contains("yellow"),
        "{out}"
    );
}

#[test]
fn polar_answers_stay_consistent() {
    let out = rule(EXAMPLES[8].0, EXAMPLES[8].1, 1);
    assert!(
        out.starts_with("No, the car is ") && !out.contains("red"),
        "{out}"
    );
    assert_eq!(
        rule(EXAMPLES[9].0, EXAMPLES[9].1, 1),
        "Yes, the car is red."
    );
}

#[test]
fn articles_follow_the_new_colour() {
    let s = sample("What color is the umbrella?", "It is a red umbrella.");
    let mut seen_an = false;
    for seed in 0..30 {
        let out = Color::rule_edit(&s, seed).unwrap().rejected;
        if out.contains("orange") {
            assert_eq!(out, "It is an orange umbrella.");
            seen_an = true;
        }
    }
    assert!(seen_an);
}

#[test]
fn penalty_list_is_respected() {
    let mut s = sample(EXAMPLES[1].0, EXAMPLES[1].1);
    // Hues swap among hues: red's substitutes are the other five.
    for c in ["green", "blue", "yellow", "purple"] {
        s = s.with_penalty(c);
    }
    for seed in 0..5 {
        assert_eq!(
            Color::rule_edit(&s, seed).unwrap().rejected,
            "The small triangle is orange."
        );
    }
    let s = s.with_penalty("orange");
    assert!(
        matches!(Color::rule_edit(&s, 0), Err(PluginError::Refused(m)) if m.contains("penalty"))
    );
}

#[test]
fn refuses_answers_without_colours() {
    let err = Color::rule_edit(&sample("What color is it?", "It is hard to tell."), 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no colour")));
}

#[test]
fn edits_are_small_and_means_meet_the_paper_profile() {
    let (mut gaps, mut lds, mut n) = (0, 0, 0);
    for (q, a) in EXAMPLES {
        for seed in 0..4 {
            let out = rule(q, a, seed);
            let (gap, ld) = edit_size(a, &out);
            assert!(
                (1..=3).contains(&ld) && gap == 0,
                "{a:?} -> {out:?}: gap {gap}, ld {ld}"
            );
            gaps += gap;
            lds += ld;
            n += 1;
        }
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("color: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_colour_questions() {
    let f = |q: &str, a: &str| Color::fit(&sample(q, a));
    for (q, a) in EXAMPLES {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(
        f(
            "Is there a green square in the image?",
            "Yes, there is a green square."
        ) < 0.5
    );
    assert!(
        f(
            "How many red circles are there?",
            "There are three red circles."
        ) < 0.5
    );
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/color.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Color::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"color\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Color::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
