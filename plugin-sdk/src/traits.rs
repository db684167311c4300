//! The two plugin traits, one per WIT world. Only identity (and, for validators, the
//! judgement itself) is required; everything else has a sensible default.

use crate::{Edit, PluginError, PluginInfo, Sample, Verdict};

/// An error injector (`error-injector` world). Methods are associated functions: plugins
/// are stateless, every call runs in a fresh sandbox.
pub trait Injector {
    /// Identity and targeted categories.
    fn info() -> PluginInfo;

    /// How well `sample` fits this error type, in [0, 1] (Stage 2). Default: 1 when the
    /// sample's category hint is one of `info().categories`, else 0.
    fn fit(sample: &Sample) -> f32 {
        let info = Self::info();
        match &sample.category {
            Some(c) if info.categories.iter().any(|x| x.eq_ignore_ascii_case(c)) => 1.0,
            _ => 0.0,
        }
    }

    /// The editor prompt for `sample` from the host's template text. Default:
    /// [`crate::fill_template`].
    fn build_prompt(template: &str, sample: &Sample) -> Result<String, PluginError> {
        crate::fill_template(template, sample)
    }

    /// The rejected answer from the editor's reply. Default:
    /// [`crate::reply::parse_reply_default`] (cleaned reply; empty, unchanged or banned
    /// replies are `BadReply`).
    fn parse_reply(reply: &str, sample: &Sample) -> Result<Edit, PluginError> {
        crate::reply::parse_reply_default(reply, sample)
    }

    /// A deterministic edit without an LLM. Default: refuses.
    fn rule_edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
        let _ = (sample, seed);
        Err(PluginError::Refused(format!(
            "{} has no rule-based edit",
            Self::info().id
        )))
    }
}

/// A pair validator (`validator` world).
pub trait Validator {
    /// Identity (categories usually empty: applies to every pair).
    fn info() -> PluginInfo;

    /// Judges one pair.
    fn validate(sample: &Sample, chosen: &str, rejected: &str) -> Verdict;
}
