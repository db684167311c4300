//! Friendly Rust types mirroring the WIT records of `vapr:plugin@0.1.0`.
//!
//! Plugin code only ever sees these; the register macros convert to and from the
//! generated bindings at the component boundary.

use std::fmt;

/// Key/value options (the WIT `params` list), kept in order.
pub type Params = Vec<(String, String)>;

/// One (question, correct answer) unit handed to a plugin.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Stable id of the unit (`<source id>#<turn>`).
    pub id: String,
    /// The question, without the `<image>` placeholder.
    pub question: String,
    /// The correct (chosen) answer.
    pub answer: String,
    /// The task category, when known (`counting`, `color`, ...).
    pub category: Option<String>,
    /// Per-run parameters; unknown keys are ignored.
    pub params: Params,
    /// Substitutes that must not be used again.
    pub penalty: Vec<String>,
    /// Why the previous attempt failed validation.
    pub feedback: Option<String>,
}

impl Sample {
    /// A sample with only id, question and answer set.
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

    /// Sets the category hint.
    pub fn with_category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// Adds a parameter.
    pub fn with_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((key.into(), value.into()));
        self
    }

    /// Adds a banned substitute.
    pub fn with_penalty(mut self, banned: impl Into<String>) -> Self {
        self.penalty.push(banned.into());
        self
    }

    /// Sets the previous failure reason.
    pub fn with_feedback(mut self, feedback: impl Into<String>) -> Self {
        self.feedback = Some(feedback.into());
        self
    }

    /// The last value given for `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` parsed as a number; `default` when absent, an `InvalidInput` error when unparsable.
    pub fn param_f64(&self, key: &str, default: f64) -> Result<f64, PluginError> {
        match self.param(key) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| {
                PluginError::InvalidInput(format!("param `{key}` = `{v}` is not a number"))
            }),
        }
    }

    /// Whether `candidate` is banned by the penalty list (case-insensitive).
    pub fn is_penalised(&self, candidate: &str) -> bool {
        self.penalty
            .iter()
            .any(|p| p.trim().eq_ignore_ascii_case(candidate.trim()))
    }
}

/// What a plugin says about itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginInfo {
    /// Stable id, lower-case kebab (`counting`).
    pub id: String,
    /// The plugin's own semver version.
    pub version: String,
    /// Task categories it targets.
    pub categories: Vec<String>,
    /// One sentence for `vapr plugins list`.
    pub description: String,
    /// Anything else worth showing.
    pub extra: Params,
}

impl PluginInfo {
    /// Identity; use `env!("CARGO_PKG_VERSION")` for the version.
    pub fn new(id: impl Into<String>, version: impl Into<String>) -> Self {
        PluginInfo {
            id: id.into(),
            version: version.into(),
            ..PluginInfo::default()
        }
    }

    /// Sets the targeted categories.
    pub fn categories(mut self, categories: &[&str]) -> Self {
        self.categories = categories.iter().map(|c| c.to_string()).collect();
        self
    }

    /// Sets the one-sentence description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = text.into();
        self
    }

    /// Adds an extra key/value (e.g. `param.max-length-gap` = what it does).
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
}

/// A rejected answer with one targeted error.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    /// The edited answer.
    pub rejected: String,
    /// What changed, for humans (`three -> five`).
    pub note: Option<String>,
    /// Extra provenance.
    pub extra: Params,
}

impl Edit {
    /// An edit with only the rejected text.
    pub fn new(rejected: impl Into<String>) -> Self {
        Edit {
            rejected: rejected.into(),
            ..Edit::default()
        }
    }

    /// Sets the note.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// Adds provenance.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }
}

/// A validator's judgement of one pair.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    pub pass: bool,
    /// Quality in [0, 1].
    pub score: f32,
    /// Why it failed (empty when it passed).
    pub reasons: Vec<String>,
    /// Named measurements for reports.
    pub metrics: Vec<(String, f64)>,
}

impl Verdict {
    /// A passing verdict with score 1.
    pub fn pass() -> Self {
        Verdict {
            pass: true,
            score: 1.0,
            ..Verdict::default()
        }
    }

    /// Records a measurement.
    pub fn metric(mut self, name: impl Into<String>, value: f64) -> Self {
        self.metrics.push((name.into(), value));
        self
    }

    /// Records a failure reason and marks the verdict failed.
    pub fn fail(mut self, reason: impl Into<String>) -> Self {
        self.pass = false;
        self.reasons.push(reason.into());
        self
    }

    /// Sets the score, clamped to [0, 1].
    pub fn score(mut self, score: f32) -> Self {
        self.score = if score.is_nan() {
            0.0
        } else {
            score.clamp(0.0, 1.0)
        };
        self
    }
}

/// Expected plugin failures (the WIT `plugin-error` variant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The sample is not one this plugin can edit.
    Refused(String),
    /// The editor's reply is unusable; worth a retry.
    BadReply(String),
    /// The template text is unusable.
    BadTemplate(String),
    /// A parameter or sample field is invalid.
    InvalidInput(String),
    /// Anything else.
    Internal(String),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::Refused(m) => write!(f, "refused: {m}"),
            PluginError::BadReply(m) => write!(f, "bad reply: {m}"),
            PluginError::BadTemplate(m) => write!(f, "bad template: {m}"),
            PluginError::InvalidInput(m) => write!(f, "invalid input: {m}"),
            PluginError::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// Log severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_param_wins_and_numbers_parse() {
        let s = Sample::new("a", "q", "x")
            .with_param("k", "1")
            .with_param("k", "2.5");
        assert_eq!(s.param("k"), Some("2.5"));
        assert_eq!(s.param_f64("k", 0.0).unwrap(), 2.5);
        assert_eq!(s.param_f64("missing", 7.0).unwrap(), 7.0);
        let bad = Sample::new("a", "q", "x").with_param("k", "lots");
        assert!(
            matches!(bad.param_f64("k", 0.0), Err(PluginError::InvalidInput(m)) if m.contains("`k`"))
        );
    }

    #[test]
    fn verdict_fail_flips_pass_and_score_is_clamped() {
        let v = Verdict::pass().score(3.0).fail("too long");
        assert!(!v.pass);
        assert_eq!(v.score, 1.0);
        assert_eq!(v.reasons, vec!["too long".to_string()]);
        assert_eq!(Verdict::pass().score(f32::NAN).score, 0.0);
    }

    #[test]
    fn penalty_is_case_insensitive() {
        let s = Sample::new("a", "q", "x").with_penalty("Five");
        assert!(s.is_penalised("five "));
        assert!(!s.is_penalised("four"));
    }
}
