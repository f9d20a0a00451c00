//! The small HTML pages a person's browser sees after the authorization page.

use crate::ApiError;
use wxopen::services::{permission_views, Completed};

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

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}}\
         h1{{font-size:1.4rem}}li{{margin:.2rem 0}}.muted{{color:#666}}</style></head>\
         <body>{body}</body></html>\n",
        title = escape(title)
    )
}

/// The result page of a completed authorization: the account and its granted permissions.
pub fn authorized(done: &Completed) -> String {
    let appid = done.record.authorizer_appid.as_str();
    let name = done
        .info
        .as_ref()
        .map(|i| i.authorizer_info.profile().nick_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| appid.to_owned());
    let kind = match done.info.as_ref().map(|i| i.authorizer_info.kind()) {
        Some(wxopen_models::authorizer_info::AccountKind::MiniProgram) => "Mini Program",
        Some(wxopen_models::authorizer_info::AccountKind::OfficialAccount) => "Official Account",
        None => "Account",
    };
    let permissions: String = permission_views(&done.record.permission_ids)
        .iter()
        .map(|p| {
            format!(
                "<li data-permission-id=\"{id}\">{name} <span class=\"muted\">({id})</span></li>",
                id = p.id,
                name = escape(p.name.unwrap_or("Permission set"))
            )
        })
        .collect();
    let permissions = if permissions.is_empty() {
        "<li>No permission sets were granted.</li>".to_owned()
    } else {
        permissions
    };
    page(
        "Authorization complete",
        &format!(
            "<h1 id=\"result\" data-status=\"{status}\">Authorization complete</h1>\
             <p>{kind} <strong id=\"account-name\">{name}</strong> \
             (<code id=\"authorizer-appid\">{appid}</code>) has authorized this platform.</p>\
             <h2>Granted permission sets</h2><ul id=\"permissions\">{permissions}</ul>",
            status = done.record.status,
            kind = kind,
            name = escape(&name),
            appid = escape(appid),
        ),
    )
}

/// A readable page for a failure, saying what to do next.
pub fn error(e: &ApiError) -> String {
    let advice = match e.code.as_str() {
        "auth_code_expired" | "auth_code_invalid" | "expired_state" | "missing_state"
        | "invalid_state" | "missing_auth_code" => {
            "Please start the authorization again from the page that sent you here."
        }
        _ if e.status >= 500 => {
            "This is a problem on the platform's side. Please try again in a few minutes."
        }
        _ => "Please start the authorization again from the page that sent you here.",
    };
    page(
        "Authorization failed",
        &format!(
            "<h1 id=\"result\" data-error-code=\"{code}\">Authorization failed</h1>\
             <p id=\"message\">{message}</p><p>{advice}</p>\
             <p class=\"muted\">Error code: <code>{code}</code></p>",
            code = escape(&e.code),
            message = escape(&e.message),
        ),
    )
}
