//! The keys a registration is found by. WeChat's push names a registration by its task id
//! (new-version flows), its unique id (beta), or only by echoing the names it was made with;
//! names are hashed, so the table holds no person's or enterprise's details.

use crate::services::secret_hash;
use wxopen_models::pushes::RegistrationInfo;
use wxopen_models::registration::RegistrationDetails;
use wxopen_models::AuthorizerAppid;

fn names(parts: &[&str]) -> String {
    let joined: Vec<&str> = parts.iter().map(|p| p.trim()).collect();
    format!("names:{}", secret_hash(&joined.join("\u{1f}")))
}

/// The key of what a registration registers: at most one live registration holds it, and the
/// registration push's echo of the names finds it.
pub fn identity(details: &RegistrationDetails) -> String {
    match details {
        RegistrationDetails::Enterprise { name, code, .. } => names(&["enterprise", name, code]),
        RegistrationDetails::Personal { idname, wxuser, .. } => {
            names(&["personal", idname, wxuser])
        }
        RegistrationDetails::Beta { name, openid } => names(&["beta", name, openid]),
    }
}

/// Keys beside the identity, stored with WeChat's answer: the beta push echoes only the name.
pub fn echoed(details: &RegistrationDetails) -> Vec<String> {
    match details {
        RegistrationDetails::Beta { name, .. } => vec![names(&["beta-name", name])],
        _ => Vec::new(),
    }
}

/// The key of WeChat's task id.
pub fn task(taskid: &str) -> String {
    format!("task:{}", taskid.trim())
}

/// The key of a beta registration's unique id.
pub fn unique(unique_id: &str) -> String {
    format!("unique:{}", unique_id.trim())
}

/// The key of the account a registration created.
pub fn account(appid: &AuthorizerAppid) -> String {
    format!("account:{appid}")
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The keys a registration push can be matched by, most specific first.
pub fn of_push(info: &RegistrationInfo, beta: bool) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(t) = present(&info.taskid) {
        keys.push(task(t));
    }
    if let Some(u) = present(&info.unique_id) {
        keys.push(unique(u));
    }
    if beta {
        if let Some(name) = present(&info.name) {
            keys.push(names(&["beta-name", name]));
        }
        return keys;
    }
    if let (Some(name), Some(code)) = (present(&info.name), present(&info.code)) {
        keys.push(names(&["enterprise", name, code]));
    }
    if let (Some(idname), Some(wxuser)) = (present(&info.idname), present(&info.wxuser)) {
        keys.push(names(&["personal", idname, wxuser]));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn details(v: serde_json::Value) -> RegistrationDetails {
        serde_json::from_value(v).unwrap()
    }

    fn info(v: serde_json::Value) -> RegistrationInfo {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_push_echoing_the_names_finds_the_identity() {
        let e = details(
            json!({"kind": "enterprise", "name": "Acme", "code": "91440300MA5EXAMPLE", "component_phone": "1"}),
        );
        let pushed = info(
            json!({"name": " Acme", "code": "91440300MA5EXAMPLE", "legal_persona_name": "Li"}),
        );
        assert_eq!(of_push(&pushed, false), vec![identity(&e)]);
        let p = details(json!({"kind": "personal", "idname": "Wang", "wxuser": "wang_w"}));
        let pushed = info(json!({"idname": "Wang", "wxuser": "wang_w"}));
        assert_eq!(of_push(&pushed, false), vec![identity(&p)]);
        let b = details(json!({"kind": "beta", "name": "Trial", "openid": "o1"}));
        let pushed = info(json!({"unique_id": "u1", "name": "Trial"}));
        assert_eq!(
            of_push(&pushed, true),
            vec![unique("u1"), echoed(&b)[0].clone()]
        );
    }

    #[test]
    fn the_task_id_comes_first_and_no_key_holds_a_name() {
        let pushed = info(json!({"taskid": "t9", "name": "Acme", "code": "X"}));
        let keys = of_push(&pushed, false);
        assert_eq!(keys[0], "task:t9");
        assert!(keys.iter().all(|k| !k.contains("Acme")), "{keys:?}");
        assert!(of_push(&info(json!({})), false).is_empty());
    }
}
