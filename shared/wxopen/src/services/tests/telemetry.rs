//! What the services record, read back through a recorder local to the test's thread (the
//! tests run on a current-thread runtime, so every task of a test records into its own).

use super::*;
use crate::telemetry::{LEASE_WAIT, NEEDS_REAUTH, TICKET_AGE, TICKET_MISSING, TOKEN_REFRESHES};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};

/// Every counter's total and every histogram's values, by name and sorted labels.
#[derive(Default)]
struct Recorded {
    counters: Mutex<HashMap<String, Arc<AtomicU64>>>,
    histograms: Mutex<HashMap<String, Arc<Values>>>,
}

#[derive(Default)]
struct Values(Mutex<Vec<f64>>);

impl metrics::HistogramFn for Values {
    fn record(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

fn name(key: &Key) -> String {
    let mut labels: Vec<String> = key
        .labels()
        .map(|l| format!("{}={}", l.key(), l.value()))
        .collect();
    labels.sort();
    if labels.is_empty() {
        key.name().to_owned()
    } else {
        format!("{}{{{}}}", key.name(), labels.join(","))
    }
}

impl Recorder for Recorded {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        let counter = self
            .counters
            .lock()
            .unwrap()
            .entry(name(key))
            .or_default()
            .clone();
        Counter::from_arc(counter)
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        let values = self
            .histograms
            .lock()
            .unwrap()
            .entry(name(key))
            .or_default()
            .clone();
        Histogram::from_arc(values)
    }
}

impl Recorded {
    fn count(&self, name: &str) -> u64 {
        self.counters
            .lock()
            .unwrap()
            .get(name)
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    fn values(&self, name: &str) -> Vec<f64> {
        self.histograms
            .lock()
            .unwrap()
            .get(name)
            .map(|v| v.0.lock().unwrap().clone())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn renewals_reauthorizations_and_the_tickets_age_are_recorded() {
    let recorded = Recorded::default();
    let _local = metrics::set_default_local_recorder(&recorded);
    let w = World::new().await;
    w.authorized_with_expired_token("wxmetrics").await;
    let i = w.instance();
    let refreshed = i
        .authorizers
        .token(&appid("wxmetrics"), None)
        .await
        .unwrap();
    assert_eq!(
        recorded.count(&format!(
            "{TOKEN_REFRESHES}{{Kind=component,Outcome=refreshed}}"
        )),
        1
    );
    assert_eq!(
        recorded.count(&format!(
            "{TOKEN_REFRESHES}{{Kind=authorizer,Outcome=refreshed}}"
        )),
        1
    );
    let ages = recorded.values(TICKET_AGE);
    assert!(
        ages.len() == 1 && ages[0] < 60.0,
        "the ticket just stored: {ages:?}"
    );
    assert_eq!(recorded.count(TICKET_MISSING), 0);

    // WeChat refuses the refresh token: one transition, however often it is asked again.
    w.expire("wxmetrics", &refreshed.authorizer_access_token)
        .await;
    w.wechat.refresh_refused.store(true, Ordering::SeqCst);
    let fresh = w.instance();
    fresh
        .authorizers
        .token(&appid("wxmetrics"), None)
        .await
        .unwrap_err();
    fresh
        .authorizers
        .token(&appid("wxmetrics"), None)
        .await
        .unwrap_err();
    assert_eq!(recorded.count(NEEDS_REAUTH), 1);
    assert_eq!(
        recorded.count(&format!(
            "{TOKEN_REFRESHES}{{Kind=authorizer,Outcome=failed}}"
        )),
        1
    );
}

#[tokio::test]
async fn a_request_that_waits_for_another_instances_refresh_records_the_wait() {
    let recorded = Recorded::default();
    let _local = metrics::set_default_local_recorder(&recorded);
    let w = World::new().await;
    w.authorized_with_expired_token("wxwaits").await;
    // WeChat takes 20 ms to renew: the second container finds the first one's lease.
    let (a, b) = (Arc::new(w.instance()), Arc::new(w.instance()));
    let first = tokio::spawn(async move { a.authorizers.token(&appid("wxwaits"), None).await });
    let second = tokio::spawn(async move { b.authorizers.token(&appid("wxwaits"), None).await });
    let (first, second) = (
        first.await.unwrap().unwrap(),
        second.await.unwrap().unwrap(),
    );
    assert_eq!(
        first.authorizer_access_token,
        second.authorizer_access_token
    );
    assert_eq!(w.wechat.count("api_authorizer_token"), 1);
    let waits = recorded.values(&format!("{LEASE_WAIT}{{Kind=authorizer}}"));
    assert_eq!(waits.len(), 1, "one container waited: {waits:?}");
    assert!(waits[0] >= 5.0, "at least one poll: {waits:?}");
}

#[tokio::test]
async fn no_ticket_counts_as_missing_with_the_wait_as_its_age() {
    let recorded = Recorded::default();
    let _local = metrics::set_default_local_recorder(&recorded);
    let w = World::without_ticket();
    let tokens = w.instance().tokens.clone();
    tokens.component_token().await.unwrap_err();
    tokens.check_ticket().await.unwrap();
    assert_eq!(recorded.count(TICKET_MISSING), 2);
    let ages = recorded.values(TICKET_AGE);
    assert!(
        ages.len() == 2 && ages.iter().all(|a| *a < 60.0),
        "{ages:?}"
    );
    assert_eq!(
        w.wechat.count("api_start_push_ticket"),
        1,
        "asked once per interval"
    );
}

#[tokio::test]
async fn a_reconcile_run_records_its_outcome_and_counts() {
    use crate::telemetry::{RECONCILE_ADDED, RECONCILE_LISTED, RECONCILE_RESTORED, RECONCILE_RUNS};
    let recorded = Recorded::default();
    let _local = metrics::set_default_local_recorder(&recorded);
    let w = World::new().await;
    let i = w.instance();
    i.authorized("wxkept", Timestamp::now()).await;
    *w.wechat.listed.lock().unwrap() = ["wxkept", "wxnew"]
        .map(|app| AuthorizerListItem {
            authorizer_appid: appid(app),
            refresh_token: wxopen_models::RefreshToken::new(format!("rt-{app}")),
            auth_time: 100,
        })
        .to_vec();
    let deadline = Timestamp::now().plus(Duration::from_secs(60));
    i.refresher.run(Job::Reconcile, deadline).await.unwrap();
    assert_eq!(
        recorded.count(&format!("{RECONCILE_RUNS}{{Outcome=complete}}")),
        1
    );
    assert_eq!(
        (
            recorded.count(RECONCILE_LISTED),
            recorded.count(RECONCILE_ADDED),
            recorded.count(RECONCILE_RESTORED)
        ),
        (2, 1, 0)
    );
}
