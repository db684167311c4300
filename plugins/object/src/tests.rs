use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::edit_size;
use vapr_plugin_sdk::text::lexicon;

use crate::Object;

fn sample(q: &str, a: &str) -> Sample {
    Sample::new("t#0", q, a).with_category("object")
}

fn rule(q: &str, a: &str, seed: u64) -> String {
    Object::rule_edit(&sample(q, a), seed)
        .unwrap_or_else(|e| panic!("{a:?}: {e}"))
        .rejected
}

/// The word that replaced `from` (first differing token).
fn substitute(a: &str, out: &str) -> (String, String) {
    let (x, y) = (
        vapr_plugin_sdk::text::word_strings(a),
        vapr_plugin_sdk::text::word_strings(out),
    );
    let article = |w: &str| w.eq_ignore_ascii_case("a") || w.eq_ignore_ascii_case("an");
    let i = x
        .iter()
        .zip(&y)
        .position(|(p, q)| p != q && !(article(p) && article(q)))
        .expect("a change");
    (x[i].to_lowercase(), y[i].to_lowercase())
}

const EXAMPLES: &[(&str, &str)] = &[
    (
        "What kind of airplane is shown?",
        "It is a WWII-era plane with a propeller, hanging in a museum.",
    ),
    (
        "What shape is the yellow object?",
        "The yellow object is a circle.",
    ),
    (
        "What shape is the red object?",
        "The red object is a square.",
    ),
    (
        "What shape is the blue object?",
        "The blue object is a triangle.",
    ),
    (
        "What is the man holding?",
        "The man is holding a frisbee in his right hand.",
    ),
    ("What type of animal is this?", "This is a giraffe."),
    (
        "What is the woman eating?",
        "The woman is eating a slice of pizza.",
    ),
    (
        "What vehicle is parked on the street?",
        "A white truck is parked on the street.",
    ),
    (
        "What animals are in the field?",
        "There are several cows grazing in the field.",
    ),
    (
        "What is on the table?",
        "There is a laptop and a cup of coffee on the table.",
    ),
    ("Is this a cat?", "Yes, it is a cat."),
];

#[test]
fn paper_example_changes_the_propeller_not_the_asked_plane() {
    let a = EXAMPLES[0].1;
    for seed in 0..6 {
        let out = rule(EXAMPLES[0].0, a, seed);
        assert!(
            out.contains("WWII-era plane with a") && !out.contains("propeller"),
            "{out}"
        );
        assert!(out.contains("jet engine") || out.contains("rotor"), "{out}");
    }
}

#[test]
fn synthetic_shapes_become_other_shapes() {
    for (q, a) in &EXAMPLES[1..4] {
        for seed in 0..5 {
            let out = rule(q, a, seed);
            let (from, to) = substitute(a, &out);
            let entry = lexicon::objects().get(&from).unwrap();
            assert!(entry.alts.contains(&to), "{from} -> {to}");
            assert_eq!(entry.group, lexicon::objects().get("circle").unwrap().group);
        }
    }
}

#[test]
fn the_asked_about_person_stays_and_the_held_object_changes() {
    for seed in 0..6 {
        let out = rule(EXAMPLES[4].0, EXAMPLES[4].1, seed);
        assert!(out.starts_with("The man is holding a"), "{out}");
        let (from, to) = substitute(EXAMPLES[4].1, &out);
        assert_eq!(from, "frisbee");
        assert!(
            lexicon::objects()
                .get("frisbee")
                .unwrap()
                .alts
                .contains(&to)
        );
    }
}

#[test]
fn plural_nouns_stay_plural_and_articles_agree() {
    let out = rule(EXAMPLES[8].0, EXAMPLES[8].1, 0);
    let (from, to) = substitute(EXAMPLES[8].1, &out);
    assert_eq!(from, "cows");
    assert!(to.ends_with('s') || to == "sheep" || to == "deer", "{to}");
    let out = rule("What is this?", "This is an apple.", 0);
    let (_, to) = substitute("This is an apple.", &out);
    let article = if "aeiou".contains(&to[..1]) {
        "an"
    } else {
        "a"
    };
    assert_eq!(out, format!("This is {article} {to}."));
}

#[test]
fn dog_breeds_become_other_breeds() {
    let out = rule(
        "What kind of dog is in the picture?",
        "It is a golden retriever.",
        0,
    );
    let entry = lexicon::objects().get("golden retriever").unwrap();
    let new = out
        .trim_start_matches("It is ")
        .trim_start_matches("a ")
        .trim_start_matches("an ")
        .trim_end_matches('.');
    assert!(entry.alts.contains(&new.to_string()), "{out}");
}

#[test]
fn all_occurrences_change_together() {
    let a = "A dog sits by the door. The dog looks at two other dogs.";
    let out = rule("What animal is by the door?", a, 0);
    let (_, to) = substitute(a, &out);
    let cap = vapr_plugin_sdk::text::match_case("The", &to);
    assert_eq!(
        out.matches(&format!(" {to} ")).count() + out.matches(&cap).count(),
        2,
        "{out}"
    );
    assert!(!out.contains("dog"), "{out}");
}

#[test]
fn polar_answer_flips_with_the_object() {
    let out = rule(EXAMPLES[10].0, EXAMPLES[10].1, 2);
    assert!(
        out.starts_with("No, it is a") && !out.contains("cat"),
        "{out}"
    );
}

#[test]
fn penalty_list_is_respected() {
    let mut s = sample(
        "What shape is the yellow object?",
        "The yellow object is a circle.",
    );
    // The basic shapes swap among themselves: circle's substitutes are square and triangle.
    s = s.with_penalty("square");
    for seed in 0..5 {
        assert_eq!(
            Object::rule_edit(&s, seed).unwrap().rejected,
            "The yellow object is a triangle."
        );
    }
    let s = s.with_penalty("triangle");
    assert!(
        matches!(Object::rule_edit(&s, 0), Err(PluginError::Refused(m)) if m.contains("penalty"))
    );
}

#[test]
fn refuses_answers_without_known_objects() {
    let err = Object::rule_edit(&sample("What is this?", "It is hard to tell."), 0).unwrap_err();
    assert!(matches!(err, PluginError::Refused(m) if m.contains("no object")));
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
    eprintln!("object: {n} edits, mean token gap {mg:.2}, mean word Levenshtein {ml:.2}");
    assert!(mg <= 3.0 && ml <= 6.0);
}

#[test]
fn fit_prefers_object_questions() {
    let f = |q: &str, a: &str| Object::fit(&sample(q, a));
    for (q, a) in &EXAMPLES[..10] {
        assert!(f(q, a) >= 0.8, "{q}: {}", f(q, a));
    }
    assert!(f("What color is the car?", "The car is red.") < 0.5);
    assert!(f("How many dogs are there?", "There are two dogs.") < 0.5);
}

#[test]
fn parse_reply_cleans_and_refuses() {
    let s = sample(EXAMPLES[1].0, EXAMPLES[1].1);
    assert_eq!(
        Object::parse_reply("```\nThe yellow object is a square.\n```", &s)
            .unwrap()
            .rejected,
        "The yellow object is a square."
    );
    assert!(matches!(
        Object::parse_reply("  ", &s),
        Err(PluginError::BadReply(_))
    ));
}

#[test]
fn prompt_template_fills_with_optional_penalty_and_feedback() {
    let template = include_str!("../../../configs/prompts/object.txt");
    let (q, a) = ("Question text?", "Answer text.");
    let p = Object::build_prompt(template, &sample(q, a)).unwrap();
    assert!(
        p.contains("Question: Question text?\nCorrect answer: Answer text.\n"),
        "{p}"
    );
    assert!(p.contains("task type \"object\""));
    assert!(!p.contains("Never use") && !p.contains("previous edit"));
    let s = sample(q, a)
        .with_penalty("blue")
        .with_penalty("two")
        .with_feedback("the length gap is 5 tokens");
    let p = Object::build_prompt(template, &s).unwrap();
    assert!(
        p.contains("Never use any of these substitutes: blue, two."),
        "{p}"
    );
    assert!(
        p.contains("Your previous edit was rejected: the length gap is 5 tokens"),
        "{p}"
    );
}
