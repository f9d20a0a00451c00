//! `events`: its handler with real API Gateway v2 events and direct payloads.

use super::support::*;

#[tokio::test]
async fn events_accept_a_ticket_sealed_by_wechatpy() {
    let env = TestEnv::new().await;
    let push = seal_with_wechatpy(
        &push_xml(
            "component_verify_ticket",
            &[("ComponentVerifyTicket", "ticket@@@from-wechatpy")],
        ),
        COMPONENT,
    );
    let resp = post_push(&env.services, &push).await;
    assert_eq!(
        (resp.status().as_u16(), body_text(&resp)),
        (200, "success".to_owned())
    );
    let ticket = env.store.load_ticket().await.unwrap().unwrap();
    assert_eq!(ticket.ticket.expose(), "ticket@@@from-wechatpy");
    // The same push again (WeChat retries) is still `success` and changes nothing.
    assert_eq!(body_text(&post_push(&env.services, &push).await), "success");
}
