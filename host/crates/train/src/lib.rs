//! The train room: DPO (and SFT) trainer, losses, TRL-compatible metrics, optimiser and
//! schedule, LoRA, reference log-prob cache and checkpoints.
//!
//! Models plug in through [`PreferenceModel`]: given a batch of pairs they return summed
//! completion log-probs. Every vision-language family of vapr-model (Qwen2-VL, Qwen2.5-VL,
//! LLaVA) comes through one type, [`vlm::VlmPolicy`], picked at run time from the folder. Everything else — losses, metrics, AdamW, schedules, clipping,
//! accumulation, freezing, checkpoints, resume — lives here and is model-agnostic.

pub mod batch;
pub mod error;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod optim;
pub mod params;
pub mod schedule;
pub mod tensors;
pub mod toy;

pub use batch::{EncodedPair, PairBatch};
pub use error::{BoxError, TrainError};
pub use loss::{LossConfig, LossType};
pub use metrics::StepMetrics;
pub use model::{PreferenceModel, SequenceLogps, completion_logps};
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod refcache;
pub mod trainer;

pub use data::PairEncoder;
pub use trainer::{Checkpointable, Mode, Position, Reference, TrainSettings, Trainer};
pub mod bench;
pub mod qwen;
pub mod run;
pub mod vlm;
