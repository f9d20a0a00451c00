//! Wall-clock time. Inside the core every instant is a [`Timestamp`] (epoch milliseconds);
//! seconds appear only where WeChat or a stored record speaks in seconds.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// An instant as epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Now.
    pub fn now() -> Self {
        Self(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        )
    }

    /// From epoch milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    /// From epoch seconds (WeChat's `CreateTime`, a record's times).
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Epoch milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// Epoch seconds, rounded down.
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This instant plus `d`.
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.as_millis() as i64))
    }

    /// This instant minus `d`.
    pub fn minus(self, d: Duration) -> Self {
        Self(self.0.saturating_sub(d.as_millis() as i64))
    }

    /// How long after `earlier` this is; zero when it is not after.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
}

/// Where "now" comes from. Production reads the system clock ([`SystemClock`]); tests that
/// need time to pass (a token going stale, a link expiring) pass a clock they move.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// Serializes an instant as epoch seconds, the unit every answer speaks
/// (`#[serde(serialize_with = "crate::clock::epoch_secs")]`).
pub fn epoch_secs<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(t.secs())
}

/// Milliseconds since the epoch.
pub fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// Seconds since the epoch.
pub fn now_secs() -> i64 {
    Timestamp::now().secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_milliseconds_convert_both_ways() {
        let t = Timestamp::from_secs(1_700_000_000);
        assert_eq!(t.millis(), 1_700_000_000_000);
        assert_eq!(Timestamp::from_millis(1_999).secs(), 1);
        assert_eq!(t.plus(Duration::from_secs(2)).secs(), 1_700_000_002);
        assert_eq!(
            t.plus(Duration::from_millis(5)).since(t),
            Duration::from_millis(5)
        );
        assert_eq!(t.since(t.plus(Duration::from_secs(1))), Duration::ZERO);
    }
}
