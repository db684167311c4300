//! The OpenAI chat-completions wire format: the request body we send, the reply we accept,
//! and the cache key derived from the request.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::config::EditorConfig;
use crate::error::{EditorError, body_excerpt};
use crate::prompt::{EditorPrompt, Usage};

/// Bumped when the key derivation or the meaning of a cached row changes.
const CACHE_KEY_VERSION: &str = "vapr-editor-cache-v1";

/// The JSON body of a chat-completions request. serde_json's map keeps keys sorted, so the
/// serialisation is canonical and can be hashed.
pub(crate) fn request_body(config: &EditorConfig, prompt: &EditorPrompt) -> Value {
    let mut messages = Vec::with_capacity(2);
    if !prompt.system.is_empty() {
        messages.push(json!({"role": "system", "content": prompt.system}));
    }
    messages.push(json!({"role": "user", "content": prompt.user}));
    let mut body = Map::new();
    for (key, value) in &config.extra_body {
        body.insert(key.clone(), value.clone());
    }
    body.insert("model".into(), json!(config.model));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("temperature".into(), json!(config.temperature));
    body.insert("max_tokens".into(), json!(config.max_tokens));
    if let Some(top_p) = config.top_p {
        body.insert("top_p".into(), json!(top_p));
    }
    if let Some(seed) = config.seed {
        body.insert("seed".into(), json!(seed));
    }
    Value::Object(body)
}

/// The cache key: sha256 over the request body (model, messages, every sampling parameter)
/// and the sample index. The base URL is not part of it, so the same model behind another
/// host or port shares cached replies.
pub(crate) fn cache_key(body: &Value, sample: u32) -> String {
    let mut hasher = Sha256::new();
    hasher.update(CACHE_KEY_VERSION.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hasher.update(b"\nsample=");
    hasher.update(sample.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// A successful chat-completions reply, reduced to what the editor keeps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChatAnswer {
    pub text: String,
    pub model: Option<String>,
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct ChatResponse {
    model: Option<String>,
    choices: Option<Vec<Choice>>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

/// Parses an HTTP 200 body. Bad JSON is [`EditorError::MalformedJson`]; JSON without a
/// first choice carrying text is [`EditorError::NoAnswer`].
pub(crate) fn parse_reply(url: &str, body: &str) -> Result<ChatAnswer, EditorError> {
    let response: ChatResponse =
        serde_json::from_str(body).map_err(|e| EditorError::MalformedJson {
            url: url.to_owned(),
            message: e.to_string(),
            body: body_excerpt(body),
            attempts: 0,
        })?;
    let no_answer = |problem: String| EditorError::NoAnswer {
        url: url.to_owned(),
        problem,
        body: body_excerpt(body),
        attempts: 0,
    };
    let choice = match response.choices {
        None => return Err(no_answer("no `choices` field".into())),
        Some(choices) => choices
            .into_iter()
            .next()
            .ok_or_else(|| no_answer("`choices` is empty".into()))?,
    };
    let message = choice
        .message
        .ok_or_else(|| no_answer("the first choice has no `message`".into()))?;
    let text = match (message.content, message.refusal) {
        (Some(text), _) => text,
        (None, Some(refusal)) => {
            return Err(no_answer(format!("the model refused: {refusal}")));
        }
        (None, None) => return Err(no_answer("the message has no `content`".into())),
    };
    Ok(ChatAnswer {
        text,
        model: response.model.filter(|m| !m.is_empty()),
        usage: response.usage,
        finish_reason: choice.finish_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> EditorPrompt {
        EditorPrompt::new("You edit answers.", "Answer: two dogs")
    }

    #[test]
    fn test_request_body_has_messages_and_parameters() {
        let mut config = EditorConfig::new("http://127.0.0.1:1/v1", "m");
        config.seed = Some(7);
        config
            .extra_body
            .insert("top_k".into(), serde_json::json!(20));
        let body = request_body(&config, &prompt());
        assert_eq!(body["model"], "m");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["content"], "Answer: two dogs");
        assert_eq!(body["max_tokens"], 512);
        assert_eq!(body["seed"], 7);
        assert_eq!(body["top_k"], 20);
        assert!(body.get("top_p").is_none());
    }

    #[test]
    fn test_empty_system_message_is_left_out() {
        let config = EditorConfig::default();
        let body = request_body(&config, &EditorPrompt::new("", "hi"));
        assert_eq!(body["messages"].as_array().unwrap().len(), 1);
        assert_eq!(body["messages"][0]["role"], "user");
    }

    #[test]
    fn test_cache_key_ignores_base_url_but_not_parameters() {
        let a = EditorConfig::new("http://127.0.0.1:1/v1", "m");
        let b = EditorConfig::new("https://example.org/v1", "m");
        let key = |c: &EditorConfig, p: &EditorPrompt| cache_key(&request_body(c, p), p.sample);
        assert_eq!(key(&a, &prompt()), key(&b, &prompt()));
        assert_eq!(key(&a, &prompt()).len(), 64);

        let mut hotter = a.clone();
        hotter.temperature = 0.9;
        let mut longer = a.clone();
        longer.max_tokens = 100;
        let mut other_model = a.clone();
        other_model.model = "n".into();
        for changed in [&hotter, &longer, &other_model] {
            assert_ne!(key(&a, &prompt()), key(changed, &prompt()));
        }
        assert_ne!(key(&a, &prompt()), key(&a, &prompt().with_sample(1)));
        assert_ne!(
            key(&a, &prompt()),
            key(
                &a,
                &EditorPrompt::new("You edit answers.", "Answer: three dogs")
            )
        );
    }

    #[test]
    fn test_parse_reply_reads_text_model_usage() {
        let body = r#"{"id":"x","model":"gpt-4o-2024-08-06","choices":[{"index":0,
            "message":{"role":"assistant","content":"three dogs"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}"#;
        let answer = parse_reply("u", body).unwrap();
        assert_eq!(answer.text, "three dogs");
        assert_eq!(answer.model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(answer.usage.unwrap().total_tokens, 14);
        assert_eq!(answer.finish_reason.as_deref(), Some("stop"));
    }

    #[test]
    fn test_parse_reply_types_its_failures() {
        assert!(matches!(
            parse_reply("u", "{\"choices\": ["),
            Err(EditorError::MalformedJson { .. })
        ));
        assert!(matches!(
            parse_reply("u", "<html>bad gateway</html>"),
            Err(EditorError::MalformedJson { .. })
        ));
        for body in [
            r#"{"choices": []}"#,
            r#"{"error": {"message": "overloaded"}}"#,
            r#"{"choices": [{"message": {"role": "assistant", "content": null}}]}"#,
            r#"{"choices": [{"message": {"content": null, "refusal": "no"}}]}"#,
        ] {
            match parse_reply("u", body) {
                Err(EditorError::NoAnswer { body: excerpt, .. }) => {
                    assert!(!excerpt.is_empty())
                }
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
