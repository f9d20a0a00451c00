//! First uses: once per key and kind while the record lives, per component.

use super::{component, secs, Fixture};
use crate::store::{OnceKind, Use};
use wxopen_models::ComponentAppid;

fn at(kind: OnceKind, key: &str, now: i64) -> Use<'_> {
    Use {
        kind,
        key,
        until: secs(now + 60),
        now: secs(now),
    }
}

/// A key is first once; another key, another kind or another component is first again; once
/// the record has expired the key may be used again.
pub async fn a_use_is_first_once_until_its_record_expires(s: impl Fixture) {
    let t = 1_900_000_000;
    assert!(s.first_use(&at(OnceKind::State, "n1", t)).await.unwrap());
    assert!(!s
        .first_use(&at(OnceKind::State, "n1", t + 1))
        .await
        .unwrap());
    assert!(!s
        .first_use(&at(OnceKind::State, "n1", t + 60))
        .await
        .unwrap());
    assert!(s.first_use(&at(OnceKind::State, "n2", t)).await.unwrap());
    assert!(s.first_use(&at(OnceKind::Message, "n1", t)).await.unwrap());
    let other = s.scoped_to(ComponentAppid::parse("wx_component_b").unwrap());
    assert!(other
        .first_use(&at(OnceKind::State, "n1", t))
        .await
        .unwrap());
    assert_ne!(component().as_str(), "wx_component_b");
    // Past its record's expiry (lazily deleted or not), the key is first again, and then not.
    assert!(s
        .first_use(&at(OnceKind::State, "n1", t + 61))
        .await
        .unwrap());
    assert!(!s
        .first_use(&at(OnceKind::State, "n1", t + 62))
        .await
        .unwrap());
    // A forgotten use is first again; forgetting what is not recorded is no error.
    s.forget_use(OnceKind::State, "n1").await.unwrap();
    assert!(s
        .first_use(&at(OnceKind::State, "n1", t + 63))
        .await
        .unwrap());
    s.forget_use(OnceKind::Message, "never").await.unwrap();
}
