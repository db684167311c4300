//! The eval room: benchmark loaders and scorers with one pinned protocol each (CV-Bench,
//! MMStar, NaturalBench, POPE, MMVP), the resumable runner around a [`Generator`], the
//! yes-bias report and paired bootstrap comparisons of two runs.
//!
//! Data flow: files → [`table::Row`]s → [`bench::Benchmark::load`] → [`Item`]s →
//! [`Generator`] → `generations.jsonl` → [`score::write_scores`] → `scores.jsonl`,
//! `metrics.json`, yes-bias table and plot → [`compare::compare_runs`].

pub mod bench;
pub mod bias;
pub mod bootstrap;
pub mod compare;
mod error;
pub mod generate;
mod image_data;
mod item;
pub mod records;
pub mod run;
pub mod score;
pub mod table;

pub use error::{EvalError, Result};
pub use generate::{FnGenerator, GenError, GenRequest, Generator};
pub use image_data::ImageData;
pub use item::{Bench, GenParams, Item, ItemInfo};
