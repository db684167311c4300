//! The pipeline room: Stage 1 filter, Stage 2 categorise, Stage 3 edit + validate, and
//! the resumable run ledger.
//!
//! The stages talk to the plugin runtime and the editor LLM through the small traits in
//! [`ports`]; [`run::run`] drives a whole `vapr generate` run over them.

pub mod adapters;
pub mod categorise;
pub mod config;
pub mod edit;
pub mod error;
pub mod filter;
pub mod ledger;
pub mod ports;
pub mod run;
pub mod seed;
pub mod summary;

#[cfg(test)]
mod run_tests;
#[cfg(test)]
mod testkit;

pub use error::PipelineError;
pub use run::{CrashHook, InputCounts, NoProgress, Progress, Rooms, RunSettings, run};
pub use summary::Summary;
