//! SDK for vapr plugins: error injectors and validators compiled to `wasm32-wasip2`
//! WebAssembly components that the `vapr` host runs in a sandbox.
//!
//! # Writing a plugin
//!
//! A plugin is a `cdylib` crate depending on this SDK (`vapr plugins new NAME --kind
//! injector` scaffolds one). Implement one trait and register it:
//!
//! ```ignore
//! use vapr_plugin_sdk::prelude::*;
//!
//! pub struct Shouting;
//!
//! impl Injector for Shouting {
//!     // Required: identity.
//!     fn info() -> PluginInfo {
//!         PluginInfo::new("shouting", env!("CARGO_PKG_VERSION"))
//!             .categories(&["captioning"])
//!             .description("Upper-cases the first word.")
//!     }
//!     // Optional: fit (default: category hint match), build_prompt (default:
//!     // fill_template), parse_reply (default: cleaned reply), rule_edit (default: refuse).
//!     fn rule_edit(sample: &Sample, _seed: u64) -> Result<Edit, PluginError> {
//!         let first = text::tokenize(&sample.answer).into_iter().find(|t| t.is_word())
//!             .ok_or_else(|| PluginError::Refused("no word to edit".into()))?;
//!         let mut out = sample.answer.clone();
//!         out.replace_range(first.start..first.end, &first.text.to_uppercase());
//!         log::debug("upper-cased the first word");
//!         Ok(Edit::new(out))
//!     }
//! }
//!
//! register_injector!(Shouting);
//! ```
//!
//! Validators implement [`Validator`] (`info` and `validate`) and use
//! [`register_validator!`].
//!
//! # Testing and building
//!
//! - Plugin logic is plain Rust: `cargo test` natively calls `Shouting::rule_edit(..)`
//!   directly; [`log`] prints to stderr there.
//! - `vapr plugins build DIR` (or `cargo build --release --target wasm32-wasip2`) emits the
//!   component; the register macro stamps [`API_VERSION`] into its `vapr:api-version`
//!   custom section, which the host checks before loading.
//! - `vapr plugins run ID --sample sample.json --mode rule` runs it in the real sandbox.
//!
//! # Rules of the sandbox
//!
//! No files, no environment, no network, no clock: all inputs arrive through the call.
//! Each call gets a fresh instance with 64 MiB of memory and a 2 s deadline. Return
//! [`PluginError`] for expected failures (`Refused` when the sample does not fit); a panic
//! fails the sample with its message.
//!
//! The dependency must keep its name `vapr_plugin_sdk` (the generated glue refers to it).

mod macros;
mod template;
mod traits;
mod types;

pub mod log;
pub mod reply;

pub use template::fill_template;
pub use traits::{Injector, Validator};
pub use types::{Edit, Level, Params, PluginError, PluginInfo, Sample, Verdict};

/// Text helpers shared with the host (same token counts on both sides): word tokens
/// with byte spans, number words, a seeded RNG, word-level Levenshtein.
pub mod text {
    pub use vapr_text::*;
}

/// Everything a plugin usually needs: `use vapr_plugin_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Edit, Injector, Level, PluginError, PluginInfo, Sample, Validator, Verdict, fill_template,
        log, register_injector, register_validator, text,
    };
}

// API_VERSION, API_VERSION_BYTES and the hidden `__vapr_generate_*!` macros (build.rs).
include!(concat!(env!("OUT_DIR"), "/api.rs"));

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_version_matches_the_wit_package() {
        assert_eq!(super::API_VERSION, (0, 1, 0));
        assert_eq!(super::API_VERSION_BYTES, [0, 0, 0, 1, 0, 0]);
    }
}
