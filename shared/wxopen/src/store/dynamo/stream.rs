//! The table's stream: a history item, as the stream's `NewImage` carries it (DynamoDB's JSON
//! of attribute values), read back into the change it records. History items are the outbox of
//! the events other services receive.

use super::items::parse_history;
use super::Attrs;
use crate::store::{HistoryChange, StoreError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};
use wxopen_models::{AuthorizerAppid, ComponentAppid};

/// Reads a stream image. `Ok(None)` for an item that is not a history item.
pub fn history_change(image: &Map<String, Value>) -> Result<Option<HistoryChange>, StoreError> {
    let corrupt = |key: &str, reason: String| StoreError::Corrupt {
        key: key.to_owned(),
        reason,
    };
    let text = |name: &str| match image.get(name).and_then(|v| v.get("S")) {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let (Some(pk), Some(sk)) = (text("pk"), text("sk")) else {
        return Ok(None);
    };
    let Some((component, appid)) = pk
        .strip_prefix("component#")
        .and_then(|rest| rest.split_once("#history#"))
    else {
        return Ok(None);
    };
    let component = ComponentAppid::parse(component).map_err(|e| corrupt(&pk, e.to_string()))?;
    let authorizer_appid =
        AuthorizerAppid::parse(appid).map_err(|e| corrupt(&pk, e.to_string()))?;
    let attrs: Attrs = image
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                attribute(v).ok_or_else(|| {
                    corrupt(
                        &sk,
                        format!("attribute {k} is not a DynamoDB attribute value"),
                    )
                })?,
            ))
        })
        .collect::<Result<_, StoreError>>()?;
    let entry = parse_history(&attrs)?;
    Ok(Some(HistoryChange {
        key: format!("{pk}/{sk}"),
        component_appid: component,
        authorizer_appid,
        entry,
    }))
}

/// One attribute value from DynamoDB's JSON (`{"S": ...}`, `{"N": ...}`, `{"L": [...]}`, ...).
fn attribute(v: &Value) -> Option<AttributeValue> {
    let (kind, inner) = v.as_object()?.iter().next()?;
    Some(match (kind.as_str(), inner) {
        ("S", Value::String(s)) => AttributeValue::S(s.clone()),
        ("N", Value::String(n)) => AttributeValue::N(n.clone()),
        ("BOOL", Value::Bool(b)) => AttributeValue::Bool(*b),
        ("NULL", _) => AttributeValue::Null(true),
        ("L", Value::Array(items)) => {
            AttributeValue::L(items.iter().map(attribute).collect::<Option<_>>()?)
        }
        ("M", Value::Object(map)) => AttributeValue::M(
            map.iter()
                .map(|(k, v)| Some((k.clone(), attribute(v)?)))
                .collect::<Option<_>>()?,
        ),
        ("SS", Value::Array(items)) => AttributeValue::Ss(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        ),
        ("NS", Value::Array(items)) => AttributeValue::Ns(
            items
                .iter()
                .map(|i| i.as_str().map(str::to_owned))
                .collect::<Option<_>>()?,
        ),
        // Binary attributes are not written by this service.
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use wxopen_models::records::HistoryKind;

    fn image(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_history_item_reads_back_as_its_change() {
        let change = history_change(&image(json!({
            "pk": {"S": "component#wxc#history#wxa"},
            "sk": {"S": "0001795262400000#permissions_changed#0000abcd"},
            "kind": {"S": "permissions_changed"},
            "at_ms": {"N": "1795262400000"},
            "permission_ids": {"L": [{"N": "1"}, {"N": "18"}]}
        })))
        .unwrap()
        .unwrap();
        assert_eq!(change.component_appid.as_str(), "wxc");
        assert_eq!(change.authorizer_appid.as_str(), "wxa");
        assert_eq!(change.entry.kind, HistoryKind::PermissionsChanged);
        assert_eq!(change.entry.at_ms, 1795262400000);
        assert_eq!(change.entry.permission_ids.len(), 2);
        assert_eq!(
            change.key,
            "component#wxc#history#wxa/0001795262400000#permissions_changed#0000abcd"
        );
    }

    #[test]
    fn other_items_are_not_changes_and_broken_ones_are_errors() {
        let authorizer =
            image(json!({"pk": {"S": "component#wxc"}, "sk": {"S": "authorizer#wxa"}}));
        assert_eq!(history_change(&authorizer).unwrap(), None);
        assert_eq!(
            history_change(&image(json!({"x": {"S": "y"}}))).unwrap(),
            None
        );
        let unknown_kind = image(json!({
            "pk": {"S": "component#wxc#history#wxa"}, "sk": {"S": "1#x#1"},
            "kind": {"S": "exploded"}, "at_ms": {"N": "1"}, "permission_ids": {"L": []}
        }));
        assert!(history_change(&unknown_kind).is_err());
        let bad_value = image(json!({
            "pk": {"S": "component#wxc#history#wxa"}, "sk": {"S": "1#x#1"}, "kind": {"Q": 1}
        }));
        assert!(history_change(&bad_value).is_err());
    }
}
