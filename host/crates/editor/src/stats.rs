//! Counters of what the editor did, shared lock-free by every task.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::RetryReason;
use crate::prompt::Usage;

/// A snapshot of an [`crate::Editor`]'s counters (serialises into run summaries).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EditorStats {
    /// HTTP requests sent, retries included.
    pub requests_sent: u64,
    /// Prompts answered from the cache (no request sent).
    pub cache_hits: u64,
    /// Prompts answered by the server.
    pub completed: u64,
    /// Prompts that failed for good (retries exhausted or not retryable).
    pub failures: u64,
    /// Retries, by reason.
    pub retries: RetryCounts,
    /// Prompt tokens the server reported, over `completed` prompts.
    pub prompt_tokens: u64,
    /// Completion tokens the server reported, over `completed` prompts.
    pub completion_tokens: u64,
}

/// Retries by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetryCounts {
    /// After HTTP 429.
    pub rate_limited: u64,
    /// After HTTP 5xx.
    pub server_error: u64,
    /// After a timeout (or HTTP 408).
    pub timeout: u64,
    /// After a connection failure.
    pub connection: u64,
    /// After a malformed reply.
    pub malformed: u64,
}

impl RetryCounts {
    /// All retries.
    pub fn total(&self) -> u64 {
        self.rate_limited + self.server_error + self.timeout + self.connection + self.malformed
    }

    /// The count for one reason.
    pub fn get(&self, reason: RetryReason) -> u64 {
        match reason {
            RetryReason::RateLimited => self.rate_limited,
            RetryReason::ServerError => self.server_error,
            RetryReason::Timeout => self.timeout,
            RetryReason::Connection => self.connection,
            RetryReason::Malformed => self.malformed,
        }
    }
}

/// The live counters behind [`EditorStats`].
#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    requests_sent: AtomicU64,
    cache_hits: AtomicU64,
    completed: AtomicU64,
    failures: AtomicU64,
    retries: [AtomicU64; 5],
    prompt_tokens: AtomicU64,
    completion_tokens: AtomicU64,
}

fn slot(reason: RetryReason) -> usize {
    match reason {
        RetryReason::RateLimited => 0,
        RetryReason::ServerError => 1,
        RetryReason::Timeout => 2,
        RetryReason::Connection => 3,
        RetryReason::Malformed => 4,
    }
}

impl StatsCounters {
    pub(crate) fn request_sent(&self) {
        self.requests_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn cache_hit(&self) {
        self.cache_hits.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn completed(&self, usage: Option<Usage>) {
        self.completed.fetch_add(1, Ordering::Relaxed);
        if let Some(usage) = usage {
            self.prompt_tokens
                .fetch_add(usage.prompt_tokens, Ordering::Relaxed);
            self.completion_tokens
                .fetch_add(usage.completion_tokens, Ordering::Relaxed);
        }
    }

    pub(crate) fn failure(&self) {
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retry(&self, reason: RetryReason) {
        self.retries[slot(reason)].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> EditorStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let retry = |r| load(&self.retries[slot(r)]);
        EditorStats {
            requests_sent: load(&self.requests_sent),
            cache_hits: load(&self.cache_hits),
            completed: load(&self.completed),
            failures: load(&self.failures),
            retries: RetryCounts {
                rate_limited: retry(RetryReason::RateLimited),
                server_error: retry(RetryReason::ServerError),
                timeout: retry(RetryReason::Timeout),
                connection: retry(RetryReason::Connection),
                malformed: retry(RetryReason::Malformed),
            },
            prompt_tokens: load(&self.prompt_tokens),
            completion_tokens: load(&self.completion_tokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_snapshot_reflects_counts() {
        let counters = StatsCounters::default();
        counters.request_sent();
        counters.request_sent();
        counters.retry(RetryReason::Timeout);
        counters.retry(RetryReason::Malformed);
        counters.retry(RetryReason::Malformed);
        counters.completed(Some(Usage {
            prompt_tokens: 10,
            completion_tokens: 3,
            total_tokens: 13,
        }));
        counters.cache_hit();
        let stats = counters.snapshot();
        assert_eq!(stats.requests_sent, 2);
        assert_eq!(stats.retries.total(), 3);
        assert_eq!(stats.retries.get(RetryReason::Malformed), 2);
        assert_eq!((stats.prompt_tokens, stats.completion_tokens), (10, 3));
        let json = serde_json::to_value(stats).unwrap();
        assert_eq!(json["retries"]["timeout"], 1);
        assert_eq!(json["cache_hits"], 1);
    }
}
