//! Referential error injector: changes the attributes of the object the question refers
//! to — its colour, size, kind or count ("a small red circle" → "a large blue circle",
//! "a huge burger with two cheese layers" → "a tiny burger with three cheese layers").
//! Words the question uses to locate the referent ("the shape in the top-left corner")
//! are never touched; one or two attributes change (param `attributes`, default 2).

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Referential;

impl Injector for Referential {
    fn info() -> PluginInfo {
        PluginInfo::new("referential", env!("CARGO_PKG_VERSION"))
            .categories(&["referential"])
            .description(
                "Changes the attributes (colour, size, kind, count) of the referred object.",
            )
            .extra(
                "param.attributes",
                "how many attributes to change, 1 or 2 (default 2)",
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

register_injector!(Referential);
