//! The small HTML pages a person's browser sees after the authorization page, in Chinese or
//! English: the administrators who land here mostly read Chinese.

use crate::ApiError;
use wxopen::services::{permission_views, Completed};
use wxopen_models::authorizer_info::AccountKind;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English (the default).
    En,
    /// Simplified Chinese.
    Zh,
}

impl Lang {
    /// Chinese when the `Accept-Language` header's most preferred language is Chinese (`zh`,
    /// `zh-CN`, `zh-Hans`, ...), English otherwise or without the header.
    pub fn from_accept_language(header: Option<&str>) -> Self {
        let Some(header) = header else {
            return Self::En;
        };
        let mut best: Option<(f32, &str)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            if tag.is_empty() {
                continue;
            }
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .unwrap_or(0.0);
            if best.is_none_or(|(b, _)| q > b) {
                best = Some((q, tag));
            }
        }
        match best {
            Some((q, tag))
                if q > 0.0
                    && (tag.eq_ignore_ascii_case("zh")
                        || tag.to_ascii_lowercase().starts_with("zh-")) =>
            {
                Self::Zh
            }
            _ => Self::En,
        }
    }

    fn pick(self, en: &'static str, zh: &'static str) -> &'static str {
        match self {
            Self::En => en,
            Self::Zh => zh,
        }
    }
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page(lang: Lang, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}}\
         h1{{font-size:1.4rem}}li{{margin:.2rem 0}}.muted{{color:#666}}</style></head>\
         <body>{body}</body></html>\n",
        lang = lang.pick("en", "zh-CN"),
        title = escape(title)
    )
}

/// The result page of a completed authorization: the account and its granted permissions.
pub fn authorized(done: &Completed, lang: Lang) -> String {
    let appid = done.record.authorizer_appid.as_str();
    let name = done
        .info
        .as_ref()
        .map(|i| i.authorizer_info.profile().nick_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| appid.to_owned());
    let kind = match done.info.as_ref().map(|i| i.authorizer_info.kind()) {
        Some(AccountKind::MiniProgram) => lang.pick("Mini Program", "小程序"),
        Some(AccountKind::OfficialAccount) => lang.pick("Official Account", "公众号"),
        None => lang.pick("Account", "帐号"),
    };
    let permissions: String = permission_views(&done.record.permission_ids)
        .iter()
        .map(|p| {
            let name = match lang {
                Lang::En => p.name.unwrap_or("Permission set"),
                Lang::Zh => p.name_zh.unwrap_or("权限集"),
            };
            format!(
                "<li data-permission-id=\"{id}\">{name} <span class=\"muted\">({id})</span></li>",
                id = p.id,
                name = escape(name)
            )
        })
        .collect();
    let permissions = if permissions.is_empty() {
        format!(
            "<li>{}</li>",
            lang.pick("No permission sets were granted.", "未授予任何权限集。")
        )
    } else {
        permissions
    };
    let title = lang.pick("Authorization complete", "授权成功");
    let sentence = match lang {
        Lang::En => format!(
            "{kind} <strong id=\"account-name\">{name}</strong> (<code id=\"authorizer-appid\">{appid}</code>) has authorized this platform.",
            name = escape(&name),
            appid = escape(appid)
        ),
        Lang::Zh => format!(
            "{kind}<strong id=\"account-name\">{name}</strong>（<code id=\"authorizer-appid\">{appid}</code>）已授权本平台。",
            name = escape(&name),
            appid = escape(appid)
        ),
    };
    page(
        lang,
        title,
        &format!(
            "<h1 id=\"result\" data-status=\"{status}\">{title}</h1>\
             <p id=\"account\" data-account-kind=\"{kind}\">{sentence}</p>\
             <h2>{heading}</h2><ul id=\"permissions\">{permissions}</ul>",
            status = done.record.status,
            heading = lang.pick("Granted permission sets", "已授予的权限集"),
        ),
    )
}

/// A readable page for a failure, saying what to do next.
pub fn error(e: &ApiError, lang: Lang) -> String {
    let again = lang.pick(
        "Please start the authorization again from the page that sent you here.",
        "请从引导您来到这里的页面重新发起授权。",
    );
    let advice = match e.code.as_str() {
        _ if e.status >= 500 => lang.pick(
            "This is a problem on the platform's side. Please try again in a few minutes.",
            "这是平台方的问题，请几分钟后再试。",
        ),
        _ => again,
    };
    let title = lang.pick("Authorization failed", "授权失败");
    page(
        lang,
        title,
        &format!(
            "<h1 id=\"result\" data-error-code=\"{code}\">{title}</h1>\
             <p id=\"advice\">{advice}</p><p id=\"message\" class=\"muted\" lang=\"en\">{message}</p>\
             <p class=\"muted\">{label}<code>{code}</code></p>",
            code = escape(&e.code),
            message = escape(&e.message),
            label = lang.pick("Error code: ", "错误代码："),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn chinese_only_when_it_is_the_most_preferred_language() {
        for (header, lang) in [
            (None, Lang::En),
            (Some(""), Lang::En),
            (Some("zh-CN,zh;q=0.9,en;q=0.8"), Lang::Zh),
            (Some("zh"), Lang::Zh),
            (Some("ZH-hans"), Lang::Zh),
            (Some("en-US,en;q=0.9,zh-CN;q=0.8"), Lang::En),
            (Some("en;q=0.5, zh-TW;q=0.8"), Lang::Zh),
            (Some("zh;q=0"), Lang::En),
            (Some("zhx"), Lang::En),
            (Some("fr, zh;q=bogus"), Lang::En),
        ] {
            assert_eq!(Lang::from_accept_language(header), lang, "{header:?}");
        }
    }
}
