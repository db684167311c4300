//! How numbers read in the report and the terminal table, in one place so both agree:
//! rates as percentages with one decimal (`0.625` → `62.5%`), differences in signed
//! percentage points (`+3.1 pp`), a missing value as `–`, durations in s / min / h.

/// The mark of a value that does not exist (never a made-up 0).
pub const MISSING: &str = "–";

/// A rate in [0, 1] as a percentage with one decimal.
pub fn pct(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}%", 100.0 * x)
    } else {
        MISSING.to_string()
    }
}

/// [`pct`] of an optional rate.
pub fn opt_pct(x: Option<f64>) -> String {
    x.map_or_else(|| MISSING.to_string(), pct)
}

/// A difference of two rates in signed percentage points.
pub fn pp(diff: f64) -> String {
    if !diff.is_finite() {
        return MISSING.to_string();
    }
    // Avoid "-0.0 pp" for differences that round to zero.
    let v = (1000.0 * diff).round() / 10.0;
    if v == 0.0 {
        "±0.0 pp".to_string()
    } else {
        format!("{v:+.1} pp")
    }
}

/// A plain number with `digits` decimals, or `–`.
pub fn num(x: Option<f64>, digits: usize) -> String {
    match x {
        Some(v) if v.is_finite() => format!("{v:.digits$}"),
        _ => MISSING.to_string(),
    }
}

/// Seconds as a human duration: `12.3 s`, `4 min 05 s`, `1 h 02 min`.
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return MISSING.to_string();
    }
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let whole = secs.round() as u64;
    if whole < 3600 {
        format!("{} min {:02} s", whole / 60, whole % 60)
    } else {
        format!("{} h {:02} min", whole / 3600, (whole % 3600) / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_differences_read_as_documented() {
        assert_eq!(pct(0.625), "62.5%");
        assert_eq!(pct(1.0), "100.0%");
        assert_eq!(pct(f64::NAN), "–");
        assert_eq!(opt_pct(None), "–");
        assert_eq!(pp(0.031), "+3.1 pp");
        assert_eq!(pp(-0.1), "-10.0 pp");
        assert_eq!(pp(-0.0001), "±0.0 pp");
        assert_eq!(num(Some(0.12345), 3), "0.123");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration(12.34), "12.3 s");
        assert_eq!(duration(245.0), "4 min 05 s");
        assert_eq!(duration(3725.0), "1 h 02 min");
    }
}
