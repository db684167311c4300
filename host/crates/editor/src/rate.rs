//! The requests-per-minute limiter, shared by every task of one [`crate::Editor`].
//!
//! Requests are spaced evenly, `60 s / rpm` apart, instead of letting a minute's worth
//! go out in a burst: providers meter limits over windows shorter than a minute, so a
//! burst draws 429s even when the per-minute total is within the limit. The limiter also
//! carries a shared pause: when the server answers with `Retry-After`, every task holds
//! off until then, not just the one that was told.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Even spacing of request starts plus a shared pause.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Option<Duration>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Earliest start of the next request.
    next_slot: Instant,
    /// No request starts before this (set from `Retry-After`).
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// A limiter for `requests_per_minute` (`None`: only the shared pause applies).
    pub(crate) fn new(requests_per_minute: Option<u32>) -> Self {
        Self {
            interval: requests_per_minute.map(|rpm| Duration::from_secs_f64(60.0 / rpm as f64)),
            state: Mutex::new(State {
                next_slot: Instant::now(),
                paused_until: None,
            }),
        }
    }

    /// Waits until this caller may start a request. Slots are handed out in call order.
    pub(crate) async fn acquire(&self) {
        let slot = {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let mut slot = now;
            if let Some(paused) = state.paused_until {
                slot = slot.max(paused);
            }
            if let Some(interval) = self.interval {
                slot = slot.max(state.next_slot);
                state.next_slot = slot + interval;
            }
            (slot > now).then_some(slot)
        };
        // Tokio timers tick in milliseconds: only sleep when there is something to wait for.
        if let Some(slot) = slot {
            tokio::time::sleep_until(slot).await;
        }
    }

    /// Holds every caller of [`Self::acquire`] until `until` (never shortens a pause).
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.paused_until = Some(state.paused_until.map_or(until, |p| p.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn test_requests_are_spaced_evenly() {
        // 1200 rpm = one request per 50 ms: five requests need at least 200 ms.
        let limiter = RateLimiter::new(Some(1200));
        let start = Instant::now();
        let mut starts = Vec::new();
        for _ in 0..5 {
            limiter.acquire().await;
            starts.push(start.elapsed());
        }
        assert!(starts[0] < Duration::from_millis(20), "{starts:?}");
        // Slot i opens 50 ms after slot i-1; a late wake-up does not move later slots.
        for (i, started) in starts.iter().enumerate() {
            assert!(
                *started >= Duration::from_millis(50 * i as u64),
                "{starts:?}"
            );
        }
    }

    #[tokio::test]
    async fn test_no_limit_means_no_wait() {
        let limiter = RateLimiter::new(None);
        let start = Instant::now();
        for _ in 0..100 {
            limiter.acquire().await;
        }
        assert!(start.elapsed() < Duration::from_millis(50));
    }

    #[tokio::test]
    async fn test_pause_holds_everyone_and_never_shrinks() {
        let limiter = RateLimiter::new(None);
        let start = Instant::now();
        limiter.pause_until(start + Duration::from_millis(150));
        limiter.pause_until(start + Duration::from_millis(50));
        limiter.acquire().await;
        assert!(start.elapsed() >= Duration::from_millis(150));
    }
}
