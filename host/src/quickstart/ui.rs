//! The run's one progress display (a bar whose prefix names the step) and its log file
//! `DIR/quickstart.log`, which gets every step's start, end, timing and training metrics.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bar plus log file.
pub struct Ui {
    bar: ProgressBar,
    log: Mutex<File>,
    started: Instant,
    steps: usize,
}

impl Ui {
    /// Opens (truncates) `DIR/quickstart.log`; the bar is hidden when `show_bar` is false.
    pub fn new(dir: &Path, steps: usize, show_bar: bool) -> Result<Self> {
        let path = dir.join("quickstart.log");
        let log = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if show_bar {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} {bar:30.cyan/blue} {pos}/{len} {msg} [{elapsed_precise}]",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        Ok(Ui {
            bar,
            log: Mutex::new(log),
            started: Instant::now(),
            steps,
        })
    }

    /// A line in the log file (and in the tracing output at debug level: the terminal has
    /// the bar and [`Self::println`]).
    pub fn log(&self, line: &str) {
        tracing::debug!("{line}");
        let secs = self.started.elapsed().as_secs_f64();
        if let Ok(mut f) = self.log.lock() {
            let _ = writeln!(f, "[{secs:8.1}s] {line}");
        }
    }

    /// Starts step `index` (1-based) with `total` units of work.
    pub fn begin(&self, index: usize, name: &str, total: usize) {
        self.bar
            .set_prefix(format!("[{index}/{}] {name}", self.steps));
        self.bar.set_length(total as u64);
        self.bar.set_position(0);
        self.bar.set_message("");
        self.log(&format!("step {index}/{}: {name}", self.steps));
    }

    pub fn set_length(&self, total: usize) {
        self.bar.set_length(total as u64);
    }

    pub fn set(&self, done: usize, msg: String) {
        self.bar.set_position(done as u64);
        self.bar.set_message(msg);
    }

    pub fn message(&self, msg: String) {
        self.bar.set_message(msg);
    }

    pub fn inc(&self, n: usize) {
        self.bar.inc(n as u64);
    }

    /// A line in the log and above the bar (the run's visible history: one line per step).
    pub fn println(&self, line: &str) {
        self.log(line);
        if !self.bar.is_hidden() {
            self.bar.println(line);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
