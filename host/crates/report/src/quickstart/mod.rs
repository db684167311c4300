//! The quickstart's run report: what a run measured ([`results`]) and how it is written.

pub mod results;

pub use results::{EvalSplit, ModelResult, PairSetResult, QuickstartResults, StepPoint};
