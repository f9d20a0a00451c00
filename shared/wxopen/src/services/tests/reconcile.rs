use super::*;
use crate::store::{AuthorizerStore, HistoryReader, Lease, ReconcileStore};

fn item(app: &str, refresh: &str) -> AuthorizerListItem {
    AuthorizerListItem {
        authorizer_appid: appid(app),
        refresh_token: wxopen_models::RefreshToken::new(refresh),
        auth_time: 100,
    }
}

fn later(secs: u64) -> Timestamp {
    Timestamp::now().plus(Duration::from_secs(secs))
}

#[tokio::test]
async fn the_reconcile_adds_missing_authorizers_with_their_grant_and_leaves_current_ones_alone() {
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxhealthy", Timestamp::now()).await;
    *w.wechat.listed.lock().unwrap() = vec![
        item("wxhealthy", "rt-wxhealthy"),
        item("wxmissing", "rt-list"),
    ];
    let report = i.refresher.run(Job::Reconcile, later(60)).await.unwrap();
    assert_eq!(
        (
            report.authorizers_listed,
            report.authorizers_added,
            report.refresh_tokens_restored
        ),
        (2, 1, 0)
    );
    let reconciled = report.reconcile.unwrap();
    assert_eq!(reconciled.outcome, ReconcileOutcome::Complete);
    assert!(reconciled.pass.last_completed_at.is_some());
    let added = w.stored("wxmissing").await;
    assert_eq!(added.refresh_token.unwrap().expose(), "rt-list");
    assert_eq!(
        added.record.permission_ids,
        vec![wxopen_models::PermissionId(17)],
        "the grant comes from api_get_authorizer_info"
    );
    let healthy_history = w.store.history(&appid("wxhealthy")).await.unwrap().len();

    // Nothing changed at WeChat: the next pass writes nothing.
    let again = i.refresher.run(Job::Reconcile, later(60)).await.unwrap();
    assert_eq!(
        (again.authorizers_added, again.refresh_tokens_restored),
        (0, 0)
    );
    assert_eq!(
        w.store.history(&appid("wxhealthy")).await.unwrap().len(),
        healthy_history
    );
    assert_eq!(w.wechat.count("api_get_authorizer_info"), 1);
}

#[tokio::test]
async fn a_reconcile_stopped_by_the_deadline_resumes_where_it_stopped_and_completes() {
    let mut w = World::new().await;
    w.reconcile = ReconcileSettings {
        page_size: 2,
        safety_margin: Duration::from_millis(1000),
        ..ReconcileSettings::default()
    };
    let i = w.instance();
    let listed: Vec<_> = (0..5)
        .map(|n| item(&format!("wxpage{n}"), &format!("rt-{n}")))
        .collect();
    *w.wechat.listed.lock().unwrap() = listed;
    *w.wechat.list_delay.lock().unwrap() = Duration::from_millis(600);
    // Room for one page only: the second would start inside the safety margin.
    let deadline = Timestamp::now().plus(Duration::from_millis(1300));
    let first = i
        .refresher
        .run(Job::Reconcile, deadline)
        .await
        .unwrap()
        .reconcile
        .unwrap();
    assert_eq!(first.outcome, ReconcileOutcome::Paused);
    assert_eq!(
        (first.listed, first.pass.offset, first.pass.total_count),
        (2, 2, 5)
    );
    assert!(w
        .store
        .load_authorizer(&appid("wxpage2"))
        .await
        .unwrap()
        .is_none());

    *w.wechat.list_delay.lock().unwrap() = Duration::ZERO;
    let second = i
        .refresher
        .run(Job::Reconcile, later(60))
        .await
        .unwrap()
        .reconcile
        .unwrap();
    assert_eq!(second.outcome, ReconcileOutcome::Complete);
    assert_eq!(second.listed, 3, "it continued at offset 2");
    assert_eq!(
        (second.pass.compared, second.pass.added, second.pass.runs),
        (5, 5, 2)
    );
    for n in 0..5 {
        let stored = w
            .store
            .load_authorizer(&appid(&format!("wxpage{n}")))
            .await
            .unwrap();
        assert!(stored.is_some(), "wxpage{n} is stored");
    }
    assert_eq!(w.wechat.count("api_get_authorizer_list"), 3);
}

#[tokio::test]
async fn a_second_concurrent_reconcile_run_does_nothing() {
    let w = World::new().await;
    let i = w.instance();
    *w.wechat.listed.lock().unwrap() = vec![item("wxone", "rt")];
    let other = Lease {
        owner: "another-run".into(),
        until: later(60),
    };
    assert!(w
        .store
        .take_reconcile(&other, Timestamp::now())
        .await
        .unwrap()
        .is_some());
    let report = i.refresher.run(Job::Reconcile, later(60)).await.unwrap();
    assert_eq!(report.reconcile.unwrap().outcome, ReconcileOutcome::Skipped);
    assert_eq!(w.wechat.count("api_get_authorizer_list"), 0);
}

#[tokio::test]
async fn the_component_token_job_renews_the_token_and_lists_nothing() {
    let w = World::new().await;
    let report = w
        .instance()
        .refresher
        .run(Job::ComponentToken, later(60))
        .await
        .unwrap();
    assert!(report.component_token_refreshed);
    assert!(report.reconcile.is_none());
    assert_eq!(w.wechat.count("api_get_authorizer_list"), 0);
    let again = w
        .instance()
        .refresher
        .run(Job::ComponentToken, later(60))
        .await
        .unwrap();
    assert!(
        !again.component_token_refreshed,
        "the stored token has over 20 minutes left"
    );
    assert_eq!(w.wechat.count("api_component_token"), 1);
}

#[tokio::test]
async fn a_failed_run_keeps_its_position_frees_the_lease_and_the_next_run_continues() {
    let mut w = World::new().await;
    w.reconcile.page_size = 2;
    let i = w.instance();
    let listed: Vec<_> = (0..5).map(|n| item(&format!("wxfail{n}"), "rt")).collect();
    *w.wechat.listed.lock().unwrap() = listed;
    *w.wechat.list_busy_at.lock().unwrap() = Some(2);
    let err = i
        .refresher
        .run(Job::Reconcile, later(60))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::WeChat(WeChatError::Busy { .. })),
        "{err:?}"
    );
    // The lease is free at once and the position is the last finished page.
    let next = i.refresher.run(Job::Reconcile, later(60)).await.unwrap();
    let reconciled = next.reconcile.unwrap();
    assert_eq!(reconciled.outcome, ReconcileOutcome::Complete);
    assert_eq!(reconciled.listed, 3, "it continued at offset 2");
    assert_eq!(reconciled.pass.added, 5);
}
