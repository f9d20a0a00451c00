//! `WECHAT_SECRETS_ARN`: one Secrets Manager secret holding every key, or several, comma
//! separated, each holding some. Secrets Manager grants a whole secret or nothing (a policy
//! cannot name a JSON key), so a function is kept to the keys it uses by giving it only the
//! secrets that hold them: template.yaml's `MessageSecretsArn` and `StateSecretsArn`.

use super::ConfigError;
use wxopen_models::Secret;

/// The parts of the configuration, by what reads them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// [`super::CoreConfig`]: every function that calls WeChat.
    Core,
    /// [`super::PushConfig`]: `events` and `messages`.
    Push,
    /// [`super::AuthConfig`]: `authorize` and `callback`.
    Auth,
}

/// The most secrets one function reads at cold start (the template gives two at most).
const MAX_SECRETS: usize = 4;

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
    /// Overrides `WECHAT_ENCODING_AES_KEY_PREVIOUS`: the key before a rotation, tried when the
    /// current one fails, by every function that decrypts.
    #[serde(default)]
    pub encoding_aes_key_previous: Option<Secret>,
    /// Overrides `AUTH_STATE_SECRET`.
    #[serde(default)]
    pub state_secret: Option<Secret>,
    /// Overrides `AUTH_SUCCESS_SIGNING_KEY`: the key the success redirect is signed with.
    #[serde(default)]
    pub success_signing_key: Option<Secret>,
}

impl SecretBundle {
    /// The keys of both bundles. A key in both is an error naming it (never its values): which
    /// one wins would depend on the order of the ARNs, and a rotation could update only one.
    pub fn merge(self, other: SecretBundle) -> Result<SecretBundle, ConfigError> {
        fn one(
            name: &str,
            a: Option<Secret>,
            b: Option<Secret>,
        ) -> Result<Option<Secret>, ConfigError> {
            match (a, b) {
                (Some(_), Some(_)) => Err(ConfigError::Secrets {
                    reason: format!("{name} is in two of its secrets: keep each key in one"),
                }),
                (a, b) => Ok(a.or(b)),
            }
        }
        Ok(SecretBundle {
            component_appsecret: one(
                "component_appsecret",
                self.component_appsecret,
                other.component_appsecret,
            )?,
            msg_token: one("msg_token", self.msg_token, other.msg_token)?,
            encoding_aes_key: one(
                "encoding_aes_key",
                self.encoding_aes_key,
                other.encoding_aes_key,
            )?,
            encoding_aes_key_previous: one(
                "encoding_aes_key_previous",
                self.encoding_aes_key_previous,
                other.encoding_aes_key_previous,
            )?,
            state_secret: one("state_secret", self.state_secret, other.state_secret)?,
            success_signing_key: one(
                "success_signing_key",
                self.success_signing_key,
                other.success_signing_key,
            )?,
        })
    }

    /// The keys present, each with the part of the configuration that reads it.
    pub fn keys(&self) -> Vec<(&'static str, Part)> {
        [
            ("component_appsecret", Part::Core, &self.component_appsecret),
            ("msg_token", Part::Push, &self.msg_token),
            ("encoding_aes_key", Part::Push, &self.encoding_aes_key),
            (
                "encoding_aes_key_previous",
                Part::Push,
                &self.encoding_aes_key_previous,
            ),
            ("state_secret", Part::Auth, &self.state_secret),
            ("success_signing_key", Part::Auth, &self.success_signing_key),
        ]
        .into_iter()
        .filter(|(_, _, value)| value.as_ref().is_some_and(|v| !v.is_empty()))
        .map(|(key, part, _)| (key, part))
        .collect()
    }

    /// The bundle in a secret's text. The parser's message could quote the secret: the error
    /// gives only the position.
    pub fn parse(text: &str) -> Result<SecretBundle, ConfigError> {
        serde_json::from_str(text).map_err(|e| ConfigError::Secrets {
            reason: format!(
                "a secret is not a JSON object of the keys component_appsecret, msg_token, encoding_aes_key, state_secret (line {}, column {})",
                e.line(),
                e.column()
            ),
        })
    }
}

/// The ARNs in `WECHAT_SECRETS_ARN` (comma separated; blanks around them ignored).
pub fn arns(value: &str) -> Result<Vec<&str>, ConfigError> {
    let arns: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .collect();
    if arns.len() > MAX_SECRETS {
        return Err(ConfigError::Malformed {
            name: "WECHAT_SECRETS_ARN",
            reason: format!("it names {} secrets, at most {MAX_SECRETS}", arns.len()),
        });
    }
    for (i, arn) in arns.iter().enumerate() {
        if arns[..i].contains(arn) {
            return Err(ConfigError::Malformed {
                name: "WECHAT_SECRETS_ARN",
                reason: format!("it names {arn} twice"),
            });
        }
    }
    Ok(arns)
}

/// Reads every secret `value` names, at once, and merges their keys.
pub async fn fetch(sdk: &aws_config::SdkConfig, value: &str) -> Result<SecretBundle, ConfigError> {
    let client = aws_sdk_secretsmanager::Client::new(sdk);
    let reads: Vec<_> = arns(value)?
        .into_iter()
        .map(|arn| {
            let (client, arn) = (client.clone(), arn.to_owned());
            tokio::spawn(async move { read(&client, &arn).await })
        })
        .collect();
    let mut bundle = SecretBundle::default();
    for read in reads {
        let one = read.await.map_err(|e| ConfigError::Secrets {
            reason: format!("the read stopped: {e}"),
        })??;
        bundle = bundle.merge(one)?;
    }
    Ok(bundle)
}

async fn read(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
) -> Result<SecretBundle, ConfigError> {
    let out = client
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .map_err(|e| ConfigError::Secrets {
            reason: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
        })?;
    let text = out.secret_string().ok_or_else(|| ConfigError::Secrets {
        reason: format!("{arn} has no string value"),
    })?;
    SecretBundle::parse(text)
}
