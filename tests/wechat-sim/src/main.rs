//! `wechat-sim`: WeChat on loopback. Configured with the platform's own variables
//! (`WECHAT_COMPONENT_APPID`, `WECHAT_COMPONENT_APPSECRET`, `WECHAT_MSG_TOKEN`,
//! `WECHAT_ENCODING_AES_KEY`) plus `SIM_ADDR` (default `127.0.0.1:9100`), `SIM_EVENTS_URL`
//! (where to push), `SIM_MESSAGES_URL` (the message URL, with `$APPID$`, for the release test)
//! and `SIM_TICKET_INTERVAL_SECS` (default 600).

use std::time::Duration;
use wechat_sim::{SimConfig, Simulator};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| format!("{name} is not set"))
}

#[tokio::main]
async fn main() -> Result<(), String> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
        ))
        .init();
    let interval = std::env::var("SIM_TICKET_INTERVAL_SECS")
        .ok()
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| "SIM_TICKET_INTERVAL_SECS must be a whole number".to_owned())
        })
        .transpose()?
        .unwrap_or(600);
    let config = SimConfig {
        component_appid: var("WECHAT_COMPONENT_APPID")?,
        component_appsecret: var("WECHAT_COMPONENT_APPSECRET")?,
        msg_token: var("WECHAT_MSG_TOKEN")?,
        encoding_aes_key: var("WECHAT_ENCODING_AES_KEY")?,
        events_url: std::env::var("SIM_EVENTS_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        messages_url: std::env::var("SIM_MESSAGES_URL")
            .ok()
            .filter(|v| !v.is_empty()),
        ticket_interval: Duration::from_secs(interval),
        token_ttl: 7200,
        auth_code_ttl: 600,
        pre_auth_code_ttl: 1800,
    };
    let addr = std::env::var("SIM_ADDR").unwrap_or_else(|_| "127.0.0.1:9100".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let sim = Simulator::start(config, listener).await;
    tracing::info!(base_url = %sim.base_url, "wechat-sim ready");
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
