//! Checkpoints: the model's weights (its own format: full HF-named safetensors or PEFT
//! adapters), the optimizer moments by parameter name, and the trainer position.
//!
//! A checkpoint is written into a hidden temporary directory, every file fsynced, then renamed
//! into place, so a crash mid-save leaves the last complete checkpoint untouched.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use serde::{Deserialize, Serialize};

use crate::error::{Result, TrainError};
use crate::model::PreferenceModel;
use crate::optim::Moments;
use crate::tensors::{HostTensor, read_safetensors, write_safetensors};
use crate::trainer::{Checkpointable, Position, TrainSettings, Trainer};

/// `trainer_state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerState {
    pub format: u32,
    pub position: Position,
    pub total_steps: usize,
    pub settings: TrainSettings,
    /// SHA-256 of the training data file, when known (resume refuses other data).
    pub dataset_sha256: Option<String>,
}

const STATE_FILE: &str = "trainer_state.json";
const OPTIM_FILE: &str = "optimizer.safetensors";

/// `checkpoint-<step>` directories under `out` that finished writing, newest last.
pub fn checkpoints(out: &Path) -> Vec<(usize, PathBuf)> {
    let mut found: Vec<(usize, PathBuf)> = std::fs::read_dir(out)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let step = name.strip_prefix("checkpoint-")?.parse().ok()?;
            let path = e.path();
            path.join(STATE_FILE).is_file().then_some((step, path))
        })
        .collect();
    found.sort();
    found
}

/// A checkpoint directory itself, or the newest one inside an output directory.
pub fn resolve_resume(path: &Path) -> Result<PathBuf> {
    if path.join(STATE_FILE).is_file() {
        return Ok(path.to_path_buf());
    }
    checkpoints(path)
        .pop()
        .map(|(_, p)| p)
        .ok_or_else(|| TrainError::Checkpoint {
            path: path.to_path_buf(),
            message: format!("no {STATE_FILE} here and no complete checkpoint-<step> inside"),
        })
}

fn fsync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| TrainError::io(dir, e))
}

fn fsync_tree(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| TrainError::io(dir, e))? {
        let path = entry.map_err(|e| TrainError::io(dir, e))?.path();
        if path.is_dir() {
            fsync_tree(&path)?;
        } else {
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .map_err(|e| TrainError::io(&path, e))?;
        }
    }
    fsync_dir(dir)
}

/// Writes `final_dir` atomically: `fill` writes into a temporary sibling that is then fsynced
/// and renamed. An existing `final_dir` is replaced only after the new one is complete.
pub fn write_atomically(final_dir: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let parent = final_dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| TrainError::io(parent, e))?;
    let name = final_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "checkpoint".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| TrainError::io(&tmp, e))?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    fsync_tree(&tmp)?;
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let replaced = final_dir.exists();
    if replaced {
        std::fs::rename(final_dir, &old).map_err(|e| TrainError::io(final_dir, e))?;
    }
    std::fs::rename(&tmp, final_dir).map_err(|e| TrainError::io(final_dir, e))?;
    fsync_dir(parent)?;
    if replaced {
        std::fs::remove_dir_all(&old).map_err(|e| TrainError::io(&old, e))?;
    }
    Ok(())
}

impl<B, M> Trainer<B, M>
where
    B: AutodiffBackend,
    M: PreferenceModel<B> + AutodiffModule<B> + Checkpointable,
{
    /// Saves `out/checkpoint-<step>` atomically and returns its path.
    pub fn save_checkpoint(&self, out: &Path, dataset_sha256: Option<&str>) -> Result<PathBuf> {
        let dir = out.join(format!("checkpoint-{}", self.position.global_step));
        write_atomically(&dir, |tmp| {
            self.model().save_weights(tmp).map_err(TrainError::Model)?;
            self.write_optimizer(&tmp.join(OPTIM_FILE))?;
            let state = TrainerState {
                format: 1,
                position: self.position.clone(),
                total_steps: self.total_steps(),
                settings: self.settings.clone(),
                dataset_sha256: dataset_sha256.map(str::to_string),
            };
            let path = tmp.join(STATE_FILE);
            let json = serde_json::to_string_pretty(&state).expect("state serialises");
            std::fs::write(&path, json).map_err(|e| TrainError::io(&path, e))
        })?;
        tracing::debug!(path = %dir.display(), "saved checkpoint");
        Ok(dir)
    }

    fn write_optimizer(&self, path: &Path) -> Result<()> {
        let mut tensors = BTreeMap::new();
        let mut steps = BTreeMap::new();
        for (name, m) in self.optim.state() {
            tensors.insert(
                format!("{name}.exp_avg"),
                HostTensor::from_tensor(m.exp_avg.clone()),
            );
            tensors.insert(
                format!("{name}.exp_avg_sq"),
                HostTensor::from_tensor(m.exp_avg_sq.clone()),
            );
            steps.insert(name.clone(), m.step);
        }
        let meta = HashMap::from([(
            "steps".to_string(),
            serde_json::to_string(&steps).expect("steps serialise"),
        )]);
        write_safetensors(path, &tensors, Some(meta))
    }

    /// Continues from a checkpoint: weights, optimizer moments and data position. The
    /// settings that shape the trajectory must match the checkpoint's.
    pub fn resume(mut self, checkpoint: &Path, dataset_sha256: Option<&str>) -> Result<Self> {
        let err = |message: String| TrainError::Checkpoint {
            path: checkpoint.to_path_buf(),
            message,
        };
        let state_path = checkpoint.join(STATE_FILE);
        let text =
            std::fs::read_to_string(&state_path).map_err(|e| TrainError::io(&state_path, e))?;
        let state: TrainerState =
            serde_json::from_str(&text).map_err(|e| err(format!("{STATE_FILE}: {e}")))?;
        if state.settings != self.settings {
            return Err(err(
                "the training settings differ from the checkpoint's (resume needs the same config)"
                    .into(),
            ));
        }
        if let (Some(a), Some(b)) = (&state.dataset_sha256, dataset_sha256)
            && a != b
        {
            return Err(err(format!("trained on dataset {a}, this one is {b}")));
        }
        let model = self.model.take().expect("model present between steps");
        self.model = Some(model.load_weights(checkpoint).map_err(TrainError::Model)?);
        let optim_path = checkpoint.join(OPTIM_FILE);
        let (tensors, meta) = read_safetensors(&optim_path)?;
        let steps: BTreeMap<String, u64> = meta
            .get("steps")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(|| err(format!("{OPTIM_FILE} has no `steps` metadata")))?;
        let device = self.model().device();
        let mut moments = HashMap::new();
        for (name, step) in steps {
            let get = |suffix: &str| {
                tensors
                    .get(&format!("{name}.{suffix}"))
                    .ok_or_else(|| err(format!("{OPTIM_FILE} lacks `{name}.{suffix}`")))
            };
            let flat = |t: &HostTensor| HostTensor {
                shape: vec![t.data.len()],
                data: t.data.clone(),
            };
            moments.insert(
                name.clone(),
                Moments {
                    step,
                    exp_avg: flat(get("exp_avg")?).to_tensor(&device),
                    exp_avg_sq: flat(get("exp_avg_sq")?).to_tensor(&device),
                },
            );
        }
        self.optim.set_state(moments);
        self.position = state.position;
        tracing::info!(path = %checkpoint.display(), step = self.position.global_step, "resumed");
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_save_leaves_the_previous_checkpoint_intact() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("checkpoint-1");
        write_atomically(&target, |tmp| {
            std::fs::write(tmp.join("a.txt"), "good").map_err(|e| TrainError::io(tmp, e))
        })
        .unwrap();
        let failed = write_atomically(&target, |tmp| {
            std::fs::write(tmp.join("a.txt"), "half").map_err(|e| TrainError::io(tmp, e))?;
            Err(TrainError::Checkpoint {
                path: tmp.to_path_buf(),
                message: "disk full".into(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_to_string(target.join("a.txt")).unwrap(),
            "good"
        );
        // No temporary directory is left behind.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["checkpoint-1".to_string()]);
    }

    #[test]
    fn resume_path_picks_the_newest_complete_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        for step in [2, 10] {
            let d = dir.path().join(format!("checkpoint-{step}"));
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(STATE_FILE), "{}").unwrap();
        }
        // An incomplete one (no state file) is ignored.
        std::fs::create_dir_all(dir.path().join("checkpoint-11")).unwrap();
        assert_eq!(
            resolve_resume(dir.path()).unwrap(),
            dir.path().join("checkpoint-10")
        );
    }
}
