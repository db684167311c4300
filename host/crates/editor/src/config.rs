//! Editor configuration: where the editor LLM lives, how to call it and how hard to try.
//!
//! Every field has a default, so a TOML `[editor]` table only names what differs:
//!
//! ```toml
//! base_url = "http://127.0.0.1:8000/v1"   # a local vLLM server
//! model = "Qwen/Qwen3-32B"
//! concurrency = 16
//! [retry]
//! max_attempts = 8
//! ```
//!
//! Durations are seconds as floats (`request_timeout_secs = 2.5`), which reads well in TOML
//! and lets tests use milliseconds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;

/// The default endpoint: OpenAI's public API.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The default editor model, the one the VaPR paper used.
pub const DEFAULT_MODEL: &str = "gpt-4o";
/// The default environment variable holding the API key.
pub const DEFAULT_API_KEY_ENV: &str = "OPENAI_API_KEY";

/// How to reach and call the editor LLM (an OpenAI-compatible chat-completions endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EditorConfig {
    /// Base URL up to and including the API version, e.g. `https://api.openai.com/v1` or
    /// `http://127.0.0.1:8000/v1`; `/chat/completions` is appended.
    pub base_url: String,
    /// Model name sent in each request (and part of the cache key).
    pub model: String,
    /// Environment variable that holds the API key (sent as `Authorization: Bearer`).
    /// An empty string means "never send a key".
    pub api_key_env: String,
    /// Whether a missing key is an error. Unset: required unless `base_url` points at this
    /// machine (`localhost`, `127.0.0.1`, `[::1]`), where vLLM, Ollama, llama.cpp server and
    /// SGLang usually run without authentication.
    pub require_api_key: Option<bool>,
    /// Sampling temperature, 0..=2.
    pub temperature: f64,
    /// Nucleus sampling; not sent when unset.
    pub top_p: Option<f64>,
    /// Upper bound on generated tokens per reply.
    pub max_tokens: u32,
    /// Sampling seed for servers that support it; not sent when unset.
    pub seed: Option<u64>,
    /// Extra JSON fields merged into every request body (e.g. vLLM's `top_k`,
    /// `chat_template_kwargs`); part of the cache key. Cannot override the fields above.
    pub extra_body: BTreeMap<String, serde_json::Value>,
    /// Whole-request timeout (connect, send, wait, read the body), seconds.
    pub request_timeout_secs: f64,
    /// Most requests in flight at once.
    pub concurrency: usize,
    /// Most requests started per minute, spread evenly; unset means no limit.
    pub requests_per_minute: Option<u32>,
    /// When and how long to retry.
    pub retry: RetryPolicy,
    /// SQLite file caching successful replies; unset disables the cache.
    pub cache_path: Option<PathBuf>,
}

impl Default for EditorConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            api_key_env: DEFAULT_API_KEY_ENV.to_owned(),
            require_api_key: None,
            temperature: 0.2,
            top_p: None,
            max_tokens: 512,
            seed: None,
            extra_body: BTreeMap::new(),
            request_timeout_secs: 60.0,
            concurrency: 8,
            requests_per_minute: None,
            retry: RetryPolicy::default(),
            cache_path: None,
        }
    }
}

/// Retry policy: exponential backoff with full jitter, capped, and a bounded budget for
/// garbled replies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Most attempts per prompt, the first one included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before retry n is uniform in `[0, min(max_delay, base_delay * 2^(n-1))]`.
    pub base_delay_secs: f64,
    /// Cap on the exponential backoff.
    pub max_delay_secs: f64,
    /// Most retries spent on malformed replies (bad JSON, no choices, no content). A proxy
    /// may garble one reply, but an endpoint that always answers garbage is misconfigured
    /// and retrying it only costs money.
    pub max_malformed_retries: u32,
    /// A `Retry-After` longer than this is not waited out: the request fails at once,
    /// naming the delay the server asked for.
    pub max_retry_after_secs: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay_secs: 1.0,
            max_delay_secs: 60.0,
            max_malformed_retries: 2,
            max_retry_after_secs: 300.0,
        }
    }
}

impl RetryPolicy {
    /// Base backoff delay.
    pub fn base_delay(&self) -> Duration {
        Duration::from_secs_f64(self.base_delay_secs)
    }

    /// Backoff cap.
    pub fn max_delay(&self) -> Duration {
        Duration::from_secs_f64(self.max_delay_secs)
    }

    /// Longest `Retry-After` that is honoured.
    pub fn max_retry_after(&self) -> Duration {
        Duration::from_secs_f64(self.max_retry_after_secs)
    }
}

/// Fields `extra_body` may not set, since the typed fields own them.
const RESERVED_BODY_FIELDS: &[&str] = &[
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "stream",
    "n",
];

impl EditorConfig {
    /// A config for `model` served at `base_url`, all else default.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            ..Self::default()
        }
    }

    /// Parses a TOML table (the `[editor]` section of a run config, or a whole file) and
    /// validates it.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml_from_str(text).map_err(|message| ConfigError::Parse { message })?;
        config.validate()?;
        Ok(config)
    }

    /// Whole-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.request_timeout_secs)
    }

    /// The chat-completions URL derived from `base_url`.
    pub fn completions_url(&self) -> String {
        format!("{}/chat/completions", self.base_url.trim_end_matches('/'))
    }

    /// Whether a missing API key is an error, resolving the `None` default.
    pub fn api_key_required(&self) -> bool {
        self.require_api_key
            .unwrap_or_else(|| !self.api_key_env.is_empty() && !is_local_url(&self.base_url))
    }

    /// Checks every field, naming the first bad one.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field: &'static str, reason: String| ConfigError::Invalid { field, reason };
        let url = self.base_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return Err(invalid(
                "base_url",
                format!("`{}` is not an http(s) URL", self.base_url),
            ));
        }
        if url.ends_with("/chat/completions") || url.ends_with("/chat/completions/") {
            return Err(invalid(
                "base_url",
                format!(
                    "`{}` already ends in /chat/completions; give the base (e.g. .../v1)",
                    self.base_url
                ),
            ));
        }
        if self.model.trim().is_empty() {
            return Err(invalid("model", "must not be empty".into()));
        }
        if !self
            .api_key_env
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(invalid(
                "api_key_env",
                format!(
                    "`{}` is not an environment variable name (letters, digits, `_`)",
                    self.api_key_env
                ),
            ));
        }
        if self.require_api_key == Some(true) && self.api_key_env.is_empty() {
            return Err(invalid(
                "api_key_env",
                "is empty but require_api_key = true".into(),
            ));
        }
        if !(0.0..=2.0).contains(&self.temperature) {
            return Err(invalid(
                "temperature",
                format!("{} is outside 0..=2", self.temperature),
            ));
        }
        if let Some(top_p) = self.top_p
            && !(top_p > 0.0 && top_p <= 1.0)
        {
            return Err(invalid("top_p", format!("{top_p} is outside (0, 1]")));
        }
        if self.max_tokens == 0 {
            return Err(invalid("max_tokens", "must be at least 1".into()));
        }
        if let Some(key) = self
            .extra_body
            .keys()
            .find(|k| RESERVED_BODY_FIELDS.contains(&k.as_str()))
        {
            return Err(invalid(
                "extra_body",
                format!("`{key}` is set by the editor itself; use the typed field"),
            ));
        }
        positive_secs("request_timeout_secs", self.request_timeout_secs)?;
        if self.concurrency == 0 {
            return Err(invalid("concurrency", "must be at least 1".into()));
        }
        if self.requests_per_minute == Some(0) {
            return Err(invalid(
                "requests_per_minute",
                "must be at least 1 (leave it unset for no limit)".into(),
            ));
        }
        let retry = &self.retry;
        if retry.max_attempts == 0 {
            return Err(invalid(
                "retry.max_attempts",
                "must be at least 1 (1 = no retries)".into(),
            ));
        }
        non_negative_secs("retry.base_delay_secs", retry.base_delay_secs)?;
        non_negative_secs("retry.max_delay_secs", retry.max_delay_secs)?;
        non_negative_secs("retry.max_retry_after_secs", retry.max_retry_after_secs)?;
        if retry.max_delay_secs < retry.base_delay_secs {
            return Err(invalid(
                "retry.max_delay_secs",
                format!(
                    "{} is below retry.base_delay_secs = {}",
                    retry.max_delay_secs, retry.base_delay_secs
                ),
            ));
        }
        Ok(())
    }
}

/// TOML decoding kept in one place so the error text is uniform.
fn toml_from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| e.to_string())
}

fn positive_secs(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && value > 0.0 && value < 1e9 {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            field,
            reason: format!("{value} is not a positive number of seconds"),
        })
    }
}

fn non_negative_secs(field: &'static str, value: f64) -> Result<(), ConfigError> {
    if value.is_finite() && (0.0..1e9).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::Invalid {
            field,
            reason: format!("{value} is not a non-negative number of seconds"),
        })
    }
}

/// Whether `url` names this machine, where local inference servers need no key.
pub fn is_local_url(url: &str) -> bool {
    let rest = url
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host == "0.0.0.0"
        || host.starts_with("127.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_defaults_are_valid_and_point_at_openai() {
        let config = EditorConfig::default();
        config.validate().unwrap();
        assert_eq!(
            config.completions_url(),
            "https://api.openai.com/v1/chat/completions"
        );
        assert!(config.api_key_required());
    }

    #[test]
    fn test_toml_names_only_what_differs() {
        let config = EditorConfig::from_toml_str(
            r#"
            base_url = "http://127.0.0.1:8000/v1/"
            model = "Qwen/Qwen3-32B"
            requests_per_minute = 120
            extra_body = { top_k = 20 }
            [retry]
            max_attempts = 3
            base_delay_secs = 0.05
            "#,
        )
        .unwrap();
        assert_eq!(config.model, "Qwen/Qwen3-32B");
        assert_eq!(config.requests_per_minute, Some(120));
        assert_eq!(config.retry.max_attempts, 3);
        assert_eq!(config.retry.max_delay_secs, 60.0);
        assert_eq!(config.extra_body["top_k"], serde_json::json!(20));
        assert_eq!(
            config.completions_url(),
            "http://127.0.0.1:8000/v1/chat/completions"
        );
        // Local endpoint: no key needed unless asked for.
        assert!(!config.api_key_required());
    }

    #[test]
    fn test_unknown_field_is_rejected_by_name() {
        let err = EditorConfig::from_toml_str("modle = \"gpt-4o\"").unwrap_err();
        assert!(err.to_string().contains("modle"), "{err}");
    }

    #[test]
    fn test_invalid_values_name_their_field() {
        type Mutate = Box<dyn Fn(&mut EditorConfig)>;
        let cases: Vec<(&str, Mutate)> = vec![
            (
                "base_url",
                Box::new(|c: &mut EditorConfig| c.base_url = "localhost:8000".into()),
            ),
            (
                "base_url",
                Box::new(|c: &mut EditorConfig| {
                    c.base_url = "http://h:1/v1/chat/completions".into()
                }),
            ),
            (
                "model",
                Box::new(|c: &mut EditorConfig| c.model = " ".into()),
            ),
            (
                "api_key_env",
                Box::new(|c: &mut EditorConfig| c.api_key_env = "MY KEY".into()),
            ),
            (
                "temperature",
                Box::new(|c: &mut EditorConfig| c.temperature = 2.5),
            ),
            (
                "top_p",
                Box::new(|c: &mut EditorConfig| c.top_p = Some(0.0)),
            ),
            (
                "max_tokens",
                Box::new(|c: &mut EditorConfig| c.max_tokens = 0),
            ),
            (
                "request_timeout_secs",
                Box::new(|c: &mut EditorConfig| c.request_timeout_secs = 0.0),
            ),
            (
                "concurrency",
                Box::new(|c: &mut EditorConfig| c.concurrency = 0),
            ),
            (
                "requests_per_minute",
                Box::new(|c: &mut EditorConfig| c.requests_per_minute = Some(0)),
            ),
            (
                "retry.max_attempts",
                Box::new(|c: &mut EditorConfig| c.retry.max_attempts = 0),
            ),
            (
                "retry.base_delay_secs",
                Box::new(|c: &mut EditorConfig| c.retry.base_delay_secs = -1.0),
            ),
            (
                "retry.max_delay_secs",
                Box::new(|c: &mut EditorConfig| c.retry.max_delay_secs = 0.1),
            ),
            (
                "extra_body",
                Box::new(|c: &mut EditorConfig| {
                    c.extra_body.insert("model".into(), serde_json::json!("x"));
                }),
            ),
        ];
        for (field, mutate) in cases {
            let mut config = EditorConfig::default();
            mutate(&mut config);
            match config.validate() {
                Err(ConfigError::Invalid { field: got, .. }) => assert_eq!(got, field),
                other => panic!("{field}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn test_local_urls_are_recognised() {
        for url in [
            "http://localhost:11434/v1",
            "http://127.0.0.1:8000/v1",
            "http://[::1]:8080/v1",
            "http://user@127.0.0.5/v1",
        ] {
            assert!(is_local_url(url), "{url}");
        }
        for url in [
            "https://api.openai.com/v1",
            "http://10.0.0.3:8000/v1",
            "http://localhost.evil.com/v1",
        ] {
            assert!(!is_local_url(url), "{url}");
        }
    }

    #[test]
    fn test_explicit_require_api_key_overrides_locality() {
        let mut config = EditorConfig::new("http://127.0.0.1:1/v1", "m");
        config.require_api_key = Some(true);
        assert!(config.api_key_required());
        let mut config = EditorConfig {
            require_api_key: Some(false),
            ..EditorConfig::default()
        };
        assert!(!config.api_key_required());
        config.api_key_env = String::new();
        config.require_api_key = None;
        assert!(!config.api_key_required());
    }
}
