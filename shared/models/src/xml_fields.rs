//! Any XML WeChat sends, read whole into a JSON object: what is published "as WeChat sent it"
//! (a user's message, a component push), whatever its fields.

use crate::events::EventError;
use serde_json::{Map, Value};

/// How deeply elements (or JSON objects) may nest: WeChat's deepest, a message's
/// `ScanCodeInfo` or a push's `info`, is three.
pub const MAX_DEPTH: usize = 8;

/// Reads `<xml>` into a JSON object: a leaf element becomes its text, an element with children
/// an object, and a repeated element an array.
pub fn xml_fields(xml: &str) -> Result<Map<String, Value>, EventError> {
    use quick_xml::events::Event;
    let bad = |e: &dyn std::fmt::Display| EventError::Xml(e.to_string());
    let mut reader = quick_xml::Reader::from_str(xml);
    // Stack of (element name, its children so far, its text so far).
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut root: Option<Map<String, Value>> = None;
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(EventError::Xml("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(EventError::Xml("elements nested too deeply".into()));
                }
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                stack.push((name, Map::new(), String::new()));
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                match stack.last_mut() {
                    Some((_, children, _)) => insert(children, name, Value::String(String::new())),
                    None => root = Some(Map::new()),
                }
            }
            Event::Text(t) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(&t.unescape().map_err(|e| bad(&e))?);
                }
            }
            Event::CData(c) => {
                if let Some((_, _, text)) = stack.last_mut() {
                    text.push_str(
                        std::str::from_utf8(&c.into_inner())
                            .map_err(|_| bad(&"CDATA not UTF-8"))?,
                    );
                }
            }
            Event::End(_) => {
                let (name, children, text) = stack.pop().ok_or_else(|| bad(&"unbalanced end"))?;
                match stack.last_mut() {
                    Some((_, parent, _)) => {
                        let value = if children.is_empty() {
                            Value::String(text)
                        } else {
                            Value::Object(children)
                        };
                        insert(parent, name, value);
                    }
                    None if name == "xml" => root = Some(children),
                    None => {
                        return Err(EventError::Xml(format!("the root is <{name}>, not <xml>")))
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(EventError::Xml("the message ends inside an element".into()));
    }
    root.ok_or_else(|| EventError::Xml("no <xml> element".into()))
}

fn insert(map: &mut Map<String, Value>, name: String, value: Value) {
    match map.get_mut(&name) {
        None => {
            map.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}
