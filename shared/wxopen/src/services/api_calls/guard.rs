//! What the two proxies never forward: the component endpoints that hand out or spend the
//! platform's credentials and authorization codes (refused by name, before anything is sent,
//! naming the typed operation to use instead), component endpoints at all from `authorizer-api`,
//! and, as a second line, any token or authorization code in a forwarded answer.

use crate::services::ServiceError;
use serde_json::Value;
use wxopen_models::calls::ApiAnswer;

/// Which proxy is forwarding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Proxy {
    /// `authorizer-api`: APIs called as an authorized account.
    Authorizer,
    /// `component-api`: APIs called as the platform.
    Component,
}

/// Endpoints (a path's last segment, or its first segment under `clear_quota`) and what to use
/// instead. Each returns a platform credential or an authorization code, or spends one of the
/// platform's scarce calls (pre-auth codes, ticket pushes, the ten quota resets a month).
const CREDENTIAL_ENDPOINTS: [(&str, &str); 8] = [
    ("api_component_token", "the service keeps the component token itself; call the API you need through component-api and the token is injected"),
    ("api_authorizer_token", "invoke authorizer-token for an authorizer's access token"),
    ("api_query_auth", "invoke exchange with the authorization code: it stores the authorization and returns the record"),
    ("api_get_authorizer_list", "list the stored authorizers with authorizer-info (GET /authorizers)"),
    ("api_create_preauthcode", "invoke authorize with {\"ext\": ...} to mint a link; a pre-auth code is created when it is opened"),
    ("api_start_push_ticket", "the refresher starts ticket pushes itself when none arrive"),
    ("api_get_authorizer_info", "invoke authorizer-info: it merges the live profile with the stored record, without the refresh token"),
    ("clear_quota", "use component-api's typed operation {\"op\": \"clear_quota\"}, which is budgeted and audited"),
];

/// Refuses a path this proxy must not forward, with a 403 naming what to use instead.
pub(super) fn refuse_credential_endpoint(path: &str, proxy: Proxy) -> Result<(), ServiceError> {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let hit = CREDENTIAL_ENDPOINTS.iter().find(|(name, _)| {
        segments.last() == Some(name)
            || (*name == "clear_quota" && segments.iter().any(|s| s.starts_with("clear_quota")))
    });
    if let Some((name, instead)) = hit {
        return Err(ServiceError::Forbidden {
            code: "credential_endpoint",
            message: format!("{name} is not forwarded: it hands out or spends the platform's credentials; {instead}"),
        });
    }
    // A registration sent past the typed operation would be bound to no customer.
    if segments
        .last()
        .is_some_and(|s| s.starts_with("fastregister"))
    {
        return Err(ServiceError::Forbidden {
            code: "registration_endpoint",
            message: "fast registrations are not forwarded: use component-api's {\"op\": \"register_mini_program\", \"kind\", \"ext\", ...}, which stores the registration first so the new Mini Program is bound to ext".into(),
        });
    }
    if proxy == Proxy::Authorizer && segments.starts_with(&["cgi-bin", "component"]) {
        return Err(ServiceError::Forbidden {
            code: "component_endpoint",
            message: "authorizer-api calls APIs as an authorized account; /cgi-bin/component/... takes the platform's token: use component-api".into(),
        });
    }
    Ok(())
}

/// A field a forwarded answer must not carry.
fn is_credential_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with("_token") || name == "authorization_code"
}

/// Removes every credential field from a JSON answer, at any depth; returns how many went.
pub(super) fn scrub(answer: &mut ApiAnswer) -> usize {
    fn walk(value: &mut Value) -> usize {
        match value {
            Value::Object(fields) => {
                let before = fields.len();
                fields.retain(|name, _| !is_credential_field(name));
                let removed = before - fields.len();
                removed + fields.values_mut().map(walk).sum::<usize>()
            }
            Value::Array(items) => items.iter_mut().map(walk).sum(),
            _ => 0,
        }
    }
    match answer {
        ApiAnswer::Json { body, .. } => walk(body),
        ApiAnswer::Binary { .. } => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_endpoints_are_refused_through_both_proxies() {
        for path in [
            "/cgi-bin/component/api_component_token",
            "/cgi-bin/component/api_authorizer_token",
            "/cgi-bin/component/api_query_auth",
            "/cgi-bin/component/api_get_authorizer_list",
            "/cgi-bin/component/api_create_preauthcode",
            "/cgi-bin/component/api_start_push_ticket",
            "/cgi-bin/component/api_get_authorizer_info",
            "/cgi-bin/clear_quota",
            "/cgi-bin/clear_quota/v2",
            "/cgi-bin/component/clear_quota",
        ] {
            for proxy in [Proxy::Authorizer, Proxy::Component] {
                match refuse_credential_endpoint(path, proxy) {
                    Err(ServiceError::Forbidden { code, .. }) => {
                        assert_eq!(code, "credential_endpoint", "{path}")
                    }
                    other => panic!("{path} through {proxy:?}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn authorizer_api_refuses_component_endpoints_and_forwards_the_rest() {
        let refused =
            refuse_credential_endpoint("/cgi-bin/component/setprivacysetting", Proxy::Authorizer);
        assert!(matches!(
            refused,
            Err(ServiceError::Forbidden {
                code: "component_endpoint",
                ..
            })
        ));
        assert!(refuse_credential_endpoint(
            "/cgi-bin/component/setprivacysetting",
            Proxy::Component
        )
        .is_ok());
        assert!(
            refuse_credential_endpoint("/cgi-bin/message/custom/send", Proxy::Authorizer).is_ok()
        );
        assert!(
            refuse_credential_endpoint("/sns/component/jscode2session", Proxy::Component).is_ok()
        );
    }

    #[test]
    fn tokens_and_codes_are_removed_from_answers_at_any_depth() {
        let mut answer = ApiAnswer::Json {
            status: 200,
            body: json!({
                "errcode": 0,
                "authorizer_access_token": "a",
                "list": [{"authorizer_appid": "wx1", "refresh_token": "r"}],
                "info": {"authorization_code": "c", "Access_Token": "t", "ticket": "kept"}
            }),
        };
        assert_eq!(scrub(&mut answer), 4);
        let ApiAnswer::Json { body, .. } = answer else {
            unreachable!()
        };
        assert_eq!(
            body,
            json!({"errcode": 0, "list": [{"authorizer_appid": "wx1"}], "info": {"ticket": "kept"}})
        );
    }
}
