//! Rule mode: flip the leading yes/no and toggle the negation of the first clause after it.

use vapr_plugin_sdk::prelude::*;
use vapr_plugin_sdk::text::edit::apply_edits;
use vapr_plugin_sdk::text::inject::describe_edits;
use vapr_plugin_sdk::text::polarity::{
    clause_end, flip_leading, leading_polarity, toggle_negation,
};
use vapr_plugin_sdk::text::reply::{banned_substitute, normalize_for_compare};

pub fn edit(sample: &Sample, _seed: u64) -> Result<Edit, PluginError> {
    let answer = sample.answer.as_str();
    let mut edits = Vec::new();
    let from = match flip_leading(answer) {
        Some((lead, flip)) => {
            edits.push(flip);
            lead.end
        }
        None => 0,
    };
    let to = clause_end(answer, from);
    match toggle_negation(answer, from, to) {
        Some((_, toggle)) => edits.extend(toggle),
        None if edits.is_empty() => {
            return Err(PluginError::Refused(
                "the answer has no yes/no and no claim to negate".into(),
            ));
        }
        // A bare "Yes"/"No" or a justification with nothing to negate: the flip alone.
        None => {}
    }
    let rejected = apply_edits(answer, &edits);
    if normalize_for_compare(&rejected) == normalize_for_compare(answer) {
        return Err(PluginError::Refused(
            "the edit would not change the answer".into(),
        ));
    }
    if let Some(banned) = banned_substitute(&rejected, answer, &sample.penalty) {
        return Err(PluginError::Refused(format!(
            "the flipped answer uses `{banned}`, banned by the penalty list"
        )));
    }
    Ok(Edit::new(rejected).note(describe_edits(answer, &edits)))
}

/// An editor reply must flip the yes/no of an answer that has one.
pub fn check_flipped(chosen: &str, rejected: &str) -> Result<(), String> {
    match (leading_polarity(chosen), leading_polarity(rejected)) {
        (Some(c), Some(r)) if c.polarity == r.polarity => Err(format!(
            "the reply keeps the answer's `{}`: an existence error must flip it",
            c.polarity.word()
        )),
        (Some(c), None) => Err(format!(
            "the reply drops the answer's leading `{}`",
            c.polarity.word()
        )),
        _ => Ok(()),
    }
}
