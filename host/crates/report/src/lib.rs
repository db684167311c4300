//! The report room: dataset bias statistics (the paper's table), plots and run reports.
//!
//! - [`stats`]: length/style bias statistics of preference datasets (`vapr stats`).
//! - [`quickstart`]: the quickstart's results record and its report.

pub mod quickstart;
pub use quickstart::glyph;
pub mod stats;

pub use stats::{
    BiasAccumulator, BiasStats, Buckets, LONG_TOKENS, bias_stats, bias_stats_of_records,
};
