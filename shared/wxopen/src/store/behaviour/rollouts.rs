//! Rollouts: a target is written only by the writer of its next version, pages of targets in
//! AppID order, at most `max_in_audit` audit slots, states moved once.

use super::{appid, now, Fixture};
use crate::store::{Call, StoredRollout, StoredTarget};
use wxopen_models::rollouts::{ReleaseMode, RolloutState, TargetState};

fn rollout(id: &str, targets: u32, max_in_audit: u32) -> StoredRollout {
    StoredRollout {
        id: id.into(),
        template_id: "12".into(),
        user_version: "1.0.0".into(),
        user_desc: "first".into(),
        ext_json: "{}".into(),
        audit: "{}".into(),
        release: ReleaseMode::Gray(vec![10, 100]),
        max_in_audit,
        state: RolloutState::Running,
        in_audit: 0,
        targets,
        created_at: now(),
    }
}

fn target(id: &str, app: &str) -> StoredTarget {
    StoredTarget {
        rollout_id: id.into(),
        appid: appid(app),
        ext: format!("customer-of-{app}"),
        state: TargetState::Pending,
        call: None,
        auditid: None,
        reason: None,
        errcode: None,
        gray_step: None,
        due_at: now(),
        updated_at: now(),
        version: 0,
        outbox: Vec::new(),
    }
}

/// Targets are stored at version 1; a write of version n+1 wins once; pages follow AppIDs.
pub async fn a_rollout_target_is_written_only_by_the_writer_of_its_next_version(s: impl Fixture) {
    let targets: Vec<_> = ["wxt3", "wxt1", "wxt2"]
        .iter()
        .map(|a| target("r1", a))
        .collect();
    s.create_rollout(&rollout("r1", 3, 2), &targets)
        .await
        .unwrap();
    let stored = s.target("r1", &appid("wxt1")).await.unwrap().unwrap();
    assert_eq!((stored.version, stored.state), (1, TargetState::Pending));
    assert_eq!(stored.ext, "customer-of-wxt1");
    let mut next = stored.clone();
    next.version = 2;
    next.state = TargetState::Committed;
    next.call = Some((Call::Gray(10), now()));
    next.auditid = Some(42);
    next.gray_step = Some(0);
    next.outbox = vec!["{\"a\":1}".into(), "{\"b\":2}".into()];
    assert!(s.write_target(&next).await.unwrap());
    assert!(
        !s.write_target(&next).await.unwrap(),
        "version 2 was written already"
    );
    let read = s.target("r1", &appid("wxt1")).await.unwrap().unwrap();
    assert_eq!(read, next);
    let (first, cursor) = s.targets("r1", None, 2).await.unwrap();
    let names: Vec<_> = first.iter().map(|t| t.appid.as_str().to_owned()).collect();
    assert_eq!(names, ["wxt1", "wxt2"]);
    let (rest, end) = s.targets("r1", cursor.as_ref(), 2).await.unwrap();
    let names: Vec<_> = rest.iter().map(|t| t.appid.as_str().to_owned()).collect();
    assert_eq!(names, ["wxt3"]);
    assert_eq!(end, None);
    assert!(s.target("r2", &appid("wxt1")).await.unwrap().is_none());
}

/// At most `max_in_audit` slots are held; the state moves once; audits find their rollout.
pub async fn a_rollout_holds_at_most_its_audit_slots_and_ends_once(s: impl Fixture) {
    s.create_rollout(&rollout("r9", 0, 2), &[]).await.unwrap();
    assert!(s.claim_audit_slot("r9").await.unwrap());
    assert!(s.claim_audit_slot("r9").await.unwrap());
    assert!(
        !s.claim_audit_slot("r9").await.unwrap(),
        "two in audit already"
    );
    s.free_audit_slot("r9").await.unwrap();
    assert!(s.claim_audit_slot("r9").await.unwrap());
    assert_eq!(s.rollout("r9").await.unwrap().unwrap().in_audit, 2);
    let running = s.running_rollouts().await.unwrap();
    assert!(running.iter().any(|r| r.id == "r9"));
    assert!(s
        .set_rollout_state("r9", RolloutState::Running, RolloutState::Finished)
        .await
        .unwrap());
    assert!(!s
        .set_rollout_state("r9", RolloutState::Running, RolloutState::Cancelled)
        .await
        .unwrap());
    assert!(s
        .running_rollouts()
        .await
        .unwrap()
        .iter()
        .all(|r| r.id != "r9"));
    let stored = s.rollout("r9").await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.release),
        (RolloutState::Finished, ReleaseMode::Gray(vec![10, 100]))
    );
    s.index_audit(&appid("wxt1"), "r9").await.unwrap();
    assert_eq!(
        s.audit_rollout(&appid("wxt1")).await.unwrap().as_deref(),
        Some("r9")
    );
    assert!(s.audit_rollout(&appid("wxt2")).await.unwrap().is_none());
}
