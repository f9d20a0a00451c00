//! The `rollouts` function's part: its work queue and how long it waits.

use super::{ConfigError, Env};
use crate::services::RolloutSettings;
use std::time::Duration;

impl Env {
    /// `ROLLOUT_QUEUE_URL`: where rollout work goes (the template's rollout queue).
    pub fn rollout_queue_url(&self) -> Result<&str, ConfigError> {
        self.require(
            "ROLLOUT_QUEUE_URL",
            "the SQS queue of rollout work (RolloutQueue in template.yaml)",
        )
    }

    /// The rollouts' waits: `ROLLOUT_RETRY_SECONDS` (after WeChat asks to wait, default 60),
    /// `ROLLOUT_QUOTA_WAIT_SECONDS` (while the audit quota is spent, default 900),
    /// `ROLLOUT_AUDIT_POLL_SECONDS` (when an audit's push is overdue, default 3600) and
    /// `ROLLOUT_STUCK_SECONDS` (when the sweep resumes a target that stopped, default 900).
    pub fn rollout_settings(&self) -> Result<RolloutSettings, ConfigError> {
        let mut settings = RolloutSettings::default();
        let fields: [(&'static str, &mut Duration); 4] = [
            ("ROLLOUT_RETRY_SECONDS", &mut settings.retry_after),
            ("ROLLOUT_QUOTA_WAIT_SECONDS", &mut settings.quota_wait),
            ("ROLLOUT_AUDIT_POLL_SECONDS", &mut settings.audit_poll_after),
            ("ROLLOUT_STUCK_SECONDS", &mut settings.stuck_after),
        ];
        for (name, field) in fields {
            if let Some(value) = self.get(name) {
                let secs: u64 = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|s| (1..=86_400).contains(s))
                    .ok_or(ConfigError::Malformed {
                        name,
                        reason: "it must be a whole number of seconds from 1 to 86400".into(),
                    })?;
                *field = Duration::from_secs(secs);
            }
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::env_of as env;

    #[test]
    fn the_waits_default_and_a_malformed_one_is_named() {
        let defaults = env(&[]).rollout_settings().unwrap();
        assert_eq!(defaults.retry_after, Duration::from_secs(60));
        let set = env(&[("ROLLOUT_RETRY_SECONDS", "2")])
            .rollout_settings()
            .unwrap();
        assert_eq!(set.retry_after, Duration::from_secs(2));
        let bad = env(&[("ROLLOUT_AUDIT_POLL_SECONDS", "soon")]).rollout_settings();
        assert!(bad
            .unwrap_err()
            .to_string()
            .contains("ROLLOUT_AUDIT_POLL_SECONDS"));
        assert!(env(&[])
            .rollout_queue_url()
            .unwrap_err()
            .to_string()
            .contains("ROLLOUT_QUEUE_URL"));
    }
}
