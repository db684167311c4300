//! One chat-completions HTTP attempt: send the body, classify what came back.
//!
//! Retrying, limiting and caching live in [`crate::Editor`]; this module only turns the
//! transport's outcome into a [`ChatAnswer`] or a typed [`EditorError`].

use std::time::{Duration, SystemTime};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::backoff;
use crate::config::EditorConfig;
use crate::error::{EditorError, body_excerpt};
use crate::wire::{self, ChatAnswer};

/// Connecting never needs longer than this, whatever the request timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client bound to one endpoint and key.
#[derive(Debug, Clone)]
pub(crate) struct ChatClient {
    http: reqwest::Client,
    url: String,
    api_key: Option<String>,
    timeout: Duration,
}

impl ChatClient {
    /// Builds the client; `api_key` is sent as a bearer token when present.
    pub(crate) fn new(config: &EditorConfig, api_key: Option<String>) -> Result<Self, EditorError> {
        let timeout = config.request_timeout();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .user_agent(concat!("vapr-editor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| EditorError::Client(error_chain(&e)))?;
        Ok(Self {
            http,
            url: config.completions_url(),
            api_key,
            timeout,
        })
    }

    /// The chat-completions URL.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Sends `body` once. Errors carry `attempts: 0`; the caller fills in the count.
    pub(crate) async fn send(&self, body: &serde_json::Value) -> Result<ChatAnswer, EditorError> {
        let mut request = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body.to_string());
        if let Some(key) = &self.api_key {
            request = request.header(AUTHORIZATION, format!("Bearer {key}"));
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        let retry_after = backoff::retry_after(response.headers(), SystemTime::now());
        let text = response
            .text()
            .await
            .map_err(|e| self.transport_error(&e))?;
        if !status.is_success() {
            return Err(EditorError::Status {
                url: self.url.clone(),
                status: status.as_u16(),
                body: body_excerpt(&text),
                retry_after,
                attempts: 0,
            });
        }
        wire::parse_reply(&self.url, &text)
    }

    fn transport_error(&self, error: &reqwest::Error) -> EditorError {
        if error.is_timeout() {
            EditorError::Timeout {
                url: self.url.clone(),
                timeout: self.timeout,
                attempts: 0,
            }
        } else {
            EditorError::Connection {
                url: self.url.clone(),
                message: error_chain(error),
                attempts: 0,
            }
        }
    }
}

/// The error and its sources on one line (reqwest's own message is often just "error
/// sending request").
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
