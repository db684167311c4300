//! The two biases of the control sets, applied to (already falsified) [`Facts`]:
//! [`padded`] keeps the synth's sentence and adds a verbose clause (length bias),
//! [`restyled`] says the same facts in another phrasing (style bias). Both pick their
//! wording with the caller's seeded RNG.

use vapr_data::synth::scene::Background;
use vapr_text::SeededRng;

use super::facts::{Facts, Relation, SizeCmp, background_phrase, count_phrase, with_article};

/// Verbose clauses that say nothing checkable: length without content, the way an
/// editor model pads an answer. Each has twelve words or more, so the padded answer
/// stays ten tokens longer even where the changed fact is shorter ("to the left of" →
/// "below" loses three).
const CLAUSES: [&str; 8] = [
    "which is easy to make out against the background of the picture",
    "as anyone looking carefully at the whole image would clearly notice right away",
    "and this stands out right away when you take a closer look at the scene",
    "clearly visible among the other simple geometric shapes drawn in the picture",
    "with smooth and clean edges that make every shape in the scene easy to tell apart",
    "which becomes obvious once you scan the picture from one side to the other",
    "as the bright and evenly lit colors of the drawing make perfectly clear",
    "something that a quick glance over the neatly arranged grid already confirms",
];

/// `text` (ending in a full stop) with a verbose clause before its final full stop.
pub fn padded(text: &str, rng: &mut SeededRng) -> String {
    let clause = rng.choose(&CLAUSES).expect("clauses are not empty");
    let body = text.strip_suffix('.').unwrap_or(text);
    format!("{body}, {clause}.")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

/// "no", "one", "three".
fn count_word(n: u64) -> String {
    match n {
        0 => "no".to_string(),
        n => vapr_text::number_to_words(n),
    }
}

/// The relation said from the second object's side.
fn relation_from_other(r: Relation) -> &'static str {
    match r {
        Relation::LeftOf => "on its left",
        Relation::RightOf => "on its right",
        Relation::Above => "higher",
        Relation::Below => "lower",
    }
}

fn size_word(c: SizeCmp) -> &'static str {
    match c {
        SizeCmp::Larger => "bigger",
        SizeCmp::Smaller => "smaller",
        SizeCmp::Same => "just as big",
    }
}

fn background_alt(b: Background) -> String {
    match b {
        Background::Plain(t) => format!("a flat {} color", t.name()),
        Background::Gradient { top, bottom } => format!(
            "{} at the top, fading into {} toward the lower edge",
            top.name(),
            bottom.name()
        ),
    }
}

/// "a, b and c".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The facts in one of a few phrasings unlike the synth's (other sentence structure,
/// other function words), chosen with `rng`.
pub fn restyled(facts: &Facts, rng: &mut SeededRng) -> String {
    let pick = rng.below(2);
    match facts {
        Facts::Counting { n, color, shape } => {
            let what = format!("{} {}", color.name(), shape.noun(*n as usize));
            if pick == 0 {
                format!("{} {what} can be seen.", capitalised(&count_word(*n)))
            } else {
                format!(
                    "Counting them gives {n} {} {}.",
                    color.name(),
                    shape.plural()
                )
            }
        }
        Facts::Spatial { a, relation, b } => {
            if pick == 0 {
                format!(
                    "Relative to the {b}, the {a} is {}.",
                    relation_from_other(*relation)
                )
            } else {
                format!(
                    "{} the {b} is where the {a} is.",
                    capitalised(relation.phrase())
                )
            }
        }
        Facts::Object { desc, shape } => {
            if pick == 0 {
                format!("It is {}, the {desc} object.", with_article(shape.name()))
            } else {
                format!("Shape of the {desc} object: {}.", shape.name())
            }
        }
        Facts::Color { desc, color } => {
            if pick == 0 {
                format!("It is {}, the {desc}.", color.name())
            } else {
                format!("Color of the {desc}: {}.", color.name())
            }
        }
        Facts::Size { a, cmp, b } => {
            if pick == 0 {
                format!("Compared with the {b}, the {a} is {}.", size_word(*cmp))
            } else {
                format!("Next to the {b}, the {a} looks {}.", size_word(*cmp))
            }
        }
        Facts::Background(b) => {
            if pick == 0 {
                format!("Background: {}.", background_alt(*b))
            } else {
                format!("Behind the shapes: {}.", background_alt(*b))
            }
        }
        Facts::Existence { yes, color, shape } => {
            let thing = format!("{} {}", color.name(), shape.name());
            match (pick, yes) {
                (0, true) => format!("Indeed, the picture does contain {}.", with_article(&thing)),
                (0, false) => format!(
                    "Nope, the picture does not contain {}.",
                    with_article(&thing)
                ),
                (_, true) => format!(
                    "{}? Yes, one is present here.",
                    capitalised(&with_article(&thing))
                ),
                (_, false) => format!(
                    "{}? No, none is present here.",
                    capitalised(&with_article(&thing))
                ),
            }
        }
        Facts::Referential {
            cell,
            size,
            color,
            shape,
        } => {
            let full = format!("{} {} {}", size.name(), color.name(), shape.name());
            if pick == 0 {
                format!(
                    "{}, you can see {}.",
                    capitalised(cell.phrase()),
                    with_article(&full)
                )
            } else {
                format!(
                    "{} occupies the spot {}.",
                    capitalised(&with_article(&full)),
                    cell.phrase()
                )
            }
        }
        Facts::Captioning {
            background,
            objects,
        } => {
            let n = objects.len() as u64;
            let placed = if pick == 0 { "sitting" } else { "placed" };
            let items: Vec<String> = objects
                .iter()
                .map(|o| {
                    let name = with_article(&o.full_name());
                    format!("{name} {placed} {}", o.cell.phrase())
                })
                .collect();
            if pick == 0 {
                let verb = if n == 1 { "is" } else { "are" };
                format!(
                    "On {} there {verb} {}: {}.",
                    background_phrase(*background),
                    count_phrase(n, "shape", "shapes"),
                    listed(&items)
                )
            } else {
                format!(
                    "We see {}, all drawn on {}.",
                    listed(&items),
                    background_alt(*background)
                )
            }
        }
        Facts::Reasoning { a, b, na, nb } => {
            let verdict = if na > nb { "yes" } else { "no" };
            if pick == 0 {
                format!(
                    "Counting gives {na} {} against {nb} {}, so the answer is {verdict}.",
                    a.noun(*na),
                    b.noun(*nb)
                )
            } else {
                format!(
                    "{}. The picture holds {} {} versus {} {}, which settles it.",
                    capitalised(verdict),
                    count_word(*na),
                    a.noun(*na),
                    count_word(*nb),
                    b.noun(*nb)
                )
            }
        }
    }
}
