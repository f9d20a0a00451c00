//! Medians and 99th percentiles of repeated measurements.

use std::time::Duration;

/// Median and p99 of a sample.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// 50th percentile.
    pub median: Duration,
    /// 99th percentile (nearest rank).
    pub p99: Duration,
    /// How many values.
    pub n: usize,
}

/// Summarizes a non-empty sample.
pub fn summarize(values: &[Duration]) -> Summary {
    assert!(!values.is_empty(), "no measurements");
    let mut sorted = values.to_vec();
    sorted.sort();
    let rank =
        |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
    Summary {
        median: rank(0.5),
        p99: rank(0.99),
        n: sorted.len(),
    }
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Microseconds with one decimal.
pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1_000_000.0)
}
