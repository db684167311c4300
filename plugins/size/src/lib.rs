//! Size error injector: flips the answer's size words and, with them, their explanation
//! (`larger` ↔ `smaller`, `big` ↔ `small`, `tall` ↔ `short`, `the same size as` →
//! `larger than`, `adult` → `young`), so "large, probably a big breed" becomes "small,
//! probably a small breed". A size word the question uses is flipped too: in "How tall is
//! it?" / "It is tall." the answer's `tall` is the content. A leading yes/no of a polar
//! question flips with them.

mod fit;
mod rule;
#[cfg(test)]
mod tests;

use vapr_plugin_sdk::prelude::*;

pub struct Size;

impl Injector for Size {
    fn info() -> PluginInfo {
        PluginInfo::new("size", env!("CARGO_PKG_VERSION"))
            .categories(&["size"])
            .description(
                "Flips size words and their explanation (larger/smaller, big/small, tall/short).",
            )
            .extra(
                "param.max-size-edits",
                "most size words flipped in one answer (default 3)",
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

register_injector!(Size);
