//! Existence error injector: flips a yes/no answer and makes its justification agree —
//! "Yes, there is a green square" ↔ "No, there is no green square", "Yes, it is safe to
//! walk" → "No, it is not safe to walk". An answer without a leading yes/no gets its first
//! claim negated or affirmed ("There is a dog" → "There is no dog").

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Existence;

impl Injector for Existence {
    fn info() -> PluginInfo {
        PluginInfo::new("existence", env!("CARGO_PKG_VERSION"))
            .categories(&["existence"])
            .description("Flips a yes/no answer and makes its justification agree (there is a / there is no).")
    }

    fn fit(sample: &Sample) -> f32 {
        fit::score(&sample.question, &sample.answer)
    }

    fn parse_reply(reply: &str, sample: &Sample) -> Result<Edit, PluginError> {
        let rejected = text::reply::parse_checked(reply, &sample.answer, &sample.penalty)
            .map_err(PluginError::BadReply)?;
        rule::check_flipped(&sample.answer, &rejected).map_err(PluginError::BadReply)?;
        Ok(Edit::new(rejected).note("editor reply"))
    }

    fn rule_edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
        rule::edit(sample, seed)
    }
}

register_injector!(Existence);
