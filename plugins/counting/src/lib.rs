//! Counting error injector: changes the count in a correct answer to a different,
//! plausible count (digits stay digits, words stay words, case kept) and keeps the
//! sentence grammatical: the counted noun and the verb agree with the new count ("There is
//! one blue triangle." → "There are three blue triangles."), modifiers stay untouched.
//! Zero is a count: "There are no red circles." → "There are two red circles.", and a
//! count may become "no …"/"none" where that reads as English.
//!
//! Params: `max-delta` (default 2): the largest change from the true count.

mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::inject::{count_sites, numbers};

pub struct Counting;

/// Question openings that ask for a count.
const COUNT_CUES: [&str; 5] = ["how many", "number of", "count", "how much", "total"];

impl Injector for Counting {
    fn info() -> PluginInfo {
        PluginInfo::new("counting", env!("CARGO_PKG_VERSION"))
            .categories(&["counting"])
            .description("Changes a count to a different plausible count, keeping the sentence.")
            .extra(
                "param.max-delta",
                "largest change from the true count (default 2)",
            )
    }

    fn fit(sample: &Sample) -> f32 {
        let q = sample.question.to_lowercase();
        let mut score = 0.0;
        let asks_count = COUNT_CUES.iter().any(|c| q.contains(c));
        if asks_count {
            score += 0.6;
        }
        // A zero ("no red circles") is a count only where a count was asked for: an
        // existence answer's "there is no dog" is not.
        if !numbers(&sample.answer).is_empty()
            || (asks_count && !count_sites(&sample.answer).is_empty())
        {
            score += 0.3;
        }
        if sample
            .category
            .as_deref()
            .is_some_and(|c| c.eq_ignore_ascii_case("counting"))
        {
            score += 0.1;
        }
        score
    }

    fn parse_reply(reply: &str, sample: &Sample) -> Result<Edit, PluginError> {
        let edit = vapr_plugin_sdk::reply::parse_reply_default(reply, sample)?;
        let before: Vec<u64> = count_sites(&sample.answer)
            .iter()
            .map(|c| c.value)
            .collect();
        let after: Vec<u64> = count_sites(&edit.rejected)
            .iter()
            .map(|c| c.value)
            .collect();
        if after.is_empty() {
            return Err(PluginError::BadReply("the reply contains no count".into()));
        }
        if before == after {
            return Err(PluginError::BadReply(format!(
                "the reply keeps the same count ({before:?})"
            )));
        }
        Ok(edit
            .extra("counts-before", join(&before))
            .extra("counts-after", join(&after)))
    }

    fn rule_edit(sample: &Sample, seed: u64) -> Result<Edit, PluginError> {
        rule::edit(sample, seed)
    }
}

register_injector!(Counting);

fn join(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
