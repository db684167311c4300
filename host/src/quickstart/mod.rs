//! `vapr quickstart`: the whole method in miniature, on a synthetic visual world, with no
//! network, no downloads and no GPU.
//!
//! 1. synth a training and a held-out evaluation set (`vapr_data::synth`);
//! 2. train a BPE tokenizer on the corpus and write a scratch Qwen2-VL folder ([`scratch`]);
//! 3. SFT it from scratch on the training answers: the "instruct base model";
//! 4. build the VaPR pairs and the two biased control sets ([`pairs`]);
//! 5. DPO from the base on each pair set, and SFT-on-chosen of the VaPR set (the paper's
//!    baseline);
//! 6. evaluate all five models on the held-out split by likelihood ranking ([`eval`]);
//!
//! then fill [`QuickstartResults`], which `vapr_report::quickstart` renders. Every step
//! derives its randomness from the one seed, so a run is reproducible bit for bit (timings
//! aside).

pub mod controls;
pub mod eval;
pub mod pairs;
pub mod scale;
pub mod scratch;
pub mod sft_data;
pub mod subset;
pub mod tokenizer;
pub mod train;
pub mod ui;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::json;
use vapr_data::synth::{SynthConfig, read_eval};
use vapr_report::quickstart::{
    EvalSplit, ModelResult, PairSetResult, QuickstartResults, StepPoint,
};
use vapr_train::{Mode, StepMetrics};

pub use scale::{Preset, Scale};
use ui::Ui;

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct Options {
    pub out: PathBuf,
    pub scale: Scale,
    /// `cpu` or `cuda`.
    pub device: String,
    pub seed: u64,
    /// Draw the progress bar (the log file is written either way).
    pub progress: bool,
}

/// Where a run puts things, relative to its directory.
pub mod layout {
    pub const SYNTH: &str = "synth";
    pub const SCRATCH: &str = "models/scratch";
    pub const SFT_DATA: &str = "data/sft.jsonl";
    pub const PAIRS: &str = "pairs";
    pub const RUNS: &str = "runs";
}

const STEPS: usize = 9;

/// A trained model: name, description, folder, training curve.
struct Trained {
    name: String,
    description: String,
    trained_on: Option<String>,
    dir: PathBuf,
    log: Vec<StepMetrics>,
}

fn step_points(log: &[StepMetrics]) -> Vec<StepPoint> {
    log.iter()
        .map(|m| StepPoint {
            step: m.step,
            loss: m.loss,
            rewards_accuracy: m.rewards_accuracies,
            rewards_margin: m.rewards_margins,
        })
        .collect()
}

/// The step's progress message for one training step.
fn step_message(m: &StepMetrics) -> String {
    match m.rewards_accuracies {
        Some(acc) => format!("loss {:.3} reward acc {:.2}", m.loss, acc),
        None => format!("loss {:.3}", m.loss),
    }
}

/// Runs the whole quickstart into `opts.out` and returns what it measured.
pub fn run(opts: &Options) -> Result<QuickstartResults> {
    if !matches!(opts.device.as_str(), "cpu" | "cuda") {
        bail!("device `{}`: expected cpu or cuda", opts.device);
    }
    let started = Instant::now();
    let out = &opts.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let preset = opts.scale.preset();
    let ui = Ui::new(out, STEPS, opts.progress)?;
    ui.log(&format!(
        "vapr quickstart: scale {}, device {}, seed {}, into {}",
        opts.scale.name(),
        opts.device,
        opts.seed,
        out.display()
    ));
    let mut timings: BTreeMap<String, f64> = BTreeMap::new();
    let mut timed = |name: &str, t: Instant, ui: &Ui| {
        let secs = t.elapsed().as_secs_f64();
        ui.println(&format!("{name} done in {secs:.1}s"));
        timings.insert(name.to_string(), secs);
    };

    // 1. The synthetic world.
    let t = Instant::now();
    let synth_dir = out.join(layout::SYNTH);
    let synth_cfg = SynthConfig {
        n: preset.train_scenes,
        n_eval: preset.eval_scenes,
        seed: opts.seed,
        size: preset.image_size,
    };
    ui.begin(1, "synth", preset.train_scenes + preset.eval_scenes);
    let summary = vapr_data::synth::generate(&synth_dir, &synth_cfg, |n| ui.inc(n))
        .with_context(|| format!("synthesising into {}", synth_dir.display()))?;
    ui.log(&format!(
        "{} training records, {} held-out questions (yes-rate {:.3})",
        summary.train_records, summary.eval_records, summary.eval_yes_rate
    ));
    timed("synth", t, &ui);

    // 2. Tokenizer and scratch model folder.
    let t = Instant::now();
    ui.begin(2, "tokenizer", 2);
    let sft = sft_data::sft_records(
        &synth_dir.join("train.json"),
        opts.seed,
        preset.train_scenes,
    )?;
    let mut corpus: Vec<String> = vec![tokenizer::TEMPLATE_TEXT.to_string()];
    corpus.extend(
        sft.iter()
            .flat_map(|r| [r.prompt.clone(), r.chosen.clone()]),
    );
    let eval_records = read_eval(&synth_dir.join("eval.jsonl"))?;
    corpus.extend(
        eval_records
            .iter()
            .flat_map(|r| r.candidates.iter().cloned()),
    );
    let tok = tokenizer::train_tokenizer(corpus.iter().map(String::as_str), preset.vocab_size)?;
    ui.inc(1);
    let scratch_dir = out.join(layout::SCRATCH);
    let model_config = scratch::write_scratch_model(
        &scratch_dir,
        &preset.model,
        &tok,
        preset.image_size,
        opts.seed,
    )?;
    // Load it back through the model room, as any Hugging Face folder.
    let loaded = vapr_model::load_model_dir::<burn::backend::NdArray<f32>>(
        &scratch_dir,
        &Default::default(),
        burn::tensor::DType::F32,
    )
    .with_context(|| format!("loading {}", scratch_dir.display()))?;
    let parameters: usize = loaded
        .model
        .named_parameters(loaded.layout)
        .iter()
        .map(|(_, p)| p.tensor.dims().iter().product::<usize>())
        .sum();
    let image_tokens = (preset.image_size as usize / 28).pow(2);
    drop(loaded);
    ui.inc(1);
    ui.log(&format!(
        "tokenizer: {} tokens; scratch Qwen2-VL: {parameters} parameters in {}",
        tok.get_vocab_size(true),
        scratch_dir.display()
    ));
    timed("tokenizer", t, &ui);

    // 3. SFT from scratch: the instruct base model.
    let t = Instant::now();
    let sft_path = out.join(layout::SFT_DATA);
    std::fs::create_dir_all(sft_path.parent().expect("has a parent"))?;
    sft_data::write_jsonl(&sft_path, &sft)?;
    ui.begin(3, "SFT base", 0);
    let runs = out.join(layout::RUNS);
    let base = training(
        &ui,
        &train::Job {
            mode: Mode::Sft,
            base: &scratch_dir,
            data: &sft_path,
            images: &synth_dir,
            out: &runs.join("sft-base"),
            phase: preset.sft,
            beta: preset.beta,
            seed: opts.seed,
            device: &opts.device,
        },
    )?;
    timed("sft", t, &ui);

    // 4. Pair sets.
    let t = Instant::now();
    ui.begin(4, "pairs", 0);
    let pair_dir = out.join(layout::PAIRS);
    let sets = pairs::build_pair_sets(&synth_dir, &pair_dir, opts.seed, &|done, total| {
        ui.set_length(total);
        ui.set(done, String::new());
    })
    .context("building the pair sets")?;
    for s in &sets {
        ui.log(&format!(
            "pair set {}: {} pairs in {}",
            s.name,
            s.records.len(),
            s.path.display()
        ));
    }
    let train_files = subset::write_training_subsets(&sets, preset.dpo_pairs, &pair_dir)?;
    ui.log(&format!(
        "training on the first {} question ids shared by all three sets",
        train_files.pairs
    ));
    timed("pairs", t, &ui);

    // 5. DPO on each set, SFT on the VaPR set's chosen answers.
    let mut models = vec![Trained {
        name: "sft-base".into(),
        description: "SFT from scratch on the training answers (the instruct base model)".into(),
        trained_on: None,
        dir: base.0,
        log: base.1,
    }];
    let mut step = 5;
    let mut sft_on_chosen = None;
    let mut dpo = Vec::new();
    for (set, data) in sets.iter().zip(&train_files.paths) {
        let name = format!("dpo-{}", set.name);
        let t = Instant::now();
        ui.begin(step, &name, 0);
        step += 1;
        let (dir, log) = training(
            &ui,
            &train::Job {
                mode: Mode::Dpo,
                base: &models[0].dir,
                data,
                images: &synth_dir,
                out: &runs.join(&name),
                phase: preset.dpo,
                beta: preset.beta,
                seed: opts.seed,
                device: &opts.device,
            },
        )?;
        timed(&name, t, &ui);
        dpo.push(Trained {
            description: format!("DPO from the base on the {} pairs", set.name),
            name,
            trained_on: Some(set.name.clone()),
            dir,
            log,
        });
        if set.name == "vapr" {
            let t = Instant::now();
            ui.begin(step, "sft-on-chosen", 0);
            step += 1;
            let (dir, log) = training(
                &ui,
                &train::Job {
                    mode: Mode::Sft,
                    base: &models[0].dir,
                    data,
                    images: &synth_dir,
                    out: &runs.join("sft-on-chosen"),
                    phase: preset.dpo,
                    beta: preset.beta,
                    seed: opts.seed,
                    device: &opts.device,
                },
            )?;
            timed("sft-on-chosen", t, &ui);
            sft_on_chosen = Some(Trained {
                name: "sft-on-chosen".into(),
                description:
                    "SFT from the base on the VaPR pairs' chosen answers (the paper's SFT baseline)"
                        .into(),
                trained_on: Some(set.name.clone()),
                dir,
                log,
            });
        }
    }
    let Some(soc) = sft_on_chosen else {
        bail!("the pair builder returned no `vapr` set");
    };
    models.push(soc);
    models.extend(dpo);

    // 6. Held-out evaluation.
    let t = Instant::now();
    ui.begin(STEPS, "eval", eval_records.len() * models.len());
    let mut results = Vec::new();
    for m in &models {
        ui.message(m.name.clone());
        let preds = predict(&opts.device, &m.dir, &eval_records, &synth_dir, &ui)?;
        let s = eval::score(&preds);
        ui.println(&format!(
            "{}: accuracy {:.3} (binary {:.3}, short {:.3}), yes-rate {:.3}",
            m.name, s.accuracy, s.binary_accuracy, s.short_accuracy, s.yes_rate
        ));
        write_predictions(
            &out.join("predictions").join(format!("{}.jsonl", m.name)),
            &preds,
        )?;
        results.push(ModelResult {
            name: m.name.clone(),
            description: m.description.clone(),
            trained_on: m.trained_on.clone(),
            accuracy: s.accuracy,
            binary_accuracy: s.binary_accuracy,
            short_accuracy: s.short_accuracy,
            accuracy_by_category: s.by_category,
            yes_rate: s.yes_rate,
            train_log: step_points(&m.log),
        });
    }
    timed("eval", t, &ui);
    ui.finish();

    let binary = eval_records
        .iter()
        .filter(|r| r.kind == vapr_data::synth::EvalKind::Binary)
        .count();
    let pair_sets = sets
        .iter()
        .map(|s| PairSetResult {
            name: s.name.clone(),
            description: s.description.clone(),
            path: relative(&s.path, out),
            pairs: s.records.len(),
            stats: vapr_report::bias_stats_of_records(&s.records),
        })
        .collect();
    let settings = json!({
        "preset": preset,
        "synth": {
            "train_scenes": summary.train_scenes,
            "train_records": summary.train_records,
            "eval_scenes": summary.eval_scenes,
            "image_size": preset.image_size,
        },
        "tokenizer": {"type": "byte-level BPE (tokenizers crate trainer)", "vocab_size": tok.get_vocab_size(true)},
        "model": {
            "architecture": "Qwen2-VL (vapr-model, the code that loads real checkpoints)",
            "parameters": parameters,
            "text_hidden": model_config.text.hidden_size,
            "text_layers": model_config.text.num_hidden_layers,
            "vision_embed_dim": model_config.vision.embed_dim,
            "vision_depth": model_config.vision.depth,
            "image_tokens": image_tokens,
            "init": format!("seeded normal(0, {}) matrices, zero biases, unit norms", scratch::INIT_STD),
        },
        "sft_base_data": {
            "records": sft.len(),
            "content": "every training answer of train.json, plus each training scene's binary and short questions with the short-answer instruction",
        },
        "training": {
            "loss": "sigmoid (DPO)",
            "beta": preset.beta,
            "reference": "precomputed log-probs of the SFT base",
            "optimizer": "AdamW, weight decay 0, cosine schedule, 10% warmup, global grad-norm clip 1.0",
            "trainable": "all parameters (vision tower, projector and language model)",
        },
        "chance_accuracy": eval::chance_accuracy(&eval_records),
    });
    let wall = started.elapsed().as_secs_f64();
    ui.log(&format!("finished in {wall:.1}s"));
    Ok(QuickstartResults {
        vapr_version: env!("CARGO_PKG_VERSION").to_string(),
        scale: opts.scale.name().to_string(),
        device: opts.device.clone(),
        seed: opts.seed,
        wall_seconds: wall,
        step_seconds: timings,
        settings,
        eval_method: eval::EVAL_METHOD.to_string(),
        eval: EvalSplit {
            binary_questions: binary,
            short_questions: eval_records.len() - binary,
            true_yes_rate: summary.eval_yes_rate,
        },
        models: results,
        pair_sets,
    })
}

/// Runs one training job with the step counter on the bar and each step in the log.
fn training(ui: &Ui, job: &train::Job<'_>) -> Result<(PathBuf, Vec<StepMetrics>)> {
    train::run(job, &mut |m, total| {
        ui.set_length(total);
        ui.set(m.step, step_message(m));
        ui.log(&format!(
            "  step {}/{total} {} lr {:.2e} {:.2}s",
            m.step,
            step_message(m),
            m.learning_rate,
            m.step_seconds
        ));
    })
}

/// [`eval::predict`] on the backend `device` names.
fn predict(
    device: &str,
    dir: &Path,
    records: &[vapr_data::synth::EvalRecord],
    images: &Path,
    ui: &Ui,
) -> Result<Vec<eval::Prediction>> {
    let mut progress = |n: usize| ui.inc(n);
    match device {
        #[cfg(feature = "cuda")]
        "cuda" => eval::predict::<burn::backend::Cuda<f32>>(
            dir,
            records,
            images,
            &Default::default(),
            &mut progress,
        ),
        #[cfg(not(feature = "cuda"))]
        "cuda" => bail!(
            "`--device cuda`: this vapr was built without CUDA support (rebuild with `--features cuda`)"
        ),
        _ => eval::predict::<burn::backend::NdArray<f32>>(
            dir,
            records,
            images,
            &Default::default(),
            &mut progress,
        ),
    }
}

/// Writes per-question predictions (JSONL) for inspection.
fn write_predictions(path: &Path, preds: &[eval::Prediction]) -> Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().expect("has a parent"))?;
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    for p in preds {
        let kind = match p.kind {
            vapr_data::synth::EvalKind::Binary => "binary",
            vapr_data::synth::EvalKind::Short => "short",
        };
        serde_json::to_writer(
            &mut f,
            &json!({"id": p.id, "category": p.category, "kind": kind, "answer": p.answer,
                    "predicted": p.predicted, "correct": p.correct(), "scores": p.scores}),
        )?;
        f.write_all(b"\n")?;
    }
    f.flush()
        .with_context(|| format!("writing {}", path.display()))
}

/// `path` relative to `base` when it lies inside it.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests;
