//! Decrypted pushes: the four documented kinds, the ones ignored, and malformed ones.

use wxopen_models::events::{ComponentEvent, EncryptedEnvelope, EventError};

#[test]
fn verify_ticket_push_parses() {
    let xml = "<xml><AppId><![CDATA[wx_component]]></AppId><CreateTime>1413192605</CreateTime>\
        <InfoType><![CDATA[component_verify_ticket]]></InfoType>\
        <ComponentVerifyTicket><![CDATA[ticket@@@abc]]></ComponentVerifyTicket></xml>";
    let ComponentEvent::VerifyTicket(e) = ComponentEvent::parse_xml(xml).unwrap() else {
        panic!("expected a ticket");
    };
    assert_eq!(e.component_appid.as_str(), "wx_component");
    assert_eq!(e.create_time, 1413192605);
    assert_eq!(e.ticket.expose(), "ticket@@@abc");
}

#[test]
fn authorized_and_updateauthorized_carry_the_code() {
    for kind in ["authorized", "updateauthorized"] {
        let xml = format!(
            "<xml><AppId><![CDATA[wxc]]></AppId><CreateTime>1413192760</CreateTime>\
             <InfoType><![CDATA[{kind}]]></InfoType><AuthorizerAppid><![CDATA[wxa]]></AuthorizerAppid>\
             <AuthorizationCode><![CDATA[code1]]></AuthorizationCode>\
             <AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime>\
             <PreAuthCode><![CDATA[pre1]]></PreAuthCode></xml>"
        );
        let event = ComponentEvent::parse_xml(&xml).unwrap();
        assert_eq!(event.info_type(), kind);
        let (ComponentEvent::Authorized(e) | ComponentEvent::UpdateAuthorized(e)) = &event else {
            panic!("expected an authorization event");
        };
        assert_eq!(e.authorizer_appid.as_str(), "wxa");
        assert_eq!(e.authorization_code.expose(), "code1");
        assert_eq!(e.authorization_code_expired_time, Some(1413196360));
        assert_eq!(ComponentEvent::parse_xml(&event.to_xml()).unwrap(), event);
    }
}

#[test]
fn unauthorized_parses_and_round_trips() {
    let xml = "<xml><AppId>wxc</AppId><CreateTime>1</CreateTime><InfoType>unauthorized</InfoType>\
               <AuthorizerAppid>wxa</AuthorizerAppid></xml>";
    let event = ComponentEvent::parse_xml(xml).unwrap();
    assert!(
        matches!(&event, ComponentEvent::Unauthorized(e) if e.authorizer_appid.as_str() == "wxa")
    );
    assert_eq!(ComponentEvent::parse_xml(&event.to_xml()).unwrap(), event);
}

#[test]
fn unknown_info_type_is_other_not_an_error() {
    let xml = "<xml><AppId>wxc</AppId><CreateTime>1</CreateTime>\
               <InfoType>notify_third_fasteregister</InfoType><status>0</status></xml>";
    let event = ComponentEvent::parse_xml(xml).unwrap();
    assert!(
        matches!(event, ComponentEvent::Other { ref info_type, .. } if info_type == "notify_third_fasteregister")
    );
}

#[test]
fn missing_fields_are_named() {
    let xml = "<xml><AppId>wxc</AppId><CreateTime>1</CreateTime><InfoType>authorized</InfoType>\
               <AuthorizerAppid>wxa</AuthorizerAppid></xml>";
    assert_eq!(
        ComponentEvent::parse_xml(xml).unwrap_err(),
        EventError::MissingField {
            info_type: "authorized".into(),
            field: "AuthorizationCode"
        }
    );
    let xml = "<xml><AppId>wxc</AppId><InfoType>component_verify_ticket</InfoType></xml>";
    assert!(matches!(
        ComponentEvent::parse_xml(xml).unwrap_err(),
        EventError::MissingField {
            field: "CreateTime",
            ..
        }
    ));
}

#[test]
fn malformed_xml_is_an_error_not_a_panic() {
    for bad in [
        "",
        "not xml",
        "<xml><AppId>wxc</AppId>",
        "<xml><a></b></xml>",
    ] {
        assert!(ComponentEvent::parse_xml(bad).is_err(), "{bad:?}");
        assert!(EncryptedEnvelope::parse_xml(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn envelope_round_trips_and_requires_encrypt() {
    let env = EncryptedEnvelope {
        app_id: Some("wxc".into()),
        to_user_name: None,
        encrypt: "abc+/=".into(),
    };
    assert_eq!(EncryptedEnvelope::parse_xml(&env.to_xml()).unwrap(), env);
    assert!(matches!(
        EncryptedEnvelope::parse_xml("<xml><AppId>wxc</AppId></xml>").unwrap_err(),
        EventError::MissingField {
            field: "Encrypt",
            ..
        }
    ));
}

#[test]
fn cdata_terminator_inside_a_value_survives() {
    let xml = "<xml><AppId>wxc</AppId><CreateTime>5</CreateTime>\
               <InfoType>component_verify_ticket</InfoType>\
               <ComponentVerifyTicket>a]]&gt;b</ComponentVerifyTicket></xml>";
    let event = ComponentEvent::parse_xml(xml).unwrap();
    assert_eq!(ComponentEvent::parse_xml(&event.to_xml()).unwrap(), event);
}
