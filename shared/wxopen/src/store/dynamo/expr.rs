//! Small helpers for DynamoDB expressions and attribute values.

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

/// `#name` placeholders of every attribute an expression mentions, so no attribute name can
/// collide with one of DynamoDB's reserved words.
pub fn names(expressions: &[&str]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for expr in expressions {
        let bytes = expr.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'#' {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len()
                    && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                {
                    end += 1;
                }
                let name = &expr[start..end];
                out.insert(format!("#{name}"), name.to_owned());
                i = end;
            } else {
                i += 1;
            }
        }
    }
    out
}

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Reads attributes of one item, reporting the item's key on any problem.
pub struct Item<'a> {
    pub key: &'a str,
    pub map: &'a HashMap<String, AttributeValue>,
}

impl Item<'_> {
    pub fn corrupt(&self, reason: impl Into<String>) -> crate::store::StoreError {
        crate::store::StoreError::Corrupt {
            key: self.key.to_owned(),
            reason: reason.into(),
        }
    }

    pub fn opt_s(&self, name: &str) -> Result<Option<String>, crate::store::StoreError> {
        match self.map.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.corrupt(format!("{name} is not a string"))),
        }
    }

    pub fn req_s(&self, name: &str) -> Result<String, crate::store::StoreError> {
        self.opt_s(name)?
            .ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn opt_i64(&self, name: &str) -> Result<Option<i64>, crate::store::StoreError> {
        match self.map.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => v
                .parse()
                .map(Some)
                .map_err(|_| self.corrupt(format!("{name} is not an integer"))),
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    pub fn req_i64(&self, name: &str) -> Result<i64, crate::store::StoreError> {
        self.opt_i64(name)?
            .ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    pub fn u32_list(&self, name: &str) -> Result<Vec<u32>, crate::store::StoreError> {
        match self.map.get(name) {
            None => Ok(Vec::new()),
            Some(AttributeValue::L(items)) => items
                .iter()
                .map(|v| match v {
                    AttributeValue::N(n) => n
                        .parse()
                        .map_err(|_| self.corrupt(format!("{name} holds a non-integer"))),
                    _ => Err(self.corrupt(format!("{name} holds a non-number"))),
                })
                .collect(),
            Some(_) => Err(self.corrupt(format!("{name} is not a list"))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_finds_every_placeholder() {
        let n = super::names(&[
            "SET #status = :s, #version = #version + :one",
            "attribute_exists(#pk)",
        ]);
        assert_eq!(n.len(), 3);
        assert_eq!(n["#status"], "status");
        assert_eq!(n["#pk"], "pk");
    }
}
