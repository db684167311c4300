//! The synthetic scene world: scenes of anti-aliased circles, squares and triangles on
//! light backgrounds ([`scene`]), rendered to PNG ([`render`]), with ground-truth
//! questions for all ten categories ([`questions`]).
//!
//! [`generate`] writes a dataset directory:
//!
//! ```text
//! DIR/train.json       LLaVA conversation layout, one record per (scene, category), with `category`
//! DIR/eval.jsonl       held-out split: {id, image, question, category, kind, answer, candidates}
//! DIR/manifest.json    seed, sizes, counts per category, the eval split's yes-rate
//! DIR/images/          train-000000.png …, eval-000000.png …
//! ```
//!
//! Scene `i` of a split depends only on (seed, split, i), so a larger `--n` extends a
//! dataset without changing its first scenes, and the bytes are identical across runs.

pub mod questions;
pub mod render;
pub mod scene;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

use serde::Serialize;
use serde_json::json;
use vapr_core::Category;
use vapr_text::SeededRng;

use crate::error::DataError;
pub use questions::{EvalKind, EvalQa, Qa};
pub use scene::Scene;

/// Settings of [`generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthConfig {
    /// Training scenes (each yields one question per category).
    pub n: usize,
    /// Held-out evaluation scenes (each yields a binary and a short question per category).
    pub n_eval: usize,
    pub seed: u64,
    /// Image side in pixels.
    pub size: u32,
}

impl SynthConfig {
    /// `n` training scenes and the default evaluation size: a quarter as many, at least 10.
    pub fn new(n: usize, seed: u64, size: u32) -> Self {
        SynthConfig {
            n,
            n_eval: n.div_ceil(4).max(10),
            seed,
            size,
        }
    }
}

/// Which split a scene belongs to; part of its seed, so the splits never share scenes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Train,
    Eval,
}

impl Split {
    fn salt(self) -> u64 {
        match self {
            Split::Train => 0x7472_6169_6e00_0000,
            Split::Eval => 0x6576_616c_0000_0000,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Eval => "eval",
        }
    }
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynthSummary {
    pub seed: u64,
    pub size: u32,
    pub train_scenes: usize,
    pub train_records: usize,
    pub eval_scenes: usize,
    pub eval_records: usize,
    /// Fraction of binary evaluation questions whose answer is "yes".
    pub eval_yes_rate: f64,
    pub train_per_category: BTreeMap<String, usize>,
    /// Scenes sampled and thrown away because they could not support every question.
    pub resampled: usize,
}

/// Tries per scene before giving up (never reached in practice: about one scene in five
/// is resampled).
const MAX_TRIES: usize = 1000;

fn scene_rng(seed: u64, split: Split, index: usize) -> SeededRng {
    let mut mix = SeededRng::new(seed ^ split.salt());
    let base = mix.next_u64();
    SeededRng::new(base.wrapping_add((index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)))
}

/// Training scene `index` and its ten questions. The existence question alternates
/// yes/no with the index, so the training set is balanced exactly.
pub fn train_scene(seed: u64, index: usize) -> (Scene, Vec<Qa>, usize) {
    let mut rng = scene_rng(seed, Split::Train, index);
    for tries in 0..MAX_TRIES {
        let scene = Scene::sample(&mut rng);
        if let Some(qas) = questions::training_questions(&scene, &mut rng, index.is_multiple_of(2))
        {
            return (scene, qas, tries);
        }
    }
    unreachable!("no usable scene in {MAX_TRIES} samples")
}

/// Evaluation scene `index` and its twenty questions. Binary answers alternate yes/no
/// across categories and scenes, so the yes-rate is 0.5 for an even number of scenes.
pub fn eval_scene(seed: u64, index: usize) -> (Scene, Vec<EvalQa>, usize) {
    let mut rng = scene_rng(seed, Split::Eval, index);
    let want: [bool; 10] = std::array::from_fn(|k| (index + k).is_multiple_of(2));
    for tries in 0..MAX_TRIES {
        let scene = Scene::sample(&mut rng);
        if let Some(qas) = questions::eval_questions(&scene, &mut rng, want) {
            return (scene, qas, tries);
        }
    }
    unreachable!("no usable scene in {MAX_TRIES} samples")
}

/// Renders scenes `0..count` of a split to PNG bytes on all cores, in index order.
fn render_all(
    count: usize,
    size: u32,
    make: &(dyn Fn(usize) -> Scene + Sync),
    progress: &mut dyn FnMut(usize),
    mut write: impl FnMut(usize, Vec<u8>) -> Result<(), DataError>,
) -> Result<(), DataError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let chunk = 16 * threads;
    for start in (0..count).step_by(chunk) {
        let end = (start + chunk).min(count);
        let mut rendered: Vec<(usize, Vec<u8>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        (start + t..end)
                            .step_by(threads)
                            .map(|i| (i, render::png_bytes(&render::render(&make(i), size))))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("render thread panicked"))
                .collect()
        });
        rendered.sort_by_key(|(i, _)| *i);
        for (i, png) in rendered {
            write(i, png)?;
        }
        progress(end - start);
    }
    Ok(())
}

/// Writes a synthetic dataset to `out` (see the module docs); `progress` receives the
/// number of scenes finished since its last call (out of `n + n_eval`).
pub fn generate(
    out: &Path,
    config: &SynthConfig,
    mut progress: impl FnMut(usize),
) -> Result<SynthSummary, DataError> {
    if config.size < 32 {
        return Err(DataError::Invalid(format!(
            "image size {} is too small (at least 32 pixels)",
            config.size
        )));
    }
    let images = out.join("images");
    fs::create_dir_all(&images).map_err(|e| DataError::write(&images, e))?;
    let seed = config.seed;
    let mut summary = SynthSummary {
        seed,
        size: config.size,
        train_scenes: config.n,
        train_records: 0,
        eval_scenes: config.n_eval,
        eval_records: 0,
        eval_yes_rate: 0.0,
        train_per_category: Category::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), 0))
            .collect(),
        resampled: 0,
    };

    let write_png = |split: Split, i: usize, png: Vec<u8>| {
        let path = images.join(format!("{}-{i:06}.png", split.prefix()));
        fs::write(&path, png).map_err(|e| DataError::write(&path, e))
    };

    // Training split: LLaVA conversation records, written as a JSON array one record per line.
    let train_path = out.join("train.json");
    let mut train = BufWriter::new(
        fs::File::create(&train_path).map_err(|e| DataError::write(&train_path, e))?,
    );
    let werr = |e| DataError::write(&train_path, e);
    train.write_all(b"[\n").map_err(werr)?;
    let mut first = true;
    for i in 0..config.n {
        let (_, qas, tries) = train_scene(seed, i);
        summary.resampled += tries;
        let image = format!("images/train-{i:06}.png");
        for qa in qas {
            let record = json!({
                "id": format!("synth-{i:06}-{}", qa.category),
                "image": image,
                "category": qa.category,
                "conversations": [
                    {"from": "human", "value": format!("<image>\n{}", qa.question)},
                    {"from": "gpt", "value": qa.answer},
                ],
            });
            if !first {
                train.write_all(b",\n").map_err(werr)?;
            }
            first = false;
            serde_json::to_writer(&mut train, &record).map_err(|e| werr(e.into()))?;
            *summary
                .train_per_category
                .get_mut(qa.category.as_str())
                .expect("all categories") += 1;
            summary.train_records += 1;
        }
    }
    train.write_all(b"\n]\n").map_err(werr)?;
    train.flush().map_err(werr)?;
    drop(train);
    render_all(
        config.n,
        config.size,
        &|i| train_scene(seed, i).0,
        &mut progress,
        |i, png| write_png(Split::Train, i, png),
    )?;

    // Evaluation split.
    let eval_path = out.join("eval.jsonl");
    let mut eval =
        BufWriter::new(fs::File::create(&eval_path).map_err(|e| DataError::write(&eval_path, e))?);
    let eerr = |e| DataError::write(&eval_path, e);
    let (mut binary, mut yes) = (0usize, 0usize);
    for i in 0..config.n_eval {
        let (_, qas, tries) = eval_scene(seed, i);
        summary.resampled += tries;
        for qa in qas {
            let kind = match qa.kind {
                EvalKind::Binary => "binary",
                EvalKind::Short => "short",
            };
            if qa.kind == EvalKind::Binary {
                binary += 1;
                yes += usize::from(qa.answer == "yes");
            }
            let record = json!({
                "id": format!("eval-{i:06}-{}-{kind}", qa.category),
                "image": format!("images/eval-{i:06}.png"),
                "question": qa.question,
                "category": qa.category,
                "kind": kind,
                "answer": qa.answer,
                "candidates": qa.candidates,
            });
            serde_json::to_writer(&mut eval, &record).map_err(|e| eerr(e.into()))?;
            eval.write_all(b"\n").map_err(eerr)?;
            summary.eval_records += 1;
        }
    }
    eval.flush().map_err(eerr)?;
    drop(eval);
    summary.eval_yes_rate = if binary == 0 {
        0.0
    } else {
        yes as f64 / binary as f64
    };
    render_all(
        config.n_eval,
        config.size,
        &|i| eval_scene(seed, i).0,
        &mut progress,
        |i, png| write_png(Split::Eval, i, png),
    )?;

    let manifest = out.join("manifest.json");
    let text = serde_json::to_string_pretty(&summary).expect("summary serialises");
    fs::write(&manifest, text + "\n").map_err(|e| DataError::write(&manifest, e))?;
    tracing::info!(
        "synthesised {} training records and {} evaluation questions in {}",
        summary.train_records,
        summary.eval_records,
        out.display()
    );
    Ok(summary)
}

/// One line of `eval.jsonl`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
pub struct EvalRecord {
    pub id: String,
    /// Relative to the dataset directory.
    pub image: String,
    pub question: String,
    pub category: Category,
    pub kind: EvalKind,
    pub answer: String,
    pub candidates: Vec<String>,
}

/// Reads `eval.jsonl` (errors name file:line).
pub fn read_eval(path: &Path) -> Result<Vec<EvalRecord>, DataError> {
    let text = fs::read_to_string(path).map_err(|e| DataError::read(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| DataError::Malformed {
                location: crate::Location::line(path, i as u64 + 1),
                reason: crate::SkipReason::InvalidJson,
                detail: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
