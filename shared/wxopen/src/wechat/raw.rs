//! Any WeChat API, for other functions: a checked path on `WECHAT_API_BASE` with the right
//! token added, retried only where that cannot act twice, and the answer returned as it came.

use super::http::{transport_error, Attempt};
use super::{HttpWeChat, WeChatError};
use serde_json::Value;
use wxopen_models::calls::{ApiAnswer, CheckedCall, Method};
use wxopen_models::AccessToken;

/// What the call is reported as in errors (the path itself is logged, not put in a message).
const ENDPOINT: &str = "the called API";

/// A checked call with the token it is sent with.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    /// What the caller asked for.
    pub call: &'a CheckedCall,
    /// The query parameter carrying the token (`access_token`, `component_access_token`).
    pub token_param: &'static str,
    /// The token.
    pub token: &'a AccessToken,
    /// Parameters this service adds (`component_appid` on the component's web APIs).
    pub extra_query: &'a [(&'static str, &'a str)],
}

/// WeChat's answer as it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, empty when absent.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The body as JSON, when it is a JSON object (WeChat's errors always are, even on
    /// endpoints that answer images).
    pub fn json(&self) -> Option<Value> {
        let first = self.body.iter().find(|b| !b.is_ascii_whitespace())?;
        if *first != b'{' {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }

    /// A non-zero `errcode`, when the body is JSON with one.
    pub fn errcode(&self) -> Option<i64> {
        self.json()?
            .get("errcode")
            .and_then(Value::as_i64)
            .filter(|c| *c != 0)
    }

    /// True when WeChat refused the token (40001, 40014, 42001).
    pub fn token_refused(&self) -> bool {
        matches!(self.errcode(), Some(40001 | 40014 | 42001))
    }

    /// The answer for the caller: JSON as sent, or the bytes in base64.
    pub fn into_answer(self) -> ApiAnswer {
        use base64::Engine as _;
        match self.json() {
            Some(body) => ApiAnswer::Json {
                status: self.status,
                body,
            },
            None => ApiAnswer::Binary {
                status: self.status,
                content_type: if self.content_type.is_empty() {
                    "application/octet-stream".to_owned()
                } else {
                    self.content_type
                },
                body_base64: base64::engine::general_purpose::STANDARD.encode(&self.body),
            },
        }
    }
}

impl HttpWeChat {
    /// Sends `req`, retrying -1, an undelivered request (at the next access point when there
    /// is one) and a lost answer only when the call is safe to replay. Any other answer,
    /// errcodes included, is returned as it came.
    pub(super) async fn raw(&self, req: &RawRequest<'_>) -> Result<RawResponse, WeChatError> {
        self.with_failover(&req.call.path, ENDPOINT, |url, attempt| async move {
            self.raw_attempt(&url, req, attempt).await
        })
        .await
    }

    async fn raw_attempt(
        &self,
        url: &str,
        req: &RawRequest<'_>,
        attempt: u32,
    ) -> Result<RawResponse, Attempt> {
        let call = req.call;
        let mut request = match call.method {
            Method::Get => self.http.get(url),
            Method::Post => self.http.post(url),
        };
        request = request
            .query(&call.query)
            .query(req.extra_query)
            .query(&[(req.token_param, req.token.expose())]);
        if let Some(body) = &call.body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(ENDPOINT, attempt, e, call.replay_safe))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(ENDPOINT, attempt, e, call.replay_safe))?
            .to_vec();
        let answer = RawResponse {
            status: status.as_u16(),
            content_type,
            body,
        };
        if status.is_server_error() {
            let e = WeChatError::Http {
                endpoint: ENDPOINT,
                status: status.as_u16(),
                attempts: attempt,
            };
            // A gateway error may come after WeChat acted: only a replayable call is sent again.
            return Err(if call.replay_safe {
                Attempt::Lost(e)
            } else {
                Attempt::Final(e)
            });
        }
        if let Some(errcode) = answer.errcode() {
            crate::telemetry::wechat_error(errcode);
        }
        if answer.errcode() == Some(-1) {
            // "System busy": WeChat did nothing, whatever the method.
            return Err(Attempt::Transient(WeChatError::Busy {
                endpoint: ENDPOINT,
                attempts: attempt,
            }));
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(content_type: &str, body: &[u8]) -> RawResponse {
        RawResponse {
            status: 200,
            content_type: content_type.into(),
            body: body.to_vec(),
        }
    }

    #[test]
    fn json_answers_stay_json_and_images_become_base64() {
        let a = resp(
            "application/json",
            br#"{"errcode": 40001, "errmsg": "invalid"}"#,
        );
        assert!(a.token_refused());
        assert!(matches!(
            a.into_answer(),
            ApiAnswer::Json { status: 200, .. }
        ));
        let img = resp("image/jpeg", &[0xff, 0xd8, 0xff, 0xe0]);
        assert_eq!(img.errcode(), None);
        assert_eq!(
            img.into_answer(),
            ApiAnswer::Binary {
                status: 200,
                content_type: "image/jpeg".into(),
                body_base64: "/9j/4A==".into()
            }
        );
        // WeChat sends errors on image endpoints as JSON, whatever the content type says.
        assert_eq!(
            resp("text/plain", br#" {"errcode": 45009}"#).errcode(),
            Some(45009)
        );
    }
}
