//! `component-api`'s template library (模板库) operations: the drafts uploaded from WeChat's
//! developer tools, adding one to the library, listing and deleting templates. They take the
//! component token as `access_token`; WeChat's refusals are the error contract's 502 with its
//! errcode (85064 no such draft, 85065 a full library of 200).

use super::{ComponentCalls, ServiceError};
use crate::wechat::WeChatError;
use serde_json::{json, Map, Value};
use wxopen_models::calls::{ApiCall, Method};

/// One template-library operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateOp {
    /// `gettemplatedraftlist`.
    Drafts,
    /// `addtotemplate` of a draft (`template_type` 0 ordinary, 1 standard).
    Add {
        /// The draft.
        draft_id: u64,
        /// 0 or 1.
        template_type: u8,
    },
    /// `gettemplatelist`, of one type or all.
    List {
        /// 0 or 1; none for both.
        template_type: Option<u8>,
    },
    /// `deletetemplate`.
    Delete {
        /// The template.
        template_id: u64,
    },
}

impl ComponentCalls {
    /// Runs a template-library operation; WeChat's answer (an errcode is an error).
    pub async fn template_library(&self, op: &TemplateOp) -> Result<Value, ServiceError> {
        let (endpoint, method, path, query, body) = match op {
            TemplateOp::Drafts => (
                "gettemplatedraftlist",
                Method::Get,
                "/wxa/gettemplatedraftlist",
                json!({}),
                None,
            ),
            TemplateOp::Add {
                draft_id,
                template_type,
            } => (
                "addtotemplate",
                Method::Post,
                "/wxa/addtotemplate",
                json!({}),
                Some(json!({"draft_id": draft_id, "template_type": template_type})),
            ),
            TemplateOp::List { template_type } => {
                let query = template_type.map_or(json!({}), |t| json!({"template_type": t}));
                (
                    "gettemplatelist",
                    Method::Get,
                    "/wxa/gettemplatelist",
                    query,
                    None,
                )
            }
            TemplateOp::Delete { template_id } => (
                "deletetemplate",
                Method::Post,
                "/wxa/deletetemplate",
                json!({}),
                Some(json!({"template_id": template_id})),
            ),
        };
        let query: Map<String, Value> = match query {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let call = ApiCall {
            path: path.to_owned(),
            method,
            query,
            body,
            // Adding and deleting change the library: a lost answer is not replayed.
            retry: false,
        };
        let checked = call.check().expect("the template calls are well formed");
        let resp = self
            .api
            .call_with_component_token(&checked, "access_token")
            .await?;
        let answer = resp.json().ok_or_else(|| WeChatError::NotJson {
            endpoint,
            snippet: String::from_utf8_lossy(&resp.body)
                .chars()
                .take(80)
                .collect(),
        })?;
        match answer.get("errcode").and_then(Value::as_i64).unwrap_or(0) {
            0 => Ok(answer),
            errcode => Err(WeChatError::Api {
                endpoint,
                errcode,
                errmsg: answer["errmsg"].as_str().unwrap_or_default().to_owned(),
            }
            .into()),
        }
    }
}
