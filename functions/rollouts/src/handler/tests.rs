//! The handler through the production wiring, on the memory store, an in-process WeChat and
//! the queue in memory: what is refused before anything is stored, sent or queued.

use super::handle;
use serde_json::{json, Value};
use std::sync::Arc;
use wxopen::queue::MemoryQueue;
use wxopen::services::{RolloutSettings, Rollouts};
use wxopen_lambda::testing::*;

fn rollouts(p: &Platform, queue: &MemoryQueue) -> Arc<Rollouts> {
    p.core
        .rollouts(Arc::new(queue.clone()), RolloutSettings::default())
}

async fn mini_program(p: &Platform, appid: &str) {
    save(
        p.core.store.as_ref(),
        &stale_authorization(appid, &format!("rt-{appid}"), &[17, 18]),
    )
    .await;
}

/// WeChat's template library holds `template_id`.
fn library_has(p: &Platform, template_id: u64) {
    let list = json!({"errcode": 0, "template_list": [{"template_id": template_id, "user_version": "1.0.0"}]});
    p.wechat
        .script("call_raw", [wxopen::testing::Reply::Json(list)]);
}

fn create(targets: Value) -> Value {
    json!({"op": "create", "template_id": 12, "user_version": "1.0.0", "user_desc": "spring",
           "ext_json": {"extAppid": "{{authorizer_appid}}"}, "targets": targets,
           "audit": {"version_desc": "spring"}, "release": "auto", "max_in_audit": 3})
}

#[tokio::test]
async fn a_rollout_is_stored_and_each_target_queued_once() {
    let p = Platform::new().with_ticket().await;
    let queue = MemoryQueue::default();
    for appid in ["wxmini1", "wxmini2"] {
        mini_program(&p, appid).await;
    }
    // An Official Account (no code management) is not part of "all".
    p.authorized("wxofficial").await;
    let r = rollouts(&p, &queue);
    library_has(&p, 12);
    let created = handle(&r, create(json!("all"))).await.unwrap();
    assert_eq!(created["targets"], 2);
    let id = created["rollout_id"].as_str().unwrap().to_owned();
    let queued: Vec<String> = queue
        .take()
        .into_iter()
        .map(|(w, _)| w.authorizer_appid.to_string())
        .collect();
    assert_eq!(queued, ["wxmini1", "wxmini2"]);
    let status = handle(&r, json!({"op": "status", "rollout_id": id}))
        .await
        .unwrap();
    assert_eq!(status["state"], "running");
    assert_eq!(status["counts"], json!({"pending": 2}));
    assert_eq!(status["targets"].as_array().unwrap().len(), 2);
    let sent = p.wechat.raw_sent.lock().unwrap().clone();
    let paths: Vec<&str> = sent.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/wxa/gettemplatelist"],
        "only the library read before the work runs"
    );
    assert_eq!(sent[0].token_param, "access_token");
}

#[tokio::test]
async fn hostile_rollouts_are_refused_by_name_with_nothing_stored_queued_or_sent() {
    let p = Platform::new().with_ticket().await;
    let queue = MemoryQueue::default();
    mini_program(&p, "wxmini1").await;
    p.authorized("wxofficial").await;
    let r = rollouts(&p, &queue);
    let mut no_template = create(json!(["wxmini1"]));
    no_template.as_object_mut().unwrap().remove("template_id");
    let mut bad_template = create(json!(["wxmini1"]));
    bad_template["template_id"] = json!("latest");
    let mut bad_gray = create(json!(["wxmini1"]));
    bad_gray["release"] = json!({"gray": [50, 10]});
    let cases = [
        (no_template, "invalid_rollout"),
        (bad_template, "invalid_template_id"),
        (bad_gray, "invalid_release"),
        (create(json!(["wxnobody"])), "unknown_authorizer"),
        (create(json!(["wxofficial"])), "not_code_managed"),
        (create(json!(["not an appid"])), "invalid_target"),
        (create(json!([])), "invalid_targets"),
        (create(json!("everyone")), "invalid_targets"),
        (
            json!({"op": "status", "rollout_id": "ro-nobody"}),
            "unknown_rollout",
        ),
        (json!({"op": "release"}), "missing_rollout_id"),
        (
            json!({"op": "cancel", "rollout_id": "ro-nobody"}),
            "unknown_rollout",
        ),
        (json!({"op": "launch"}), "invalid_op"),
        (json!({"hello": 1}), "invalid_invocation"),
    ];
    for (payload, code) in cases {
        let err = handle(&r, payload.clone()).await.unwrap_err();
        assert_eq!(err.code, code, "{payload}");
    }
    assert!(queue.take().is_empty());
    assert_eq!(p.wechat.total(), 0);
    // A template the library does not hold: refused after one read of the library.
    library_has(&p, 99);
    let err = handle(&r, create(json!(["wxmini1"]))).await.unwrap_err();
    assert_eq!(err.code, "unknown_template");
    assert!(queue.take().is_empty());
    let sweep = handle(&r, json!({"job": "sweep"})).await.unwrap();
    assert_eq!(sweep["rollouts"], 0, "no rollout was stored");
}

#[tokio::test]
async fn a_message_that_is_not_rollout_work_is_named_for_the_dead_letter_queue() {
    let p = Platform::new().with_ticket().await;
    let r = rollouts(&p, &MemoryQueue::default());
    let batch = json!({"Records": [{"messageId": "m-1", "body": "{\"nope\": 1}", "eventSource": "aws:sqs"}]});
    let answer = handle(&r, batch).await.unwrap();
    assert_eq!(
        answer["batchItemFailures"],
        json!([{"itemIdentifier": "m-1"}])
    );
    let unrelated = json!({"source": "wxopen", "detail-type": "Authorizer Message",
                           "detail": {"authorizer_appid": "wxmini1", "event": "subscribe"}});
    assert_eq!(handle(&r, unrelated).await.unwrap()["ignored"], "subscribe");
}
