//! What a reader skipped and why: counted by reason, with the first few locations kept so
//! the summary can point at them.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::error::{DataError, Location};

/// Why a record (or one image) was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A JSONL line that is not valid JSON.
    InvalidJson,
    /// A record that is not a JSON object.
    NotAnObject,
    /// A required field is absent (`id`, `conversations` or `question`/`answer`, `chosen`…).
    MissingField,
    /// A field has the wrong type (e.g. `conversations` is not a list).
    WrongType,
    /// Turns do not alternate human → assistant, or a role is unknown.
    UnpairedTurn,
    /// More than one image per record: the units are single-image.
    MultipleImages,
    /// The image file does not exist.
    ImageMissing,
    /// The image exists (or is embedded) but cannot be decoded.
    ImageCorrupt,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::InvalidJson => "invalid_json",
            SkipReason::NotAnObject => "not_an_object",
            SkipReason::MissingField => "missing_field",
            SkipReason::WrongType => "wrong_type",
            SkipReason::UnpairedTurn => "unpaired_turn",
            SkipReason::MultipleImages => "multiple_images",
            SkipReason::ImageMissing => "image_missing",
            SkipReason::ImageCorrupt => "image_corrupt",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One skipped record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    /// `file:line` or `file row N`.
    pub location: String,
    pub reason: SkipReason,
    pub detail: String,
}

/// How many issues a report keeps verbatim (all are counted).
pub const KEPT_ISSUES: usize = 200;
/// How many issues per reason are logged as warnings before the rest go to debug.
const WARNED_PER_REASON: usize = 10;

/// Counts of a read: records seen, units produced, records skipped by reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReadReport {
    /// Source records seen (conversations, rows, lines with content).
    pub records: u64,
    /// Items produced (single-turn units, or pairs).
    pub units: u64,
    /// Skipped records by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Records whose id repeated an earlier one and got a `~2`, `~3`… suffix.
    pub renamed_duplicates: u64,
    /// The first [`KEPT_ISSUES`] skipped records with their location.
    pub issues: Vec<Issue>,
}

impl ReadReport {
    /// Total number of skipped records.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Records a skipped record; in `strict` mode it becomes an error instead.
    pub(crate) fn skip(
        &mut self,
        strict: bool,
        location: Location,
        reason: SkipReason,
        detail: impl Into<String>,
    ) -> Result<(), DataError> {
        let detail = detail.into();
        if strict {
            return Err(DataError::Malformed {
                location,
                reason,
                detail,
            });
        }
        let count = self.skipped.entry(reason).or_insert(0);
        *count += 1;
        if *count as usize <= WARNED_PER_REASON {
            tracing::warn!("skipped {location}: {reason}: {detail}");
        } else {
            tracing::debug!("skipped {location}: {reason}: {detail}");
        }
        if self.issues.len() < KEPT_ISSUES {
            self.issues.push(Issue {
                location: location.to_string(),
                reason,
                detail,
            });
        }
        Ok(())
    }

    /// Adds another report's counts (several input files, one summary).
    pub fn merge(&mut self, other: ReadReport) {
        self.records += other.records;
        self.units += other.units;
        self.renamed_duplicates += other.renamed_duplicates;
        for (reason, n) in other.skipped {
            *self.skipped.entry(reason).or_insert(0) += n;
        }
        let room = KEPT_ISSUES.saturating_sub(self.issues.len());
        self.issues.extend(other.issues.into_iter().take(room));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn skip_counts_by_reason_and_strict_turns_it_into_an_error() {
        let mut r = ReadReport::default();
        r.skip(
            false,
            Location::line(Path::new("a.jsonl"), 3),
            SkipReason::InvalidJson,
            "x",
        )
        .unwrap();
        r.skip(
            false,
            Location::row(Path::new("b.parquet"), 7),
            SkipReason::MissingField,
            "id",
        )
        .unwrap();
        r.skip(
            false,
            Location::line(Path::new("a.jsonl"), 9),
            SkipReason::InvalidJson,
            "y",
        )
        .unwrap();
        assert_eq!(r.skipped[&SkipReason::InvalidJson], 2);
        assert_eq!(r.skipped_total(), 3);
        assert_eq!(r.issues[1].location, "b.parquet row 7");
        let err = r
            .skip(
                true,
                Location::line(Path::new("a.jsonl"), 12),
                SkipReason::WrongType,
                "conversations",
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "a.jsonl:12: wrong_type: conversations");
        assert_eq!(r.skipped_total(), 3);
    }
}
