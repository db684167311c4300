//! The quickstart's run report: what a run measured ([`results`]) and how it is written
//! ([`write_report`]: `metrics.json`, `report.md`, `report.html`, `plots/*.png`;
//! [`summary_table`]: the table printed at the end of the run).

mod analysis;
mod doc;
mod error;
mod format;
pub mod glyph;
mod plots;
mod report;
pub mod results;
mod summary;

pub use error::ReportError;
pub use plots::{DrawnPlot, PLOTS_DIR, PlotKind};
pub use report::{ReportFiles, write_report};
pub use results::{EvalSplit, ModelResult, PairSetResult, QuickstartResults, StepPoint};
pub use summary::summary_table;
