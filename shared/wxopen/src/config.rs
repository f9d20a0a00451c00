//! Configuration from the environment (DESIGN's variable table), read once at cold start.
//! A missing or malformed variable is an error that names it.

use crate::msg_crypto::{CryptoError, EncodingAesKey, MsgCrypto};
use std::collections::HashMap;
use wxopen_models::{ComponentAppid, Secret};

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

/// The secret values a Secrets Manager secret may hold (JSON object with these keys).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct SecretBundle {
    /// Overrides `WECHAT_COMPONENT_APPSECRET`.
    #[serde(default)]
    pub component_appsecret: Option<Secret>,
    /// Overrides `WECHAT_MSG_TOKEN`.
    #[serde(default)]
    pub msg_token: Option<Secret>,
    /// Overrides `WECHAT_ENCODING_AES_KEY`.
    #[serde(default)]
    pub encoding_aes_key: Option<Secret>,
    /// Overrides `AUTH_STATE_SECRET`.
    #[serde(default)]
    pub state_secret: Option<Secret>,
}

/// Everything the functions need, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// `WECHAT_COMPONENT_APPID`.
    pub component_appid: ComponentAppid,
    /// `WECHAT_COMPONENT_APPSECRET`.
    pub component_appsecret: Secret,
    /// `WECHAT_MSG_TOKEN`.
    pub msg_token: Secret,
    /// `WECHAT_ENCODING_AES_KEY`.
    pub encoding_aes_key: EncodingAesKey,
    /// `WECHAT_ENCODING_AES_KEY_PREVIOUS`, during a key rotation.
    pub encoding_aes_key_previous: Option<EncodingAesKey>,
    /// `WECHAT_API_BASE`.
    pub api_base: String,
    /// `WECHAT_AUTH_PAGE_BASE`.
    pub auth_page_base: String,
    /// `TABLE_NAME`.
    pub table_name: String,
    /// `AUTH_CALLBACK_URL`: needed by the authorize function only.
    pub auth_callback_url: Option<String>,
    /// `AUTH_STATE_SECRET`.
    pub auth_state_secret: Secret,
    /// `AUTH_SUCCESS_URL`.
    pub auth_success_url: Option<String>,
}

impl Config {
    /// Reads the environment and, when `WECHAT_SECRETS_ARN` is set, that secret (once).
    pub async fn load(sdk: &aws_config::SdkConfig) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let bundle = match env
            .get("WECHAT_SECRETS_ARN")
            .filter(|v| !v.trim().is_empty())
        {
            Some(arn) => Some(fetch_secret_bundle(sdk, arn.trim()).await?),
            None => None,
        };
        Self::from_lookup(|name| env.get(name).cloned(), bundle)
    }

    /// Builds the configuration from a variable lookup and an optional secret bundle.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        bundle: Option<SecretBundle>,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let require = |name: &'static str, hint: &'static str| {
            get(name).ok_or(ConfigError::Missing { name, hint })
        };
        let bundle = bundle.unwrap_or_default();
        let secret =
            |from_bundle: Option<Secret>, name: &'static str, hint: &'static str| match from_bundle
                .filter(|s| !s.is_empty())
            {
                Some(s) => Ok(s),
                None => require(name, hint).map(Secret::new),
            };

        let component_appid = ComponentAppid::parse(require(
            "WECHAT_COMPONENT_APPID",
            "the platform's AppID from the WeChat Open Platform console",
        )?)
        .map_err(|e| ConfigError::Malformed {
            name: "WECHAT_COMPONENT_APPID",
            reason: e.to_string(),
        })?;
        let component_appsecret = secret(
            bundle.component_appsecret,
            "WECHAT_COMPONENT_APPSECRET",
            "the platform's AppSecret, or component_appsecret in WECHAT_SECRETS_ARN",
        )?;
        let msg_token = secret(
            bundle.msg_token,
            "WECHAT_MSG_TOKEN",
            "the message verification token, or msg_token in WECHAT_SECRETS_ARN",
        )?;
        let aes_key = secret(
            bundle.encoding_aes_key,
            "WECHAT_ENCODING_AES_KEY",
            "the 43-character EncodingAESKey, or encoding_aes_key in WECHAT_SECRETS_ARN",
        )?;
        let encoding_aes_key = parse_key("WECHAT_ENCODING_AES_KEY", aes_key.expose())?;
        let encoding_aes_key_previous = get("WECHAT_ENCODING_AES_KEY_PREVIOUS")
            .map(|k| parse_key("WECHAT_ENCODING_AES_KEY_PREVIOUS", &k))
            .transpose()?;
        let auth_state_secret = secret(
            bundle.state_secret,
            "AUTH_STATE_SECRET",
            "a random string of at least 32 characters used to sign `state`, or state_secret in WECHAT_SECRETS_ARN",
        )?;
        if auth_state_secret.expose().len() < 32 {
            return Err(ConfigError::Malformed {
                name: "AUTH_STATE_SECRET",
                reason: "it must be at least 32 characters long".into(),
            });
        }
        Ok(Self {
            component_appid,
            component_appsecret,
            msg_token,
            encoding_aes_key,
            encoding_aes_key_previous,
            api_base: url_or("WECHAT_API_BASE", get("WECHAT_API_BASE"), DEFAULT_API_BASE)?,
            auth_page_base: url_or(
                "WECHAT_AUTH_PAGE_BASE",
                get("WECHAT_AUTH_PAGE_BASE"),
                DEFAULT_AUTH_PAGE_BASE,
            )?,
            table_name: require("TABLE_NAME", "the DynamoDB table created by template.yaml")?,
            auth_callback_url: get("AUTH_CALLBACK_URL")
                .map(|u| check_url("AUTH_CALLBACK_URL", &u))
                .transpose()?,
            auth_state_secret,
            auth_success_url: get("AUTH_SUCCESS_URL")
                .map(|u| check_url("AUTH_SUCCESS_URL", &u))
                .transpose()?,
        })
    }

    /// `AUTH_CALLBACK_URL`, or the error naming it.
    pub fn require_callback_url(&self) -> Result<&str, ConfigError> {
        self.auth_callback_url.as_deref().ok_or(ConfigError::Missing {
            name: "AUTH_CALLBACK_URL",
            hint: "the public URL of the callback route (the redirect URI registered with WeChat)",
        })
    }

    /// The message codec for event pushes.
    pub fn msg_crypto(&self) -> MsgCrypto {
        MsgCrypto::new(
            self.msg_token.clone(),
            self.encoding_aes_key.clone(),
            self.encoding_aes_key_previous.clone(),
            self.component_appid.clone(),
        )
    }
}

fn parse_key(name: &'static str, value: &str) -> Result<EncodingAesKey, ConfigError> {
    EncodingAesKey::parse(value).map_err(|e: CryptoError| ConfigError::Malformed {
        name,
        reason: e.to_string(),
    })
}

fn check_url(name: &'static str, value: &str) -> Result<String, ConfigError> {
    let parsed = url::Url::parse(value).map_err(|e| ConfigError::Malformed {
        name,
        reason: format!("{e}: expected an absolute http(s) URL"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::Malformed {
            name,
            reason: "expected an absolute http(s) URL".into(),
        });
    }
    Ok(value.to_owned())
}

fn url_or(name: &'static str, value: Option<String>, default: &str) -> Result<String, ConfigError> {
    match value {
        Some(v) => Ok(check_url(name, &v)?.trim_end_matches('/').to_owned()),
        None => Ok(default.to_owned()),
    }
}

async fn fetch_secret_bundle(
    sdk: &aws_config::SdkConfig,
    arn: &str,
) -> Result<SecretBundle, ConfigError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| ConfigError::Secrets {
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    let text = out.secret_string().ok_or_else(|| ConfigError::Secrets {
        reason: "the secret has no string value".into(),
    })?;
    // The parser's message could quote the secret's text: report only the position.
    serde_json::from_str(text).map_err(|e| ConfigError::Secrets {
        reason: format!(
            "the secret is not a JSON object with component_appsecret, msg_token, encoding_aes_key and state_secret (line {}, column {})",
            e.line(),
            e.column()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn base() -> HashMap<&'static str, String> {
        HashMap::from([
            ("WECHAT_COMPONENT_APPID", "wx_component".to_owned()),
            ("WECHAT_COMPONENT_APPSECRET", "appsecret-value".to_owned()),
            ("WECHAT_MSG_TOKEN", "msg-token".to_owned()),
            ("WECHAT_ENCODING_AES_KEY", KEY.to_owned()),
            ("TABLE_NAME", "table".to_owned()),
            ("AUTH_STATE_SECRET", "s".repeat(32)),
        ])
    }

    fn load(vars: &HashMap<&'static str, String>) -> Result<Config, ConfigError> {
        Config::from_lookup(|n| vars.get(n).cloned(), None)
    }

    #[test]
    fn defaults_apply_and_optional_variables_stay_unset() {
        let c = load(&base()).unwrap();
        assert_eq!(c.api_base, DEFAULT_API_BASE);
        assert_eq!(c.auth_page_base, DEFAULT_AUTH_PAGE_BASE);
        assert!(c.auth_callback_url.is_none());
        assert_eq!(
            c.require_callback_url()
                .unwrap_err()
                .to_string()
                .split(' ')
                .next(),
            Some("AUTH_CALLBACK_URL")
        );
    }

    #[test]
    fn each_missing_variable_is_named() {
        for name in [
            "WECHAT_COMPONENT_APPID",
            "WECHAT_COMPONENT_APPSECRET",
            "WECHAT_MSG_TOKEN",
            "WECHAT_ENCODING_AES_KEY",
            "TABLE_NAME",
            "AUTH_STATE_SECRET",
        ] {
            let mut vars = base();
            vars.insert(name, "  ".into());
            let err = load(&vars).unwrap_err();
            assert!(
                matches!(err, ConfigError::Missing { name: n, .. } if n == name),
                "{name}: {err}"
            );
            assert!(err.to_string().starts_with(name));
        }
    }

    #[test]
    fn malformed_values_are_named_without_echoing_secrets() {
        let cases = [
            ("WECHAT_ENCODING_AES_KEY", "too-short-secret-key"),
            ("WECHAT_ENCODING_AES_KEY_PREVIOUS", "previous-KEY-value"),
            ("WECHAT_API_BASE", "not a url"),
            ("AUTH_CALLBACK_URL", "ftp://example.com/cb"),
            ("WECHAT_COMPONENT_APPID", "wx bad id"),
            ("AUTH_STATE_SECRET", "short-secret"),
        ];
        for (name, value) in cases {
            let mut vars = base();
            vars.insert(name, value.into());
            let err = load(&vars).unwrap_err();
            assert!(
                matches!(err, ConfigError::Malformed { name: n, .. } if n == name),
                "{name}: {err}"
            );
            if name.contains("KEY") || name.contains("SECRET") {
                assert!(!err.to_string().contains(value), "{err}");
            }
        }
    }

    #[test]
    fn a_secret_bundle_overrides_the_four_secrets() {
        let mut vars = base();
        vars.remove("WECHAT_COMPONENT_APPSECRET");
        let bundle = SecretBundle {
            component_appsecret: Some(Secret::new("from-secrets-manager")),
            msg_token: Some(Secret::new("token-from-sm")),
            encoding_aes_key: None,
            state_secret: Some(Secret::new("t".repeat(40))),
        };
        let c = Config::from_lookup(|n| vars.get(n).cloned(), Some(bundle)).unwrap();
        assert_eq!(c.component_appsecret.expose(), "from-secrets-manager");
        assert_eq!(c.msg_token.expose(), "token-from-sm");
        assert_eq!(c.auth_state_secret.expose(), "t".repeat(40));
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("from-secrets-manager") && !debug.contains(KEY),
            "{debug}"
        );
    }
}
