//! The controls on real synthetic scenes: every answer parses, the facts hold of the
//! scene, the falsified facts do not, and each set carries its bias.

use vapr_core::Category;
use vapr_data::synth::scene::{Background, Object, Scene, Shape, Size};
use vapr_data::synth::train_scene;
use vapr_text::{levenshtein_words, token_count};

use super::facts::{Facts, Item, Relation, SizeCmp};
use super::{Bias, control, same_wording};

const SEED: u64 = 17;
const SCENES: usize = 150;

/// (id, category, answer, scene) of the training questions of the first scenes.
fn samples() -> Vec<(String, Category, String, Scene)> {
    let mut out = Vec::new();
    for i in 0..SCENES {
        let (scene, qas, _) = train_scene(SEED, i);
        for qa in qas {
            let id = format!("synth-{i:06}-{}#0", qa.category);
            out.push((id, qa.category, qa.answer, scene.clone()));
        }
    }
    out
}

/// The one object a name like "red circle", "small red circle", "red" (with `object`
/// dropped), "small triangle" denotes.
fn resolve<'a>(scene: &'a Scene, name: &str) -> &'a Object {
    let mut size = None;
    let mut color = None;
    let mut shape = None;
    for word in name.split(' ') {
        if let Some(s) = [Size::Small, Size::Large]
            .into_iter()
            .find(|s| s.name() == word)
        {
            size = Some(s);
        } else if let Some(c) = vapr_data::synth::scene::Color::ALL
            .into_iter()
            .find(|c| c.name() == word)
        {
            color = Some(c);
        } else if let Some(s) = Shape::ALL.into_iter().find(|s| s.name() == word) {
            shape = Some(s);
        } else {
            panic!("unknown word `{word}` in `{name}`");
        }
    }
    let found = scene.matching(color, shape, size);
    assert_eq!(found.len(), 1, "`{name}` names {} objects", found.len());
    found[0]
}

fn count_item(scene: &Scene, item: Item) -> u64 {
    match item {
        Item::Shape(s) => scene.count(None, Some(s)) as u64,
        Item::Color(c) => scene.count(Some(c), None) as u64,
    }
}

/// Whether everything `facts` states is true of `scene`.
fn holds(facts: &Facts, scene: &Scene) -> bool {
    match facts {
        Facts::Counting { n, color, shape } => scene.count(Some(*color), Some(*shape)) as u64 == *n,
        Facts::Spatial { a, relation, b } => {
            let ((ar, ac), (br, bc)) = (
                resolve(scene, a).cell.row_col(),
                resolve(scene, b).cell.row_col(),
            );
            match relation {
                Relation::LeftOf => ar == br && ac < bc,
                Relation::RightOf => ar == br && ac > bc,
                Relation::Above => ac == bc && ar < br,
                Relation::Below => ac == bc && ar > br,
            }
        }
        Facts::Object { desc, shape } => resolve(scene, desc).shape == *shape,
        Facts::Color { desc, color } => resolve(scene, desc).color == *color,
        Facts::Size { a, cmp, b } => {
            SizeCmp::of(resolve(scene, a).size, resolve(scene, b).size) == *cmp
        }
        Facts::Background(b) => scene.background == *b,
        Facts::Existence { yes, color, shape } => {
            (scene.count(Some(*color), Some(*shape)) > 0) == *yes
        }
        Facts::Referential {
            cell,
            size,
            color,
            shape,
        } => scene
            .at(*cell)
            .is_some_and(|o| o.size == *size && o.color == *color && o.shape == *shape),
        Facts::Captioning {
            background,
            objects,
        } => {
            scene.background == *background
                && objects.len() == scene.objects.len()
                && objects.iter().all(|p| {
                    scene.at(p.cell).is_some_and(|o| {
                        o.size == p.size && o.color == p.color && o.shape == p.shape
                    })
                })
        }
        Facts::Reasoning { a, b, na, nb } => {
            count_item(scene, *a) == *na && count_item(scene, *b) == *nb
        }
    }
}

#[test]
fn test_every_synthetic_answer_parses_and_writes_back_in_the_synths_wording() {
    let samples = samples();
    assert_eq!(samples.len(), SCENES * 10);
    for (id, category, answer, _) in &samples {
        let facts = Facts::parse(*category, answer)
            .unwrap_or_else(|| panic!("{id}: `{answer}` does not parse"));
        assert!(
            same_wording(&facts.plain(), answer),
            "{id}: `{}` != `{answer}`",
            facts.plain()
        );
    }
}

#[test]
fn test_parsed_facts_hold_of_the_scene_and_falsified_ones_do_not() {
    for (id, category, answer, scene) in samples() {
        let facts = Facts::parse(category, &answer).unwrap();
        assert!(holds(&facts, &scene), "{id}: `{answer}` should hold");
        for bias in Bias::ALL {
            let c = control(bias, category, &answer, 3, &id).unwrap();
            assert!(
                !holds(&c.wrong, &scene),
                "{id} {}: `{}` is true of the scene",
                bias.name(),
                c.rejected
            );
            assert_ne!(c.wrong, facts, "{id}");
            assert_ne!(c.rejected, answer, "{id}");
        }
    }
}

#[test]
fn test_length_biased_is_the_wrong_sentence_plus_a_clause_and_always_longer() {
    for (id, category, answer, _) in samples() {
        let c = control(Bias::Length, category, &answer, 3, &id).unwrap();
        let core = c.wrong.plain();
        let core = core.strip_suffix('.').unwrap();
        assert!(
            c.rejected.starts_with(&format!("{core}, ")),
            "{id}: `{}` does not extend `{core}`",
            c.rejected
        );
        let (lc, lr) = (token_count(&answer), token_count(&c.rejected));
        assert!(lr >= lc + 10, "{id}: {lc} vs {lr} tokens: `{}`", c.rejected);
    }
}

#[test]
fn test_style_biased_rephrases_instead_of_editing_a_word() {
    let samples = samples();
    let (mut total, mut gap) = (0usize, 0usize);
    for (id, category, answer, _) in &samples {
        let c = control(Bias::Style, *category, answer, 3, id).unwrap();
        gap += token_count(answer).abs_diff(token_count(&c.rejected));
        // Not the synth's sentence with a word swapped: another phrasing of it.
        assert!(!same_wording(&c.rejected, &c.wrong.plain()), "{id}");
        let lev = levenshtein_words(answer, &c.rejected);
        assert!(
            lev >= 3,
            "{id}: distance {lev}: `{answer}` vs `{}`",
            c.rejected
        );
        total += lev;
    }
    let mean = total as f64 / samples.len() as f64;
    assert!(mean >= 8.0, "mean word Levenshtein {mean:.2}");
    // Wording, not length, sets them apart: the lengths stay close.
    let gap = gap as f64 / samples.len() as f64;
    assert!(gap <= 2.5, "mean token gap {gap:.2}");
}

#[test]
fn test_examples_read_as_intended() {
    let c = control(
        Bias::Length,
        Category::Counting,
        "There are three red circles.",
        1,
        "x",
    )
    .unwrap();
    let Facts::Counting { n, .. } = c.wrong else {
        panic!("{:?}", c.wrong)
    };
    assert_ne!(n, 3);
    assert!(c.rejected.starts_with("There "), "{}", c.rejected);
    assert!(c.rejected.contains(" red circle"), "{}", c.rejected);

    let c = control(
        Bias::Length,
        Category::Existence,
        "No, there is no orange square in the image.",
        1,
        "x",
    )
    .unwrap();
    assert!(
        c.rejected
            .starts_with("Yes, there is an orange square in the image, "),
        "{}",
        c.rejected
    );

    let answer = "The background is a gradient from white at the top to light blue at the bottom.";
    let facts = Facts::parse(Category::Background, answer).unwrap();
    let Facts::Background(Background::Gradient { bottom, .. }) = facts else {
        panic!("{facts:?}")
    };
    assert_eq!(bottom.name(), "light blue");
}

#[test]
fn test_same_seed_and_id_give_the_same_control_and_other_seeds_vary() {
    let answer = "The shape in the center is a small purple square.";
    for bias in Bias::ALL {
        let a = control(bias, Category::Referential, answer, 5, "id-1").unwrap();
        let b = control(bias, Category::Referential, answer, 5, "id-1").unwrap();
        assert_eq!(a, b);
        let distinct: std::collections::BTreeSet<String> = (0..20)
            .map(|seed| {
                control(bias, Category::Referential, answer, seed, "id-1")
                    .unwrap()
                    .rejected
            })
            .collect();
        assert!(distinct.len() >= 3, "{}: {distinct:?}", bias.name());
    }
}

#[test]
fn test_answers_outside_the_synthetic_world_get_no_control() {
    for (category, answer) in [
        (Category::Counting, "There are four planes in the sky."),
        (Category::Color, "The flowers are red, green and purple."),
        (
            Category::Existence,
            "Yes, there is a cat sitting on the table.",
        ),
        (
            Category::Spatial,
            "The man is standing next to the baby elephant.",
        ),
        (
            Category::Captioning,
            "A green jet flies over tall buildings.",
        ),
        // A reasoning verdict that its own counts contradict.
        (
            Category::Reasoning,
            "Yes, there are more circles than squares: there is one circle and two squares.",
        ),
    ] {
        for bias in Bias::ALL {
            assert!(
                control(bias, category, answer, 1, "x").is_none(),
                "{answer}"
            );
        }
    }
}
