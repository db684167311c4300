//! Shared vocabulary of vapr: the paper's ten task categories, the single-turn
//! question/answer unit that flows through the generation pipeline, and the
//! preference record that `vapr generate` writes and `vapr train` reads.
//!
//! Every room depends on this crate and on nothing heavier through it.

mod category;
mod record;

pub use category::{Category, UnknownCategory};
pub use record::{PreferenceRecord, QaUnit};
