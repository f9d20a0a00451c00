//! Encrypted pushes to the platform's authorization event URL.

use crate::Shared;
use std::time::Duration;
use wxopen::clock::now_secs;
use wxopen::msg_crypto::{EncodingAesKey, MsgCrypto};
use wxopen_models::{ComponentAppid, Secret};

/// Encrypts, signs and POSTs `xml` to the events URL. `Ok(false)` when no URL is configured.
pub async fn push_event(shared: &Shared, xml: &str) -> Result<bool, String> {
    let (url, sealed) = {
        let state = shared.lock().unwrap();
        let Some(url) = state.config.events_url.clone() else {
            return Ok(false);
        };
        let crypto = MsgCrypto::new(
            Secret::new(state.config.msg_token.clone()),
            EncodingAesKey::parse(&state.config.encoding_aes_key).map_err(|e| e.to_string())?,
            None,
            ComponentAppid::parse(state.config.component_appid.clone())
                .map_err(|e| e.to_string())?,
        );
        let nonce = format!("{}", rand::random::<u32>());
        (url, crypto.seal(xml, &now_secs().to_string(), &nonce))
    };
    let resp = reqwest::Client::new()
        .post(&url)
        .query(&[
            ("timestamp", sealed.timestamp.as_str()),
            ("nonce", sealed.nonce.as_str()),
            ("encrypt_type", "aes"),
            ("msg_signature", sealed.msg_signature.as_str()),
        ])
        .header("content-type", "text/xml")
        .body(sealed.body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    if status.is_success() && text.trim() == "success" {
        Ok(true)
    } else {
        Err(format!(
            "the event URL answered {status}: {}",
            text.chars().take(200).collect::<String>()
        ))
    }
}

/// Pushes a new ticket; `api_component_token` accepts it, and the earlier ones still.
pub async fn push_ticket(shared: &Shared) -> Result<bool, String> {
    let xml = {
        let mut state = shared.lock().unwrap();
        let ticket = state.new_ticket();
        format!(
            "<xml><AppId><![CDATA[{}]]></AppId><CreateTime>{}</CreateTime><InfoType><![CDATA[component_verify_ticket]]></InfoType>\
             <ComponentVerifyTicket><![CDATA[{ticket}]]></ComponentVerifyTicket></xml>",
            state.config.component_appid,
            now_secs()
        )
    };
    let delivered = push_event(shared, &xml).await?;
    if delivered {
        shared.lock().unwrap().tickets_delivered += 1;
    }
    Ok(delivered)
}

/// Pushes a ticket now and every interval; until the first one is delivered, retries every
/// second (the platform may still be starting).
pub async fn ticket_loop(shared: Shared) {
    let interval = shared.lock().unwrap().config.ticket_interval;
    loop {
        let delivered = match push_ticket(&shared).await {
            Ok(delivered) => delivered,
            Err(e) => {
                tracing::info!(error = %e, "ticket push not delivered yet");
                false
            }
        };
        let first_pending = shared.lock().unwrap().tickets_delivered == 0;
        if !delivered && first_pending {
            tokio::time::sleep(Duration::from_secs(1)).await;
        } else {
            tokio::time::sleep(interval).await;
        }
    }
}
