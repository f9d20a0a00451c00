//! Wall-clock time as epoch numbers, the unit DynamoDB items and WeChat use.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}
