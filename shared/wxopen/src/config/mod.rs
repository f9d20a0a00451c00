//! Configuration from the environment (DESIGN's variable table), read once at cold start, in
//! parts: every function reads [`CoreConfig`], and only the functions that need them read
//! [`PushConfig`] (message crypto) or [`AuthConfig`] (the authorization round trip), so no
//! function is configured with a secret it does not use. A missing or malformed variable is
//! an error that names it.

use crate::msg_crypto::{CryptoError, EncodingAesKey, MsgCrypto};
use crate::services::AuthPages;
use crate::state::StateSigner;
use std::collections::HashMap;
use url::Url;
use wxopen_models::{ComponentAppid, Secret};

mod access_points;
mod rollouts;

/// The environment of `vars`, for tests.
#[cfg(test)]
pub(crate) fn env_of(vars: &[(&str, &str)]) -> Env {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Env::from_lookup(|n| vars.get(n).cloned(), None)
}
mod secrets;
pub use access_points::DEFAULT_FALLBACK_BASE;
pub use secrets::{Part, SecretBundle};

/// Default `WECHAT_API_BASE`.
pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";
/// Default `WECHAT_AUTH_PAGE_BASE`.
pub const DEFAULT_AUTH_PAGE_BASE: &str = "https://mp.weixin.qq.com";

/// A variable is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// Not set, or empty.
    #[error("{name} is not set: {hint}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// Where its value comes from.
        hint: &'static str,
    },
    /// Set, but unusable.
    #[error("{name} is malformed: {reason}")]
    Malformed {
        /// The variable.
        name: &'static str,
        /// What is wrong (never the value of a secret).
        reason: String,
    },
    /// `WECHAT_SECRETS_ARN` could not be read.
    #[error("WECHAT_SECRETS_ARN could not be read ({reason}): check the ARN and the function's secretsmanager:GetSecretValue permission")]
    Secrets {
        /// What went wrong.
        reason: String,
    },
}

/// What every function needs: who the platform is, where WeChat is, where the table is.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// `WECHAT_COMPONENT_APPID`.
    pub component_appid: ComponentAppid,
    /// `WECHAT_COMPONENT_APPSECRET`.
    pub component_appsecret: Secret,
    /// `WECHAT_API_BASE`.
    pub api_base: Url,
    /// `TABLE_NAME`.
    pub table_name: String,
}

/// The message crypto of pushes (the `events` function).
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// `WECHAT_MSG_TOKEN`.
    pub msg_token: Secret,
    /// `WECHAT_ENCODING_AES_KEY`.
    pub encoding_aes_key: EncodingAesKey,
    /// `WECHAT_ENCODING_AES_KEY_PREVIOUS`, during a key rotation.
    pub encoding_aes_key_previous: Option<EncodingAesKey>,
}

impl PushConfig {
    /// The message codec for `component`'s pushes.
    pub fn msg_crypto(&self, component: &ComponentAppid) -> MsgCrypto {
        MsgCrypto::new(
            self.msg_token.clone(),
            self.encoding_aes_key.clone(),
            self.encoding_aes_key_previous.clone(),
            component.clone(),
        )
    }
}

/// The authorization round trip (the `authorize` and `callback` functions).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `AUTH_STATE_SECRET`.
    pub state_secret: Secret,
    /// `WECHAT_AUTH_PAGE_BASE`.
    pub auth_page_base: Url,
    /// `AUTH_CALLBACK_URL`: needed by the authorize function only.
    pub callback_url: Option<Url>,
    /// `AUTH_SUCCESS_URL`.
    pub success_url: Option<Url>,
    /// `AUTH_SUCCESS_SIGNING_KEY` (or `success_signing_key` in the secret), when set.
    pub success_signing_key: Option<Secret>,
    /// `AUTH_ANONYMOUS`: the public route may start an authorization without a minted link.
    pub anonymous: bool,
}

impl AuthConfig {
    /// `AUTH_CALLBACK_URL`, or the error naming it.
    pub fn require_callback_url(&self) -> Result<&Url, ConfigError> {
        self.callback_url.as_ref().ok_or(ConfigError::Missing {
            name: "AUTH_CALLBACK_URL",
            hint: "the public URL of the callback route (the redirect URI registered with WeChat)",
        })
    }

    /// The state signer.
    pub fn signer(&self) -> StateSigner {
        StateSigner::new(self.state_secret.clone())
    }

    /// The round trip's URLs.
    pub fn pages(&self) -> AuthPages {
        AuthPages {
            page_base: self.auth_page_base.clone(),
            callback: self.callback_url.clone(),
            success: self.success_url.clone(),
            success_key: self
                .success_signing_key
                .clone()
                .unwrap_or_else(|| self.state_secret.clone()),
            anonymous: self.anonymous,
        }
    }
}

/// Every part, for tools and tests that run the whole stack in one process.
#[derive(Debug, Clone)]
pub struct Config {
    /// What every function needs.
    pub core: CoreConfig,
    /// Message crypto.
    pub push: PushConfig,
    /// The authorization round trip.
    pub auth: AuthConfig,
}

impl Config {
    /// Every part, from the environment and `WECHAT_SECRETS_ARN` (read once).
    pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let env = Env::load(sdk).await?;
        Ok(Self {
            core: env.core()?,
            push: env.push()?,
            auth: env.auth()?,
        })
    }

    /// Every part from a variable lookup and an optional secret bundle.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        bundle: Option<SecretBundle>,
    ) -> Result<Self, ConfigError> {
        let env = Env::from_lookup(lookup, bundle);
        Ok(Self {
            core: env.core()?,
            push: env.push()?,
            auth: env.auth()?,
        })
    }
}

/// The variables every part may read.
const VARIABLES: &[&str] = &[
    "WECHAT_COMPONENT_APPID",
    "WECHAT_COMPONENT_APPSECRET",
    "WECHAT_MSG_TOKEN",
    "WECHAT_ENCODING_AES_KEY",
    "WECHAT_ENCODING_AES_KEY_PREVIOUS",
    "WECHAT_API_BASE",
    "WECHAT_AUTH_PAGE_BASE",
    "TABLE_NAME",
    "AUTH_CALLBACK_URL",
    "AUTH_STATE_SECRET",
    "AUTH_SUCCESS_URL",
    "AUTH_SUCCESS_SIGNING_KEY",
    "AUTH_ANONYMOUS",
    "EVENT_BUS_NAME",
    "TOKEN_KMS_KEY_ID",
    "WECHAT_API_FALLBACK_BASES",
    "ROLLOUT_QUEUE_URL",
    "ROLLOUT_RETRY_SECONDS",
    "ROLLOUT_QUOTA_WAIT_SECONDS",
    "ROLLOUT_AUDIT_POLL_SECONDS",
    "ROLLOUT_STUCK_SECONDS",
];

/// The environment as read at cold start; each part is validated when asked for.
#[derive(Debug, Clone)]
pub struct Env {
    vars: HashMap<&'static str, String>,
    bundle: SecretBundle,
}

impl Env {
    /// Reads the environment and, when `WECHAT_SECRETS_ARN` is set, that secret (once).
    pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let bundle = match std::env::var("WECHAT_SECRETS_ARN")
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            Some(arns) => Some(secrets::fetch(sdk, &arns).await?),
            None => None,
        };
        Ok(Self::from_lookup(|name| std::env::var(name).ok(), bundle))
    }

    /// The environment from a variable lookup and an optional secret bundle.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        bundle: Option<SecretBundle>,
    ) -> Self {
        let vars = VARIABLES
            .iter()
            .filter_map(|name| {
                let value = lookup(name)?.trim().to_owned();
                // Set and empty means "none" for the fallbacks, not "unset" (the default).
                let kept = !value.is_empty() || *name == "WECHAT_API_FALLBACK_BASES";
                kept.then_some((*name, value))
            })
            .collect();
        Self {
            vars,
            bundle: bundle.unwrap_or_default(),
        }
    }

    /// The keys of `WECHAT_SECRETS_ARN` this function could read but uses none of `parts` for:
    /// what a split of the secret would take away from it (README, "Security").
    pub fn secrets_beyond(&self, parts: &[Part]) -> Vec<&'static str> {
        let keys = self.bundle.keys().into_iter();
        keys.filter(|(_, part)| !parts.contains(part))
            .map(|(key, _)| key)
            .collect()
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    fn require(&self, name: &'static str, hint: &'static str) -> Result<&str, ConfigError> {
        self.get(name).ok_or(ConfigError::Missing { name, hint })
    }

    fn secret(
        &self,
        from_bundle: &Option<Secret>,
        name: &'static str,
        hint: &'static str,
    ) -> Result<Secret, ConfigError> {
        match from_bundle.as_ref().filter(|s| !s.is_empty()) {
            Some(s) => Ok(s.clone()),
            None => self.require(name, hint).map(Secret::new),
        }
    }

    /// `WECHAT_COMPONENT_APPID`.
    pub fn component_appid(&self) -> Result<ComponentAppid, ConfigError> {
        ComponentAppid::parse(self.require(
            "WECHAT_COMPONENT_APPID",
            "the platform's AppID from the WeChat Open Platform console",
        )?)
        .map_err(|e| ConfigError::Malformed {
            name: "WECHAT_COMPONENT_APPID",
            reason: e.to_string(),
        })
    }

    /// `TOKEN_KMS_KEY_ID`: the KMS key wrapping the data keys that seal tokens at rest.
    pub fn token_kms_key_id(&self) -> Result<&str, ConfigError> {
        self.require(
            "TOKEN_KMS_KEY_ID",
            "the KMS key (id, ARN or alias) that seals tokens at rest (TokenKmsKeyArn in template.yaml)",
        )
    }

    /// `TABLE_NAME`.
    pub fn table_name(&self) -> Result<String, ConfigError> {
        let name = self.require("TABLE_NAME", "the DynamoDB table created by template.yaml")?;
        Ok(name.to_owned())
    }

    /// What every function needs.
    pub fn core(&self) -> Result<CoreConfig, ConfigError> {
        Ok(CoreConfig {
            component_appid: self.component_appid()?,
            component_appsecret: self.secret(
                &self.bundle.component_appsecret,
                "WECHAT_COMPONENT_APPSECRET",
                "the platform's AppSecret, or component_appsecret in WECHAT_SECRETS_ARN",
            )?,
            api_base: url_or(
                "WECHAT_API_BASE",
                self.get("WECHAT_API_BASE"),
                DEFAULT_API_BASE,
            )?,
            table_name: self.table_name()?,
        })
    }

    /// `EVENT_BUS_NAME`: where events for other services go; `None` when unset.
    pub fn event_bus(&self) -> Option<&str> {
        self.get("EVENT_BUS_NAME")
    }

    /// `EVENT_BUS_NAME`, or the error naming it (for the notifier, which exists to publish).
    pub fn require_event_bus(&self) -> Result<&str, ConfigError> {
        self.require(
            "EVENT_BUS_NAME",
            "the EventBridge bus authorization changes are published to (EventBusName in template.yaml)",
        )
    }

    /// The message crypto of pushes.
    pub fn push(&self) -> Result<PushConfig, ConfigError> {
        let msg_token = self.secret(
            &self.bundle.msg_token,
            "WECHAT_MSG_TOKEN",
            "the message verification token, or msg_token in WECHAT_SECRETS_ARN",
        )?;
        let aes_key = self.secret(
            &self.bundle.encoding_aes_key,
            "WECHAT_ENCODING_AES_KEY",
            "the 43-character EncodingAESKey, or encoding_aes_key in WECHAT_SECRETS_ARN",
        )?;
        Ok(PushConfig {
            msg_token,
            encoding_aes_key: parse_key("WECHAT_ENCODING_AES_KEY", aes_key.expose())?,
            encoding_aes_key_previous: match self
                .bundle
                .encoding_aes_key_previous
                .as_ref()
                .filter(|k| !k.is_empty())
            {
                Some(k) => Some(parse_key("WECHAT_ENCODING_AES_KEY_PREVIOUS", k.expose())?),
                None => self
                    .get("WECHAT_ENCODING_AES_KEY_PREVIOUS")
                    .map(|k| parse_key("WECHAT_ENCODING_AES_KEY_PREVIOUS", k))
                    .transpose()?,
            },
        })
    }

    /// The authorization round trip.
    pub fn auth(&self) -> Result<AuthConfig, ConfigError> {
        let state_secret = self.secret(
            &self.bundle.state_secret,
            "AUTH_STATE_SECRET",
            "a random string of at least 32 characters used to sign `state`, or state_secret in WECHAT_SECRETS_ARN",
        )?;
        if state_secret.expose().len() < 32 {
            return Err(ConfigError::Malformed {
                name: "AUTH_STATE_SECRET",
                reason: "it must be at least 32 characters long".into(),
            });
        }
        let optional_url =
            |name: &'static str| self.get(name).map(|u| check_url(name, u)).transpose();
        Ok(AuthConfig {
            state_secret,
            auth_page_base: url_or(
                "WECHAT_AUTH_PAGE_BASE",
                self.get("WECHAT_AUTH_PAGE_BASE"),
                DEFAULT_AUTH_PAGE_BASE,
            )?,
            callback_url: optional_url("AUTH_CALLBACK_URL")?,
            success_url: optional_url("AUTH_SUCCESS_URL")?,
            success_signing_key: match self
                .bundle
                .success_signing_key
                .as_ref()
                .filter(|k| !k.is_empty())
            {
                Some(key) => Some(key.clone()),
                None => self.get("AUTH_SUCCESS_SIGNING_KEY").map(Secret::new),
            },
            anonymous: match self.get("AUTH_ANONYMOUS").map(str::trim) {
                None | Some("" | "false") => false,
                Some("true") => true,
                Some(_) => {
                    return Err(ConfigError::Malformed {
                        name: "AUTH_ANONYMOUS",
                        reason: "it must be true or false (unset: false, links only)".into(),
                    })
                }
            },
        })
    }
}

fn parse_key(name: &'static str, value: &str) -> Result<EncodingAesKey, ConfigError> {
    EncodingAesKey::parse(value).map_err(|e: CryptoError| ConfigError::Malformed {
        name,
        reason: e.to_string(),
    })
}

fn check_url(name: &'static str, value: &str) -> Result<Url, ConfigError> {
    let parsed = Url::parse(value).map_err(|e| ConfigError::Malformed {
        name,
        reason: format!("{e}: expected an absolute http(s) URL"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::Malformed {
            name,
            reason: "expected an absolute http(s) URL".into(),
        });
    }
    Ok(parsed)
}

fn url_or(name: &'static str, value: Option<&str>, default: &str) -> Result<Url, ConfigError> {
    check_url(name, value.unwrap_or(default))
}

#[cfg(test)]
mod tests;
