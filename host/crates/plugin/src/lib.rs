//! The plugin room: one shared wasmtime `Engine`, sandboxed per-call `Store`s, plugin
//! discovery and building, and hot reload of plugins and prompt templates.
//!
//! # API for the pipeline
//!
//! ```ignore
//! use vapr_plugin::{PluginHost, Limits, Builder, Sample, TemplateStore, discover};
//!
//! // Once per process. `PluginHost` is Sync: share it as Arc<PluginHost>.
//! let host = Arc::new(PluginHost::new(Limits::default())?);
//! // Discover plugin dirs (project `plugins/`, user dir, extra dirs), build stale dev
//! // crates, load everything; per-plugin failures are reported, not fatal.
//! let report = host.load_dirs(&discover::default_dirs(Some(repo), &extra), Some(&Builder::new()));
//! let templates = TemplateStore::load(repo.join("configs/prompts"))?;
//!
//! // Blocking calls (tens of µs each; at most the 2 s deadline). From async code use
//! // tokio::task::spawn_blocking. Each runs on a fresh sandboxed instance.
//! let sample = Sample::new("img1#0", "How many cats?", "There are three cats.");
//! let fit = host.fit("counting", &sample)?;                  // Called<f32>
//! let t = templates.get("counting").unwrap();                // Arc<Template>: text + sha256
//! let prompt = host.build_prompt("counting", &t.text, &sample)?;  // Called<String>
//! let edit = host.parse_reply("counting", &reply, &sample)?;       // Called<Edit>
//! let edit = host.rule_edit("counting", &sample, 42)?;             // Called<Edit>, no LLM
//! let verdict = host.validate("length-edit", &sample, chosen, &edit.value.rejected)?;
//! // Every Called<T> carries plugin id, version, component sha256, logs and elapsed time.
//! // Errors are CallError { plugin: "id@version", function, kind, stderr }:
//! // `err.is_refusal()` (skip the sample), `err.guest()` (BadReply → retry with feedback),
//! // `err.is_trap()` (deadline, memory, panic: fail this sample, the host is fine).
//!
//! // Hot reload: one background task; keep the handle alive.
//! let _watch = Reloader::spawn(host.clone(), Some(templates.clone()), dirs, Builder::new(), |ev| ...)?;
//! ```
//!
//! Lookup helpers: [`PluginHost::list`], [`PluginHost::injectors_for`] (by category),
//! [`PluginHost::of_kind`], [`PluginHost::info`].

mod bindings;
mod builder;
mod catalog;
pub mod discover;
mod error;
mod loader;
mod registry;
mod reload;
mod sandbox;
pub mod scaffold;
mod templates;
mod types;
mod version;

pub use builder::{Builder, TARGET};
pub use catalog::LoadReport;
pub use error::{BuildError, CallError, CallErrorKind, LoadError};
pub use registry::PluginHost;
pub use reload::{ReloadEvent, Reloader};
pub use sandbox::Limits;
pub use templates::{Template, TemplateError, TemplateStore};
pub use types::{
    Called, Edit, GuestError, LogLevel, LogLine, PluginInfo, PluginKind, Sample, Verdict,
};
pub use version::{API_SECTION, ApiVersion, HOST_API, read_api_version, supported_range};
