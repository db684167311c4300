//! The synthetic world's promises, checked on rendered pixels: a scene "perceived" back
//! from its PNG (colour blobs, their fill ratio, area and position) equals the sampled
//! scene, and every written answer is true of the perceived scene. Plus determinism.

use image::RgbImage;
use vapr_text::edit::indefinite_article;

use super::render::render;
use super::scene::{Background, Cell, Color, Object, Scene, Shape, Size, Tint};
use super::*;

/// A blob of pixels exactly equal to one shape colour (4-connected).
struct Blob {
    color: Color,
    area: usize,
    min: (u32, u32),
    max: (u32, u32),
}

fn blobs(img: &RgbImage) -> Vec<Blob> {
    let (w, h) = img.dimensions();
    let mut seen = vec![false; (w * h) as usize];
    let mut out = Vec::new();
    for y in 0..h {
        for x in 0..w {
            let Some(color) = Color::ALL
                .into_iter()
                .find(|c| c.rgb() == img.get_pixel(x, y).0)
            else {
                continue;
            };
            if seen[(y * w + x) as usize] {
                continue;
            }
            let mut blob = Blob {
                color,
                area: 0,
                min: (x, y),
                max: (x, y),
            };
            let mut stack = vec![(x, y)];
            seen[(y * w + x) as usize] = true;
            while let Some((px, py)) = stack.pop() {
                blob.area += 1;
                blob.min = (blob.min.0.min(px), blob.min.1.min(py));
                blob.max = (blob.max.0.max(px), blob.max.1.max(py));
                let next = [
                    (px.wrapping_sub(1), py),
                    (px + 1, py),
                    (px, py.wrapping_sub(1)),
                    (px, py + 1),
                ];
                for (nx, ny) in next {
                    if nx < w
                        && ny < h
                        && !seen[(ny * w + nx) as usize]
                        && img.get_pixel(nx, ny).0 == color.rgb()
                    {
                        seen[(ny * w + nx) as usize] = true;
                        stack.push((nx, ny));
                    }
                }
            }
            out.push(blob);
        }
    }
    out
}

fn nearest_tint(rgb: [u8; 3]) -> Tint {
    let d = |t: Tint| {
        t.rgb()
            .iter()
            .zip(rgb)
            .map(|(a, b)| (*a as i32 - b as i32).pow(2))
            .sum::<i32>()
    };
    Tint::ALL.into_iter().min_by_key(|t| d(*t)).unwrap()
}

/// Reconstructs the scene from pixels alone.
fn perceive(img: &RgbImage) -> Scene {
    let size = img.width();
    let cell = size as f32 / 3.0;
    let (top, bottom) = (img.get_pixel(0, 0).0, img.get_pixel(0, size - 1).0);
    let background = if top == bottom {
        Background::Plain(nearest_tint(top))
    } else {
        Background::Gradient {
            top: nearest_tint(top),
            bottom: nearest_tint(bottom),
        }
    };
    let mut objects: Vec<Object> = blobs(img)
        .into_iter()
        .map(|b| {
            let (bw, bh) = (
                (b.max.0 - b.min.0 + 1) as f32,
                (b.max.1 - b.min.1 + 1) as f32,
            );
            let fill = b.area as f32 / (bw * bh);
            let shape = if fill > 0.9 {
                Shape::Square
            } else if fill > 0.65 {
                Shape::Circle
            } else {
                Shape::Triangle
            };
            let size = if (b.area as f32) > 0.18 * cell * cell {
                Size::Large
            } else {
                Size::Small
            };
            let cx = (b.min.0 + b.max.0 + 1) as f32 / 2.0;
            let cy = (b.min.1 + b.max.1 + 1) as f32 / 2.0;
            let cell = Cell::from_row_col((cy / cell) as usize, (cx / cell) as usize);
            Object {
                shape,
                color: b.color,
                size,
                cell,
                jitter: (0.0, 0.0),
            }
        })
        .collect();
    objects.sort_by_key(|o| o.cell);
    Scene {
        background,
        objects,
    }
}

fn discrete(scene: &Scene) -> Vec<(Shape, Color, Size, Cell)> {
    scene
        .objects
        .iter()
        .map(|o| (o.shape, o.color, o.size, o.cell))
        .collect()
}

#[test]
fn perceived_pixels_match_the_sampled_scene() {
    for size in [96, 224] {
        for i in 0..60 {
            let (scene, _, _) = train_scene(11, i);
            let seen = perceive(&render(&scene, size));
            assert_eq!(discrete(&seen), discrete(&scene), "scene {i} at {size}px");
            assert_eq!(seen.background, scene.background, "scene {i}");
        }
    }
}

fn number(word: &str) -> usize {
    if word == "no" {
        0
    } else {
        vapr_text::parse_number(word).unwrap_or_else(|| panic!("not a number: {word}")) as usize
    }
}

fn color_named(name: &str) -> Color {
    Color::ALL
        .into_iter()
        .find(|c| c.name() == name)
        .unwrap_or_else(|| panic!("colour {name}"))
}

fn shape_named(name: &str) -> Shape {
    Shape::ALL
        .into_iter()
        .find(|s| s.name() == name || s.plural() == name)
        .unwrap_or_else(|| panic!("shape {name}"))
}

/// The single object a "[size] colour shape" name refers to.
fn find<'a>(scene: &'a Scene, name: &str) -> &'a Object {
    let words: Vec<&str> = name.split(' ').collect();
    let (size, color, shape) = match words.as_slice() {
        [c, s] => (None, color_named(c), shape_named(s)),
        [z, c, s] => (
            Some(if *z == "small" {
                Size::Small
            } else {
                Size::Large
            }),
            color_named(c),
            shape_named(s),
        ),
        _ => panic!("name {name}"),
    };
    let found = scene.matching(Some(color), Some(shape), size);
    assert_eq!(found.len(), 1, "`{name}` names exactly one object");
    found[0]
}

/// Count of things named like "circles" or "red shapes".
fn count_of(scene: &Scene, plural: &str) -> usize {
    match plural.split(' ').collect::<Vec<_>>().as_slice() {
        [c, "shapes" | "shape"] => scene.count(Some(color_named(c)), None),
        [s] => scene.count(None, Some(shape_named(s))),
        other => panic!("{other:?}"),
    }
}

/// "a red circle" or "an orange circle" → "red circle" (the article must fit the sound).
fn strip_article(phrase: &str) -> &str {
    let (article, rest) = phrase.split_once(' ').unwrap();
    assert_eq!(article, indefinite_article(rest), "`{phrase}`");
    rest
}

fn with_article(phrase: &str) -> String {
    format!("{} {phrase}", indefinite_article(phrase))
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let a = s
        .find(start)
        .unwrap_or_else(|| panic!("`{start}` in `{s}`"))
        + start.len();
    let b = a + s[a..]
        .find(end)
        .unwrap_or_else(|| panic!("`{end}` in `{s}`"));
    &s[a..b]
}

/// Checks one written answer against the perceived scene.
fn check(scene: &Scene, qa: &Qa) {
    let (q, a) = (qa.question.as_str(), qa.answer.as_str());
    match qa.category {
        Category::Counting => {
            let words: Vec<&str> = between(q, "How many ", " are there?").split(' ').collect();
            let n = number(a.split(' ').nth(2).unwrap());
            assert_eq!(
                scene.count(Some(color_named(words[0])), Some(shape_named(words[1]))),
                n,
                "{a}"
            );
        }
        Category::Spatial => {
            let (x, y) = (
                find(scene, between(q, "Where is the ", " relative")),
                find(scene, between(q, "to the ", "?")),
            );
            let ((xr, xc), (yr, yc)) = (x.cell.row_col(), y.cell.row_col());
            let ok = (a.contains("left of") && xr == yr && xc < yc)
                || (a.contains("right of") && xr == yr && xc > yc)
                || (a.contains(" above ") && xc == yc && xr < yr)
                || (a.contains(" below ") && xc == yc && xr > yr);
            assert!(ok, "{q} {a}");
        }
        Category::Object => {
            let desc = between(q, "the ", " object");
            let want = shape_named(a.trim_end_matches('.').rsplit(' ').next().unwrap());
            let hits: Vec<_> = scene
                .objects
                .iter()
                .filter(|o| {
                    desc.ends_with(o.color.name())
                        && (desc.split(' ').count() == 1 || desc.starts_with(o.size.name()))
                })
                .collect();
            assert_eq!(hits.len(), 1, "{q}");
            assert_eq!(hits[0].shape, want, "{a}");
        }
        Category::Color => {
            let desc = between(q, "the ", "?");
            let want = color_named(a.trim_end_matches('.').rsplit(' ').next().unwrap());
            let hits: Vec<_> = scene
                .objects
                .iter()
                .filter(|o| {
                    desc.ends_with(o.shape.name())
                        && (desc.split(' ').count() == 1 || desc.starts_with(o.size.name()))
                })
                .collect();
            assert_eq!(hits.len(), 1, "{q}");
            assert_eq!(hits[0].color, want, "{a}");
        }
        Category::Size => {
            let x = find(scene, between(q, "is the ", " compared"));
            let y = find(scene, between(q, "with the ", "?"));
            let want = match (x.size, y.size) {
                (Size::Large, Size::Small) => "larger than",
                (Size::Small, Size::Large) => "smaller than",
                _ => "the same size as",
            };
            assert!(a.contains(want), "{a}");
        }
        Category::Background => {
            assert_eq!(
                a,
                format!("The background is {}.", scene.background.description())
            );
        }
        Category::Existence => {
            let name = strip_article(between(q, "Is there ", " in the image?"));
            let mut w = name.split(' ');
            let present = scene.count(
                Some(color_named(w.next().unwrap())),
                Some(shape_named(w.next().unwrap())),
            ) > 0;
            assert_eq!(a.starts_with("Yes, there is a"), present, "{a}");
            assert_eq!(a.starts_with("No, there is no "), !present, "{a}");
        }
        Category::Referential => {
            let place = between(q, "What is the shape ", "?");
            let cell = Cell::ALL.into_iter().find(|c| c.phrase() == place).unwrap();
            assert_eq!(
                a,
                format!(
                    "The shape {place} is {}.",
                    with_article(&scene.at(cell).unwrap().full_name())
                )
            );
        }
        Category::Captioning => {
            let n = number(between(a, "The image shows ", " shape"));
            assert_eq!(n, scene.objects.len(), "{a}");
            for sentence in a.split(". ").skip(1) {
                let sentence = sentence.trim_end_matches('.');
                let (name, place) = sentence
                    .strip_prefix("A ")
                    .or_else(|| sentence.strip_prefix("An "))
                    .unwrap()
                    .split_once(" is ")
                    .unwrap();
                let cell = Cell::ALL.into_iter().find(|c| c.phrase() == place).unwrap();
                assert_eq!(scene.at(cell).unwrap().full_name(), name, "{sentence}");
            }
        }
        Category::Reasoning => {
            let x = count_of(scene, between(q, "more ", " than"));
            let y = count_of(scene, between(q, " than ", "?"));
            assert_eq!(a.starts_with("Yes"), x > y, "{q} {a}");
            let counts = a.split(": there ").nth(1).unwrap();
            let mut nums = counts
                .split(' ')
                .filter(|w| *w == "no" || vapr_text::parse_number(w).is_some());
            assert_eq!(number(nums.next().unwrap()), x, "{a}");
            assert_eq!(number(nums.next().unwrap()), y, "{a}");
        }
    }
}

#[test]
fn every_training_answer_is_true_of_the_rendered_pixels() {
    for i in 0..80 {
        let (scene, qas, _) = train_scene(5, i);
        let seen = perceive(&render(&scene, 128));
        assert_eq!(qas.len(), 10);
        for qa in &qas {
            check(&seen, qa);
        }
    }
}

#[test]
fn eval_questions_are_balanced_and_answers_are_candidates() {
    let mut yes = 0;
    let mut binary = 0;
    for i in 0..40 {
        let (scene, qas, _) = eval_scene(9, i);
        assert_eq!(qas.len(), 20);
        for qa in &qas {
            assert!(qa.candidates.contains(&qa.answer), "{qa:?}");
            if qa.kind == EvalKind::Binary {
                binary += 1;
                yes += usize::from(qa.answer == "yes");
            }
            // Existence and counting answers agree with the scene.
            if qa.category == Category::Existence && qa.kind == EvalKind::Binary {
                let name = strip_article(between(&qa.question, "Is there ", " in the image?"));
                let mut w = name.split(' ');
                let present = scene.count(
                    Some(color_named(w.next().unwrap())),
                    Some(shape_named(w.next().unwrap())),
                ) > 0;
                assert_eq!(qa.answer == "yes", present);
            }
            if qa.category == Category::Counting && qa.kind == EvalKind::Short {
                let words: Vec<&str> = between(&qa.question, "How many ", " are there?")
                    .split(' ')
                    .collect();
                let n = scene.count(Some(color_named(words[0])), Some(shape_named(words[1])));
                assert_eq!(qa.answer, vapr_text::number_to_words(n as u64));
            }
        }
    }
    assert_eq!(binary, 400);
    assert_eq!(yes, 200, "exactly half the binary answers are yes");
}

#[test]
fn generate_is_deterministic_and_feeds_the_llava_reader() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let config = SynthConfig {
        n: 6,
        n_eval: 4,
        seed: 42,
        size: 64,
    };
    let summary = generate(a.path(), &config, |_| {}).unwrap();
    generate(b.path(), &config, |_| {}).unwrap();
    for file in [
        "train.json",
        "eval.jsonl",
        "manifest.json",
        "images/train-000005.png",
        "images/eval-000003.png",
    ] {
        let (x, y) = (
            fs::read(a.path().join(file)).unwrap(),
            fs::read(b.path().join(file)).unwrap(),
        );
        assert!(x == y, "{file} differs between runs");
    }
    assert_eq!(summary.train_records, 60);
    assert_eq!(summary.eval_records, 80);
    assert_eq!(summary.eval_yes_rate, 0.5);
    assert!(summary.train_per_category.values().all(|n| *n == 6));
    // A larger dataset keeps the first scenes.
    let c = tempfile::tempdir().unwrap();
    generate(
        c.path(),
        &SynthConfig {
            n: 8,
            ..config.clone()
        },
        |_| {},
    )
    .unwrap();
    assert_eq!(
        fs::read(a.path().join("images/train-000003.png")).unwrap(),
        fs::read(c.path().join("images/train-000003.png")).unwrap()
    );

    let (units, report) = crate::read_units(
        &[a.path().join("train.json")],
        &crate::ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(report.skipped_total(), 0);
    assert_eq!(units.len(), 60);
    assert_eq!(units[0].id, "synth-000000-counting#0");
    assert_eq!(units[0].category_hint, Some(Category::Counting));
    assert!(units[0].question.starts_with("How many "));
    let eval = read_eval(&a.path().join("eval.jsonl")).unwrap();
    assert_eq!(eval.len(), 80);
    assert!(a.path().join(&eval[0].image).is_file());
}

#[test]
fn answers_read_naturally() {
    let (_, qas, _) = train_scene(1, 0);
    for qa in &qas {
        assert!(
            qa.question.ends_with('?') || qa.question.ends_with('.'),
            "{}",
            qa.question
        );
        assert!(qa.answer.ends_with('.'), "{}", qa.answer);
        assert!(
            qa.answer.chars().next().unwrap().is_uppercase(),
            "{}",
            qa.answer
        );
        assert!(!qa.answer.contains("  "), "{}", qa.answer);
    }
}

/// Every `a`/`an` the synth writes (questions, answers, captions, candidates) fits the
/// sound of the next word: "an orange circle", never "a orange circle".
#[test]
fn articles_agree_with_the_next_word_everywhere() {
    fn check_articles(text: &str, seen_an: &mut usize) {
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || c == ',' || c == ':')
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            let article = pair[0].to_lowercase();
            if article == "a" || article == "an" {
                assert_eq!(article, indefinite_article(pair[1]), "`{text}`");
                *seen_an += usize::from(article == "an");
            }
        }
    }
    let mut seen_an = 0;
    for i in 0..60 {
        let (_, qas, _) = train_scene(3, i);
        for qa in &qas {
            check_articles(&qa.question, &mut seen_an);
            check_articles(&qa.answer, &mut seen_an);
        }
        let (_, qas, _) = eval_scene(3, i);
        for qa in &qas {
            check_articles(&qa.question, &mut seen_an);
            for c in &qa.candidates {
                check_articles(c, &mut seen_an);
            }
        }
    }
    // Orange shapes are common enough that "an" must have been written.
    assert!(seen_an > 10, "only {seen_an} uses of `an`");
}
