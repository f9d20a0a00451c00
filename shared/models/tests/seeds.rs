//! The seed documents' own examples, parsed, checked field by field and round-tripped.

use wxopen_models::api::{GetAuthorizerInfoResponse, QueryAuthResponse};
use wxopen_models::authorizer_info::{
    AccountKind, AuthorizerInfo, MiniProgramType, ServiceType, VerifyType,
};
use wxopen_models::envelope::parse_response;
use wxopen_models::PermissionId;

const QUERY_AUTH: &str = include_str!("fixtures/query_auth.json");
const INFO_OA: &str = include_str!("fixtures/authorizer_info_official_account.json");
const INFO_MP: &str = include_str!("fixtures/authorizer_info_mini_program.json");

fn round_trip<T>(value: &T) -> T
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

#[test]
fn query_auth_example_parses_with_its_granted_permissions() {
    let r: QueryAuthResponse = parse_response(QUERY_AUTH.as_bytes()).unwrap();
    let info = &r.authorization_info;
    assert_eq!(info.authorizer_appid.as_str(), "wxf8b4f85f3a794e77");
    assert_eq!(info.expires_in, Some(7200));
    assert_eq!(
        info.refresh_token().unwrap().expose(),
        "dTo-YCXPL4llX-u1W1pPpnp8Hgm4wpJtlR6iV0doKdY"
    );
    assert!(info
        .access_token()
        .unwrap()
        .expose()
        .starts_with("QXjUqNqf"));
    assert_eq!(
        info.permission_ids(),
        vec![PermissionId(1), PermissionId(2), PermissionId(3)]
    );
    assert_eq!(round_trip(&r), r);
}

#[test]
fn query_auth_debug_output_never_shows_tokens() {
    let r: QueryAuthResponse = parse_response(QUERY_AUTH.as_bytes()).unwrap();
    let debug = format!("{r:?}");
    assert!(!debug.contains("QXjUqNqf"), "{debug}");
    assert!(!debug.contains("dTo-YCXPL"), "{debug}");
    assert!(debug.contains("wxf8b4f85f3a794e77"));
}

#[test]
fn empty_refresh_token_counts_as_absent() {
    let body = r#"{"authorization_info":{"authorizer_appid":"wx1","authorizer_refresh_token":"","func_info":[]}}"#;
    let r: QueryAuthResponse = parse_response(body.as_bytes()).unwrap();
    assert!(r.authorization_info.refresh_token().is_none());
    assert!(r.authorization_info.access_token().is_none());
}

#[test]
fn confirm_info_is_kept_when_present() {
    let body = r#"{"authorization_info":{"authorizer_appid":"wx1","func_info":[
        {"funcscope_category":{"id":33},"confirm_info":{"need_confirm":1,"already_confirm":0,"can_confirm":1}}]}}"#;
    let r: QueryAuthResponse = parse_response(body.as_bytes()).unwrap();
    let confirm = r.authorization_info.func_info[0]
        .confirm_info
        .as_ref()
        .unwrap();
    assert_eq!((confirm.need_confirm, confirm.can_confirm), (1, 1));
    assert_eq!(round_trip(&r), r);
}

#[test]
fn official_account_example_parses_as_official_account() {
    let r: GetAuthorizerInfoResponse = parse_response(INFO_OA.as_bytes()).unwrap();
    let AuthorizerInfo::OfficialAccount(oa) = &r.authorizer_info else {
        panic!(
            "expected an Official Account, got {:?}",
            r.authorizer_info.kind()
        );
    };
    assert_eq!(oa.service_type_info.id, ServiceType::Service);
    assert_eq!(oa.profile.verify_type_info.id, VerifyType::Weixin);
    assert_eq!(oa.alias, "paytest01");
    assert_eq!(oa.profile.nick_name, "WeixinSDK Demo Special");
    assert_eq!(oa.profile.user_name, "gh_eb5e3a772040");
    assert_eq!(
        oa.profile.principal_name,
        "Tencent Computer Systems Co., Ltd."
    );
    assert_eq!(oa.profile.qrcode_url, "URL");
    assert!(!oa.profile.business_info.open_pay.0);
    assert_eq!(
        r.authorization_info.appid().unwrap().as_str(),
        "wxf8b4f85f3a794e77"
    );
    assert_eq!(
        r.authorization_info.permission_ids(),
        vec![PermissionId(1), PermissionId(2)]
    );
    assert_eq!(round_trip(&r), r);
}

#[test]
fn mini_program_example_parses_as_mini_program() {
    let r: GetAuthorizerInfoResponse = parse_response(INFO_MP.as_bytes()).unwrap();
    assert_eq!(r.authorizer_info.kind(), AccountKind::MiniProgram);
    let AuthorizerInfo::MiniProgram(mp) = &r.authorizer_info else {
        unreachable!()
    };
    assert_eq!(mp.service_type_info.id, MiniProgramType::Default);
    assert_eq!(mp.signature, "Time is passing by.");
    let net = &mp.miniprograminfo.network;
    assert_eq!(net.request_domain, vec!["https://www.qq.com"]);
    assert_eq!(net.ws_request_domain, vec!["wss://www.qq.com"]);
    assert_eq!(net.upload_domain, vec!["https://www.qq.com"]);
    assert_eq!(net.download_domain, vec!["https://www.qq.com"]);
    assert_eq!(mp.miniprograminfo.categories[0].first, "News");
    assert_eq!(mp.miniprograminfo.categories[0].second, "Entertainment");
    assert_eq!(
        r.authorization_info.permission_ids(),
        vec![PermissionId(17)]
    );
    assert_eq!(round_trip(&r), r);
}

#[test]
fn authorizer_appid_is_accepted_in_place_of_authorization_appid() {
    let body = INFO_OA.replace("authorization_appid", "authorizer_appid");
    let r: GetAuthorizerInfoResponse = parse_response(body.as_bytes()).unwrap();
    assert_eq!(
        r.authorization_info.appid().unwrap().as_str(),
        "wxf8b4f85f3a794e77"
    );
}

#[test]
fn unknown_fields_and_new_codes_do_not_break_parsing() {
    let mut v: serde_json::Value = serde_json::from_str(INFO_MP).unwrap();
    v["brand_new_top_level"] = serde_json::json!({"x": [1, 2]});
    v["authorizer_info"]["service_type_info"]["id"] = 12.into();
    v["authorizer_info"]["verify_type_info"]["id"] = 7.into();
    v["authorizer_info"]["basic_config"] = serde_json::json!({"is_phone_configured": true});
    v["authorizer_info"]["miniprograminfo"]["network"]["BizDomain"] = serde_json::json!([]);
    v["authorization_info"]["func_info"][0]["funcscope_category"]["type"] = 1.into();
    let r: GetAuthorizerInfoResponse = parse_response(v.to_string().as_bytes()).unwrap();
    let AuthorizerInfo::MiniProgram(mp) = &r.authorizer_info else {
        panic!("expected a Mini Program");
    };
    assert_eq!(mp.service_type_info.id, MiniProgramType::Other(12));
    assert_eq!(mp.profile.verify_type_info.id, VerifyType::Other(7));
    assert_eq!(round_trip(&r), r);
}

#[test]
fn every_documented_type_code_maps_to_its_variant() {
    for (code, expected) in [
        (0, ServiceType::Subscription),
        (1, ServiceType::UpgradedSubscription),
        (2, ServiceType::Service),
    ] {
        assert_eq!(ServiceType::from(code), expected);
        assert_eq!(i64::from(expected), code);
    }
    for (code, expected) in [
        (-1, VerifyType::Unverified),
        (0, VerifyType::Weixin),
        (1, VerifyType::SinaWeibo),
        (2, VerifyType::TencentWeibo),
        (3, VerifyType::QualificationOnly),
        (4, VerifyType::QualificationAndSinaWeibo),
        (5, VerifyType::QualificationAndTencentWeibo),
    ] {
        assert_eq!(VerifyType::from(code), expected);
        assert_eq!(i64::from(expected), code);
    }
}

#[test]
fn a_mistyped_field_gets_an_error_naming_it() {
    let mut v: serde_json::Value = serde_json::from_str(INFO_OA).unwrap();
    v["authorizer_info"]["service_type_info"] = serde_json::json!({"id": "two"});
    let err = parse_response::<GetAuthorizerInfoResponse>(v.to_string().as_bytes()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("Official Account"), "{text}");
}
