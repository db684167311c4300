//! Colour error injector: replaces the colour words of the answer's colour phrase with
//! other colours, keeping how many there are ("red, green and purple" → three other,
//! distinct colours) and every other word. Colours the question already names are kept
//! (they identify the object), except in a polar answer, where the yes/no flips and the
//! colour changes with it so the rejected answer stays self-consistent.

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Color;

impl Injector for Color {
    fn info() -> PluginInfo {
        PluginInfo::new("color", env!("CARGO_PKG_VERSION"))
            .categories(&["color"])
            .description("Replaces colour words with other colours, keeping how many there are.")
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

register_injector!(Color);
