//! WeChat's access points: `WECHAT_API_BASE` first, then `WECHAT_API_FALLBACK_BASES` (WeChat
//! publishes `api2.weixin.qq.com` as the disaster-recovery twin of `api.weixin.qq.com`, and
//! regional hosts, and asks platforms to move when a link breaks). A point that failed is
//! skipped for a while in this container, then tried again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a point that failed is skipped in this container.
pub const SKIP_FOR: Duration = Duration::from_secs(60);

/// The points in order of preference, and until when each is skipped.
#[derive(Debug)]
pub struct AccessPoints {
    bases: Vec<String>,
    skipped: Mutex<Vec<Option<Instant>>>,
    skip_for: Duration,
}

impl AccessPoints {
    /// `primary`, then `fallbacks`, each without a trailing slash.
    pub fn new(primary: &str, fallbacks: &[String]) -> Self {
        let bases: Vec<String> = std::iter::once(primary)
            .chain(fallbacks.iter().map(String::as_str))
            .map(|b| b.trim().trim_end_matches('/').to_owned())
            .collect();
        Self {
            skipped: Mutex::new(vec![None; bases.len()]),
            bases,
            skip_for: SKIP_FOR,
        }
    }

    /// The same, skipping a failed point for `skip_for`.
    pub fn skipping_for(self, skip_for: Duration) -> Self {
        Self { skip_for, ..self }
    }

    /// How many points there are.
    pub fn len(&self) -> usize {
        self.bases.len()
    }

    /// Never: there is always the primary.
    pub fn is_empty(&self) -> bool {
        self.bases.is_empty()
    }

    /// The base of point `i`.
    pub fn base(&self, i: usize) -> &str {
        &self.bases[i]
    }

    /// The point to use now: the first not skipped; when all are, the one skipped longest ago.
    pub fn choose(&self) -> usize {
        let skipped = self.skipped.lock().expect("access points lock");
        let now = Instant::now();
        let free = skipped
            .iter()
            .position(|s| s.is_none_or(|until| until <= now));
        free.unwrap_or_else(|| {
            let soonest = skipped.iter().enumerate().min_by_key(|(_, s)| **s);
            soonest.map_or(0, |(i, _)| i)
        })
    }

    /// Point `i` failed: skipped for a while. The next point to try instead, if any is free.
    pub fn failed(&self, i: usize) -> Option<usize> {
        let mut skipped = self.skipped.lock().expect("access points lock");
        let now = Instant::now();
        skipped[i] = Some(now + self.skip_for);
        let free = |j: &usize| *j != i && skipped[*j].is_none_or(|until| until <= now);
        (0..self.bases.len()).find(free)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_point_is_skipped_for_a_while_then_preferred_again() {
        let points = AccessPoints::new("http://a/", &["http://b".into(), "http://c".into()])
            .skipping_for(Duration::from_millis(50));
        assert_eq!((points.choose(), points.base(0)), (0, "http://a"));
        assert_eq!(points.failed(0), Some(1));
        assert_eq!(points.choose(), 1);
        assert_eq!(points.failed(1), Some(2));
        assert_eq!(points.failed(2), None, "every point failed");
        assert_eq!(points.choose(), 0, "the one skipped longest ago");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(points.choose(), 0, "the primary again once its skip ends");
        let alone = AccessPoints::new("http://a", &[]);
        assert_eq!(alone.failed(0), None);
        assert_eq!(alone.choose(), 0);
    }
}
