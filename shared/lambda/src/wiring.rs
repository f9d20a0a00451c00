//! Cold start: tracing, configuration and clients, built once per container. Each builder
//! reads only the configuration its service uses.

use std::sync::Arc;
use wxopen::config::{ConfigError, CoreConfig, Env};
use wxopen::publish::publisher_for;
use wxopen::services::{
    Authorization, AuthorizerCalls, Authorizers, ComponentCalls, Exchanger, Messages, Notifier,
    Pushes, ReconcileSettings, Refresher,
};
use wxopen::store::DynamoStore;
use wxopen::tokens::{ComponentApi, TokenManager, TokenSettings};
use wxopen::wechat::{HttpWeChat, RetryPolicy};

/// Logs to stdout as Lambda expects; `AWS_LAMBDA_LOG_FORMAT=JSON` gives JSON lines and
/// `AWS_LAMBDA_LOG_LEVEL` (or `RUST_LOG`) the level, INFO by default.
pub fn init_tracing() {
    lambda_http::tracing::init_default_subscriber();
}

/// What every service is built on: the environment, the store and the component API.
pub struct Core {
    /// The environment, for the parts a service adds.
    pub env: Env,
    /// The store on `TABLE_NAME`, bound to the component.
    pub store: Arc<DynamoStore>,
    /// The component API with its token manager.
    pub api: ComponentApi,
    /// The AWS SDK configuration, for the other clients a service adds.
    pub sdk: aws_config::SdkConfig,
}

impl Core {
    /// The core from an environment and an SDK configuration, with the given token timing.
    pub fn build(
        env: Env,
        config: &CoreConfig,
        sdk: &aws_config::SdkConfig,
        settings: TokenSettings,
        wechat: HttpWeChat,
    ) -> Self {
        let store = Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(sdk),
            config.table_name.clone(),
            config.component_appid.clone(),
        ));
        let wechat = Arc::new(wechat);
        let platform = (
            config.component_appid.clone(),
            config.component_appsecret.clone(),
        );
        let tokens = Arc::new(TokenManager::new(
            store.clone(),
            wechat.clone(),
            platform,
            settings,
        ));
        Self {
            env,
            store,
            api: ComponentApi::new(tokens, wechat),
            sdk: sdk.clone(),
        }
    }

    /// The exchanger over this core.
    pub fn exchanger(&self) -> Arc<Exchanger> {
        Arc::new(Exchanger::new(self.api.clone(), self.store.clone()))
    }
}

/// Logs a configuration error at cold start and passes it on (the function then stops).
fn logged<T>(result: Result<T, ConfigError>) -> Result<T, ConfigError> {
    if let Err(e) = &result {
        tracing::error!(error = %e, "configuration error");
    }
    result
}

/// `<function> --check-config`: after building the function's service from the environment as a
/// cold start does, exits at once: 0 when it was built, 1 with the reason on stderr (it names
/// the variable) when not. `make dev` runs it for every function before starting anything, so
/// a bad setting fails in seconds instead of at the first invocation. Without the argument this
/// returns and the function runs.
pub fn exit_if_checking_config<T, E: std::fmt::Display>(built: &Result<T, E>) {
    if std::env::args().nth(1).as_deref() != Some("--check-config") {
        return;
    }
    match built {
        Ok(_) => std::process::exit(0),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

/// Reads the environment and builds the core with production settings.
pub async fn core() -> Result<Core, ConfigError> {
    let sdk = wxopen::aws::load_sdk_config().await;
    let env = logged(Env::load(&sdk).await)?;
    let config = logged(env.core())?;
    let wechat = HttpWeChat::new(
        config.api_base.as_str(),
        HttpWeChat::DEFAULT_TIMEOUT,
        RetryPolicy::default(),
    );
    Ok(Core::build(
        env,
        &config,
        &sdk,
        TokenSettings::default(),
        wechat,
    ))
}

/// `authorize` and `callback`: the core plus the state key and the round trip's URLs.
/// `authorize` needs `AUTH_CALLBACK_URL`; the callback does not.
pub async fn authorization(require_callback_url: bool) -> Result<Arc<Authorization>, ConfigError> {
    let core = core().await?;
    let auth = logged(core.env.auth())?;
    if require_callback_url {
        logged(auth.require_callback_url().map(|_| ()))?;
    }
    Ok(Arc::new(Authorization::new(
        core.exchanger(),
        auth.signer(),
        auth.pages(),
    )))
}

/// `exchange`: the core only.
pub async fn exchanger() -> Result<Arc<Exchanger>, ConfigError> {
    Ok(core().await?.exchanger())
}

/// `authorizer-info` and `authorizer-token`: the core only.
pub async fn authorizers() -> Result<Arc<Authorizers>, ConfigError> {
    let core = core().await?;
    Ok(Arc::new(Authorizers::new(
        core.api.clone(),
        core.store.clone(),
        core.store.clone(),
    )))
}

/// `events`: the core plus the message crypto.
pub async fn pushes() -> Result<Arc<Pushes>, ConfigError> {
    let core = core().await?;
    let push = logged(core.env.push())?;
    let crypto = push.msg_crypto(core.api.tokens().component());
    Ok(Arc::new(Pushes::new(
        crypto,
        core.store.clone(),
        core.exchanger(),
    )))
}

/// `messages`: the core plus the message crypto and the event bus.
pub async fn messages() -> Result<Arc<Messages>, ConfigError> {
    let core = core().await?;
    let push = logged(core.env.push())?;
    let crypto = push.msg_crypto(core.api.tokens().component());
    let publisher = publisher_for(&core.sdk, core.env.event_bus());
    Ok(Arc::new(Messages::new(crypto, core.exchanger(), publisher)))
}

/// `notifier`: only the event bus (it reads no secret and calls no WeChat API).
pub async fn notifier() -> Result<Arc<Notifier>, ConfigError> {
    let sdk = wxopen::aws::load_sdk_config().await;
    let env = Env::from_lookup(|name| std::env::var(name).ok(), None);
    let bus = logged(env.require_event_bus())?;
    Ok(Arc::new(Notifier::new(publisher_for(&sdk, Some(bus)))))
}

/// `authorizer-api`: the core only.
pub async fn authorizer_calls() -> Result<Arc<AuthorizerCalls>, ConfigError> {
    Ok(Arc::new(AuthorizerCalls::new(core().await?.api)))
}

/// `component-api`: the core only.
pub async fn component_calls() -> Result<Arc<ComponentCalls>, ConfigError> {
    Ok(Arc::new(ComponentCalls::new(core().await?.api)))
}

/// `refresher`: the core only.
pub async fn refresher() -> Result<Arc<Refresher>, ConfigError> {
    let core = core().await?;
    Ok(Arc::new(Refresher::new(
        core.api.clone(),
        core.store.clone(),
        ReconcileSettings::default(),
    )))
}
