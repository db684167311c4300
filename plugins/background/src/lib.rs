//! Background error injector: changes what the answer says about the scene around the
//! objects — lighting (`spot` → `ambient`, `bright` → `dim`), weather (`sunny` →
//! `rainy`), time of day (`day` → `night`), setting (`indoors` → `outdoors`, `beach` →
//! `forest`), the background's pattern (`plain` → `striped`) or its colour (`light gray`
//! → `light blue`). The question picks the aspect (a lighting question gets a lighting
//! error); up to two terms of that aspect flip together so the answer stays consistent.

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Background;

impl Injector for Background {
    fn info() -> PluginInfo {
        PluginInfo::new("background", env!("CARGO_PKG_VERSION"))
            .categories(&["background"])
            .description(
                "Changes the lighting, weather, time of day, setting or background colour.",
            )
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

register_injector!(Background);
