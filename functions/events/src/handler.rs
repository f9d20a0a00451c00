//! `POST /wechat/events?timestamp=&nonce=&encrypt_type=aes&msg_signature=`: the authorization
//! event URL. Signature first, then decryption, then dispatch; replies `success` once the push
//! is handled: the ticket and authorizations stored, any other push published as
//! `Component Push`. A push not published is answered with an error, so WeChat sends it again.

use lambda_http::{Body, Request, Response};
use wxopen::msg_crypto::SignedPush;
use wxopen::services::{PushOutcome, Pushes};
use wxopen_lambda::request::{finish, is_direct, query, text};
use wxopen_lambda::ApiError;

/// Handles one request.
pub async fn handle(pushes: &Pushes, req: Request) -> Result<Response<Body>, ApiError> {
    let direct = is_direct(&req);
    let result = async {
        let (timestamp, nonce, signature, encrypt_type) = (
            query(&req, "timestamp"),
            query(&req, "nonce"),
            query(&req, "msg_signature"),
            query(&req, "encrypt_type"),
        );
        let body: &[u8] = match req.body() {
            Body::Empty => b"",
            body => body.as_ref(),
        };
        let outcome = pushes
            .handle(&SignedPush {
                timestamp: timestamp.as_deref(),
                nonce: nonce.as_deref(),
                msg_signature: signature.as_deref(),
                encrypt_type: encrypt_type.as_deref(),
                body,
            })
            .await?;
        match &outcome {
            PushOutcome::Published(kind) => {
                tracing::info!(info_type = %kind, "push published as Component Push")
            }
            other => tracing::info!(outcome = ?std::mem::discriminant(other), "push handled"),
        }
        Ok(text(200, "success"))
    }
    .await;
    finish(direct, result)
}

#[cfg(test)]
mod registration_tests;
#[cfg(test)]
mod tests;
