//! The two jobs the CLI runs: train a Hugging Face model folder from a [`TrainConfig`], and
//! score pairs (reference log-probs). Progress goes to a caller-supplied event sink.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::DType;
use burn::tensor::backend::{AutodiffBackend, Backend};
use vapr_model::{AnyLoadedModel, load_any_model_dir};

use crate::checkpoint::{resolve_resume, write_atomically};
use crate::config::{ReferenceMode, TrainConfig};
use crate::data::{PairEncoder, file_sha256, load_pairs};
use crate::error::{Result, TrainError};
use crate::metrics::{MetricsLog, StepMetrics};
use crate::refcache::{
    ScoreRow, align_scores, cache_path, model_dir_sha256, read_scores, score_batch, score_pairs,
    write_scores,
};
use crate::trainer::{Checkpointable, Mode, Reference, Trainer};
use crate::vlm::{PolicySetup, VlmLazyEncoder, VlmPolicy};

/// What a run reports while it works.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// The model is loaded and prepared (`summary` says what trains).
    Prepared {
        pairs: usize,
        trainable: usize,
        total: usize,
        summary: String,
    },
    /// Reference scoring progress (pairs done of total).
    Scoring {
        done: usize,
        total: usize,
    },
    /// Reference log-probs came from (or went to) this cache file.
    ReferenceCache {
        path: PathBuf,
        reused: bool,
    },
    /// Training starts at `step` of `total_steps`.
    Started {
        step: usize,
        total_steps: usize,
    },
    Step(StepMetrics),
    Saved(PathBuf),
}

/// Parses the config's dtype name.
pub fn parse_dtype(name: &str) -> Result<DType> {
    match name {
        "f32" => Ok(DType::F32),
        "bf16" => Ok(DType::BF16),
        "f16" => Ok(DType::F16),
        other => Err(TrainError::BadSetting {
            field: "model.dtype",
            message: format!("`{other}` (expected f32, bf16 or f16)"),
        }),
    }
}

/// Loads a model folder of any supported family (picked from its `config.json`).
fn load<B: Backend>(dir: &Path, device: &B::Device, dtype: DType) -> Result<AnyLoadedModel<B>> {
    load_any_model_dir::<B>(dir, device, dtype).map_err(|e| TrainError::Model(Box::new(e)))
}

/// Trains as `cfg` says; `resume` is a checkpoint or an output directory. Returns the final
/// model directory (`<output>/final`).
pub fn train_from_config<B: AutodiffBackend>(
    cfg: &TrainConfig,
    device: &B::Device,
    resume: Option<&Path>,
    on: &mut dyn FnMut(TrainEvent),
) -> Result<PathBuf> {
    let dtype = parse_dtype(&cfg.model.dtype)?;
    let settings = cfg.settings();
    let mut loaded = load::<B>(&cfg.model.path, device, dtype)?;
    // Before encoding: token counts and per-batch pixels both follow the configured processor.
    loaded.processor = cfg.model.configure_processor(loaded.processor)?;
    let encoder = VlmLazyEncoder(&loaded);
    let pad_id = encoder.pad_id();
    let pairs = load_pairs(&cfg.data.train, cfg.data.images.as_deref(), &encoder)?;
    let dataset_sha = file_sha256(&cfg.data.train)?;
    let setup = PolicySetup::of(&loaded, dtype, cfg.freeze.clone(), cfg.lora.clone());
    let (policy, summary) = VlmPolicy::prepare(loaded.model, setup);
    let params = crate::params::named_params(&policy);
    on(TrainEvent::Prepared {
        pairs: pairs.len(),
        trainable: params
            .iter()
            .filter(|p| p.trainable)
            .map(|p| p.numel())
            .sum(),
        total: params.iter().map(|p| p.numel()).sum(),
        summary,
    });

    let reference = match (settings.mode, cfg.training.reference) {
        (Mode::Sft, _) => Reference::None,
        (Mode::Dpo, ReferenceMode::Online) => {
            let frozen = policy.valid();
            Reference::Online(Box::new(move |batch| {
                Ok(score_batch(&frozen, batch)?
                    .into_iter()
                    .map(|r| [r.chosen_logps, r.rejected_logps])
                    .collect())
            }))
        }
        (Mode::Dpo, ReferenceMode::Precompute) => {
            let model_sha = model_dir_sha256(&cfg.model.path)?;
            let path = cache_path(&cfg.data.train, &dataset_sha, &model_sha);
            let rows: Vec<ScoreRow> = if path.is_file() {
                on(TrainEvent::ReferenceCache {
                    path: path.clone(),
                    reused: true,
                });
                read_scores(&path)?
            } else {
                let total = pairs.len();
                let reference = policy.valid();
                let rows = score_pairs(&reference, &pairs, settings.batch_size, pad_id, |done| {
                    on(TrainEvent::Scoring { done, total })
                })?;
                write_scores(&path, &rows)?;
                on(TrainEvent::ReferenceCache {
                    path: path.clone(),
                    reused: false,
                });
                rows
            };
            Reference::Precomputed(align_scores(&rows, &pairs, &path)?)
        }
    };

    let out = &cfg.output.dir;
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, e))?;
    let mut trainer = Trainer::new(settings, policy, pairs, reference, pad_id)?;
    if let Some(r) = resume {
        trainer = trainer.resume(&resolve_resume(r)?, Some(&dataset_sha))?;
    }
    on(TrainEvent::Started {
        step: trainer.position().global_step,
        total_steps: trainer.total_steps(),
    });
    let log_path = out.join("metrics.jsonl");
    if resume.is_some() {
        MetricsLog::truncate_after(&log_path, trainer.position().global_step)?;
    }
    let mut log = MetricsLog::open(&log_path)?;
    let mut last_saved = None;
    while !trainer.is_done() {
        let m = trainer.step()?;
        log.append(&m)?;
        let step = m.step;
        on(TrainEvent::Step(m));
        if cfg.output.save_steps > 0 && step % cfg.output.save_steps == 0 {
            on(TrainEvent::Saved(
                trainer.save_checkpoint(out, Some(&dataset_sha))?,
            ));
            last_saved = Some(step);
        }
    }
    if last_saved != Some(trainer.position().global_step) {
        on(TrainEvent::Saved(
            trainer.save_checkpoint(out, Some(&dataset_sha))?,
        ));
    }
    let final_dir = out.join("final");
    write_atomically(&final_dir, |tmp| {
        trainer.model().save_weights(tmp).map_err(TrainError::Model)
    })?;
    on(TrainEvent::Saved(final_dir.clone()));
    Ok(final_dir)
}

/// `vapr score`: summed completion log-probs of every pair under the model in `model_dir`,
/// written as JSONL to `out`. Returns the number of pairs.
pub fn score_file<B: Backend>(
    model_dir: &Path,
    pairs_file: &Path,
    images: Option<&Path>,
    out: &Path,
    device: &B::Device,
    batch_size: usize,
    mut progress: impl FnMut(usize, usize),
) -> Result<usize> {
    let loaded = load::<B>(model_dir, device, DType::F32)?;
    let encoder = VlmLazyEncoder(&loaded);
    let pad_id = encoder.pad_id();
    let pairs = load_pairs(pairs_file, images, &encoder)?;
    let total = pairs.len();
    // Pixels are recomputed per batch from the image files, as in training.
    let setup = PolicySetup::of(&loaded, DType::F32, Default::default(), None);
    let (scorer, _) = VlmPolicy::prepare(loaded.model, setup);
    let rows = score_pairs(&scorer, &pairs, batch_size, pad_id, |done| {
        progress(done, total)
    })?;
    write_scores(out, &rows)?;
    Ok(rows.len())
}

/// The parameter dtype on the device the config names; CPU runs f32 only.
fn check_cpu_dtype(dtype: &str) -> Result<()> {
    if dtype != "f32" {
        return Err(TrainError::BadSetting {
            field: "model.dtype",
            message: format!("`{dtype}` needs `device = \"cuda\"`; the CPU backend trains in f32"),
        });
    }
    Ok(())
}

#[cfg(not(feature = "cuda"))]
fn no_cuda<T>() -> Result<T> {
    Err(TrainError::BadSetting {
        field: "device",
        message:
            "`cuda`: this vapr was built without CUDA support (rebuild with `--features cuda`)"
                .into(),
    })
}

/// [`train_from_config`] on the backend the config's `model.device` names.
pub fn train(
    cfg: &TrainConfig,
    resume: Option<&Path>,
    on: &mut dyn FnMut(TrainEvent),
) -> Result<PathBuf> {
    match cfg.model.device.as_str() {
        "cuda" => {
            #[cfg(feature = "cuda")]
            {
                let device = burn::backend::cuda::CudaDevice::default();
                train_from_config::<burn::backend::Autodiff<burn::backend::Cuda<f32>>>(
                    cfg, &device, resume, on,
                )
            }
            #[cfg(not(feature = "cuda"))]
            no_cuda()
        }
        _ => {
            check_cpu_dtype(&cfg.model.dtype)?;
            let device = Default::default();
            train_from_config::<burn::backend::Autodiff<burn::backend::NdArray<f32>>>(
                cfg, &device, resume, on,
            )
        }
    }
}

/// [`score_file`] on `cpu` or `cuda`.
pub fn score(
    device: &str,
    model_dir: &Path,
    pairs_file: &Path,
    images: Option<&Path>,
    out: &Path,
    batch_size: usize,
    progress: impl FnMut(usize, usize),
) -> Result<usize> {
    match device {
        "cpu" => {
            let d = Default::default();
            score_file::<burn::backend::NdArray<f32>>(
                model_dir, pairs_file, images, out, &d, batch_size, progress,
            )
        }
        "cuda" => {
            #[cfg(feature = "cuda")]
            {
                let d = burn::backend::cuda::CudaDevice::default();
                score_file::<burn::backend::Cuda<f32>>(
                    model_dir, pairs_file, images, out, &d, batch_size, progress,
                )
            }
            #[cfg(not(feature = "cuda"))]
            {
                let _ = progress;
                no_cuda()
            }
        }
        other => Err(TrainError::BadSetting {
            field: "device",
            message: format!("`{other}` (expected cpu or cuda)"),
        }),
    }
}
