//! Held-out evaluation by likelihood ranking: every candidate answer of a question is scored
//! as the completion of the question's prompt (the image, the question and LLaVA-1.5's
//! short-answer instruction) — the summed log-probability of its tokens and the end-of-turn
//! token — and the highest-scoring candidate is the model's answer.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow};
use burn::tensor::DType;
use burn::tensor::backend::Backend;
use vapr_data::synth::{EvalKind, EvalRecord};
use vapr_model::{Sequence, load_model_dir};

use super::sft_data::short_prompt;

/// What [`super::QuickstartResults::eval_method`] says.
pub const EVAL_METHOD: &str = "likelihood ranking over each question's candidate answers: the prompt is the image, the question and \"Answer the question using a single word or phrase.\"; each candidate is scored by the summed log-probability of its tokens plus the end-of-turn token, and the highest score wins (ties go to the first candidate in sorted order)";

/// One answered question.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub id: String,
    pub category: String,
    pub kind: EvalKind,
    pub answer: String,
    pub predicted: String,
    /// Summed log-probability of every candidate, in the record's order.
    pub scores: Vec<f32>,
}

impl Prediction {
    pub fn correct(&self) -> bool {
        self.predicted == self.answer
    }
}

/// Answers every record with the model in `model_dir` (images relative to `images_dir`).
/// Questions about one image share one image encoding and one batched forward pass.
pub fn predict<B: Backend>(
    model_dir: &Path,
    records: &[EvalRecord],
    images_dir: &Path,
    device: &B::Device,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<Prediction>> {
    let lm = load_model_dir::<B>(model_dir, device, DType::F32)
        .with_context(|| format!("loading {}", model_dir.display()))?;
    let mut out = Vec::with_capacity(records.len());
    for group in records.chunk_by(|a, b| a.image == b.image) {
        let path = images_dir.join(&group[0].image);
        let img = lm
            .processor
            .process_file(&path)
            .with_context(|| format!("processing {}", path.display()))?;
        let (pixels, grids) = lm.pixel_tensor(std::slice::from_ref(&img));
        let embeds = lm.model.encode_images(pixels, &grids)?;
        let mut seqs = Vec::new();
        for r in group {
            let prompt = lm.prompt_ids(&short_prompt(&r.question), std::slice::from_ref(&img))?;
            for c in &r.candidates {
                let completion = lm.completion_ids(c)?;
                seqs.push(Sequence {
                    ids: [prompt.as_slice(), completion.as_slice()].concat(),
                    images: vec![0],
                    completion_start: prompt.len(),
                });
            }
        }
        let stats = lm.model.completion_stats(&seqs, Some(&embeds))?;
        let logps: Vec<f32> = stats
            .logps
            .into_data()
            .convert::<f32>()
            .to_vec::<f32>()
            .map_err(|e| anyhow!("reading log-probs: {e:?}"))?;
        let mut at = 0;
        for r in group {
            let scores = logps[at..at + r.candidates.len()].to_vec();
            at += r.candidates.len();
            let best = scores
                .iter()
                .enumerate()
                .fold(0, |best, (i, s)| if *s > scores[best] { i } else { best });
            out.push(Prediction {
                id: r.id.clone(),
                category: r.category.as_str().to_string(),
                kind: r.kind,
                answer: r.answer.clone(),
                predicted: r.candidates[best].clone(),
                scores,
            });
        }
        progress(group.len());
    }
    Ok(out)
}

/// Accuracies and yes-rate of a set of predictions.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    pub accuracy: f64,
    pub binary_accuracy: f64,
    pub short_accuracy: f64,
    pub by_category: BTreeMap<String, f64>,
    /// Fraction of binary questions answered "yes".
    pub yes_rate: f64,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

pub fn score(preds: &[Prediction]) -> Scores {
    let count = |f: &dyn Fn(&Prediction) -> bool| {
        let sel: Vec<&Prediction> = preds.iter().filter(|p| f(p)).collect();
        ratio(sel.iter().filter(|p| p.correct()).count(), sel.len())
    };
    let mut cats: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for p in preds {
        let e = cats.entry(p.category.clone()).or_default();
        e.0 += usize::from(p.correct());
        e.1 += 1;
    }
    let binary: Vec<&Prediction> = preds
        .iter()
        .filter(|p| p.kind == EvalKind::Binary)
        .collect();
    Scores {
        accuracy: count(&|_| true),
        binary_accuracy: count(&|p| p.kind == EvalKind::Binary),
        short_accuracy: count(&|p| p.kind == EvalKind::Short),
        by_category: cats
            .into_iter()
            .map(|(k, (c, n))| (k, ratio(c, n)))
            .collect(),
        yes_rate: ratio(
            binary.iter().filter(|p| p.predicted == "yes").count(),
            binary.len(),
        ),
    }
}

/// Expected accuracy of answering uniformly at random: mean of 1/|candidates|.
pub fn chance_accuracy(records: &[EvalRecord]) -> f64 {
    if records.is_empty() {
        return 0.0;
    }
    records
        .iter()
        .map(|r| 1.0 / r.candidates.len().max(1) as f64)
        .sum::<f64>()
        / records.len() as f64
}
