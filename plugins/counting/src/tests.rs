use std::collections::BTreeSet;

use vapr_plugin_sdk::prelude::*;

use crate::Counting;

fn sample(answer: &str) -> Sample {
    Sample::new("t#0", "How many cats are on the sofa?", answer).with_category("counting")
}

/// Every rejected answer the rule mode writes for `answer` over 64 seeds.
fn outputs(answer: &str) -> BTreeSet<String> {
    (0..64)
        .map(|seed| {
            Counting::rule_edit(&sample(answer), seed)
                .unwrap_or_else(|e| panic!("{answer:?}: {e}"))
                .rejected
        })
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The bug report: "There is one blue triangle." became "There are three blues triangle."
/// The noun takes the number, the colour word does not.
#[test]
fn singular_to_plural_pluralises_the_noun_not_the_colour() {
    assert_eq!(
        outputs("There is one blue triangle."),
        set(&[
            "There are no blue triangles.",
            "There are two blue triangles.",
            "There are three blue triangles.",
        ])
    );
}

/// Realistic answers and every rejected answer they may get (max-delta 2): count, noun
/// and verb agree (is/are, was/were, there's, subject verbs, relative clauses), zero is
/// offered only where `no`/`none` reads as English.
#[test]
fn every_rejected_answer_is_grammatical_on_a_table_of_answers() {
    let table: &[(&str, &[&str])] = &[
        (
            "There are three red circles.",
            &[
                "There is one red circle.",
                "There are two red circles.",
                "There are four red circles.",
                "There are five red circles.",
            ],
        ),
        (
            "There are two small orange squares.",
            &[
                "There are no small orange squares.",
                "There is one small orange square.",
                "There are three small orange squares.",
                "There are four small orange squares.",
            ],
        ),
        (
            "There are 3 dogs on the grass.",
            &[
                "There is 1 dog on the grass.",
                "There are 2 dogs on the grass.",
                "There are 4 dogs on the grass.",
                "There are 5 dogs on the grass.",
            ],
        ),
        (
            "There's one cat on the sofa.",
            &[
                "There are no cats on the sofa.",
                "There are two cats on the sofa.",
                "There are three cats on the sofa.",
            ],
        ),
        (
            "Two people are standing near the bus.",
            &[
                "No people are standing near the bus.",
                "One person is standing near the bus.",
                "Three people are standing near the bus.",
                "Four people are standing near the bus.",
            ],
        ),
        (
            "I can see four planes in the sky.",
            &[
                "I can see two planes in the sky.",
                "I can see three planes in the sky.",
                "I can see five planes in the sky.",
                "I can see six planes in the sky.",
            ],
        ),
        (
            "The three cats are asleep.",
            &[
                "The one cat is asleep.",
                "The two cats are asleep.",
                "The four cats are asleep.",
                "The five cats are asleep.",
            ],
        ),
        (
            "There are exactly two dogs.",
            &[
                "There is exactly one dog.",
                "There are exactly three dogs.",
                "There are exactly four dogs.",
            ],
        ),
        (
            "There is one strawberry on the plate.",
            &[
                "There are no strawberries on the plate.",
                "There are two strawberries on the plate.",
                "There are three strawberries on the plate.",
            ],
        ),
        (
            "There were 2 boxes.",
            &[
                "There were no boxes.",
                "There was 1 box.",
                "There were 3 boxes.",
                "There were 4 boxes.",
            ],
        ),
        (
            "Yes, there are two cats and one dog.",
            &[
                "Yes, there are no cats and one dog.",
                "Yes, there is one cat and one dog.",
                "Yes, there are three cats and one dog.",
                "Yes, there are four cats and one dog.",
            ],
        ),
        (
            "These two cats are asleep.",
            &[
                "These three cats are asleep.",
                "These four cats are asleep.",
            ],
        ),
        (
            "2 cats are here.",
            &[
                "No cats are here.",
                "1 cat is here.",
                "3 cats are here.",
                "4 cats are here.",
            ],
        ),
        ("Two.", &["None.", "One.", "Three.", "Four."]),
        ("3", &["1", "2", "4", "5"]),
    ];
    for (answer, want) in table {
        assert_eq!(outputs(answer), set(want), "{answer}");
    }
}

/// The bug report: zero counts were refused ("contains no count"). They get a non-zero
/// count with agreement.
#[test]
fn zero_counts_get_a_non_zero_count_with_agreement() {
    let table: &[(&str, &[&str])] = &[
        (
            "There are no red circles.",
            &["There is one red circle.", "There are two red circles."],
        ),
        (
            "There is no green square in the image.",
            &[
                "There is one green square in the image.",
                "There are two green squares in the image.",
            ],
        ),
        (
            "No cats are on the sofa.",
            &["One cat is on the sofa.", "Two cats are on the sofa."],
        ),
        (
            "None of the circles are red.",
            &["One of the circles is red.", "Two of the circles are red."],
        ),
        (
            "There are zero cars in the lot.",
            &[
                "There is one car in the lot.",
                "There are two cars in the lot.",
            ],
        ),
        (
            "There are 0 cats.",
            &["There is 1 cat.", "There are 2 cats."],
        ),
        ("There are none.", &["There is one.", "There are two."]),
        ("None.", &["One.", "Two."]),
    ];
    for (answer, want) in table {
        assert_eq!(outputs(answer), set(want), "{answer}");
    }
}

#[test]
fn rule_edit_is_deterministic_per_seed_and_varies_across_seeds() {
    let s = sample("Five.");
    let a = Counting::rule_edit(&s, 1).unwrap().rejected;
    assert_eq!(a, Counting::rule_edit(&s, 1).unwrap().rejected);
    assert_eq!(
        outputs("Five."),
        set(&["Three.", "Four.", "Six.", "Seven."])
    );
}

#[test]
fn penalty_and_params_are_respected() {
    let s = sample("2")
        .with_penalty("0")
        .with_penalty("1")
        .with_penalty("3")
        .with_penalty("four")
        .with_param("max-delta", "2");
    assert!(matches!(
        Counting::rule_edit(&s, 0),
        Err(PluginError::Refused(_))
    ));
    // Banning "no" bans the zero written as "no".
    let no = sample("There are two cats.").with_penalty("no");
    for seed in 0..32 {
        let r = Counting::rule_edit(&no, seed).unwrap().rejected;
        assert!(!r.contains(" no "), "{r}");
    }
    let bad = sample("2").with_param("max-delta", "many");
    assert!(matches!(
        Counting::rule_edit(&bad, 0),
        Err(PluginError::InvalidInput(_))
    ));
}

#[test]
fn refuses_answers_without_a_count() {
    for answer in [
        "The one on the left is red.",
        "No, the cup is empty.",
        "There is no doubt about it.",
        "No one is there.",
    ] {
        let e = Counting::rule_edit(&sample(answer), 0).unwrap_err();
        assert_eq!(
            e,
            PluginError::Refused("the answer contains no count".into()),
            "{answer}"
        );
    }
}

#[test]
fn edits_record_what_changed() {
    let e = Counting::rule_edit(&sample("There is one blue triangle."), 3).unwrap();
    let m = e.extra.iter().find(|(k, _)| k == "replacement").unwrap();
    assert!(["0", "2", "3"].contains(&m.1.as_str()), "{e:?}");
    assert!(
        e.note.as_deref().unwrap().contains("triangle -> triangles"),
        "{e:?}"
    );
}

#[test]
fn parse_reply_requires_a_changed_count() {
    let s = sample("There are three cats.");
    assert!(matches!(
        Counting::parse_reply("There are three dogs.", &s),
        Err(PluginError::BadReply(_))
    ));
    assert!(matches!(
        Counting::parse_reply("Some cats.", &s),
        Err(PluginError::BadReply(_))
    ));
    let ok = Counting::parse_reply("Answer: There are 4 cats.", &s).unwrap();
    assert_eq!(ok.rejected, "There are 4 cats.");
    // Zero is a count in replies too.
    let zero = Counting::parse_reply("There are no cats.", &s).unwrap();
    assert_eq!(zero.rejected, "There are no cats.");
    let from_zero = Counting::parse_reply("There are two cats.", &sample("There are no cats."));
    assert!(from_zero.is_ok());
}

#[test]
fn fit_prefers_count_questions() {
    assert!(Counting::fit(&sample("Three.")) > 0.95);
    assert!(Counting::fit(&sample("There are no cats on the sofa.")) > 0.95);
    let other = Sample::new("x", "What colour is the car?", "It is red.");
    assert_eq!(Counting::fit(&other), 0.0);
    let existence = Sample::new("x", "Is there a dog?", "No, there is no dog.");
    assert_eq!(Counting::fit(&existence), 0.0);
}
