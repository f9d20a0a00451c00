//! `WECHAT_API_FALLBACK_BASES`: WeChat's other access points, tried when `WECHAT_API_BASE`
//! cannot be reached.

use super::{ConfigError, Env, DEFAULT_API_BASE};
use url::Url;

/// WeChat's disaster-recovery access point, the default fallback of its main one.
pub const DEFAULT_FALLBACK_BASE: &str = "https://api2.weixin.qq.com";

const NAME: &str = "WECHAT_API_FALLBACK_BASES";

/// An https host of WeChat's, or loopback (the simulator and tests).
fn acceptable(url: &Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    let wechat = url.scheme() == "https"
        && url
            .host_str()
            .is_some_and(|h| h == "weixin.qq.com" || h.ends_with(".weixin.qq.com"));
    let plain = url.path() == "/" && url.query().is_none() && url.username().is_empty();
    plain && (wechat || (loopback && matches!(url.scheme(), "http" | "https")))
}

impl Env {
    /// The access points after `primary`: as `WECHAT_API_FALLBACK_BASES` lists them (empty:
    /// none), or, unset, WeChat's disaster-recovery twin when `primary` is WeChat's main host
    /// (never for another primary: a local one must not fail over to the internet).
    pub fn fallback_bases(&self, primary: &Url) -> Result<Vec<Url>, ConfigError> {
        let Some(list) = self.get(NAME) else {
            let main = Url::parse(DEFAULT_API_BASE).expect("a valid constant");
            return Ok(match primary.host_str() == main.host_str() {
                true => vec![Url::parse(DEFAULT_FALLBACK_BASE).expect("a valid constant")],
                false => Vec::new(),
            });
        };
        let bases: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .collect();
        if bases.len() > 4 {
            return Err(ConfigError::Malformed {
                name: NAME,
                reason: "at most four access points".into(),
            });
        }
        bases
            .into_iter()
            .map(|b| {
                Url::parse(b).ok().filter(acceptable).ok_or_else(|| ConfigError::Malformed {
                    name: NAME,
                    reason: format!("{:?} is not an https WeChat access point (such as {DEFAULT_FALLBACK_BASE}, https://sh.api.weixin.qq.com) or a loopback URL", b.chars().take(80).collect::<String>()),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::env_of as env;

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn the_fallbacks_default_to_wechats_twin_only_for_its_main_host() {
        let main = url(DEFAULT_API_BASE);
        assert_eq!(
            env(&[]).fallback_bases(&main).unwrap(),
            [url(DEFAULT_FALLBACK_BASE)]
        );
        assert!(env(&[])
            .fallback_bases(&url("http://127.0.0.1:9100"))
            .unwrap()
            .is_empty());
        assert!(
            env(&[(NAME, "")]).fallback_bases(&main).unwrap().is_empty(),
            "empty: none"
        );
        let listed = env(&[(NAME, "https://sh.api.weixin.qq.com, http://127.0.0.1:8080")]);
        assert_eq!(
            listed.fallback_bases(&main).unwrap(),
            [
                url("https://sh.api.weixin.qq.com"),
                url("http://127.0.0.1:8080")
            ]
        );
    }

    #[test]
    fn a_fallback_that_is_not_a_wechat_host_or_loopback_is_named() {
        let main = url(DEFAULT_API_BASE);
        for bad in [
            "https://evil.example",
            "http://api2.weixin.qq.com",
            "https://api2.weixin.qq.com/x",
            "nonsense",
        ] {
            let err = env(&[(NAME, bad)]).fallback_bases(&main).unwrap_err();
            assert!(err.to_string().contains(NAME), "{bad}: {err}");
        }
    }
}
