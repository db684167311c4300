//! Object error injector: substitutes the answer's key object noun with a same-kind one
//! (`circle` → `square`, `cat` → `dog`, `plane` → `helicopter`, `propeller` → `jet
//! engine`), keeping its number (`dogs` → `cats`) and every other word. The noun chosen is
//! the first one the question does not already name (in "What is the man holding?" the
//! man stays, the frisbee changes); all its occurrences change so the answer stays
//! consistent, and a leading yes/no of a polar question flips with it.

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Object;

impl Injector for Object {
    fn info() -> PluginInfo {
        PluginInfo::new("object", env!("CARGO_PKG_VERSION"))
            .categories(&["object"])
            .description("Substitutes the key object noun with a same-kind one (circle/square, cat/dog, plane/helicopter).")
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

register_injector!(Object);
