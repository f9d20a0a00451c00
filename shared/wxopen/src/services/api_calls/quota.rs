//! The budget of quota resets. WeChat allows ten `clear_quota` a month per account (and per
//! platform), counted by WeChat at Beijing time; one spent by a runaway caller is gone until the
//! next month. So across instances: at most one reset per account per day, and at most
//! [`MONTHLY_RESETS`] a month, leaving [`RESERVE`] for the console or a human. Each reset takes a
//! slot with a conditional write (a first use); a reset WeChat refuses gives its slots back.

use crate::clock::Timestamp;
use crate::error::ServiceError;
use crate::store::{OnceKind, OnceStore, Use};
use std::time::Duration;
use wxopen_models::AuthorizerAppid;

/// Resets a month this service spends per account.
pub const MONTHLY_RESETS: u32 = 8;
/// Resets a month left to the console (WeChat allows ten).
pub const RESERVE: u32 = 10 - MONTHLY_RESETS;

/// Beijing time, where WeChat's days and months turn.
const BEIJING_OFFSET_SECS: i64 = 8 * 3600;

/// The slots one reset holds, to give back if WeChat refuses it.
#[derive(Debug)]
pub(super) struct Claimed {
    keys: Vec<String>,
}

/// The civil (year, month, day) of a day count since 1970-01-01 (Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Claims today's reset and one of the month's for `appid` (`None`: the platform), or refuses.
pub(super) async fn claim(
    once: &dyn OnceStore,
    appid: Option<&AuthorizerAppid>,
    now: Timestamp,
) -> Result<Claimed, ServiceError> {
    let account = appid.map_or("platform", AuthorizerAppid::as_str);
    let (year, month, day) = civil((now.secs() + BEIJING_OFFSET_SECS).div_euclid(86_400));
    // Kept past the period's end, whatever its length.
    let day_key = format!("{account}#{year:04}-{month:02}-{day:02}");
    fn use_(key: &str, keep: u64, now: Timestamp) -> Use<'_> {
        Use {
            kind: OnceKind::QuotaReset,
            key,
            until: now.plus(Duration::from_secs(keep)),
            now,
        }
    }
    if !once.first_use(&use_(&day_key, 2 * 86_400, now)).await? {
        return Err(refused(
            account,
            "one reset a day per account has been spent today",
        ));
    }
    for slot in 0..MONTHLY_RESETS {
        let month_key = format!("{account}#{year:04}-{month:02}#{slot}");
        if once.first_use(&use_(&month_key, 32 * 86_400, now)).await? {
            return Ok(Claimed {
                keys: vec![day_key, month_key],
            });
        }
    }
    give_back(
        once,
        Claimed {
            keys: vec![day_key],
        },
    )
    .await;
    Err(refused(
        account,
        &format!("this month's {MONTHLY_RESETS} resets have been spent ({RESERVE} are left to the WeChat console)"),
    ))
}

/// Gives a refused reset's slots back.
pub(super) async fn give_back(once: &dyn OnceStore, claimed: Claimed) {
    for key in &claimed.keys {
        if let Err(e) = once.forget_use(OnceKind::QuotaReset, key).await {
            tracing::warn!(error = %e, "a refused quota reset keeps its slot until the period ends");
        }
    }
}

fn refused(account: &str, why: &str) -> ServiceError {
    ServiceError::Forbidden {
        code: "quota_reset_budget",
        message: format!("no quota reset for {account}: {why}; nothing was sent to WeChat"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;
    use wxopen_models::ComponentAppid;

    /// Noon, Beijing time, on `day` of December 2026.
    fn december(day: i64) -> Timestamp {
        Timestamp::from_secs(1_796_097_600 + (day - 1) * 86_400)
    }

    #[tokio::test]
    async fn eight_resets_a_month_one_a_day_and_a_refused_one_gives_its_slots_back() {
        let store = MemoryStore::new(ComponentAppid::parse("wx_component_q").unwrap());
        let app = AuthorizerAppid::parse("wxquota").unwrap();
        for day in 1..=MONTHLY_RESETS as i64 {
            claim(&store, Some(&app), december(day)).await.unwrap();
            let again = claim(&store, Some(&app), december(day)).await.unwrap_err();
            assert!(again.to_string().contains("one reset a day"), "{again}");
        }
        let spent = claim(&store, Some(&app), december(20)).await.unwrap_err();
        assert!(
            spent
                .to_string()
                .contains("2 are left to the WeChat console"),
            "{spent}"
        );
        // Another account, the platform, and the next month have budgets of their own.
        claim(&store, None, december(20)).await.unwrap();
        claim(&store, Some(&app), december(32)).await.unwrap();
        // A reset WeChat refused is not counted.
        let other = AuthorizerAppid::parse("wxquota2").unwrap();
        let claimed = claim(&store, Some(&other), december(5)).await.unwrap();
        give_back(&store, claimed).await;
        claim(&store, Some(&other), december(5)).await.unwrap();
    }

    #[test]
    fn day_counts_map_to_their_civil_dates() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert_eq!(civil(20_790), (2026, 12, 3));
        assert_eq!(civil(20_819), (2027, 1, 1));
    }
}
