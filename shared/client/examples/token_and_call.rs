//! What a function building on the service does: a token for an authorized account, then a
//! WeChat API called with it directly, the token replaced once if WeChat refuses it; and the same
//! API through `authorizer-api`. Run with `WXOPEN_STACK=<stack>` (or the functions' variables)
//! and the account's AppID as the argument.

use wxopen_client::{ApiCall, Client, Error};
use wxopen_models::AuthorizerAppid;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let appid = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "wxf8b4f85f3a794e77".into());
    let appid = AuthorizerAppid::parse(appid).map_err(|e| Error::Decode(e.to_string()))?;
    let client = Client::from_env().await;
    let token = client.authorizer_token(&appid).await?;
    println!("token for {appid}, expires at {}", token.expires_at);
    let call: ApiCall = serde_json::from_value(serde_json::json!({
        "path": "/cgi-bin/get_current_selfmenu_info", "method": "GET"
    }))
    .map_err(|e| Error::Decode(e.to_string()))?;
    match client.call_as(&appid, &call).await {
        Ok(answer) => println!("{}", serde_json::to_string(&answer).unwrap_or_default()),
        Err(e) if e.token_refused() => {
            client
                .replace_token(&appid, &token.authorizer_access_token)
                .await?;
        }
        Err(e) => return Err(e),
    }
    println!("invocations: {}", client.invocations());
    Ok(())
}
