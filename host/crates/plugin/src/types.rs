//! Host-side plugin data: what the pipeline passes in and gets back. Plain serde types,
//! independent of the generated bindings (see `bindings.rs` for the conversions).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One (question, correct answer) unit sent to a plugin. Mirrors the WIT `sample`; the
/// JSON form is what `vapr plugins run --sample FILE.json` reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sample {
    #[serde(default)]
    pub id: String,
    pub question: String,
    /// The correct (chosen) answer.
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Per-run parameters, in order (later keys win).
    #[serde(default, skip_serializing_if = "Vec::is_empty", with = "params_as_map")]
    pub params: Vec<(String, String)>,
    /// Substitutes the editor must not use again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub penalty: Vec<String>,
    /// The previous validation failure, for a retry prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
}

impl Sample {
    /// A sample with id, question and answer.
    pub fn new(
        id: impl Into<String>,
        question: impl Into<String>,
        answer: impl Into<String>,
    ) -> Self {
        Sample {
            id: id.into(),
            question: question.into(),
            answer: answer.into(),
            ..Sample::default()
        }
    }

    /// Total bytes of text the sample carries (basis of the output-size cap).
    pub fn text_len(&self) -> usize {
        self.id.len()
            + self.question.len()
            + self.answer.len()
            + self.feedback.as_ref().map_or(0, String::len)
            + self.penalty.iter().map(String::len).sum::<usize>()
            + self
                .params
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>()
    }
}

/// Params are a JSON object in files (`{"max-delta": "2"}`; numbers and booleans are
/// accepted and turned into text) and an ordered list in the WIT.
mod params_as_map {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(params: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(params.iter().map(|(k, v)| (k, v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        map.into_iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => Ok((k, s)),
                serde_json::Value::Number(n) => Ok((k, n.to_string())),
                serde_json::Value::Bool(b) => Ok((k, b.to_string())),
                other => Err(D::Error::custom(format!(
                    "param `{k}` must be a string, number or boolean, not {other}"
                ))),
            })
            .collect()
    }
}

/// Injector or validator (the WIT world a component implements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginKind {
    Injector,
    Validator,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Injector => "injector",
            PluginKind::Validator => "validator",
        }
    }
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything known about a loaded plugin (`vapr plugins list --json` prints these).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub id: String,
    pub kind: PluginKind,
    pub version: String,
    pub categories: Vec<String>,
    pub description: String,
    /// The plugin API version stamped by the SDK (`0.1.0`).
    pub api_version: String,
    /// The component file.
    pub path: PathBuf,
    /// The source crate, for dev plugins built by the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PathBuf>,
    /// sha256 of the component bytes.
    pub sha256: String,
    /// Extra key/values the plugin reports (documented params, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
}

impl PluginInfo {
    /// `id@version`, the tag on every log line and error.
    pub fn tag(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// A rejected answer produced by an injector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Edit {
    pub rejected: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
}

/// A validator's judgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub pass: bool,
    pub score: f32,
    pub reasons: Vec<String>,
    pub metrics: Vec<(String, f64)>,
}

/// A plugin's own (expected) failure: the WIT `plugin-error` variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum GuestError {
    /// The sample does not fit this plugin (skip it, not a bug).
    #[error("refused: {0}")]
    Refused(String),
    /// The editor's reply is unusable; retrying with feedback may help.
    #[error("bad reply: {0}")]
    BadReply(String),
    #[error("bad template: {0}")]
    BadTemplate(String),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Log severity of a plugin log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// One structured log line a plugin emitted during a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: LogLevel,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<(String, String)>,
}

/// The result of one successful plugin call, tagged with the exact plugin that made it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Called<T> {
    pub value: T,
    pub plugin: String,
    pub version: String,
    /// sha256 of the component that ran (changes on every rebuild).
    pub sha256: String,
    /// Log lines of this call, in order.
    pub logs: Vec<LogLine>,
    /// Wall time of instantiate + call + teardown (`elapsed_us` in JSON).
    #[serde(rename = "elapsed_us", with = "duration_us")]
    pub elapsed: Duration,
}

mod duration_us {
    use serde::Serializer;
    pub fn serialize<S: Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_json_takes_params_as_an_object_with_scalars() {
        let s: Sample = serde_json::from_str(
            r#"{"id":"a#0","question":"How many?","answer":"Three.","params":{"max-delta":2,"strict":true,"style":"terse"}}"#,
        )
        .unwrap();
        assert_eq!(s.params.len(), 3);
        assert!(s.params.contains(&("max-delta".into(), "2".into())));
        assert!(s.params.contains(&("strict".into(), "true".into())));
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back["params"]["style"], "terse");
        let err =
            serde_json::from_str::<Sample>(r#"{"question":"q","answer":"a","params":{"x":[1]}}"#)
                .unwrap_err();
        assert!(err.to_string().contains("param `x`"), "{err}");
        assert!(
            serde_json::from_str::<Sample>(r#"{"question":"q","answer":"a","anwser":"typo"}"#)
                .is_err()
        );
    }

    #[test]
    fn guest_error_serialises_with_kind_and_message() {
        let v = serde_json::to_value(GuestError::Refused("no count".into())).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"kind": "refused", "message": "no count"})
        );
    }
}
