//! Which function is which: the names (or ARNs) the client invokes.

/// The service's functions as the client invokes them: names or ARNs, as the template's outputs
/// give them (`AuthorizerTokenFunctionArn`, ...) or as `sam deploy` named them
/// (`<stack>-authorizer-token`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Functions {
    /// `authorizer-token`.
    pub authorizer_token: String,
    /// `authorizer-info`.
    pub authorizer_info: String,
    /// `authorizer-api`.
    pub authorizer_api: String,
    /// `component-api`.
    pub component_api: String,
    /// `authorize` (minting links).
    pub authorize: String,
    /// `exchange`.
    pub exchange: String,
    /// `rollouts`.
    pub rollouts: String,
}

/// The variable naming each function, and its binary name.
const VARIABLES: [(&str, &str); 7] = [
    ("WXOPEN_AUTHORIZER_TOKEN_FUNCTION", "authorizer-token"),
    ("WXOPEN_AUTHORIZER_INFO_FUNCTION", "authorizer-info"),
    ("WXOPEN_AUTHORIZER_API_FUNCTION", "authorizer-api"),
    ("WXOPEN_COMPONENT_API_FUNCTION", "component-api"),
    ("WXOPEN_AUTHORIZE_FUNCTION", "authorize"),
    ("WXOPEN_EXCHANGE_FUNCTION", "exchange"),
    ("WXOPEN_ROLLOUTS_FUNCTION", "rollouts"),
];

impl Functions {
    /// Each function named `<prefix><binary>`: `Functions::named("my-stack-")` for a stack
    /// deployed by `sam deploy` as `my-stack`, `Functions::named("")` for `cargo lambda watch`.
    pub fn named(prefix: &str) -> Self {
        let name = |binary: &str| format!("{prefix}{binary}");
        Self {
            authorizer_token: name("authorizer-token"),
            authorizer_info: name("authorizer-info"),
            authorizer_api: name("authorizer-api"),
            component_api: name("component-api"),
            authorize: name("authorize"),
            exchange: name("exchange"),
            rollouts: name("rollouts"),
        }
    }

    /// From the environment: `WXOPEN_STACK` (names as `sam deploy` gives them), each overridden
    /// by its own variable (`WXOPEN_AUTHORIZER_TOKEN_FUNCTION`, ...: a name or an ARN).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let prefix = lookup("WXOPEN_STACK")
            .map(|s| format!("{s}-"))
            .unwrap_or_default();
        let mut functions = Self::named(&prefix);
        for (variable, binary) in VARIABLES {
            if let Some(value) = lookup(variable).filter(|v| !v.trim().is_empty()) {
                *functions.slot(binary) = value.trim().to_owned();
            }
        }
        functions
    }

    fn slot(&mut self, binary: &str) -> &mut String {
        match binary {
            "authorizer-token" => &mut self.authorizer_token,
            "authorizer-info" => &mut self.authorizer_info,
            "authorizer-api" => &mut self.authorizer_api,
            "component-api" => &mut self.component_api,
            "authorize" => &mut self.authorize,
            "exchange" => &mut self.exchange,
            _ => &mut self.rollouts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_stack_and_each_may_be_overridden() {
        let vars = std::collections::HashMap::from([
            ("WXOPEN_STACK", "platform"),
            (
                "WXOPEN_EXCHANGE_FUNCTION",
                "arn:aws:lambda:us-east-1:123456789012:function:x",
            ),
        ]);
        let f = Functions::from_lookup(|n| vars.get(n).map(|v| v.to_string()));
        assert_eq!(f.authorizer_token, "platform-authorizer-token");
        assert_eq!(
            f.exchange,
            "arn:aws:lambda:us-east-1:123456789012:function:x"
        );
        assert_eq!(Functions::from_lookup(|_| None), Functions::named(""));
    }
}
