//! Logging from plugins.
//!
//! Inside the sandbox these calls go to the host's `log` import, which tags every line
//! with the plugin's id and version and caps the volume per call; natively (unit tests)
//! they print to stderr. Example:
//!
//! ```
//! use vapr_plugin_sdk::log;
//! log::info("no count found");
//! log::log(log::Level::Debug, "picked replacement", &[("from", "3"), ("to", "5")]);
//! ```

use std::sync::OnceLock;

pub use crate::Level;

/// Where log lines go; set by the register macros to the host import.
#[doc(hidden)]
pub type Sink = fn(Level, &str, &[(String, String)]);

static SINK: OnceLock<Sink> = OnceLock::new();

/// Installs the host sink (called by the code `register_*!` generates).
#[doc(hidden)]
pub fn __set_sink(sink: Sink) {
    let _ = SINK.set(sink);
}

/// A log line with structured fields.
pub fn log(level: Level, message: impl AsRef<str>, fields: &[(&str, &str)]) {
    let message = message.as_ref();
    match SINK.get() {
        Some(sink) => {
            let owned: Vec<(String, String)> = fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            sink(level, message, &owned);
        }
        None => {
            let mut line = format!("[{}] {message}", level.as_str());
            for (k, v) in fields {
                line.push_str(&format!(" {k}={v}"));
            }
            eprintln!("{line}");
        }
    }
}

pub fn trace(message: impl AsRef<str>) {
    log(Level::Trace, message, &[]);
}
pub fn debug(message: impl AsRef<str>) {
    log(Level::Debug, message, &[]);
}
pub fn info(message: impl AsRef<str>) {
    log(Level::Info, message, &[]);
}
pub fn warn(message: impl AsRef<str>) {
    log(Level::Warn, message, &[]);
}
pub fn error(message: impl AsRef<str>) {
    log(Level::Error, message, &[]);
}
