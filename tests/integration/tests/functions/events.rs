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

/// Every other InfoType of the protocol notes, with its fields, and one WeChat has not
/// documented yet.
const OTHER_PUSHES: [(&str, &str); 9] = [
    ("notify_third_fasteregister", "<appid>wxnewmini</appid><status>0</status><auth_code>code@@@FAST</auth_code><msg>OK</msg><info><name><![CDATA[Shop]]></name><code>914403</code><code_type>1</code_type><legal_persona_wechat>lp</legal_persona_wechat><legal_persona_name>Li</legal_persona_name><component_phone>1234</component_phone></info>"),
    ("notify_third_fastregisterbetaapp", "<appid>wxbeta</appid><status>0</status><msg>OK</msg><info><unique_id>u-1</unique_id><name>Beta</name></info>"),
    ("notify_third_fastverifybetaapp", "<appid>wxbeta</appid><status>0</status><msg>OK</msg><info><name>Beta</name><code_type>1</code_type><code>914403</code><legal_persona_name>Li</legal_persona_name><legal_persona_wechat>lp</legal_persona_wechat><component_phone>1234</component_phone></info>"),
    ("notify_icpfiling_verify_result", "<task_id>task-1</task_id><verify_appid>wxicp</verify_appid><result>3</result><along_with_auth_result>1</along_with_auth_result>"),
    ("notify_apply_icpfiling_result", "<authorizer_appid>wxicp</authorizer_appid><beian_status>6</beian_status>"),
    ("notify_3rd_wxa_auth", "<appid>wxauth</appid><taskid>t-7</taskid><task_status>9</task_status><apply_status>4</apply_status><message>passed</message><dispatch_info><provider>p</provider><contact>c</contact><dispatch_time>1700000000</dispatch_time></dispatch_info>"),
    ("notify_3rd_wxa_wxverify", "<appid>wxauth</appid><expired>1700000000</expired><message>expires</message>"),
    ("notify_3rd_wxa_auth_and_icp", "<procedure_id>proc-1</procedure_id><procedure_status>2</procedure_status>"),
    ("notify_added_by_wechat_tomorrow", "<anything>kept</anything><nested><deeper>1</deeper></nested>"),
];

#[tokio::test]
async fn every_other_push_sealed_by_wechatpy_reaches_the_bus_once_whole_and_a_redelivery_keeps_its_id(
) {
    let bus = integration_tests::bus::Bus::create().await;
    let env = TestEnv::with(&[("EVENT_BUS_NAME", bus.name.as_str())]).await;
    env.seed_ticket().await;
    let mut sealed = Vec::new();
    for (info_type, fields) in OTHER_PUSHES {
        let xml = push_xml(info_type, &[]).replace("</xml>", &format!("{fields}</xml>"));
        let push = seal_with_wechatpy(&xml, COMPONENT);
        let resp = post_push(&env.services, &push).await;
        assert_eq!(body_text(&resp), "success", "{info_type}");
        sealed.push(push);
    }
    let received = bus
        .received(OTHER_PUSHES.len(), Duration::from_secs(10))
        .await;
    assert_eq!(
        received.len(),
        OTHER_PUSHES.len(),
        "exactly one event a push"
    );
    let of_type = |events: &[serde_json::Value], info_type: &str| -> serde_json::Value {
        let mut found = events
            .iter()
            .filter(|e| e["detail"]["info_type"] == info_type);
        let event = found
            .next()
            .unwrap_or_else(|| panic!("no event for {info_type}"))
            .clone();
        assert!(found.next().is_none(), "two events for {info_type}");
        event
    };
    for (info_type, fields) in OTHER_PUSHES {
        let event = of_type(&received, info_type);
        assert_eq!(event["detail-type"], "Component Push", "{info_type}");
        assert_eq!(event["source"], "wxopen");
        let detail = &event["detail"];
        assert_eq!(detail["info_type"], info_type);
        assert_eq!(detail["component_appid"], COMPONENT);
        assert!(detail["create_time"].as_i64().unwrap() > 0);
        // Every field WeChat sent is there, nested elements as objects; the code is not.
        let sent = wxopen_models::xml_fields::xml_fields(&format!("<xml>{fields}</xml>")).unwrap();
        for (name, value) in &sent {
            if name == "auth_code" {
                assert!(
                    detail["push"].get(name).is_none(),
                    "no event carries a code"
                );
            } else {
                assert_eq!(&detail["push"][name], value, "{info_type}: {name}");
            }
        }
        assert_eq!(detail["push"]["InfoType"], info_type);
    }
    assert!(!serde_json::to_string(&received)
        .unwrap()
        .contains("code@@@FAST"));
    // WeChat delivers the first and the last again: the same ids.
    for i in [0, OTHER_PUSHES.len() - 1] {
        assert_eq!(
            body_text(&post_push(&env.services, &sealed[i]).await),
            "success"
        );
    }
    let again = bus.received(2, Duration::from_secs(10)).await;
    assert_eq!(again.len(), 2);
    for i in [0, OTHER_PUSHES.len() - 1] {
        let info_type = OTHER_PUSHES[i].0;
        let first = of_type(&received, info_type);
        assert_eq!(
            of_type(&again, info_type)["detail"]["id"],
            first["detail"]["id"]
        );
    }
    let ids: std::collections::BTreeSet<&str> = received
        .iter()
        .map(|e| e["detail"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), OTHER_PUSHES.len(), "each push its own id");
    // Only the registration's code is sent to WeChat, once, though its push came twice.
    assert_eq!(env.stub.calls("api_query_auth"), 1);
    let sent: Vec<String> = env
        .stub
        .requests()
        .into_iter()
        .map(|r| r.endpoint)
        .collect();
    assert!(
        sent.iter()
            .all(|e| e == "api_query_auth" || e == "api_component_token"),
        "{sent:?}"
    );
}
