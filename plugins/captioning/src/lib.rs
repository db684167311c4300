//! Captioning error injector: alters two to four details spread across a caption —
//! colours, sizes, object kinds, counts, spatial relations, setting, time, weather — one
//! word or phrase per sentence where it can, so every sentence keeps its skeleton ("green
//! jet" → "yellow jet", "middle of the road" stays, "tall buildings" → "short buildings").
//! The number of edits follows the caption's sentence count (params `min-edits`, default
//! 2, and `max-edits`, default 4).

mod fit;
#[cfg(test)]
mod routing;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Captioning;

impl Injector for Captioning {
    fn info() -> PluginInfo {
        PluginInfo::new("captioning", env!("CARGO_PKG_VERSION"))
            .categories(&["captioning"])
            .description(
                "Alters two to four details across a caption, keeping each sentence's skeleton.",
            )
            .extra("param.min-edits", "fewest details changed (default 2)")
            .extra("param.max-edits", "most details changed (default 4)")
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

register_injector!(Captioning);
