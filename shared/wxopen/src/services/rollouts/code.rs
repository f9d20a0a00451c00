//! WeChat's code-management calls for one Mini Program, with its authorizer token, and what
//! each answer means for a rollout: done, refused (an errcode: nothing happened), not sent (a
//! connection never made, or an account that cannot be served), or unknown (the call may have
//! reached WeChat: resolved later by asking, never by calling again blindly).

use crate::services::ServiceError;
use crate::tokens::ComponentApi;
use crate::wechat::WeChatError;
use serde_json::{json, Map, Value};
use wxopen_models::calls::{ApiCall, Method};
use wxopen_models::AuthorizerAppid;

/// What a call came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// WeChat did it; its answer.
    Done(Value),
    /// WeChat refused; nothing happened.
    Refused {
        /// Its errcode.
        errcode: i64,
        /// Its message.
        errmsg: String,
    },
    /// Nothing was sent: the reason, and whether the account itself is the cause (it cannot be
    /// served: unknown, revoked, must authorize again), so retrying will not help.
    NotSent {
        /// Why.
        reason: String,
        /// The account cannot be served.
        account: bool,
    },
    /// The call may or may not have reached WeChat.
    Unknown(String),
}

/// The Mini Program's code-management calls.
#[derive(Clone)]
pub struct Code {
    api: ComponentApi,
}

impl Code {
    /// Calls through `api`.
    pub fn new(api: ComponentApi) -> Self {
        Self { api }
    }

    /// `path` called as `appid` (its authorizer token), or as the platform (`None`: the
    /// component token, as `access_token`, which the template library takes).
    async fn call(
        &self,
        appid: Option<&AuthorizerAppid>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let call = ApiCall {
            path: path.to_owned(),
            method,
            query: Map::new(),
            body,
            retry: false,
        };
        let checked = call
            .check()
            .expect("the code-management calls are well formed");
        let result = match appid {
            Some(appid) => self.api.call_as_authorizer(appid, &checked).await,
            None => {
                self.api
                    .call_with_component_token(&checked, "access_token")
                    .await
            }
        };
        match result {
            Ok(resp) => {
                let Some(body) = resp.json() else {
                    return Answer::Unknown(format!(
                        "{path} answered HTTP {} without JSON",
                        resp.status
                    ));
                };
                match body.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
                    0 => Answer::Done(body),
                    errcode => Answer::Refused {
                        errcode,
                        errmsg: body["errmsg"].as_str().unwrap_or_default().to_owned(),
                    },
                }
            }
            Err(ServiceError::WeChat(WeChatError::Connect { reason, .. })) => Answer::NotSent {
                reason: format!("could not connect to WeChat: {reason}"),
                account: false,
            },
            Err(e @ ServiceError::Authorizer(_)) => Answer::NotSent {
                reason: e.to_string(),
                account: true,
            },
            Err(e @ (ServiceError::Refresh(_) | ServiceError::Store(_))) => Answer::NotSent {
                reason: e.to_string(),
                account: false,
            },
            Err(e) => Answer::Unknown(e.to_string()),
        }
    }

    /// `GET /wxa/gettemplatelist` (component token, as `access_token`): the platform's library.
    pub async fn templates(&self) -> Answer {
        self.call(None, Method::Get, "/wxa/gettemplatelist", None)
            .await
    }

    /// `POST /wxa/commit`.
    pub async fn commit(&self, appid: &AuthorizerAppid, body: Value) -> Answer {
        self.call(Some(appid), Method::Post, "/wxa/commit", Some(body))
            .await
    }

    /// `POST /wxa/getversioninfo`: the experience and release versions.
    pub async fn version_info(&self, appid: &AuthorizerAppid) -> Answer {
        self.call(
            Some(appid),
            Method::Post,
            "/wxa/getversioninfo",
            Some(json!({})),
        )
        .await
    }

    /// `GET /wxa/queryquota`: the platform's audit quota (`rest`, `limit`).
    pub async fn query_quota(&self, appid: &AuthorizerAppid) -> Answer {
        self.call(Some(appid), Method::Get, "/wxa/queryquota", None)
            .await
    }

    /// `POST /wxa/submit_audit`: spends the platform's quota; never sent twice for one intent.
    pub async fn submit_audit(&self, appid: &AuthorizerAppid, body: Value) -> Answer {
        self.call(Some(appid), Method::Post, "/wxa/submit_audit", Some(body))
            .await
    }

    /// `POST /wxa/get_auditstatus`.
    pub async fn audit_status(&self, appid: &AuthorizerAppid, auditid: i64) -> Answer {
        let body = json!({ "auditid": auditid });
        self.call(
            Some(appid),
            Method::Post,
            "/wxa/get_auditstatus",
            Some(body),
        )
        .await
    }

    /// `GET /wxa/get_latest_auditstatus`: how a submission whose answer was lost ended.
    pub async fn latest_audit(&self, appid: &AuthorizerAppid) -> Answer {
        self.call(
            Some(appid),
            Method::Get,
            "/wxa/get_latest_auditstatus",
            None,
        )
        .await
    }

    /// `POST /wxa/release`.
    pub async fn release(&self, appid: &AuthorizerAppid) -> Answer {
        self.call(Some(appid), Method::Post, "/wxa/release", Some(json!({})))
            .await
    }

    /// `POST /wxa/grayrelease`.
    pub async fn gray_release(&self, appid: &AuthorizerAppid, percentage: u8) -> Answer {
        let body = json!({ "gray_percentage": percentage });
        self.call(Some(appid), Method::Post, "/wxa/grayrelease", Some(body))
            .await
    }

    /// `GET /wxa/revertgrayrelease`: a gray release withdrawn.
    pub async fn revert_gray(&self, appid: &AuthorizerAppid) -> Answer {
        self.call(Some(appid), Method::Get, "/wxa/revertgrayrelease", None)
            .await
    }

    /// `GET /wxa/revertcoderelease`: back to the version released before.
    pub async fn revert(&self, appid: &AuthorizerAppid) -> Answer {
        self.call(Some(appid), Method::Get, "/wxa/revertcoderelease", None)
            .await
    }
}
