//! Spatial error injector: swaps one spatial relation of the correct answer for a
//! contradicting one (`left of` ↔ `right of`, `above` ↔ `below`, `in front of` ↔ `behind`,
//! `next to` → `far from`, `on the` → `under the`, `inside` ↔ `outside`, …). Every
//! occurrence of the chosen relation changes, so the answer stays self-consistent; a
//! leading yes/no of a polar question flips with it.

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Spatial;

impl Injector for Spatial {
    fn info() -> PluginInfo {
        PluginInfo::new("spatial", env!("CARGO_PKG_VERSION"))
            .categories(&["spatial"])
            .description("Swaps a spatial relation for a contradicting one (left/right, above/below, next to/far from).")
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

register_injector!(Spatial);
