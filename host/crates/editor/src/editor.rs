//! [`Editor`]: the cached, rate-limited, retrying chat-completions client the pipeline uses.

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{Mutex as AsyncMutex, Semaphore};
use tokio::time::Instant;

use crate::backoff;
use crate::cache::{CachedReply, ResponseCache};
use crate::client::ChatClient;
use crate::config::EditorConfig;
use crate::error::{CacheError, EditorError, RetryReason};
use crate::flight::Flights;
use crate::prompt::{EditorPrompt, EditorReply};
use crate::rate::RateLimiter;
use crate::stats::{EditorStats, StatsCounters};
use crate::wire::{self, ChatAnswer};

/// The editor LLM client. Cheap to clone; clones share the concurrency bound, the rate
/// limiter, the cache and the counters, so one `Editor` serves every task of a run.
#[derive(Debug, Clone)]
pub struct Editor {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: EditorConfig,
    client: ChatClient,
    cache: Option<ResponseCache>,
    in_flight: Semaphore,
    limiter: RateLimiter,
    /// Identical prompts in flight, so duplicates are sent once.
    flights: Flights,
    stats: StatsCounters,
    /// Jitter source; seeded from the OS, only timing depends on it.
    rng: AsyncMutex<StdRng>,
}

impl Editor {
    /// Validates `config`, reads the API key from the environment variable it names, and
    /// opens the cache. Fails with [`EditorError::MissingApiKey`] when the config requires
    /// a key (see [`EditorConfig::api_key_required`]) and the variable is unset or empty.
    ///
    /// Needs no runtime; [`Editor::complete`] must run on a tokio runtime.
    pub fn new(config: EditorConfig) -> Result<Self, EditorError> {
        let key = (!config.api_key_env.is_empty())
            .then(|| std::env::var(&config.api_key_env).ok())
            .flatten()
            .filter(|k| !k.trim().is_empty());
        Self::with_api_key(config, key)
    }

    /// Like [`Editor::new`] with the key given directly instead of read from the
    /// environment (`None`: no key).
    pub fn with_api_key(
        config: EditorConfig,
        api_key: Option<String>,
    ) -> Result<Self, EditorError> {
        config.validate()?;
        if api_key.is_none() && config.api_key_required() {
            return Err(EditorError::MissingApiKey {
                env: config.api_key_env.clone(),
                base_url: config.base_url.clone(),
            });
        }
        let client = ChatClient::new(&config, api_key.map(|k| k.trim().to_owned()))?;
        let cache = config
            .cache_path
            .as_ref()
            .map(ResponseCache::open)
            .transpose()?;
        Ok(Self {
            inner: Arc::new(Inner {
                in_flight: Semaphore::new(config.concurrency),
                limiter: RateLimiter::new(config.requests_per_minute),
                flights: Flights::default(),
                client,
                cache,
                stats: StatsCounters::default(),
                rng: AsyncMutex::new(StdRng::from_os_rng()),
                config,
            }),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &EditorConfig {
        &self.inner.config
    }

    /// The response cache, when one is configured.
    pub fn cache(&self) -> Option<&ResponseCache> {
        self.inner.cache.as_ref()
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> EditorStats {
        self.inner.stats.snapshot()
    }

    /// Answers `prompt`: from the cache when it holds this exact request, otherwise from
    /// the server (retrying transient failures), storing the reply in the cache. Identical
    /// prompts in flight at the same time are sent once; the others get the cached reply.
    pub async fn complete(&self, prompt: &EditorPrompt) -> Result<EditorReply, EditorError> {
        let inner = &self.inner;
        let body = wire::request_body(&inner.config, prompt);
        let Some(cache) = &inner.cache else {
            return self.fetch(&body).await;
        };
        let key = wire::cache_key(&body, prompt.sample);
        if let Some(hit) = self.lookup(cache, &key).await? {
            return Ok(hit);
        }
        let _flight = inner.flights.claim(&key).await;
        // Whoever held the key before us may have just stored the answer.
        if let Some(hit) = self.lookup(cache, &key).await? {
            return Ok(hit);
        }
        let reply = self.fetch(&body).await?;
        let stored = CachedReply {
            text: reply.text.clone(),
            model: reply.model.clone(),
            usage: reply.usage,
            finish_reason: reply.finish_reason.clone(),
        };
        let (cache, request, sample) = (cache.clone(), body.to_string(), prompt.sample);
        // A reply that cannot be cached is still a good reply: warn, do not fail.
        if let Err(error) = blocking(move || cache.put(&key, &request, sample, &stored)).await {
            tracing::warn!(%error, "editor reply not cached");
        }
        Ok(reply)
    }

    /// The cached reply for `key`, counted as a hit.
    async fn lookup(
        &self,
        cache: &ResponseCache,
        key: &str,
    ) -> Result<Option<EditorReply>, EditorError> {
        let stats = &self.inner.stats;
        let (cache, owned_key) = (cache.clone(), key.to_owned());
        let hit = match blocking(move || cache.get(&owned_key)).await {
            Ok(Some(hit)) => hit,
            Ok(None) => return Ok(None),
            Err(error) => {
                stats.failure();
                return Err(error.into());
            }
        };
        stats.cache_hit();
        tracing::debug!(key = &key[..12], "editor cache hit");
        Ok(Some(EditorReply {
            text: hit.text,
            model: hit.model,
            usage: hit.usage,
            finish_reason: hit.finish_reason,
            cached: true,
            attempts: 0,
        }))
    }

    /// Asks the server, counting the outcome.
    async fn fetch(&self, body: &serde_json::Value) -> Result<EditorReply, EditorError> {
        let inner = &self.inner;
        let (answer, attempts) = match self.send_with_retries(body).await {
            Ok(done) => done,
            Err(error) => {
                inner.stats.failure();
                return Err(error);
            }
        };
        inner.stats.completed(answer.usage);
        Ok(EditorReply {
            model: answer.model.unwrap_or_else(|| inner.config.model.clone()),
            text: answer.text,
            usage: answer.usage,
            finish_reason: answer.finish_reason,
            cached: false,
            attempts,
        })
    }

    /// Answers every prompt, as many at once as `concurrency` allows; results come back in
    /// the order of `prompts`.
    pub async fn complete_all(
        &self,
        prompts: &[EditorPrompt],
    ) -> Vec<Result<EditorReply, EditorError>> {
        let mut tasks = tokio::task::JoinSet::new();
        for (index, prompt) in prompts.iter().enumerate() {
            let (editor, prompt) = (self.clone(), prompt.clone());
            tasks.spawn(async move { (index, editor.complete(&prompt).await) });
        }
        let mut results: Vec<Option<Result<EditorReply, EditorError>>> =
            prompts.iter().map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, result)) => results[index] = Some(result),
                // `complete` does not panic; if it did, surface it rather than lose a slot.
                Err(error) => std::panic::resume_unwind(error.into_panic()),
            }
        }
        results
            .into_iter()
            .map(|r| r.expect("every task reports"))
            .collect()
    }

    /// Sends `body` until it succeeds, fails in a way retrying cannot fix, or the retry
    /// budget is spent. Returns the answer and the number of attempts.
    async fn send_with_retries(
        &self,
        body: &serde_json::Value,
    ) -> Result<(ChatAnswer, u32), EditorError> {
        let inner = &self.inner;
        let policy = &inner.config.retry;
        let mut malformed_retries = 0;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = {
                // The permit is held for the request only, not while backing off.
                let _permit = inner
                    .in_flight
                    .acquire()
                    .await
                    .expect("the semaphore is never closed");
                inner.limiter.acquire().await;
                inner.stats.request_sent();
                inner.client.send(body).await
            };
            let error = match outcome {
                Ok(answer) => return Ok((answer, attempt)),
                Err(error) => error.with_attempts(attempt),
            };
            let Some(reason) = error.retry_reason() else {
                return Err(error);
            };
            if attempt >= policy.max_attempts {
                return Err(error);
            }
            if reason == RetryReason::Malformed {
                if malformed_retries >= policy.max_malformed_retries {
                    return Err(error);
                }
                malformed_retries += 1;
            }
            let delay = match error.retry_after() {
                Some(asked) if asked > policy.max_retry_after() => {
                    let EditorError::Status { url, status, .. } = error else {
                        unreachable!("only status errors carry Retry-After")
                    };
                    return Err(EditorError::RetryAfterTooLong {
                        url,
                        status,
                        retry_after: asked,
                        limit: policy.max_retry_after(),
                        attempts: attempt,
                    });
                }
                Some(asked) => {
                    // Everyone waits: the server's limit is shared by all our tasks.
                    inner.limiter.pause_until(Instant::now() + asked);
                    // A little spread so paused tasks do not all resume on one tick.
                    asked + self.jitter(policy.base_delay()).await
                }
                None => {
                    let mut rng = inner.rng.lock().await;
                    backoff::full_jitter(policy, attempt, &mut *rng)
                }
            };
            inner.stats.retry(reason);
            tracing::warn!(
                url = inner.client.url(),
                attempt,
                max_attempts = policy.max_attempts,
                reason = reason.as_str(),
                retry_after_ms = error.retry_after().map(|d| d.as_millis() as u64),
                delay_ms = delay.as_millis() as u64,
                %error,
                "editor request failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn jitter(&self, up_to: Duration) -> Duration {
        use rand::Rng;
        if up_to.is_zero() {
            return Duration::ZERO;
        }
        let mut rng = self.inner.rng.lock().await;
        Duration::from_secs_f64(rng.random_range(0.0..=up_to.as_secs_f64()))
    }
}

/// Runs a cache operation off the async workers (SQLite calls block).
async fn blocking<T: Send + 'static>(
    op: impl FnOnce() -> Result<T, CacheError> + Send + 'static,
) -> Result<T, CacheError> {
    tokio::task::spawn_blocking(op)
        .await
        .map_err(|e| CacheError::Task(e.to_string()))?
}
