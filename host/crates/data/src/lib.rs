//! The data room: dataset formats in and out, image loading and the synthetic scene world.
//!
//! - [`inputs`]: supervised (image, question, answer) data — LLaVA conversation JSON/JSONL and
//!   Hugging Face parquet — split into single-turn [`vapr_core::QaUnit`]s, streaming, with
//!   every skipped record reported by file and line/row ([`ReadReport`]).
//! - [`preference`]: preference JSONL (our records) and other trainers' `chosen`/`rejected`
//!   datasets.
//! - [`export`]: TRL and LLaMA-Factory preference layouts.
//! - [`images`]: decoding to RGB and materialising embedded image bytes to files.
//! - [`synth`]: the synthetic scene world (renderer, questions, held-out evaluation split).

mod error;
pub mod export;
pub mod images;
pub mod inputs;
mod jsonvalue;
mod parquet_rows;
pub mod preference;
mod report;
pub mod synth;

pub use error::{DataError, Location, Position};
pub use inputs::{ImageCheck, ReadOptions, for_each_unit, read_units};
pub use preference::{PreferenceReader, PreferenceWriter, for_each_pair, read_preferences};
pub use report::{Issue, ReadReport, SkipReason};
