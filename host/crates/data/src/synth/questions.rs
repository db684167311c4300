//! Questions about a scene with ground-truth answers, worded as in
//! `notes/synth-style.md` (the contract with the rule-mode plugins): one natural-sentence
//! training question per category, and for the held-out split one binary (yes/no) and one
//! short-answer question per category with candidate answers for likelihood ranking.
//!
//! Every generator returns `None` when the scene cannot support an unambiguous question
//! (e.g. two identical objects); the caller then samples another scene.

use vapr_core::Category;
use vapr_text::edit::indefinite_article;
use vapr_text::{SeededRng, number_to_words};

use super::scene::{Background, Cell, Color, MAX_OBJECTS, Object, Scene, Shape, Size, Tint};

/// A training question with its full-sentence answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qa {
    pub category: Category,
    pub question: String,
    pub answer: String,
}

/// Kind of an evaluation question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EvalKind {
    Binary,
    Short,
}

/// An evaluation question: `answer` is one of `candidates`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalQa {
    pub category: Category,
    pub kind: EvalKind,
    pub question: String,
    pub answer: String,
    pub candidates: Vec<String>,
}

/// One training question per category, or `None` if the scene cannot support them all.
pub fn training_questions(
    scene: &Scene,
    rng: &mut SeededRng,
    existence_yes: bool,
) -> Option<Vec<Qa>> {
    Category::ALL
        .into_iter()
        .map(|c| training_question(scene, c, rng, existence_yes))
        .collect()
}

/// A binary and a short question per category (binary answers follow `want_yes`, indexed
/// like `Category::ALL`), or `None` if the scene cannot support them all.
pub fn eval_questions(
    scene: &Scene,
    rng: &mut SeededRng,
    want_yes: [bool; 10],
) -> Option<Vec<EvalQa>> {
    let mut out = Vec::with_capacity(20);
    for (c, yes) in Category::ALL.into_iter().zip(want_yes) {
        out.push(binary_question(scene, c, rng, yes)?);
        out.push(short_question(scene, c, rng)?);
    }
    Some(out)
}

fn qa(category: Category, question: String, answer: String) -> Qa {
    Qa {
        category,
        question,
        answer,
    }
}

/// "a red circle", "an orange square": the article follows the sound of the next word.
fn with_article(noun_phrase: &str) -> String {
    format!("{} {noun_phrase}", indefinite_article(noun_phrase))
}

/// `text` with its first letter upper-cased ("an orange circle" → "An orange circle").
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// "three red circles", "one red circle", "no red circles".
fn count_phrase(n: usize, singular: &str, plural: &str) -> String {
    match n {
        0 => format!("no {plural}"),
        1 => format!("one {singular}"),
        n => format!("{} {plural}", number_to_words(n as u64)),
    }
}

/// "red circle" or "small red circle": the shortest unique name (no size if `no_size`).
fn name_of(scene: &Scene, o: &Object, no_size: bool) -> Option<String> {
    if scene.matching(Some(o.color), Some(o.shape), None).len() == 1 {
        Some(format!("{} {}", o.color.name(), o.shape.name()))
    } else if !no_size
        && scene
            .matching(Some(o.color), Some(o.shape), Some(o.size))
            .len()
            == 1
    {
        Some(o.full_name())
    } else {
        None
    }
}

/// Horizontal or vertical relation of `a` to `b` when they share a row or a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    LeftOf,
    RightOf,
    Above,
    Below,
}

impl Relation {
    const ALL: [Relation; 4] = [
        Relation::LeftOf,
        Relation::RightOf,
        Relation::Above,
        Relation::Below,
    ];

    fn phrase(self) -> &'static str {
        match self {
            Relation::LeftOf => "to the left of",
            Relation::RightOf => "to the right of",
            Relation::Above => "above",
            Relation::Below => "below",
        }
    }

    fn between(a: Cell, b: Cell) -> Option<Relation> {
        let ((ar, ac), (br, bc)) = (a.row_col(), b.row_col());
        match (ar == br, ac == bc) {
            (true, false) => Some(if ac < bc {
                Relation::LeftOf
            } else {
                Relation::RightOf
            }),
            (false, true) => Some(if ar < br {
                Relation::Above
            } else {
                Relation::Below
            }),
            _ => None,
        }
    }

    fn opposite(self) -> Relation {
        match self {
            Relation::LeftOf => Relation::RightOf,
            Relation::RightOf => Relation::LeftOf,
            Relation::Above => Relation::Below,
            Relation::Below => Relation::Above,
        }
    }
}

/// Ordered pairs of distinct, uniquely named objects (names without size if `no_size`).
fn named_pairs(scene: &Scene, no_size: bool) -> Vec<(String, &Object, String, &Object)> {
    let mut out = Vec::new();
    for a in &scene.objects {
        for b in &scene.objects {
            if a.cell == b.cell {
                continue;
            }
            if let (Some(na), Some(nb)) = (name_of(scene, a, no_size), name_of(scene, b, no_size)) {
                out.push((na, a, nb, b));
            }
        }
    }
    out
}

fn aligned_pairs(scene: &Scene) -> Vec<(String, String, Relation)> {
    named_pairs(scene, false)
        .into_iter()
        .filter_map(|(na, a, nb, b)| Relation::between(a.cell, b.cell).map(|r| (na, nb, r)))
        .collect()
}

/// (description, object) of objects whose colour (or size and colour) is unique.
fn by_color(scene: &Scene) -> Vec<(String, &Object)> {
    scene
        .objects
        .iter()
        .filter_map(|o| {
            if scene.matching(Some(o.color), None, None).len() == 1 {
                Some((o.color.name().to_string(), o))
            } else if scene.matching(Some(o.color), None, Some(o.size)).len() == 1 {
                Some((format!("{} {}", o.size.name(), o.color.name()), o))
            } else {
                None
            }
        })
        .collect()
}

/// (description, object) of objects whose shape (or size and shape) is unique.
fn by_shape(scene: &Scene) -> Vec<(String, &Object)> {
    scene
        .objects
        .iter()
        .filter_map(|o| {
            if scene.matching(None, Some(o.shape), None).len() == 1 {
                Some((o.shape.name().to_string(), o))
            } else if scene.matching(None, Some(o.shape), Some(o.size)).len() == 1 {
                Some((format!("{} {}", o.size.name(), o.shape.name()), o))
            } else {
                None
            }
        })
        .collect()
}

fn size_word(a: Size, b: Size) -> &'static str {
    match (a, b) {
        (Size::Large, Size::Small) => "larger than",
        (Size::Small, Size::Large) => "smaller than",
        _ => "the same size as",
    }
}

/// A (colour, shape) combination present in the scene, or absent from it.
fn combo(scene: &Scene, rng: &mut SeededRng, present: bool) -> Option<(Color, Shape)> {
    let all: Vec<(Color, Shape)> = Color::ALL
        .into_iter()
        .flat_map(|c| Shape::ALL.into_iter().map(move |s| (c, s)))
        .filter(|&(c, s)| (scene.count(Some(c), Some(s)) > 0) == present)
        .collect();
    rng.choose(&all).copied()
}

/// Things to compare in reasoning questions: shape kinds or colours, with their counts.
fn comparables(scene: &Scene) -> Vec<(String, String, usize)> {
    let mut out: Vec<(String, String, usize)> = Shape::ALL
        .iter()
        .map(|s| {
            (
                s.name().to_string(),
                s.plural().to_string(),
                scene.count(None, Some(*s)),
            )
        })
        .collect();
    for c in Color::ALL {
        let n = scene.count(Some(c), None);
        out.push((
            format!("{} shape", c.name()),
            format!("{} shapes", c.name()),
            n,
        ));
    }
    out
}

fn background_phrase(b: Background) -> String {
    match b {
        Background::Plain(t) => format!("a plain {} background", t.name()),
        Background::Gradient { top, bottom } => {
            format!(
                "a background that fades from {} at the top to {} at the bottom",
                top.name(),
                bottom.name()
            )
        }
    }
}

fn training_question(
    scene: &Scene,
    category: Category,
    rng: &mut SeededRng,
    existence_yes: bool,
) -> Option<Qa> {
    let q = match category {
        Category::Counting => {
            // Mostly present combinations (counts 1..), sometimes an absent one (count 0).
            let present = rng.below(5) != 0;
            let (color, shape) = combo(scene, rng, present).or_else(|| combo(scene, rng, true))?;
            let n = scene.count(Some(color), Some(shape));
            let what = count_phrase(
                n,
                &format!("{} {}", color.name(), shape.name()),
                &format!("{} {}", color.name(), shape.plural()),
            );
            let verb = if n == 1 { "There is" } else { "There are" };
            qa(
                category,
                format!("How many {} {} are there?", color.name(), shape.plural()),
                format!("{verb} {what}."),
            )
        }
        Category::Spatial => {
            let pairs = aligned_pairs(scene);
            let (a, b, rel) = rng.choose(&pairs)?;
            qa(
                category,
                format!("Where is the {a} relative to the {b}?"),
                format!("The {a} is {} the {b}.", rel.phrase()),
            )
        }
        Category::Object => {
            let (desc, o) = rng.choose(&by_color(scene))?.clone();
            qa(
                category,
                format!("What shape is the {desc} object?"),
                format!("The {desc} object is {}.", with_article(o.shape.name())),
            )
        }
        Category::Color => {
            let (desc, o) = rng.choose(&by_shape(scene))?.clone();
            qa(
                category,
                format!("What color is the {desc}?"),
                format!("The {desc} is {}.", o.color.name()),
            )
        }
        Category::Size => {
            let pairs = named_pairs(scene, true);
            let (na, a, nb, b) = rng.choose(&pairs)?;
            qa(
                category,
                format!("How big is the {na} compared with the {nb}?"),
                format!("The {na} is {} the {nb}.", size_word(a.size, b.size)),
            )
        }
        Category::Background => qa(
            category,
            "What does the background look like?".to_string(),
            format!("The background is {}.", scene.background.description()),
        ),
        Category::Existence => {
            let (color, shape) = combo(scene, rng, existence_yes)?;
            let thing = format!("{} {}", color.name(), shape.name());
            let answer = if existence_yes {
                format!("Yes, there is {} in the image.", with_article(&thing))
            } else {
                format!("No, there is no {thing} in the image.")
            };
            qa(
                category,
                format!("Is there {} in the image?", with_article(&thing)),
                answer,
            )
        }
        Category::Referential => {
            let o = rng.choose(&scene.objects)?;
            let place = o.cell.phrase();
            qa(
                category,
                format!("What is the shape {place}?"),
                format!("The shape {place} is {}.", with_article(&o.full_name())),
            )
        }
        Category::Captioning => {
            let n = scene.objects.len();
            let mut answer = format!(
                "The image shows {} on {}.",
                count_phrase(n, "shape", "shapes"),
                background_phrase(scene.background)
            );
            for o in &scene.objects {
                answer.push_str(&format!(
                    " {} is {}.",
                    capitalised(&with_article(&o.full_name())),
                    o.cell.phrase()
                ));
            }
            qa(category, "Describe the image.".to_string(), answer)
        }
        Category::Reasoning => {
            let items = comparables(scene);
            let pairs: Vec<_> = items
                .iter()
                .enumerate()
                .flat_map(|(i, a)| {
                    items
                        .iter()
                        .enumerate()
                        .filter(move |(j, _)| *j != i)
                        .map(move |(_, b)| (a, b))
                })
                // Same kind of thing (shape vs shape, colour vs colour), not both absent.
                .filter(|(a, b)| a.0.ends_with("shape") == b.0.ends_with("shape") && a.2 + b.2 > 0)
                .collect();
            let ((sa, pa, na), (sb, pb, nb)) = *rng.choose(&pairs)?;
            let (na, nb) = (*na, *nb);
            let (verdict, relation) = match na.cmp(&nb) {
                std::cmp::Ordering::Greater => ("Yes", format!("more {pa} than {pb}")),
                std::cmp::Ordering::Less => ("No", format!("fewer {pa} than {pb}")),
                std::cmp::Ordering::Equal => ("No", format!("as many {pa} as {pb}")),
            };
            let verb = if na == 1 { "is" } else { "are" };
            qa(
                category,
                format!("Are there more {pa} than {pb}?"),
                format!(
                    "{verdict}, there are {relation}: there {verb} {} and {}.",
                    count_phrase(na, sa, pa),
                    count_phrase(nb, sb, pb)
                ),
            )
        }
    };
    Some(q)
}

fn yes_no(answer: bool) -> String {
    if answer { "yes" } else { "no" }.to_string()
}

fn binary(category: Category, question: String, answer: bool) -> EvalQa {
    EvalQa {
        category,
        kind: EvalKind::Binary,
        question,
        answer: yes_no(answer),
        candidates: vec!["yes".into(), "no".into()],
    }
}

fn short(
    category: Category,
    question: String,
    answer: String,
    mut candidates: Vec<String>,
) -> EvalQa {
    candidates.sort();
    candidates.dedup();
    debug_assert!(
        candidates.contains(&answer),
        "{question}: {answer} not in {candidates:?}"
    );
    EvalQa {
        category,
        kind: EvalKind::Short,
        question,
        answer,
        candidates,
    }
}

fn count_question(n: usize, color: Color, shape: Shape) -> String {
    if n == 1 {
        format!("Is there exactly one {} {}?", color.name(), shape.name())
    } else {
        format!(
            "Are there exactly {} {} {}?",
            number_to_words(n as u64),
            color.name(),
            shape.plural()
        )
    }
}

fn binary_question(
    scene: &Scene,
    category: Category,
    rng: &mut SeededRng,
    yes: bool,
) -> Option<EvalQa> {
    let q = match category {
        Category::Counting => {
            let (color, shape) = combo(scene, rng, true)?;
            let n = scene.count(Some(color), Some(shape));
            let asked = if yes {
                n
            } else if n == 1 || rng.below(2) == 0 {
                n + 1
            } else {
                n - 1
            };
            binary(category, count_question(asked, color, shape), yes)
        }
        Category::Spatial => {
            let (a, b, rel) = rng.choose(&aligned_pairs(scene))?.clone();
            let asked = if yes { rel } else { rel.opposite() };
            binary(
                category,
                format!("Is the {a} {} the {b}?", asked.phrase()),
                yes,
            )
        }
        Category::Object => {
            let (desc, o) = rng.choose(&by_color(scene))?.clone();
            let others: Vec<Shape> = Shape::ALL.into_iter().filter(|s| *s != o.shape).collect();
            let asked = if yes { o.shape } else { *rng.choose(&others)? };
            binary(
                category,
                format!("Is the {desc} object {}?", with_article(asked.name())),
                yes,
            )
        }
        Category::Color => {
            let (desc, o) = rng.choose(&by_shape(scene))?.clone();
            let others: Vec<Color> = Color::ALL.into_iter().filter(|c| *c != o.color).collect();
            let asked = if yes { o.color } else { *rng.choose(&others)? };
            binary(category, format!("Is the {desc} {}?", asked.name()), yes)
        }
        Category::Size => {
            let pairs = named_pairs(scene, true);
            let differing: Vec<_> = pairs
                .iter()
                .filter(|(_, a, _, b)| a.size != b.size)
                .collect();
            match (yes, rng.choose(&differing)) {
                // Ask "larger" in the true (yes) or false (no) order.
                (_, Some((na, a, nb, _))) => {
                    let is_larger = a.size == Size::Large;
                    let word = if is_larger == yes {
                        "larger"
                    } else {
                        "smaller"
                    };
                    binary(category, format!("Is the {na} {word} than the {nb}?"), yes)
                }
                (_, None) => {
                    let (na, _, nb, _) = rng.choose(&pairs)?;
                    let word = if yes {
                        "the same size as"
                    } else {
                        "larger than"
                    };
                    binary(category, format!("Is the {na} {word} the {nb}?"), yes)
                }
            }
        }
        Category::Background => {
            let question = match (scene.background, yes) {
                (Background::Plain(t), true) => format!("Is the background plain {}?", t.name()),
                (Background::Gradient { .. }, true) => "Is the background a gradient?".to_string(),
                (Background::Plain(_), false) => "Is the background a gradient?".to_string(),
                (Background::Gradient { top, .. }, false) => {
                    format!("Is the background plain {}?", top.name())
                }
            };
            binary(category, question, yes)
        }
        Category::Existence => {
            let (color, shape) = combo(scene, rng, yes)?;
            binary(
                category,
                format!(
                    "Is there {} in the image?",
                    with_article(&format!("{} {}", color.name(), shape.name()))
                ),
                yes,
            )
        }
        Category::Referential => {
            let o = *rng.choose(&scene.objects)?;
            let mut asked = o;
            if !yes {
                match rng.below(3) {
                    0 => {
                        asked.size = if o.size == Size::Small {
                            Size::Large
                        } else {
                            Size::Small
                        }
                    }
                    1 => {
                        asked.color = *rng.choose(
                            &Color::ALL
                                .into_iter()
                                .filter(|c| *c != o.color)
                                .collect::<Vec<_>>(),
                        )?
                    }
                    _ => {
                        asked.shape = *rng.choose(
                            &Shape::ALL
                                .into_iter()
                                .filter(|s| *s != o.shape)
                                .collect::<Vec<_>>(),
                        )?
                    }
                }
            }
            binary(
                category,
                format!(
                    "Is the shape {} {}?",
                    o.cell.phrase(),
                    with_article(&asked.full_name())
                ),
                yes,
            )
        }
        Category::Captioning => {
            let n = scene.objects.len();
            let asked = if yes {
                n
            } else if rng.below(2) == 0 {
                n + 1
            } else {
                n - 1
            };
            binary(
                category,
                format!(
                    "Does the image show {}?",
                    count_phrase(asked, "shape", "shapes")
                ),
                yes,
            )
        }
        Category::Reasoning => {
            let items = comparables(scene);
            let pairs: Vec<_> = items
                .iter()
                .flat_map(|a| items.iter().map(move |b| (a, b)))
                .filter(|(a, b)| {
                    a.0 != b.0
                        && a.0.ends_with("shape") == b.0.ends_with("shape")
                        && (a.2 > b.2) == yes
                })
                .filter(|(a, b)| a.2 + b.2 > 0)
                .collect();
            let (a, b) = rng.choose(&pairs)?;
            binary(
                category,
                format!("Are there more {} than {}?", a.1, b.1),
                yes,
            )
        }
    };
    Some(q)
}

fn short_question(scene: &Scene, category: Category, rng: &mut SeededRng) -> Option<EvalQa> {
    let words = |range: std::ops::RangeInclusive<usize>| {
        range.map(|n| number_to_words(n as u64)).collect::<Vec<_>>()
    };
    let q = match category {
        Category::Counting => {
            let present = rng.below(5) != 0;
            let (color, shape) = combo(scene, rng, present).or_else(|| combo(scene, rng, true))?;
            let n = scene.count(Some(color), Some(shape));
            let question = format!("How many {} {} are there?", color.name(), shape.plural());
            short(
                category,
                question,
                number_to_words(n as u64),
                words(0..=MAX_OBJECTS),
            )
        }
        Category::Spatial => {
            let (a, b, rel) = rng.choose(&aligned_pairs(scene))?.clone();
            let candidates = Relation::ALL
                .iter()
                .map(|r| r.phrase().to_string())
                .collect();
            short(
                category,
                format!("Where is the {a} relative to the {b}?"),
                rel.phrase().to_string(),
                candidates,
            )
        }
        Category::Object => {
            let (desc, o) = rng.choose(&by_color(scene))?.clone();
            let candidates = Shape::ALL.iter().map(|s| s.name().to_string()).collect();
            short(
                category,
                format!("What shape is the {desc} object?"),
                o.shape.name().to_string(),
                candidates,
            )
        }
        Category::Color => {
            let (desc, o) = rng.choose(&by_shape(scene))?.clone();
            let candidates = Color::ALL.iter().map(|c| c.name().to_string()).collect();
            short(
                category,
                format!("What color is the {desc}?"),
                o.color.name().to_string(),
                candidates,
            )
        }
        Category::Size => {
            let (na, a, nb, b) = rng.choose(&named_pairs(scene, true))?.clone();
            let answer = size_word(a.size, b.size)
                .trim_end_matches(" than")
                .trim_end_matches(" as")
                .to_string();
            let candidates = vec!["larger".into(), "smaller".into(), "the same size".into()];
            short(
                category,
                format!("How big is the {na} compared with the {nb}?"),
                answer,
                candidates,
            )
        }
        Category::Background => {
            let answer = match scene.background {
                Background::Plain(t) => format!("plain {}", t.name()),
                Background::Gradient { .. } => "a gradient".to_string(),
            };
            let mut candidates: Vec<String> = Tint::ALL
                .iter()
                .map(|t| format!("plain {}", t.name()))
                .collect();
            candidates.push("a gradient".into());
            short(
                category,
                "What does the background look like?".to_string(),
                answer,
                candidates,
            )
        }
        Category::Existence => {
            let (pc, ps) = combo(scene, rng, true)?;
            let (ac, ash) = combo(scene, rng, false)?;
            let present = with_article(&format!("{} {}", pc.name(), ps.name()));
            let absent = with_article(&format!("{} {}", ac.name(), ash.name()));
            let (first, second) = if rng.below(2) == 0 {
                (&present, &absent)
            } else {
                (&absent, &present)
            };
            let question = format!("Which of these is in the image: {first} or {second}?");
            short(
                category,
                question,
                present.clone(),
                vec![present.clone(), absent],
            )
        }
        Category::Referential => {
            let o = *rng.choose(&scene.objects)?;
            // The true description and every description one attribute away from it.
            let mut candidates = vec![o.full_name()];
            let mut flip = o;
            flip.size = if o.size == Size::Small {
                Size::Large
            } else {
                Size::Small
            };
            candidates.push(flip.full_name());
            for c in Color::ALL.into_iter().filter(|c| *c != o.color) {
                candidates.push(Object { color: c, ..o }.full_name());
            }
            for s in Shape::ALL.into_iter().filter(|s| *s != o.shape) {
                candidates.push(Object { shape: s, ..o }.full_name());
            }
            short(
                category,
                format!("What is the shape {}?", o.cell.phrase()),
                o.full_name(),
                candidates,
            )
        }
        Category::Captioning => {
            let n = scene.objects.len();
            short(
                category,
                "How many shapes does the image show?".to_string(),
                number_to_words(n as u64),
                words(1..=MAX_OBJECTS),
            )
        }
        Category::Reasoning => {
            let items = comparables(scene);
            let pairs: Vec<_> = items
                .iter()
                .flat_map(|a| items.iter().map(move |b| (a, b)))
                .filter(|(a, b)| {
                    a.0 < b.0 && a.0.ends_with("shape") == b.0.ends_with("shape") && a.2 + b.2 > 0
                })
                .collect();
            let (a, b) = rng.choose(&pairs)?;
            let answer = match a.2.cmp(&b.2) {
                std::cmp::Ordering::Greater => format!("more {}", a.1),
                std::cmp::Ordering::Less => format!("more {}", b.1),
                std::cmp::Ordering::Equal => "the same number".to_string(),
            };
            let candidates = vec![
                format!("more {}", a.1),
                format!("more {}", b.1),
                "the same number".to_string(),
            ];
            short(
                category,
                format!("Are there more {} or more {}?", a.1, b.1),
                answer,
                candidates,
            )
        }
    };
    Some(q)
}
