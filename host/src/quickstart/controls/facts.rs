//! What a synthetic answer states, as values of the scene world: each of `vapr synth`'s
//! training answers (`notes/synth-style.md`) is parsed into [`Facts`] with the world's own
//! vocabulary ([`Shape`], [`Color`], [`Cell`], [`Tint`], …), one fact is changed to another
//! value ([`Facts::falsify`]) and the result is written back as a sentence in the synth's
//! wording ([`Facts::plain`]).
//!
//! Every fact of a synthetic answer has exactly one true value in its scene (a count, the
//! relation of two aligned objects, the colour of a uniquely named object, …), so a changed
//! value is false of the scene: the control answers are really wrong, not just different.

use vapr_core::Category;
use vapr_data::synth::scene::{Background, Cell, Color, Shape, Size, Tint};
use vapr_text::edit::indefinite_article;
use vapr_text::{SeededRng, number_to_words, words_to_number};

/// Largest count a falsified counting answer states (scenes hold at most six shapes).
const MAX_COUNT: u64 = 6;

/// Relation of two objects that share a row or a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    LeftOf,
    RightOf,
    Above,
    Below,
}

impl Relation {
    pub const ALL: [Relation; 4] = [
        Relation::LeftOf,
        Relation::RightOf,
        Relation::Above,
        Relation::Below,
    ];

    /// The synth's phrase.
    pub fn phrase(self) -> &'static str {
        match self {
            Relation::LeftOf => "to the left of",
            Relation::RightOf => "to the right of",
            Relation::Above => "above",
            Relation::Below => "below",
        }
    }
}

/// How two sizes compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeCmp {
    Larger,
    Smaller,
    Same,
}

impl SizeCmp {
    pub const ALL: [SizeCmp; 3] = [SizeCmp::Larger, SizeCmp::Smaller, SizeCmp::Same];

    pub fn phrase(self) -> &'static str {
        match self {
            SizeCmp::Larger => "larger than",
            SizeCmp::Smaller => "smaller than",
            SizeCmp::Same => "the same size as",
        }
    }

    pub fn of(a: Size, b: Size) -> SizeCmp {
        match (a, b) {
            (Size::Large, Size::Small) => SizeCmp::Larger,
            (Size::Small, Size::Large) => SizeCmp::Smaller,
            _ => SizeCmp::Same,
        }
    }
}

/// What a reasoning question compares: a shape kind or a colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Shape(Shape),
    Color(Color),
}

impl Item {
    /// "circle" / "circles", "red shape" / "red shapes".
    pub fn noun(self, n: u64) -> String {
        match self {
            Item::Shape(s) => s.noun(n as usize).to_string(),
            Item::Color(c) if n == 1 => format!("{} shape", c.name()),
            Item::Color(c) => format!("{} shapes", c.name()),
        }
    }

    fn parse(noun: &str) -> Option<Item> {
        if let Some(s) = shape_of_noun(noun) {
            return Some(Item::Shape(s));
        }
        let color = noun
            .strip_suffix(" shapes")
            .or_else(|| noun.strip_suffix(" shape"))?;
        color_named(color).map(Item::Color)
    }
}

/// One shape of a caption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub size: Size,
    pub color: Color,
    pub shape: Shape,
    pub cell: Cell,
}

impl Placed {
    /// "small red circle"
    pub fn full_name(&self) -> String {
        format!(
            "{} {} {}",
            self.size.name(),
            self.color.name(),
            self.shape.name()
        )
    }
}

/// The facts one synthetic answer states. Object names (`a`, `b`, `desc`) are kept as
/// written ("red circle", "small red"): they identify an object and are never changed.
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    Counting {
        n: u64,
        color: Color,
        shape: Shape,
    },
    Spatial {
        a: String,
        relation: Relation,
        b: String,
    },
    Object {
        desc: String,
        shape: Shape,
    },
    Color {
        desc: String,
        color: Color,
    },
    Size {
        a: String,
        cmp: SizeCmp,
        b: String,
    },
    Background(Background),
    Existence {
        yes: bool,
        color: Color,
        shape: Shape,
    },
    Referential {
        cell: Cell,
        size: Size,
        color: Color,
        shape: Shape,
    },
    Captioning {
        background: Background,
        objects: Vec<Placed>,
    },
    Reasoning {
        a: Item,
        b: Item,
        na: u64,
        nb: u64,
    },
}

fn color_named(name: &str) -> Option<Color> {
    Color::ALL.into_iter().find(|c| c.name() == name)
}

fn shape_named(name: &str) -> Option<Shape> {
    Shape::ALL.into_iter().find(|s| s.name() == name)
}

fn shape_of_noun(noun: &str) -> Option<Shape> {
    Shape::ALL
        .into_iter()
        .find(|s| s.name() == noun || s.plural() == noun)
}

fn size_named(name: &str) -> Option<Size> {
    [Size::Small, Size::Large]
        .into_iter()
        .find(|s| s.name() == name)
}

fn tint_named(name: &str) -> Option<Tint> {
    Tint::ALL.into_iter().find(|t| t.name() == name)
}

fn cell_of_phrase(phrase: &str) -> Option<Cell> {
    Cell::ALL.into_iter().find(|c| c.phrase() == phrase)
}

/// "no", "one", "three" → 0, 1, 3.
fn count_word(word: &str) -> Option<u64> {
    if word == "no" {
        Some(0)
    } else {
        words_to_number(word)
    }
}

/// "no red circles", "one red circle", "three red circles" (the synth's count phrase).
pub fn count_phrase(n: u64, singular: &str, plural: &str) -> String {
    match n {
        0 => format!("no {plural}"),
        1 => format!("one {singular}"),
        n => format!("{} {plural}", number_to_words(n)),
    }
}

/// `(n, noun)` of a count phrase.
fn parse_count_phrase(text: &str) -> Option<(u64, &str)> {
    let (count, noun) = text.split_once(' ')?;
    Some((count_word(count)?, noun))
}

/// "a red circle", "an orange square".
pub fn with_article(noun_phrase: &str) -> String {
    format!("{} {noun_phrase}", indefinite_article(noun_phrase))
}

/// Strips "a " or "an ".
fn strip_article(text: &str) -> Option<&str> {
    text.strip_prefix("a ").or_else(|| text.strip_prefix("an "))
}

/// "size color shape" with every part a known word.
fn parse_full_name(text: &str) -> Option<(Size, Color, Shape)> {
    let mut words = text.split(' ');
    let size = size_named(words.next()?)?;
    let color = color_named(words.next()?)?;
    let shape = shape_named(words.next()?)?;
    words.next().is_none().then_some((size, color, shape))
}

fn parse_background(text: &str) -> Option<Background> {
    if let Some(tint) = text.strip_prefix("plain ") {
        return tint_named(tint).map(Background::Plain);
    }
    let rest = text.strip_prefix("a gradient from ")?;
    let rest = rest.strip_suffix(" at the bottom")?;
    let (top, bottom) = rest.split_once(" at the top to ")?;
    Some(Background::Gradient {
        top: tint_named(top)?,
        bottom: tint_named(bottom)?,
    })
}

/// The caption's phrase for a background ("a plain white background", "a background that
/// fades from … at the top to … at the bottom").
pub fn background_phrase(b: Background) -> String {
    match b {
        Background::Plain(t) => format!("a plain {} background", t.name()),
        Background::Gradient { top, bottom } => format!(
            "a background that fades from {} at the top to {} at the bottom",
            top.name(),
            bottom.name()
        ),
    }
}

fn parse_background_phrase(text: &str) -> Option<Background> {
    if let Some(rest) = text.strip_prefix("a plain ") {
        return tint_named(rest.strip_suffix(" background")?).map(Background::Plain);
    }
    let rest = text.strip_prefix("a background that fades from ")?;
    let rest = rest.strip_suffix(" at the bottom")?;
    let (top, bottom) = rest.split_once(" at the top to ")?;
    Some(Background::Gradient {
        top: tint_named(top)?,
        bottom: tint_named(bottom)?,
    })
}

/// `(a, rest)` of "The {a} is {rest}." where `a` holds no " is ".
fn the_x_is(answer: &str) -> Option<(&str, &str)> {
    let body = answer.strip_prefix("The ")?.strip_suffix('.')?;
    body.split_once(" is ")
}

/// A different element of `all` than `current`.
fn other<T: Copy + PartialEq>(all: &[T], current: T, rng: &mut SeededRng) -> T {
    let others: Vec<T> = all.iter().copied().filter(|x| *x != current).collect();
    *rng.choose(&others)
        .expect("every vocabulary has two or more values")
}

impl Facts {
    /// Parses a synthetic answer of `category`; `None` when it is not in the synth's wording.
    pub fn parse(category: Category, answer: &str) -> Option<Facts> {
        let answer = answer.trim();
        match category {
            Category::Counting => {
                let body = answer
                    .strip_prefix("There is ")
                    .or_else(|| answer.strip_prefix("There are "))?
                    .strip_suffix('.')?;
                let (n, what) = parse_count_phrase(body)?;
                let (color, noun) = what.split_once(' ')?;
                Some(Facts::Counting {
                    n,
                    color: color_named(color)?,
                    shape: shape_of_noun(noun)?,
                })
            }
            Category::Spatial => {
                let (a, rest) = the_x_is(answer)?;
                Relation::ALL.into_iter().find_map(|relation| {
                    let b = rest
                        .strip_prefix(relation.phrase())?
                        .strip_prefix(" the ")?;
                    Some(Facts::Spatial {
                        a: a.to_string(),
                        relation,
                        b: b.to_string(),
                    })
                })
            }
            Category::Object => {
                let (desc, shape) = the_x_is(answer)?;
                Some(Facts::Object {
                    desc: desc.strip_suffix(" object")?.to_string(),
                    shape: shape_named(strip_article(shape)?)?,
                })
            }
            Category::Color => {
                let (desc, color) = the_x_is(answer)?;
                Some(Facts::Color {
                    desc: desc.to_string(),
                    color: color_named(color)?,
                })
            }
            Category::Size => {
                let (a, rest) = the_x_is(answer)?;
                SizeCmp::ALL.into_iter().find_map(|cmp| {
                    let b = rest.strip_prefix(cmp.phrase())?.strip_prefix(" the ")?;
                    Some(Facts::Size {
                        a: a.to_string(),
                        cmp,
                        b: b.to_string(),
                    })
                })
            }
            Category::Background => {
                let body = answer
                    .strip_prefix("The background is ")?
                    .strip_suffix('.')?;
                parse_background(body).map(Facts::Background)
            }
            Category::Existence => {
                let (yes, body) = if let Some(b) = answer.strip_prefix("Yes, there is ") {
                    (true, strip_article(b)?)
                } else {
                    (false, answer.strip_prefix("No, there is no ")?)
                };
                let (color, shape) = body.strip_suffix(" in the image.")?.split_once(' ')?;
                Some(Facts::Existence {
                    yes,
                    color: color_named(color)?,
                    shape: shape_named(shape)?,
                })
            }
            Category::Referential => {
                let body = answer.strip_prefix("The shape ")?.strip_suffix('.')?;
                let (place, what) = body.rsplit_once(" is ")?;
                let (size, color, shape) = parse_full_name(strip_article(what)?)?;
                Some(Facts::Referential {
                    cell: cell_of_phrase(place)?,
                    size,
                    color,
                    shape,
                })
            }
            Category::Captioning => parse_caption(answer),
            Category::Reasoning => {
                let (head, tail) = answer.split_once(": there ")?;
                head.strip_prefix("Yes, ")
                    .or_else(|| head.strip_prefix("No, "))?;
                let tail = tail
                    .strip_prefix("is ")
                    .or_else(|| tail.strip_prefix("are "))?
                    .strip_suffix('.')?;
                let (pa, pb) = tail.split_once(" and ")?;
                let (na, a) = parse_count_phrase(pa)?;
                let (nb, b) = parse_count_phrase(pb)?;
                let facts = Facts::Reasoning {
                    a: Item::parse(a)?,
                    b: Item::parse(b)?,
                    na,
                    nb,
                };
                // The verdict and comparison follow from the counts; a head that says
                // otherwise is not the synth's wording.
                (facts.plain() == answer).then_some(facts)
            }
        }
    }

    /// The same facts with one of them changed to a value that is false of the scene.
    pub fn falsify(&self, rng: &mut SeededRng) -> Facts {
        let mut wrong = self.clone();
        match &mut wrong {
            Facts::Counting { n, .. } => {
                // A nearby count reads as a plausible mistake.
                let near: Vec<u64> = (n.saturating_sub(2)..=(*n + 2).min(MAX_COUNT))
                    .filter(|m| m != n)
                    .collect();
                *n = *rng.choose(&near).expect("a count has neighbours");
            }
            Facts::Spatial { relation, .. } => *relation = other(&Relation::ALL, *relation, rng),
            Facts::Object { shape, .. } => *shape = other(&Shape::ALL, *shape, rng),
            Facts::Color { color, .. } => *color = other(&Color::ALL, *color, rng),
            Facts::Size { cmp, .. } => *cmp = other(&SizeCmp::ALL, *cmp, rng),
            Facts::Background(background) => {
                *background = match *background {
                    Background::Plain(t) => Background::Plain(other(&Tint::ALL, t, rng)),
                    Background::Gradient { top, bottom } => {
                        let tints: Vec<Tint> =
                            Tint::ALL.into_iter().filter(|t| *t != bottom).collect();
                        Background::Gradient {
                            top: other(&tints, top, rng),
                            bottom,
                        }
                    }
                }
            }
            Facts::Existence { yes, .. } => *yes = !*yes,
            Facts::Referential {
                size, color, shape, ..
            } => match rng.below(3) {
                0 => *size = other(&[Size::Small, Size::Large], *size, rng),
                1 => *color = other(&Color::ALL, *color, rng),
                _ => *shape = other(&Shape::ALL, *shape, rng),
            },
            Facts::Captioning { objects, .. } => {
                // One shape gets another colour: that cell holds no such shape.
                let i = rng.below(objects.len() as u64) as usize;
                objects[i].color = other(&Color::ALL, objects[i].color, rng);
            }
            Facts::Reasoning { na, nb, .. } => {
                // Counts that make the comparison come out the other way.
                if na == nb {
                    *na += 1;
                } else {
                    std::mem::swap(na, nb);
                }
            }
        }
        wrong
    }

    /// The facts in the synth's wording.
    pub fn plain(&self) -> String {
        match self {
            Facts::Counting { n, color, shape } => {
                let verb = if *n == 1 { "There is" } else { "There are" };
                let what = count_phrase(
                    *n,
                    &format!("{} {}", color.name(), shape.name()),
                    &format!("{} {}", color.name(), shape.plural()),
                );
                format!("{verb} {what}.")
            }
            Facts::Spatial { a, relation, b } => {
                format!("The {a} is {} the {b}.", relation.phrase())
            }
            Facts::Object { desc, shape } => {
                format!("The {desc} object is {}.", with_article(shape.name()))
            }
            Facts::Color { desc, color } => format!("The {desc} is {}.", color.name()),
            Facts::Size { a, cmp, b } => format!("The {a} is {} the {b}.", cmp.phrase()),
            Facts::Background(b) => format!("The background is {}.", b.description()),
            Facts::Existence { yes, color, shape } => {
                let thing = format!("{} {}", color.name(), shape.name());
                if *yes {
                    format!("Yes, there is {} in the image.", with_article(&thing))
                } else {
                    format!("No, there is no {thing} in the image.")
                }
            }
            Facts::Referential {
                cell,
                size,
                color,
                shape,
            } => {
                let full = format!("{} {} {}", size.name(), color.name(), shape.name());
                format!("The shape {} is {}.", cell.phrase(), with_article(&full))
            }
            Facts::Captioning {
                background,
                objects,
            } => {
                let mut text = format!(
                    "The image shows {} on {}.",
                    count_phrase(objects.len() as u64, "shape", "shapes"),
                    background_phrase(*background)
                );
                for o in objects {
                    let full = o.full_name();
                    let article = indefinite_article(&full);
                    let article = format!("{}{}", article[..1].to_uppercase(), &article[1..]);
                    text.push_str(&format!(" {article} {full} is {}.", o.cell.phrase()));
                }
                text
            }
            Facts::Reasoning { a, b, na, nb } => {
                let (pa, pb) = (a.noun(2), b.noun(2));
                let (verdict, relation) = match na.cmp(nb) {
                    std::cmp::Ordering::Greater => ("Yes", format!("more {pa} than {pb}")),
                    std::cmp::Ordering::Less => ("No", format!("fewer {pa} than {pb}")),
                    std::cmp::Ordering::Equal => ("No", format!("as many {pa} as {pb}")),
                };
                let verb = if *na == 1 { "is" } else { "are" };
                format!(
                    "{verdict}, there are {relation}: there {verb} {} and {}.",
                    count_phrase(*na, &a.noun(1), &pa),
                    count_phrase(*nb, &b.noun(1), &pb)
                )
            }
        }
    }
}

/// "The image shows N shapes on BACKGROUND. A FULL is PLACE. …"
fn parse_caption(answer: &str) -> Option<Facts> {
    let rest = answer.strip_prefix("The image shows ")?;
    let (head, mut rest) = rest
        .split_once(". ")
        .unwrap_or((rest.strip_suffix('.')?, ""));
    let (count, on_background) = head.split_once(" on ")?;
    let (n, noun) = parse_count_phrase(count)?;
    if noun != "shape" && noun != "shapes" {
        return None;
    }
    let background = parse_background_phrase(on_background)?;
    let mut objects = Vec::new();
    while !rest.is_empty() {
        let (sentence, next) = rest
            .split_once(". ")
            .unwrap_or((rest.strip_suffix('.')?, ""));
        let body = sentence
            .strip_prefix("A ")
            .or_else(|| sentence.strip_prefix("An "))?;
        let (full, place) = body.split_once(" is ")?;
        let (size, color, shape) = parse_full_name(full)?;
        objects.push(Placed {
            size,
            color,
            shape,
            cell: cell_of_phrase(place)?,
        });
        rest = next;
    }
    (objects.len() as u64 == n && n > 0).then_some(Facts::Captioning {
        background,
        objects,
    })
}
