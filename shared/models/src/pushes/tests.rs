use super::*;
use crate::xml_fields::xml_fields;

fn fields(xml: &str) -> Map<String, Value> {
    xml_fields(xml).unwrap()
}

#[test]
fn a_fast_registration_reads_status_at_the_top_and_its_code_and_info() {
    let xml = "<xml><AppId><![CDATA[wxcomp]]></AppId><CreateTime>1535442403</CreateTime>\
        <InfoType><![CDATA[notify_third_fasteregister]]></InfoType>\
        <appid>wxnewmini</appid><status>0</status><auth_code>code@@@REG</auth_code><msg>OK</msg>\
        <info><name><![CDATA[Shop]]></name><code>91440300</code><code_type>1</code_type>\
        <legal_persona_wechat>lp</legal_persona_wechat><legal_persona_name>Li</legal_persona_name>\
        <component_phone>1234</component_phone></info></xml>";
    let ComponentPush::FastRegister(r) =
        ComponentPush::of("notify_third_fasteregister", &fields(xml)).unwrap()
    else {
        panic!("a fast registration");
    };
    assert_eq!((r.appid.as_deref(), r.status), (Some("wxnewmini"), Some(0)));
    assert_eq!(r.auth_code.unwrap().expose(), "code@@@REG");
    assert_eq!(r.info.name.as_deref(), Some("Shop"));
    assert_eq!(r.info.code_type, Some(1));
    // New-version flows: only a task id, and a failure code.
    let xml =
        "<xml><status>100001</status><msg>timeout</msg><info><taskid>t-9</taskid></info></xml>";
    let ComponentPush::FastRegister(r) =
        ComponentPush::of("notify_third_fasteregister", &fields(xml)).unwrap()
    else {
        panic!("a fast registration");
    };
    assert_eq!(
        (r.status, r.info.taskid.as_deref()),
        (Some(100001), Some("t-9"))
    );
    assert!(r.auth_code.is_none());
}

#[test]
fn every_listed_info_type_is_typed_and_others_are_unknown() {
    let cases = [
        ("notify_third_fastregisterbetaapp", "<xml><appid>wxb</appid><status>0</status><info><unique_id>u1</unique_id><name>B</name></info></xml>"),
        ("notify_third_fastverifybetaapp", "<xml><appid>wxb</appid><status>0</status><info/></xml>"),
        ("notify_icpfiling_verify_result", "<xml><task_id>t</task_id><verify_appid>wxv</verify_appid><result>3</result></xml>"),
        ("notify_apply_icpfiling_result", "<xml><authorizer_appid>wxa</authorizer_appid><beian_status>6</beian_status></xml>"),
        ("notify_3rd_wxa_auth", "<xml><appid>wxa</appid><taskid>t</taskid><task_status>9</task_status><apply_status>4</apply_status><message>ok</message><dispatch_info><provider>p</provider></dispatch_info></xml>"),
        ("notify_3rd_wxa_wxverify", "<xml><appid>wxa</appid><expired>1700000000</expired><message>m</message></xml>"),
        ("notify_3rd_wxa_auth_and_icp", "<xml><procedure_id>p</procedure_id><procedure_status>2</procedure_status></xml>"),
    ];
    for (info_type, xml) in cases {
        let push = ComponentPush::of(info_type, &fields(xml)).unwrap();
        assert_ne!(push, ComponentPush::Unknown, "{info_type}");
    }
    let icp = ComponentPush::of("notify_apply_icpfiling_result", &fields(cases[3].1)).unwrap();
    assert_eq!(
        icp,
        ComponentPush::IcpFilingApply(IcpFilingApply {
            authorizer_appid: Some("wxa".into()),
            beian_status: Some(6),
        })
    );
    let unknown = fields("<xml><anything><deep>1</deep></anything></xml>");
    assert_eq!(
        ComponentPush::of("notify_tomorrow", &unknown).unwrap(),
        ComponentPush::Unknown
    );
    // A listed type whose fields do not read is an error naming it.
    let bad = fields("<xml><status>ok</status></xml>");
    let err = ComponentPush::of("notify_third_fasteregister", &bad).unwrap_err();
    assert!(
        err.to_string().contains("notify_third_fasteregister"),
        "{err}"
    );
}

#[test]
fn what_is_published_keeps_every_field_but_codes_and_tokens() {
    let xml = "<xml><AppId>wxc</AppId><appid>wxn</appid><auth_code>code@@@X</auth_code>\
        <info><name>n</name><authorizer_access_token>t</authorizer_access_token></info></xml>";
    let published = publishable(&fields(xml));
    let text = serde_json::to_string(&published).unwrap();
    assert!(
        !text.contains("code@@@X") && !text.contains("access_token"),
        "{text}"
    );
    assert_eq!(published["appid"], "wxn");
    assert_eq!(published["info"]["name"], "n");
    assert_eq!(published["AppId"], "wxc");
}
