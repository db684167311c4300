//! How long to wait before a retry: exponential backoff with full jitter, and the server's
//! `Retry-After` (seconds or an HTTP date; OpenAI also sends `retry-after-ms`).

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;

use crate::config::RetryPolicy;

/// Full-jitter backoff before retry number `retry` (1 for the first retry): uniform in
/// `[0, min(max_delay, base_delay * 2^(retry-1))]`. Full jitter spreads the retries of many
/// concurrent tasks that failed together (AWS architecture blog, "Exponential Backoff And
/// Jitter").
pub(crate) fn full_jitter(policy: &RetryPolicy, retry: u32, rng: &mut impl Rng) -> Duration {
    let ceiling = exponential_ceiling(policy, retry);
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(rng.random_range(0.0..=ceiling.as_secs_f64()))
}

/// The upper bound of the backoff before retry number `retry`.
pub(crate) fn exponential_ceiling(policy: &RetryPolicy, retry: u32) -> Duration {
    let exponent = retry.saturating_sub(1).min(30) as i32;
    let secs = policy.base_delay_secs * 2f64.powi(exponent);
    Duration::from_secs_f64(secs.min(policy.max_delay_secs))
}

/// The delay the server asked for, if any: `retry-after-ms` (milliseconds) first, then
/// `Retry-After` as (possibly fractional) seconds or as an HTTP date relative to `now`.
/// A date in the past means "now". Unparseable values are ignored.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    parse_retry_after(header("retry-after")?, now)
}

/// Parses one `Retry-After` value (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use reqwest::header::HeaderValue;

    fn policy(base: f64, max: f64) -> RetryPolicy {
        RetryPolicy {
            base_delay_secs: base,
            max_delay_secs: max,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn test_ceiling_doubles_then_caps() {
        let p = policy(0.5, 3.0);
        let ceilings: Vec<f64> = (1..=5)
            .map(|n| exponential_ceiling(&p, n).as_secs_f64())
            .collect();
        assert_eq!(ceilings, vec![0.5, 1.0, 2.0, 3.0, 3.0]);
        // Huge retry numbers do not overflow.
        assert_eq!(exponential_ceiling(&p, u32::MAX).as_secs_f64(), 3.0);
    }

    #[test]
    fn test_full_jitter_stays_under_ceiling_and_spreads() {
        let p = policy(1.0, 60.0);
        let mut rng = StdRng::seed_from_u64(7);
        let samples: Vec<Duration> = (0..200).map(|_| full_jitter(&p, 3, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_secs(4)));
        let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / 200.0;
        // Uniform on [0, 4]: mean 2.
        assert!((mean - 2.0).abs() < 0.4, "mean {mean}");
        assert_eq!(full_jitter(&policy(0.0, 0.0), 4, &mut rng), Duration::ZERO);
    }

    #[test]
    fn test_retry_after_seconds_and_fractions() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("0.25", now),
            Some(Duration::from_millis(250))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn test_retry_after_http_date() {
        let now = httpdate::parse_http_date("Thu, 26 Nov 2026 05:00:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 05:00:07 GMT", now),
            Some(Duration::from_secs(7))
        );
        // A date already past means retry now.
        assert_eq!(
            parse_retry_after("Thu, 26 Nov 2026 04:59:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn test_retry_after_ms_header_wins() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("20"));
        headers.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(
            retry_after(&headers, SystemTime::now()),
            Some(Duration::from_millis(150))
        );
        headers.remove("retry-after-ms");
        assert_eq!(
            retry_after(&headers, SystemTime::now()),
            Some(Duration::from_secs(20))
        );
        assert_eq!(retry_after(&HeaderMap::new(), SystemTime::now()), None);
    }
}
