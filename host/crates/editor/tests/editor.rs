//! The editor against the scripted local server: retries per fault kind, Retry-After,
//! concurrency and rate limits, the cache, and the errors a user sees.

use std::time::{Duration, Instant};

use vapr_editor::testing::{ChatRequest, FakeOpenAi, Fault};
use vapr_editor::{BlockingEditor, Editor, EditorConfig, EditorError, EditorPrompt, RetryReason};

/// The reply the fake server gives: the answer after "Answer:" with "two" made "three".
fn edit(req: &ChatRequest) -> String {
    let answer = req.user.rsplit("Answer: ").next().unwrap_or("");
    answer.replace("two", "three")
}

/// A fast config for `server`: short backoff, short timeout.
fn config(server: &FakeOpenAi) -> EditorConfig {
    let mut config = EditorConfig::new(server.base_url(), "test-model");
    config.request_timeout_secs = 2.0;
    config.retry.base_delay_secs = 0.01;
    config.retry.max_delay_secs = 0.05;
    config
}

fn prompt(answer: &str) -> EditorPrompt {
    EditorPrompt::new("Inject one counting error.", format!("Answer: {answer}"))
}

#[tokio::test]
async fn test_normal_reply_carries_text_model_usage() {
    let server = FakeOpenAi::builder(edit)
        .model_name("test-model-2026-01-01")
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let reply = editor
        .complete(&prompt("two dogs on a sofa"))
        .await
        .unwrap();
    assert_eq!(reply.text, "three dogs on a sofa");
    assert_eq!(reply.model, "test-model-2026-01-01");
    assert_eq!(reply.finish_reason.as_deref(), Some("stop"));
    // The fake counts words: 4 system + 6 user, 5 completion.
    let usage = reply.usage.unwrap();
    assert_eq!((usage.prompt_tokens, usage.completion_tokens), (10, 5));
    assert!(!reply.cached);
    assert_eq!(reply.attempts, 1);

    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&sent[0].body).unwrap();
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["messages"][0]["role"], "system");
    assert_eq!(body["messages"][1]["content"], "Answer: two dogs on a sofa");
    assert_eq!(body["max_tokens"], 512);
    // Local endpoint without a key: no Authorization header.
    assert_eq!(sent[0].authorization, None);
    let stats = editor.stats();
    assert_eq!(
        (stats.requests_sent, stats.completed, stats.failures),
        (1, 1, 0)
    );
    assert_eq!(stats.completion_tokens, 5);
}

#[tokio::test]
async fn test_each_transient_fault_is_retried_once_then_succeeds() {
    let cases = [
        (
            Fault::RateLimited {
                retry_after_secs: 0,
            },
            RetryReason::RateLimited,
        ),
        (Fault::ServerError, RetryReason::ServerError),
        (
            Fault::Unavailable {
                retry_after_secs: None,
            },
            RetryReason::ServerError,
        ),
        (
            Fault::Status {
                status: 502,
                body: "bad gateway".into(),
            },
            RetryReason::ServerError,
        ),
        (Fault::Slow(Duration::from_secs(3)), RetryReason::Timeout),
        (Fault::MalformedJson, RetryReason::Malformed),
        (Fault::NoChoices, RetryReason::Malformed),
        (Fault::Disconnect, RetryReason::Connection),
    ];
    for (fault, reason) in cases {
        let server = FakeOpenAi::builder(edit).fault_at(0, fault.clone()).start();
        let mut config = config(&server);
        config.request_timeout_secs = 0.3;
        let editor = Editor::new(config).unwrap();
        let reply = editor
            .complete(&prompt("two cats"))
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(reply.text, "three cats", "{fault:?}");
        assert_eq!(reply.attempts, 2, "{fault:?}");
        assert_eq!(server.request_count(), 2, "{fault:?}");
        let stats = editor.stats();
        assert_eq!(stats.retries.get(reason), 1, "{fault:?}");
        assert_eq!(stats.retries.total(), 1, "{fault:?}");
        assert_eq!(stats.requests_sent, 2, "{fault:?}");
        assert_eq!(server.requests()[0].fault, Some(fault));
    }
}

#[tokio::test]
async fn test_retry_after_seconds_is_honoured() {
    let server = FakeOpenAi::builder(edit)
        .fault_at(
            0,
            Fault::RateLimited {
                retry_after_secs: 1,
            },
        )
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let start = Instant::now();
    let reply = editor.complete(&prompt("two birds")).await.unwrap();
    let waited = start.elapsed();
    assert_eq!(reply.text, "three birds");
    // Retry-After: 1, plus at most base_delay (10 ms) of spread.
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_millis(1500), "{waited:?}");
    assert_eq!(editor.stats().retries.rate_limited, 1);
}

#[tokio::test]
async fn test_retry_after_http_date_is_honoured() {
    let server = FakeOpenAi::builder(edit)
        .fault_at(0, Fault::RateLimitedUntil { after_secs: 2 })
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let start = Instant::now();
    editor.complete(&prompt("two birds")).await.unwrap();
    let waited = start.elapsed();
    // HTTP dates have one-second resolution: between 1 and 2 seconds.
    assert!(waited >= Duration::from_secs(1), "{waited:?}");
    assert!(waited < Duration::from_millis(2500), "{waited:?}");
}

#[tokio::test]
async fn test_retry_after_pauses_requests_of_other_tasks() {
    // Request 0 is told to wait 1 s; a prompt started 100 ms later must wait too.
    let server = FakeOpenAi::builder(edit)
        .fault_at(
            0,
            Fault::RateLimited {
                retry_after_secs: 1,
            },
        )
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let start = Instant::now();
    let first = tokio::spawn({
        let editor = editor.clone();
        async move { editor.complete(&prompt("two owls")).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let second = editor.complete(&prompt("two hens")).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(second.attempts, 1);
    assert_eq!(first.await.unwrap().unwrap().attempts, 2);
}

#[tokio::test]
async fn test_retry_after_beyond_the_limit_fails_at_once() {
    let server = FakeOpenAi::builder(edit)
        .always(Fault::RateLimited {
            retry_after_secs: 600,
        })
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let start = Instant::now();
    let err = editor.complete(&prompt("two owls")).await.unwrap_err();
    // Far from the 600 s asked for (generous for a loaded machine).
    assert!(start.elapsed() < Duration::from_secs(5));
    match &err {
        EditorError::RetryAfterTooLong {
            status,
            retry_after,
            attempts,
            ..
        } => {
            assert_eq!(*status, 429);
            assert_eq!(*retry_after, Duration::from_secs(600));
            assert_eq!(*attempts, 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("max_retry_after_secs"), "{err}");
}

#[tokio::test]
async fn test_exhausted_retries_report_status_body_and_attempts() {
    let server = FakeOpenAi::builder(edit).always(Fault::ServerError).start();
    let mut config = config(&server);
    config.retry.max_attempts = 3;
    let editor = Editor::new(config).unwrap();
    let err = editor.complete(&prompt("two owls")).await.unwrap_err();
    match &err {
        EditorError::Status {
            status,
            body,
            attempts,
            url,
            ..
        } => {
            assert_eq!(*status, 500);
            assert!(body.contains("internal error"), "{body}");
            assert_eq!(*attempts, 3);
            assert!(url.ends_with("/v1/chat/completions"), "{url}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("HTTP 500"), "{err}");
    assert_eq!(server.request_count(), 3);
    let stats = editor.stats();
    assert_eq!((stats.failures, stats.retries.server_error), (1, 2));
}

#[tokio::test]
async fn test_client_errors_are_not_retried() {
    let server = FakeOpenAi::builder(edit)
        .always(Fault::Status {
            status: 400,
            body: r#"{"error":{"message":"max_tokens is too large"}}"#.into(),
        })
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let err = editor.complete(&prompt("two owls")).await.unwrap_err();
    assert!(
        matches!(
            err,
            EditorError::Status {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("max_tokens is too large"), "{err}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn test_malformed_replies_are_retried_a_bounded_number_of_times() {
    let server = FakeOpenAi::builder(edit)
        .always(Fault::MalformedJson)
        .start();
    let mut config = config(&server);
    config.retry.max_attempts = 10;
    config.retry.max_malformed_retries = 2;
    let editor = Editor::new(config).unwrap();
    let err = editor.complete(&prompt("two owls")).await.unwrap_err();
    match &err {
        EditorError::MalformedJson { attempts, body, .. } => {
            assert_eq!(*attempts, 3);
            assert!(body.starts_with('{') && body.len() > 20, "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.request_count(), 3);
    assert_eq!(editor.stats().retries.malformed, 2);
}

#[tokio::test]
async fn test_timeouts_are_typed_and_bounded() {
    let server = FakeOpenAi::builder(edit)
        .always(Fault::Slow(Duration::from_secs(5)))
        .start();
    let mut config = config(&server);
    config.request_timeout_secs = 0.2;
    config.retry.max_attempts = 2;
    let editor = Editor::new(config).unwrap();
    let start = Instant::now();
    let err = editor.complete(&prompt("two owls")).await.unwrap_err();
    let took = start.elapsed();
    match err {
        EditorError::Timeout {
            timeout, attempts, ..
        } => {
            assert_eq!(timeout, Duration::from_millis(200));
            assert_eq!(attempts, 2);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(editor.stats().retries.timeout, 1);
}

#[tokio::test]
async fn test_unreachable_endpoint_is_a_connection_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = EditorConfig::new(format!("http://127.0.0.1:{port}/v1"), "m");
    config.retry.base_delay_secs = 0.01;
    config.retry.max_delay_secs = 0.02;
    config.retry.max_attempts = 3;
    let editor = Editor::new(config).unwrap();
    let err = editor.complete(&prompt("two owls")).await.unwrap_err();
    assert!(
        matches!(err, EditorError::Connection { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&port.to_string()), "{err}");
    assert_eq!(editor.stats().retries.connection, 2);
}

#[tokio::test]
async fn test_concurrency_bound_is_respected() {
    let server = FakeOpenAi::builder(edit)
        .latency(Duration::from_millis(80))
        .start();
    let mut config = config(&server);
    config.concurrency = 3;
    let editor = Editor::new(config).unwrap();
    let prompts: Vec<EditorPrompt> = (0..12).map(|i| prompt(&format!("two items {i}"))).collect();
    let replies = editor.complete_all(&prompts).await;
    for (i, reply) in replies.iter().enumerate() {
        assert_eq!(reply.as_ref().unwrap().text, format!("three items {i}"));
    }
    assert_eq!(server.request_count(), 12);
    assert_eq!(server.max_in_flight(), 3);
}

#[tokio::test]
async fn test_requests_per_minute_spaces_requests() {
    let server = FakeOpenAi::start(edit);
    let mut config = config(&server);
    config.concurrency = 8;
    // 600 per minute: one every 100 ms, so 6 requests span at least 500 ms.
    config.requests_per_minute = Some(600);
    let editor = Editor::new(config).unwrap();
    let prompts: Vec<EditorPrompt> = (0..6).map(|i| prompt(&format!("two {i}"))).collect();
    let start = Instant::now();
    let replies = editor.complete_all(&prompts).await;
    let took = start.elapsed();
    assert!(replies.iter().all(Result::is_ok));
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
}

#[tokio::test]
async fn test_second_run_is_served_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache_path = dir.path().join("editor-cache.sqlite");
    let prompts: Vec<EditorPrompt> = (0..5).map(|i| prompt(&format!("two pens {i}"))).collect();

    let first_server = FakeOpenAi::start(edit);
    let mut config = config(&first_server);
    config.cache_path = Some(cache_path.clone());
    let first = Editor::new(config.clone()).unwrap();
    let fresh: Vec<_> = first
        .complete_all(&prompts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(fresh.iter().all(|r| !r.cached));
    assert_eq!(first_server.request_count(), 5);
    assert_eq!(first.cache().unwrap().len().unwrap(), 5);
    drop(first);

    // A new process would see the same file; the endpoint moved (the key ignores it).
    let second_server = FakeOpenAi::start(|_| "must not be asked".to_owned());
    config.base_url = second_server.base_url().to_owned();
    let second = Editor::new(config).unwrap();
    let again: Vec<_> = second
        .complete_all(&prompts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(second_server.request_count(), 0);
    for (old, new) in fresh.iter().zip(&again) {
        assert!(new.cached);
        assert_eq!(new.attempts, 0);
        assert_eq!(
            (&new.text, &new.model, new.usage),
            (&old.text, &old.model, old.usage)
        );
    }
    let stats = second.stats();
    assert_eq!((stats.cache_hits, stats.requests_sent), (5, 0));
}

#[tokio::test]
async fn test_identical_prompts_in_flight_are_sent_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::builder(edit)
        .latency(Duration::from_millis(100))
        .start();
    let mut config = config(&server);
    config.cache_path = Some(dir.path().join("c.sqlite"));
    let editor = Editor::new(config).unwrap();
    let mut prompts = vec![prompt("two cups"); 5];
    prompts.push(prompt("two forks"));
    let replies: Vec<_> = editor
        .complete_all(&prompts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(server.request_count(), 2);
    assert!(replies[..5].iter().all(|r| r.text == "three cups"));
    assert_eq!(replies[5].text, "three forks");
    assert_eq!(replies.iter().filter(|r| r.cached).count(), 4);
    assert_eq!(editor.stats().cache_hits, 4);
}

#[tokio::test]
async fn test_failures_are_not_cached_and_parameters_split_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeOpenAi::builder(edit)
        .fault_at(0, Fault::ServerError)
        .start();
    let mut config = config(&server);
    config.cache_path = Some(dir.path().join("c.sqlite"));
    config.retry.max_attempts = 1;
    let editor = Editor::new(config.clone()).unwrap();
    assert!(editor.complete(&prompt("two mugs")).await.is_err());
    // The failure left nothing behind: asking again reaches the server.
    let reply = editor.complete(&prompt("two mugs")).await.unwrap();
    assert!(!reply.cached);
    assert!(editor.complete(&prompt("two mugs")).await.unwrap().cached);
    assert_eq!(server.request_count(), 2);

    // Another draw of the same prompt, or another temperature, is another request.
    assert!(
        !editor
            .complete(&prompt("two mugs").with_sample(1))
            .await
            .unwrap()
            .cached
    );
    config.temperature = 1.0;
    let hotter = Editor::new(config).unwrap();
    assert!(!hotter.complete(&prompt("two mugs")).await.unwrap().cached);
    assert_eq!(server.request_count(), 4);
}

#[tokio::test]
async fn test_missing_api_key_is_an_error_when_required() {
    let server = FakeOpenAi::start(edit);
    let mut config = config(&server);
    config.api_key_env = "VAPR_EDITOR_TEST_UNSET_KEY_7f3a".into();
    config.require_api_key = Some(true);
    let err = Editor::new(config.clone()).unwrap_err();
    assert!(
        matches!(err, EditorError::MissingApiKey { ref env, .. } if env == "VAPR_EDITOR_TEST_UNSET_KEY_7f3a")
    );
    assert!(
        err.to_string().contains("VAPR_EDITOR_TEST_UNSET_KEY_7f3a"),
        "{err}"
    );

    // The public API needs a key by default; local endpoints do not.
    let remote = EditorConfig {
        api_key_env: "VAPR_EDITOR_TEST_UNSET_KEY_7f3a".into(),
        ..EditorConfig::default()
    };
    assert!(matches!(
        Editor::new(remote),
        Err(EditorError::MissingApiKey { .. })
    ));
    config.require_api_key = None;
    assert!(Editor::new(config).is_ok());
}

#[tokio::test]
async fn test_api_key_is_sent_as_bearer_token() {
    let server = FakeOpenAi::start(edit);
    let mut config = config(&server);
    config.require_api_key = Some(true);
    let editor = Editor::with_api_key(config, Some("sk-test-123".into())).unwrap();
    editor.complete(&prompt("two keys")).await.unwrap();
    assert_eq!(
        server.requests()[0].authorization.as_deref(),
        Some("Bearer sk-test-123")
    );
}

#[tokio::test]
async fn test_prompt_keyed_faults_and_echo_are_deterministic() {
    let server = FakeOpenAi::builder(edit)
        .faults_for_prompt("cats", vec![Fault::Echo, Fault::Reply("four cats".into())])
        .echo_with(|req| req.user.trim_start_matches("Answer: ").to_owned())
        .start();
    let editor = Editor::new(config(&server)).unwrap();
    let cat = prompt("two cats");
    assert_eq!(
        editor.complete(&prompt("two dogs")).await.unwrap().text,
        "three dogs"
    );
    assert_eq!(editor.complete(&cat).await.unwrap().text, "two cats");
    assert_eq!(
        editor
            .complete(&cat.clone().with_sample(1))
            .await
            .unwrap()
            .text,
        "four cats"
    );
    assert_eq!(
        editor.complete(&cat.with_sample(2)).await.unwrap().text,
        "three cats"
    );
    let faults: Vec<_> = server.requests().into_iter().map(|r| r.fault).collect();
    assert_eq!(
        faults,
        vec![
            None,
            Some(Fault::Echo),
            Some(Fault::Reply("four cats".into())),
            None
        ]
    );
}

#[test]
fn test_blocking_editor_from_sync_code() {
    let server = FakeOpenAi::builder(edit)
        .fault_at(1, Fault::ServerError)
        .start();
    let editor = BlockingEditor::new(config(&server)).unwrap();
    assert_eq!(
        editor.complete(&prompt("two lamps")).unwrap().text,
        "three lamps"
    );
    let replies = editor.complete_all(&[prompt("two a"), prompt("two b")]);
    let texts: Vec<_> = replies.into_iter().map(|r| r.unwrap().text).collect();
    assert_eq!(texts, vec!["three a", "three b"]);
    assert_eq!(editor.stats().retries.server_error, 1);
    assert_eq!(server.request_count(), 4);
}
