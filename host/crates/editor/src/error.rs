//! Typed errors of the editor room: each says what failed, where, the HTTP status and the
//! start of the body, and how many attempts were made.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

/// A bad editor configuration.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The TOML text does not parse or has an unknown or mistyped field.
    #[error("editor config: {message}")]
    Parse {
        /// The parser's message (names the field and the line).
        message: String,
    },
    /// A field has a value outside its range.
    #[error("editor config: `{field}` {reason}")]
    Invalid {
        /// Dotted field name, e.g. `retry.max_attempts`.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The response cache failed (it is a SQLite file).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CacheError {
    /// SQLite refused an operation.
    #[error("editor cache {}: cannot {action}: {source}", .path.display())]
    Sqlite {
        /// The cache file.
        path: PathBuf,
        /// What was attempted (`open`, `read`, `write`, ...).
        action: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// The cache directory could not be created.
    #[error("editor cache {}: cannot create its directory: {source}", .path.display())]
    CreateDir {
        /// The cache file.
        path: PathBuf,
        /// The filesystem error.
        #[source]
        source: std::io::Error,
    },
    /// A cached row could not be decoded (a file written by an incompatible version).
    #[error("editor cache {}: entry {key} is unreadable: {reason}", .path.display())]
    Corrupt {
        /// The cache file.
        path: PathBuf,
        /// The entry's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The blocking task running a cache operation panicked or was cancelled.
    #[error("editor cache: background task failed: {0}")]
    Task(String),
}

/// Why a request was retried; the keys of [`crate::RetryCounts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    /// HTTP 429.
    RateLimited,
    /// HTTP 5xx.
    ServerError,
    /// No complete answer within the request timeout (or HTTP 408).
    Timeout,
    /// The connection could not be made or broke mid-request.
    Connection,
    /// The reply was not chat-completions JSON, or had no choice or no content.
    Malformed,
}

impl RetryReason {
    /// Short name used in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Malformed => "malformed",
        }
    }
}

/// A failed editor call.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum EditorError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration demands an API key and its environment variable is unset or empty.
    #[error(
        "editor: environment variable {env} is not set, and {base_url} needs an API key \
         (export {env}=..., or set require_api_key = false for an endpoint without authentication)"
    )]
    MissingApiKey {
        /// The variable named by `api_key_env`.
        env: String,
        /// The endpoint that needs it.
        base_url: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("editor: cannot build the HTTP client: {0}")]
    Client(String),
    /// The endpoint answered with an error status (not retryable, or retries ran out).
    #[error("editor: {url} answered HTTP {status} (after {attempts} attempt(s)): {body}")]
    Status {
        /// The chat-completions URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body.
        body: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
        /// Attempts made for this prompt.
        attempts: u32,
    },
    /// The endpoint did not answer in time.
    #[error("editor: {url} did not answer within {timeout:?} (after {attempts} attempt(s))")]
    Timeout {
        /// The chat-completions URL.
        url: String,
        /// The request timeout.
        timeout: Duration,
        /// Attempts made for this prompt.
        attempts: u32,
    },
    /// The endpoint could not be reached, or the connection broke.
    #[error("editor: cannot talk to {url} (after {attempts} attempt(s)): {message}")]
    Connection {
        /// The chat-completions URL.
        url: String,
        /// The transport's description of the failure.
        message: String,
        /// Attempts made for this prompt.
        attempts: u32,
    },
    /// The reply (HTTP 200) was not valid chat-completions JSON.
    #[error(
        "editor: {url} sent a reply that is not chat-completions JSON (after {attempts} \
         attempt(s)): {message}; body starts: {body}"
    )]
    MalformedJson {
        /// The chat-completions URL.
        url: String,
        /// The JSON parser's message.
        message: String,
        /// The start of the response body.
        body: String,
        /// Attempts made for this prompt.
        attempts: u32,
    },
    /// The reply parsed but carried no answer (no choices, or a choice without content).
    #[error(
        "editor: {url} sent a reply without an answer: {problem} (after {attempts} \
         attempt(s)); body starts: {body}"
    )]
    NoAnswer {
        /// The chat-completions URL.
        url: String,
        /// What was missing.
        problem: String,
        /// The start of the response body.
        body: String,
        /// Attempts made for this prompt.
        attempts: u32,
    },
    /// The server asked for a longer wait than `retry.max_retry_after_secs` allows.
    #[error(
        "editor: {url} answered HTTP {status} and asked to retry after {retry_after:?}, \
         more than retry.max_retry_after_secs ({limit:?}) (after {attempts} attempt(s))"
    )]
    RetryAfterTooLong {
        /// The chat-completions URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The delay the server asked for.
        retry_after: Duration,
        /// The configured limit.
        limit: Duration,
        /// Attempts made for this prompt.
        attempts: u32,
    },
    /// The response cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The blocking wrapper could not start its tokio runtime.
    #[error("editor: cannot start a tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl EditorError {
    /// Why this failure is worth a retry, or `None` when retrying cannot help.
    pub fn retry_reason(&self) -> Option<RetryReason> {
        match self {
            Self::Status { status: 429, .. } => Some(RetryReason::RateLimited),
            Self::Status { status: 408, .. } => Some(RetryReason::Timeout),
            Self::Status { status, .. } if (500..600).contains(status) => {
                Some(RetryReason::ServerError)
            }
            Self::Timeout { .. } => Some(RetryReason::Timeout),
            Self::Connection { .. } => Some(RetryReason::Connection),
            Self::MalformedJson { .. } | Self::NoAnswer { .. } => Some(RetryReason::Malformed),
            _ => None,
        }
    }

    /// The server's `Retry-After`, when the failure carried one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Attempts made before this error, where the error is about a request.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Self::Status { attempts, .. }
            | Self::Timeout { attempts, .. }
            | Self::Connection { attempts, .. }
            | Self::MalformedJson { attempts, .. }
            | Self::NoAnswer { attempts, .. }
            | Self::RetryAfterTooLong { attempts, .. } => Some(*attempts),
            _ => None,
        }
    }

    /// The same error, recording that `n` attempts were made.
    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            Self::Status { attempts, .. }
            | Self::Timeout { attempts, .. }
            | Self::Connection { attempts, .. }
            | Self::MalformedJson { attempts, .. }
            | Self::NoAnswer { attempts, .. }
            | Self::RetryAfterTooLong { attempts, .. } => *attempts = n,
            _ => {}
        }
        self
    }
}

/// At most this many characters of a body go into an error message.
const BODY_EXCERPT_CHARS: usize = 300;

/// The start of `body`, on one line, for error messages.
pub(crate) fn body_excerpt(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(BODY_EXCERPT_CHARS + 1)
        .collect();
    let trimmed = one_line.trim();
    if trimmed.chars().count() > BODY_EXCERPT_CHARS {
        let cut: String = trimmed.chars().take(BODY_EXCERPT_CHARS).collect();
        format!("{cut}…")
    } else if trimmed.is_empty() {
        "(empty)".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_body_excerpt_is_one_bounded_line() {
        assert_eq!(body_excerpt(""), "(empty)");
        assert_eq!(body_excerpt("a\nb"), "a b");
        let long = "x".repeat(1000);
        let excerpt = body_excerpt(&long);
        assert_eq!(excerpt.chars().count(), BODY_EXCERPT_CHARS + 1);
        assert!(excerpt.ends_with('…'));
    }

    #[test]
    fn test_statuses_map_to_retry_reasons() {
        let status = |status| EditorError::Status {
            url: "u".into(),
            status,
            body: String::new(),
            retry_after: None,
            attempts: 1,
        };
        assert_eq!(status(429).retry_reason(), Some(RetryReason::RateLimited));
        assert_eq!(status(503).retry_reason(), Some(RetryReason::ServerError));
        assert_eq!(status(408).retry_reason(), Some(RetryReason::Timeout));
        assert_eq!(status(400).retry_reason(), None);
        assert_eq!(status(401).retry_reason(), None);
        assert_eq!(status(404).with_attempts(3).attempts(), Some(3));
    }
}
