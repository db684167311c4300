use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;

use crate::Background;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("background")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Background::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "What lighting does the living room have?",
        "The living room has spot lighting, focused on specific areas.",
    ),
    (
        "What does the background look like?",
        "The background is plain light gray.",
    ),
    (
        "What does the background look like?",
        "The background is plain beige.",
    ),
    (
        "What does the background look like?",
        "The background is plain white.",
    ),
    (
        "What is the weather like in the image?",
        "The weather is sunny with a clear blue sky.",
    ),
    (
        "Is this photo taken indoors or outdoors?",
        "The photo is taken outdoors, in a park.",
    ),
    (
        "What time of day is it?",
        "It appears to be late afternoon, as the sun is low in the sky.",
    ),
    (
        "Where was this photo taken?",
        "This photo was taken in a busy city street.",
    ),
    (
        "What is in the background?",
        "In the background, there are tall buildings and a cloudy sky.",
    ),
];

#[test]
fn paper_example_lighting_becomes_ambient_and_diffuse() {
    assert_eq!(
        rule(EXAMPLES[0].0, EXAMPLES[0].1, 0),
        "The living room has ambient lighting, diffuse on specific areas."
    );
}

#[test]
fn synthetic_background_changes_colour_or_pattern() {
    for (q, a) in &EXAMPLES[1..4] {
        for seed in 0..6 {
            let out = rule(q, a, seed);
            assert!(out.starts_with("The background is "), "{out}");
            assert_eq!(edit_size(a, &out), (0, 1), "{a} -> {out}");
        }
    }
    // Both kinds of edit occur over seeds.
    let outs: Vec<String> = (0..12)
        .map(|s| rule(EXAMPLES[1].0, EXAMPLES[1].1, s))
        .collect();
    assert!(
        outs.iter()
            .any(|o| o.contains("light gray") && !o.contains("plain"))
    );
    assert!(
        outs.iter()
            .any(|o| o.contains("plain") && !o.contains("gray"))
    );
}

#[test]
fn synthetic_gradient_background_changes_a_colour() {
    let a = "The background is a gradient from light blue at the top to white at the bottom.";
    for seed in 0..6 {
        let out = rule("What does the background look like?", a, seed);
        assert!(
            out.starts_with("The background is a gradient from "),
            "{out}"
        );
        assert!(
            !out.contains("light white") && !out.contains("light gray"),
            "{out}"
        );
        assert_eq!(edit_size(a, &out).0, 0, "{out}");
    }
}

#[test]
fn the_question_picks_the_aspect() {
    for seed in 0..6 {
        let out = rule(EXAMPLES[4].0, EXAMPLES[4].1, seed);
        assert!(
            !out.contains("sunny") && out.contains("blue sky"),
            "weather edit: {out}"
        );
        let out = rule(EXAMPLES[5].0, EXAMPLES[5].1, seed);
        assert!(
            out.starts_with("The photo is taken indoors"),
            "setting edit: {out}"
        );
        let out = rule(EXAMPLES[6].0, EXAMPLES[6].1, seed);
        assert!(!out.contains("afternoon"), "time edit: {out}");
    }
}

#[test]
fn object_colours_are_not_background() {
    let err = Background::rule_edit(&sample("What is happening?", "A red car drives by."), 0)
        .unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("says nothing")));
}

#[test]
fn penalty_list_is_respected() {
    let s = sample(EXAMPLES[0].0, EXAMPLES[0].1).with_penalty("ambient lighting");
    for seed in 0..5 {
        let out = Background::rule_edit(&s, seed).unwrap().rejected;
        assert!(!out.contains("ambient"), "{out}");
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
                (1..=4).contains(&ld) && gap <= 2,
                "{a:?} -> {out:?}: gap {gap}, ld {ld}"
            );
            gaps += gap;
            lds += ld;
            n += 1;
        }
    }
    let (mg, ml) = (gaps as f64 / n as f64, lds as f64 / n as f64);
    eprintln!("background: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_scene_questions() {
    let f = |q: &str, a: &str| Background::fit(&sample(q, a));
    for (q, a) in EXAMPLES {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(f("What color is the car?", "The car is red.") < 0.3);
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/background.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Background::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"background\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Background::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
