//! Records exchanged between rooms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Category;

/// One single-turn (question, answer) unit split out of a conversation.
///
/// The id is stable: `<source id>#<turn>` with turns counted from 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaUnit {
    pub id: String,
    /// Image path as the source names it (None for text-only items).
    pub image: Option<String>,
    /// The question without the `<image>` placeholder.
    pub question: String,
    /// The ground-truth answer (the "chosen" answer of the pair).
    pub answer: String,
    /// Source file (and row) the unit came from, for provenance.
    pub source: String,
    /// Category given by the source, if any (e.g. the synthetic world knows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_hint: Option<Category>,
}

/// One preference pair as `vapr generate` writes it (one JSON object per line).
///
/// Readers need only `id`, `image`, `prompt`, `chosen`, `rejected`; everything else is
/// provenance. Unknown fields are kept in `extra` so a round trip loses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreferenceRecord {
    pub id: String,
    /// Image path (relative to the dataset's images directory) or null.
    pub image: Option<String>,
    /// The question shown to the model (no `<image>` placeholder).
    pub prompt: String,
    pub chosen: String,
    pub rejected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `rule` or the editor model's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_sha256: Option<String>,
    /// Validator id -> its verdict and score.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub validator: BTreeMap<String, serde_json::Value>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl PreferenceRecord {
    /// A minimal record with only the fields trainers read.
    pub fn new(
        id: impl Into<String>,
        image: Option<String>,
        prompt: impl Into<String>,
        chosen: impl Into<String>,
        rejected: impl Into<String>,
    ) -> Self {
        PreferenceRecord {
            id: id.into(),
            image,
            prompt: prompt.into(),
            chosen: chosen.into(),
            rejected: rejected.into(),
            category: None,
            source: None,
            editor: None,
            plugin: None,
            plugin_version: None,
            template_sha256: None,
            validator: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_record_keeps_unknown_fields() {
        let line = r#"{"id":"a#0","image":"x.png","prompt":"q","chosen":"c","rejected":"r","category":"color","custom":7}"#;
        let rec: PreferenceRecord = serde_json::from_str(line).unwrap();
        assert_eq!(rec.category, Some(Category::Color));
        assert_eq!(rec.extra["custom"], serde_json::json!(7));
        let back: serde_json::Value = serde_json::to_value(&rec).unwrap();
        assert_eq!(back["custom"], serde_json::json!(7));
        assert_eq!(back["chosen"], "c");
    }
}
