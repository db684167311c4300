//! Reasoning error injector: flips a key premise or conclusion of an explanation and keeps
//! the rest consistent with it. A yes/no conclusion flips together with its comparison and
//! one count that supports it ("No, there are fewer circles than squares: there are two
//! circles and three squares" → "Yes, there are more circles than squares: there are four
//! circles and three squares"); a free-form explanation gets one or two of its claims
//! reversed ("cold outside" → "hot outside"), hedges (`likely`) only as a last resort.

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Reasoning;

impl Injector for Reasoning {
    fn info() -> PluginInfo {
        PluginInfo::new("reasoning", env!("CARGO_PKG_VERSION"))
            .categories(&["reasoning"])
            .description("Flips a key premise or conclusion of an explanation, consistently.")
    }

    fn fit(sample: &Sample) -> f32 {
        fit::score(&sample.question, &sample.answer)
    }

    fn parse_reply(reply: &str, sample: &Sample) -> Result<Edit, PluginError> {
        text::reply::parse_checked(reply, &sample.answer, &sample.penalty)
            .map(|r| Edit::new(r).note("editor reply"))
            .map_err(PluginError::BadReply)
    }

    fn rule_edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
        rule::edit(sample, seed)
    }
}

register_injector!(Reasoning);
