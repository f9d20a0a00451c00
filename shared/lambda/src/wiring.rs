//! Cold start: tracing, configuration and clients, built once per container. Each builder
//! reads only the configuration its service uses.

use std::sync::Arc;
use std::time::Duration;
use wxopen::clock::{Clock, SystemClock};
use wxopen::config::{ConfigError, CoreConfig, Env, Part};
use wxopen::msg_crypto::MsgCrypto;
use wxopen::publish::{publisher_for, EventPublisher};
use wxopen::seal::kms::KmsVault;
use wxopen::services::{
    Authorization, AuthorizerCalls, Authorizers, Completions, ComponentCalls, Exchanger, Messages,
    Notifier, Pushes, ReconcileSettings, Refresher, Registrations, RolloutSettings, Rollouts,
    StreamOrigin, CONCURRENT_EXCHANGE_WAIT,
};
use wxopen::store::{
    AuthorizerListing, AuthorizerStore, DynamoStore, OnceStore, ReconcileStore, RegistrationStore,
    RolloutStore, SealStore, TicketStore, TokenStore,
};
use wxopen::tokens::{ComponentApi, TokenManager, TokenSettings};
use wxopen::wechat::{HttpWeChat, RetryPolicy, WeChatApi};

/// What every service is built on: the environment, the store, the component API and the event
/// bus. Generic over the store so `main` builds it on DynamoDB and handler tests on memory, both
/// through the same builders below.
pub struct Core<S> {
    /// The environment, for the parts a service adds.
    pub env: Env,
    /// The store, bound to the component.
    pub store: Arc<S>,
    /// The component's typed WeChat calls.
    pub api: ComponentApi,
    /// The token manager: both kinds of token, cached, leased and renewed.
    pub tokens: Arc<TokenManager>,
    /// Where authorization changes and messages are published (`EVENT_BUS_NAME`).
    pub publisher: Arc<dyn EventPublisher>,
    /// Where time comes from: the system clock in production, a clock tests move.
    pub clock: Arc<dyn Clock>,
    /// How long an exchange of a code WeChat calls used waits for a concurrent exchange
    /// ([`CONCURRENT_EXCHANGE_WAIT`] unless a test shortens it).
    pub exchange_wait: Duration,
}

impl<S> Core<S>
where
    S: AuthorizerStore
        + AuthorizerListing
        + TicketStore
        + TokenStore
        + ReconcileStore
        + SealStore
        + OnceStore
        + RegistrationStore
        + RolloutStore
        + 'static,
{
    /// The core on `store`, calling WeChat through `wechat`, with the given token timing,
    /// publishing to `publisher` and reading time from `clock`.
    pub fn new(
        env: Env,
        config: &CoreConfig,
        store: Arc<S>,
        wechat: Arc<dyn WeChatApi>,
        (settings, clock): (TokenSettings, Arc<dyn Clock>),
        publisher: Arc<dyn EventPublisher>,
    ) -> Self {
        let platform = (
            config.component_appid.clone(),
            config.component_appsecret.clone(),
        );
        let tokens = Arc::new(
            TokenManager::new(store.clone(), wechat.clone(), platform, settings)
                .with_clock(clock.clone()),
        );
        Self {
            env,
            store,
            api: ComponentApi::new(tokens.clone(), wechat),
            tokens,
            publisher,
            clock,
            exchange_wait: CONCURRENT_EXCHANGE_WAIT,
        }
    }

    /// The exchanger over this core.
    pub fn exchanger(&self) -> Arc<Exchanger> {
        let (api, tokens) = (self.api.clone(), self.tokens.clone());
        let exchanger = Exchanger::new(api, tokens, self.store.clone(), self.store.clone());
        Arc::new(exchanger.waiting(self.exchange_wait))
    }

    /// `authorize` and `callback`: the state key and the round trip's URLs added.
    /// `authorize` needs `AUTH_CALLBACK_URL`; the callback does not.
    pub fn authorization(
        &self,
        require_callback_url: bool,
    ) -> Result<Arc<Authorization>, ConfigError> {
        let auth = logged(self.env.auth())?;
        if require_callback_url {
            logged(auth.require_callback_url().map(|_| ()))?;
        }
        let authorization = Authorization::new(
            self.api.clone(),
            self.store.clone(),
            self.store.clone(),
            self.exchanger(),
            auth.signer(),
            auth.pages(),
        );
        Ok(Arc::new(authorization.with_clock(self.clock.clone())))
    }

    /// `authorizer-info` and `authorizer-token`.
    pub fn authorizers(&self) -> Arc<Authorizers> {
        Arc::new(Authorizers::new(
            self.api.clone(),
            self.tokens.clone(),
            self.store.clone(),
            self.store.clone(),
        ))
    }

    /// The platform's message crypto (`WECHAT_MSG_TOKEN`, `WECHAT_ENCODING_AES_KEY`).
    fn msg_crypto(&self) -> Result<MsgCrypto, ConfigError> {
        Ok(logged(self.env.push())?.msg_crypto(&self.api.component()))
    }

    /// `events`: the message crypto added, publishing the other pushes to the bus.
    pub fn pushes(&self) -> Result<Arc<Pushes>, ConfigError> {
        let crypto = self.msg_crypto()?;
        let exchanger = self.exchanger();
        let completions = Completions::new(
            self.api.component(),
            (self.store.clone(), self.store.clone()),
            exchanger.clone(),
            self.publisher.clone(),
        );
        Ok(Arc::new(Pushes::new(
            crypto,
            self.store.clone(),
            self.store.clone(),
            (self.tokens.clone(), exchanger),
            (self.publisher.clone(), Arc::new(completions)),
        )))
    }

    /// `messages`: the message crypto added, publishing to the bus.
    pub fn messages(&self) -> Result<Arc<Messages>, ConfigError> {
        let crypto = self.msg_crypto()?;
        let messages = Messages::new(
            crypto,
            self.api.clone(),
            self.store.clone(),
            self.store.clone(),
            self.exchanger(),
            self.publisher.clone(),
        );
        Ok(Arc::new(messages.with_clock(self.clock.clone())))
    }

    /// `authorizer-api`.
    pub fn authorizer_calls(&self) -> Arc<AuthorizerCalls> {
        Arc::new(AuthorizerCalls::new(self.api.clone()))
    }

    /// `component-api`.
    pub fn component_calls(&self) -> Arc<ComponentCalls> {
        let once = self.store.clone();
        let registrations =
            Registrations::new(self.api.clone(), self.store.clone()).with_clock(self.clock.clone());
        Arc::new(ComponentCalls::new(
            self.api.clone(),
            self.tokens.clone(),
            once,
            registrations,
        ))
    }

    /// `rollouts`: work sent to `queue`, waiting as `settings` say.
    pub fn rollouts(
        &self,
        queue: Arc<dyn wxopen::queue::WorkQueue>,
        settings: RolloutSettings,
    ) -> Arc<Rollouts> {
        let rollouts = Rollouts::new(
            self.api.clone(),
            self.store.clone(),
            (self.store.clone(), self.store.clone()),
            self.store.clone(),
            (queue, self.publisher.clone()),
        );
        Arc::new(
            rollouts
                .with_clock(self.clock.clone())
                .with_settings(settings),
        )
    }

    /// `refresher`, reconciling with `settings`.
    pub fn refresher(&self, settings: ReconcileSettings) -> Arc<Refresher> {
        Arc::new(Refresher::new(
            self.api.clone(),
            self.tokens.clone(),
            self.store.clone(),
            settings,
        ))
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

/// Reads the environment and builds the core on DynamoDB (`TABLE_NAME`) with production settings.
pub async fn core() -> Result<Core<DynamoStore>, ConfigError> {
    let sdk = wxopen::aws::load_sdk_config().await;
    // The store needs no secret: it is built first, so the lookup of its data key (a Query and
    // one KMS Decrypt) runs while the secrets are read from Secrets Manager.
    let plain = Env::from_lookup(|name| std::env::var(name).ok(), None);
    let vault = KmsVault::from_sdk(&sdk, logged(plain.token_kms_key_id())?);
    let store = Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        logged(plain.table_name())?,
        logged(plain.component_appid())?,
        Arc::new(vault),
    ));
    store.warm_up();
    let env = logged(Env::load(&sdk).await)?;
    let config = logged(env.core())?;
    let fallbacks = logged(env.fallback_bases(&config.api_base))?;
    let fallbacks: Vec<String> = fallbacks.iter().map(|u| u.to_string()).collect();
    let points = wxopen::wechat::AccessPoints::new(config.api_base.as_str(), &fallbacks);
    let wechat =
        HttpWeChat::with_points(points, HttpWeChat::DEFAULT_TIMEOUT, RetryPolicy::default());
    let publisher = publisher_for(&sdk, env.event_bus());
    Ok(Core::new(
        env,
        &config,
        store,
        Arc::new(wechat),
        (TokenSettings::default(), Arc::new(SystemClock)),
        publisher,
    ))
}

/// Warns, once per cold start, when the function's secrets hold keys beyond the core and
/// `parts`: it can read what it does not use (one secret for every function; README,
/// "Security", says how to split it). Names the keys, never their values.
fn scoped<S>(core: Core<S>, parts: &[Part]) -> Core<S> {
    let beyond = core.env.secrets_beyond(&[&[Part::Core], parts].concat());
    if !beyond.is_empty() {
        tracing::warn!(
            keys = %beyond.join(","),
            "WECHAT_SECRETS_ARN gives this function keys it does not use: split the secret (MessageSecretsArn, StateSecretsArn)"
        );
    }
    core
}

/// `authorize` (`true`: it needs `AUTH_CALLBACK_URL`) and `callback` (`false`).
pub async fn authorization(require_callback_url: bool) -> Result<Arc<Authorization>, ConfigError> {
    scoped(core().await?, &[Part::Auth]).authorization(require_callback_url)
}

/// `exchange`.
pub async fn exchanger() -> Result<Arc<Exchanger>, ConfigError> {
    Ok(scoped(core().await?, &[]).exchanger())
}

/// `authorizer-info` and `authorizer-token`.
pub async fn authorizers() -> Result<Arc<Authorizers>, ConfigError> {
    Ok(scoped(core().await?, &[]).authorizers())
}

/// `events`.
pub async fn pushes() -> Result<Arc<Pushes>, ConfigError> {
    let mut core = scoped(core().await?, &[Part::Push]);
    if core.env.event_bus().is_none() {
        tracing::warn!("EVENT_BUS_NAME is not set: pushes other than the ticket and authorizations are answered 503, so WeChat keeps them");
        core.publisher = Arc::new(wxopen::publish::Unpublishable);
    }
    core.pushes()
}

/// `messages`.
pub async fn messages() -> Result<Arc<Messages>, ConfigError> {
    scoped(core().await?, &[Part::Push]).messages()
}

/// `notifier`: only the event bus (it reads no secret and calls no WeChat API).
pub async fn notifier() -> Result<Arc<Notifier>, ConfigError> {
    let sdk = wxopen::aws::load_sdk_config().await;
    let env = Env::from_lookup(|name| std::env::var(name).ok(), None);
    let bus = logged(env.require_event_bus())?;
    let origin = StreamOrigin {
        table_name: logged(env.table_name())?,
        component: logged(env.component_appid())?,
    };
    Ok(Arc::new(Notifier::new(
        publisher_for(&sdk, Some(bus)),
        origin,
    )))
}

/// `authorizer-api`.
pub async fn authorizer_calls() -> Result<Arc<AuthorizerCalls>, ConfigError> {
    Ok(scoped(core().await?, &[]).authorizer_calls())
}

/// `component-api`.
pub async fn component_calls() -> Result<Arc<ComponentCalls>, ConfigError> {
    Ok(scoped(core().await?, &[]).component_calls())
}

/// `refresher`.
pub async fn refresher() -> Result<Arc<Refresher>, ConfigError> {
    Ok(scoped(core().await?, &[]).refresher(ReconcileSettings::default()))
}

/// `rollouts`: the work queue (`ROLLOUT_QUEUE_URL`) and the waits added.
pub async fn rollouts() -> Result<Arc<Rollouts>, ConfigError> {
    let core = scoped(core().await?, &[]);
    let url = logged(core.env.rollout_queue_url())?.to_owned();
    let settings = logged(core.env.rollout_settings())?;
    let sdk = wxopen::aws::load_sdk_config().await;
    let queue = wxopen::queue::SqsQueue::from_sdk(&sdk, url);
    Ok(core.rollouts(Arc::new(queue), settings))
}
