//! `POST /wechat/messages/{appid}?timestamp=&nonce=&openid=&encrypt_type=aes&msg_signature=`:
//! the message and event URL (`$APPID$` in the console). Signature first, then decryption,
//! then: the release test's passive reply or empty answer, or `success` once published.

use lambda_http::{Body, Request, Response};
use wxopen::msg_crypto::SignedPush;
use wxopen::services::{MessageAnswer, Messages};
use wxopen_lambda::request::{body_bytes, finish, is_direct, path_appid, query, text};
use wxopen_lambda::ApiError;
use wxopen_models::messages::BodyFormat;
use wxopen_models::AuthorizerAppid;

fn appid(req: &Request) -> Result<AuthorizerAppid, ApiError> {
    let raw = path_appid(req, &["messages"]).ok_or_else(|| {
        ApiError::bad_request(
            "missing_appid",
            "the path must end with the authorizer's AppID: register the message URL as https://<host>/wechat/messages/$APPID$",
        )
    })?;
    AuthorizerAppid::parse(raw).map_err(|e| ApiError::bad_request("invalid_appid", e.to_string()))
}

/// Handles one request.
pub async fn handle(messages: &Messages, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        let appid = appid(&req)?;
        let (timestamp, nonce, signature, encrypt_type) = (
            query(&req, "timestamp"),
            query(&req, "nonce"),
            query(&req, "msg_signature"),
            query(&req, "encrypt_type"),
        );
        let answer = messages
            .handle(
                &appid,
                &SignedPush {
                    timestamp: timestamp.as_deref(),
                    nonce: nonce.as_deref(),
                    msg_signature: signature.as_deref(),
                    encrypt_type: encrypt_type.as_deref(),
                    body: body_bytes(&req),
                },
            )
            .await?;
        Ok(match answer {
            MessageAnswer::Reply(body) => {
                let content_type = match BodyFormat::sniff(&body) {
                    BodyFormat::Xml => "application/xml; charset=utf-8",
                    BodyFormat::Json => "application/json",
                };
                Response::builder()
                    .status(200)
                    .header("content-type", content_type)
                    .body(Body::Text(body))
                    .expect("a valid response")
            }
            MessageAnswer::Empty => text(200, ""),
            MessageAnswer::Published => text(200, "success"),
        })
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod tests;
