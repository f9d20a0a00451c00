//! `template.yaml` against the code and DESIGN.md: every function binary has a resource, every
//! route exists with the right authorization and target, no policy grants `*`, and the table
//! is protected as a store of refresh tokens must be.

use serde_yaml::Value;
use std::collections::BTreeSet;

fn template() -> Value {
    let text = std::fs::read_to_string(integration_tests::dynamo::TEMPLATE).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The value under a CloudFormation short-form tag (`!Ref X` gives `X`), or the value itself.
fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => &t.value,
        other => other,
    }
}

fn tag(v: &Value) -> Option<String> {
    match v {
        Value::Tagged(t) => Some(t.tag.to_string()),
        _ => None,
    }
}

fn resources(t: &Value) -> Vec<(String, &Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
        .collect()
}

fn of_type<'a>(t: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    resources(t)
        .into_iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .collect()
}

fn function_binaries() -> BTreeSet<String> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../functions");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

/// The binary `scripts/sam-build.sh` copies for a function resource: its logical id without
/// `Function`, in kebab case (`AuthorizerInfoFunction` is `authorizer-info`).
fn binary_of(logical_id: &str) -> String {
    let stem = logical_id
        .strip_suffix("Function")
        .unwrap_or_else(|| panic!("{logical_id}: a function's logical id ends in Function"));
    let mut out = String::new();
    for (i, c) in stem.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[test]
fn every_function_binary_has_a_resource_built_by_the_makefile_for_arm64() {
    let t = template();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let makefile = std::fs::read_to_string(format!("{root}/Makefile")).unwrap();
    assert!(
        makefile
            .contains("build-%Function:\n\tbash scripts/sam-build.sh \"$*\" \"$(ARTIFACTS_DIR)\""),
        "the Makefile has the rule sam build runs for every function"
    );
    let samconfig = std::fs::read_to_string(format!("{root}/samconfig.toml")).unwrap();
    assert!(
        samconfig.contains("[default.build.parameters]\n")
            && samconfig.contains("\nbuild_in_source = true\n"),
        "sam build runs the Makefile in place, not on a copy of the project"
    );
    let mut declared = BTreeSet::new();
    for (id, f) in of_type(&t, "AWS::Serverless::Function") {
        assert_eq!(f["Metadata"]["BuildMethod"], "makefile", "{id}");
        assert_eq!(f["Properties"]["CodeUri"], ".", "{id}");
        declared.insert(binary_of(&id));
        assert!(
            f["Properties"]["Policies"].is_sequence(),
            "every function has its own policy"
        );
    }
    let binaries = function_binaries();
    assert_eq!(binaries.len(), 12);
    assert_eq!(declared, binaries);
    let g = &t["Globals"]["Function"];
    assert_eq!(g["Runtime"], "provided.al2023");
    assert_eq!(g["Architectures"][0], "arm64");
    assert_eq!(g["LoggingConfig"]["LogFormat"], "JSON");
    for var in [
        "WECHAT_COMPONENT_APPID",
        "WECHAT_SECRETS_ARN",
        "TABLE_NAME",
        "AUTH_CALLBACK_URL",
        "WECHAT_API_BASE",
        "WECHAT_AUTH_PAGE_BASE",
    ] {
        assert!(
            !g["Environment"]["Variables"][var].is_null(),
            "{var} is set for every function"
        );
    }
}

#[test]
fn every_route_of_the_design_exists_with_its_authorization_and_nothing_else() {
    let t = template();
    let expected = [
        ("GET /wechat/authorize", "authorize", "NONE"),
        ("GET /wechat/callback", "callback", "NONE"),
        ("POST /wechat/events", "events", "NONE"),
        ("POST /wechat/messages/{appid}", "messages", "NONE"),
        ("GET /authorizers", "authorizer-info", "AWS_IAM"),
        ("GET /authorizers/{appid}", "authorizer-info", "AWS_IAM"),
    ];
    let routes = of_type(&t, "AWS::ApiGatewayV2::Route");
    let keys: BTreeSet<&str> = routes
        .iter()
        .map(|(_, r)| r["Properties"]["RouteKey"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        expected.iter().map(|e| e.0).collect(),
        "no route is missing and none is extra"
    );
    for (key, binary, auth) in expected {
        let (_, route) = routes
            .iter()
            .find(|(_, r)| r["Properties"]["RouteKey"] == key)
            .unwrap();
        assert_eq!(route["Properties"]["AuthorizationType"], auth, "{key}");
        // The route's integration invokes the right function.
        let target = untag(&route["Properties"]["Target"]).as_str().unwrap();
        let integration_name = target
            .trim_start_matches("integrations/${")
            .trim_end_matches('}');
        let integration = &t["Resources"][integration_name];
        assert_eq!(
            integration["Type"], "AWS::ApiGatewayV2::Integration",
            "{key}"
        );
        assert_eq!(integration["Properties"]["PayloadFormatVersion"], "2.0");
        let uri = untag(&integration["Properties"]["IntegrationUri"])
            .as_str()
            .unwrap();
        let function_name = uri.trim_end_matches(".Arn");
        assert_eq!(binary_of(function_name), binary, "{key}");
        // API Gateway may invoke that function.
        let permitted = of_type(&t, "AWS::Lambda::Permission")
            .iter()
            .any(|(_, p)| untag(&p["Properties"]["FunctionName"]).as_str() == Some(function_name));
        assert!(permitted, "{key}: no invoke permission for {function_name}");
    }
}

fn walk<'a>(v: &'a Value, path: &mut Vec<String>, found: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let key = k.as_str().unwrap_or_default().to_owned();
                if key == "Action"
                    || key == "Resource"
                    || key == "NotAction"
                    || key == "NotResource"
                {
                    found.push((format!("{}.{key}", path.join(".")), child));
                }
                path.push(key);
                walk(child, path, found);
                path.pop();
            }
        }
        Value::Sequence(s) => s.iter().for_each(|c| walk(c, path, found)),
        Value::Tagged(t) => walk(&t.value, path, found),
        _ => {}
    }
}

#[test]
fn no_policy_grants_a_wildcard() {
    let t = template();
    let mut found = Vec::new();
    walk(&t["Resources"], &mut Vec::new(), &mut found);
    assert!(
        found.len() >= 14,
        "the policies were found ({})",
        found.len()
    );
    for (path, value) in found {
        assert!(
            !path.ends_with("NotAction") && !path.ends_with("NotResource"),
            "{path} inverts a grant"
        );
        if path.starts_with("TokenKey.Properties.KeyPolicy.") {
            continue; // A key policy's `*` is the key itself: checked in the test of the key.
        }
        let values: Vec<&Value> = match untag(value) {
            Value::Sequence(s) => s.iter().collect(),
            other => vec![other],
        };
        for v in values {
            if tag(v).is_some() {
                continue; // !Ref / !GetAtt: a specific resource.
            }
            let text = v.as_str().unwrap_or_default();
            assert!(!text.contains('*'), "{path} grants {text:?}");
        }
    }
    // Policy templates such as DynamoDBCrudPolicy grant more than needed: none is used.
    for (name, f) in of_type(&t, "AWS::Serverless::Function") {
        for p in f["Properties"]["Policies"].as_sequence().unwrap() {
            assert!(
                p.get("Statement").is_some(),
                "{name} uses a managed policy or template"
            );
        }
    }
}

#[test]
fn the_table_is_protected_as_a_store_of_refresh_tokens_must_be() {
    let t = template();
    let tables = of_type(&t, "AWS::DynamoDB::Table");
    assert_eq!(tables.len(), 1);
    let (_, table) = &tables[0];
    assert_eq!(table["DeletionPolicy"], "Retain");
    let p = &table["Properties"];
    assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(p["TimeToLiveSpecification"]["AttributeName"], "expires_at");
    assert_eq!(p["TimeToLiveSpecification"]["Enabled"], true);
    assert_eq!(
        p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(p["DeletionProtectionEnabled"], true);
}

#[test]
fn the_refresher_is_scheduled_and_the_outputs_name_what_an_operator_pastes() {
    let t = template();
    let (_, refresher) = of_type(&t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(id, _)| binary_of(id) == "refresher")
        .unwrap();
    // Two schedules, each naming its job: the cheap token refresh and the reconcile.
    let events = &refresher["Properties"]["Events"];
    for (event, schedule, job) in [
        ("ComponentToken", "RefresherSchedule", "component_token"),
        ("Reconcile", "ReconcileSchedule", "reconcile"),
    ] {
        let e = &events[event];
        assert_eq!(e["Type"], "Schedule", "{event}");
        let input: serde_json::Value =
            serde_json::from_str(e["Properties"]["Input"].as_str().unwrap()).unwrap();
        assert_eq!(input["job"], job, "{event}");
        assert_eq!(untag(&e["Properties"]["Schedule"]), schedule, "{event}");
    }
    assert_eq!(
        t["Parameters"]["ReconcileSchedule"]["Default"],
        "rate(1 hour)"
    );
    // A reconcile may run up to Lambda's limit; it stops before it by itself.
    assert_eq!(refresher["Properties"]["Timeout"], 900);
    for output in [
        "RedirectUri",
        "AuthorizationEventUrl",
        "AuthorizerTokenFunctionArn",
        "AuthorizerInfoFunctionArn",
        "ExchangeFunctionArn",
        "AuthorizerApiFunctionArn",
        "ComponentApiFunctionArn",
        "AuthorizeFunctionArn",
        "MessageUrl",
        "EventBus",
    ] {
        assert!(!t["Outputs"][output].is_null(), "{output}");
    }
    assert!(each_choice_ends_with(
        &t["Outputs"]["AuthorizationEventUrl"]["Value"],
        "/wechat/events"
    ));
    assert!(each_choice_ends_with(
        &t["Outputs"]["RedirectUri"]["Value"],
        "/wechat/callback"
    ));
    assert_eq!(t["Parameters"]["SecretsArn"]["Type"], "String");
}

fn function<'a>(t: &'a Value, binary: &str) -> &'a Value {
    of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .find(|(id, _)| binary_of(id) == binary)
        .unwrap_or_else(|| panic!("no function for {binary}"))
        .1
}

#[test]
fn history_items_reach_the_notifier_through_the_stream_and_only_it_messages_and_events_publish() {
    let t = template();
    let (_, table) = &of_type(&t, "AWS::DynamoDB::Table")[0];
    assert_eq!(
        table["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_IMAGE"
    );
    let notifier = function(&t, "notifier");
    let stream = &notifier["Properties"]["Events"]["HistoryItems"];
    assert_eq!(stream["Type"], "DynamoDB");
    let p = &stream["Properties"];
    assert_eq!(untag(&p["Stream"]), "StateTable.StreamArn");
    assert_eq!(p["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert_eq!(p["BisectBatchOnFunctionError"], true);
    assert!(p["MaximumRetryAttempts"].as_u64().unwrap() > 0);
    assert!(!p["DestinationConfig"]["OnFailure"]["Destination"].is_null());
    // The filter admits exactly the kinds the notifier publishes.
    let pattern: serde_json::Value = serde_json::from_str(
        p["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(pattern["eventName"][0], "INSERT");
    let kinds: BTreeSet<String> = pattern["dynamodb"]["NewImage"]["kind"]["S"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    use wxopen_models::records::HistoryKind::*;
    let published: BTreeSet<String> = [
        Authorized,
        Reauthorized,
        PermissionsChanged,
        Revoked,
        NeedsReauth,
        RefreshTokenReplaced,
        RefreshTokenRecovered,
    ]
    .into_iter()
    .filter(|k| wxopen_models::notifications::change_detail_type(*k).is_some())
    .map(|k| k.as_str().to_owned())
    .collect();
    assert_eq!(kinds, published);
    // Exactly four functions may put events, each on the one bus.
    for (name, f) in of_type(&t, "AWS::Serverless::Function") {
        let text = serde_yaml::to_string(&f["Properties"]["Policies"]).unwrap();
        let binary = binary_of(&name);
        let publishes = matches!(
            binary.as_str(),
            "messages" | "notifier" | "events" | "rollouts"
        );
        assert_eq!(text.contains("events:PutEvents"), publishes, "{name}");
        if publishes {
            assert!(
                text.contains("EventBus.Arn") && text.contains("event-bus/${EventBusName}"),
                "{name}: {text}"
            );
            assert!(!f["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"].is_null());
        }
    }
    assert!(each_choice_ends_with(
        &t["Outputs"]["MessageUrl"]["Value"],
        "/wechat/messages/$APPID$"
    ));
}

/// Whether a URL (an `!If` of the custom domain's and the API's own) ends with `path` either way.
fn each_choice_ends_with(v: &Value, path: &str) -> bool {
    let choices = untag(v).as_sequence().expect("an !If of two URLs");
    choices[1..]
        .iter()
        .all(|c| untag(c).as_str().is_some_and(|u| u.ends_with(path)))
}

/// The template as CloudFormation would render it for some parameter values: conditions
/// evaluated, `!If` chosen, `!Ref` to a parameter replaced by its value (to a resource by
/// `ref:<name>`), `AWS::NoValue` as null.
struct Rendered<'a> {
    t: &'a Value,
    params: std::collections::HashMap<&'static str, Value>,
}

fn tag_name(v: &Value) -> Option<String> {
    tag(v).map(|t| t.trim_start_matches('!').to_owned())
}

impl Rendered<'_> {
    fn condition(&self, name: &str) -> bool {
        let c = &self.t["Conditions"][name];
        assert!(!c.is_null(), "no condition {name}");
        self.holds(c)
    }

    fn holds(&self, v: &Value) -> bool {
        let args = || untag(v).as_sequence().cloned().unwrap_or_default();
        match tag_name(v).as_deref() {
            Some("Equals") => {
                let a = args();
                self.resolve(&a[0]) == self.resolve(&a[1])
            }
            Some("Or") => args().iter().any(|c| self.holds(c)),
            Some("And") => args().iter().all(|c| self.holds(c)),
            Some("Not") => !self.holds(&args()[0]),
            Some("Condition") => self.condition(untag(v).as_str().unwrap()),
            other => panic!("condition function {other:?} is not rendered"),
        }
    }

    fn resolve(&self, v: &Value) -> Value {
        match (tag_name(v).as_deref(), untag(v)) {
            (Some("Ref"), Value::String(name)) if name == "AWS::NoValue" => Value::Null,
            (Some("Ref"), Value::String(name)) => match self.params.get(name.as_str()) {
                Some(p) => p.clone(),
                None => Value::String(format!("ref:{name}")),
            },
            (Some("If"), Value::Sequence(args)) => {
                let chosen = if self.condition(args[0].as_str().unwrap()) {
                    &args[1]
                } else {
                    &args[2]
                };
                self.resolve(chosen)
            }
            (Some(_), inner) => inner.clone(),
            (None, Value::Mapping(m)) => Value::Mapping(
                m.iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .filter(|(_, v)| !v.is_null())
                    .collect(),
            ),
            (None, Value::Sequence(s)) => {
                Value::Sequence(s.iter().map(|v| self.resolve(v)).collect())
            }
            (None, other) => other.clone(),
        }
    }

    /// The resources created with these parameters.
    fn resources(&self) -> Vec<(String, &Value)> {
        resources(self.t)
            .into_iter()
            .filter(|(_, r)| r["Condition"].as_str().is_none_or(|c| self.condition(c)))
            .collect()
    }
}

#[test]
fn each_egress_choice_puts_exactly_the_functions_that_call_wechat_behind_it() {
    let t = template();
    let seq = |items: &[&str]| {
        Value::Sequence(items.iter().map(|s| Value::String((*s).into())).collect())
    };
    for egress in ["none", "nat", "existing"] {
        let r = Rendered {
            t: &t,
            params: [
                ("Egress", Value::String(egress.into())),
                ("ExistingSubnetIds", seq(&["subnet-a", "subnet-b"])),
                ("ExistingSecurityGroupIds", seq(&["sg-1"])),
                ("EventBusName", Value::String(String::new())),
                ("AuthSuccessUrl", Value::String(String::new())),
            ]
            .into_iter()
            .collect(),
        };
        let created = r.resources();
        let names: BTreeSet<&str> = created.iter().map(|(n, _)| n.as_str()).collect();
        for (name, f) in created
            .iter()
            .filter(|(_, f)| f["Type"] == "AWS::Serverless::Function")
        {
            let vpc = r.resolve(&f["Properties"]["VpcConfig"]);
            let binary = binary_of(name);
            let expected_in_vpc = egress != "none" && binary != "notifier";
            assert_eq!(!vpc.is_null(), expected_in_vpc, "{egress}: {name}");
            match (egress, expected_in_vpc) {
                ("nat", true) => {
                    assert_eq!(
                        vpc["SubnetIds"],
                        seq(&["ref:PrivateSubnetA", "ref:PrivateSubnetB"]),
                        "{name}"
                    );
                    assert_eq!(
                        vpc["SecurityGroupIds"],
                        seq(&["ref:FunctionSecurityGroup"]),
                        "{name}"
                    );
                }
                ("existing", true) => {
                    assert_eq!(vpc["SubnetIds"], seq(&["subnet-a", "subnet-b"]), "{name}");
                    assert_eq!(vpc["SecurityGroupIds"], seq(&["sg-1"]), "{name}");
                }
                _ => {}
            }
        }
        let egress_ip = t["Outputs"]["EgressIp"]["Condition"]
            .as_str()
            .is_some_and(|c| r.condition(c));
        if egress == "nat" {
            for needed in [
                "Vpc",
                "NatGateway",
                "NatEip",
                "PrivateSubnetA",
                "PrivateSubnetB",
                "DynamoDbEndpoint",
            ] {
                assert!(names.contains(needed), "nat creates {needed}");
            }
            let endpoint = &t["Resources"]["DynamoDbEndpoint"]["Properties"];
            assert_eq!(endpoint["VpcEndpointType"], "Gateway");
            assert!(untag(&endpoint["ServiceName"])
                .as_str()
                .unwrap()
                .ends_with(".dynamodb"));
            assert_eq!(
                r.resolve(&endpoint["RouteTableIds"]),
                seq(&["ref:PrivateRouteTable"])
            );
            let route = &t["Resources"]["PrivateDefaultRoute"]["Properties"];
            assert_eq!(
                r.resolve(&route["NatGatewayId"]),
                Value::String("ref:NatGateway".into())
            );
            // The two private subnets are in two availability zones.
            let az = |s: &str| {
                serde_yaml::to_string(&t["Resources"][s]["Properties"]["AvailabilityZone"]).unwrap()
            };
            assert_ne!(az("PrivateSubnetA"), az("PrivateSubnetB"));
            assert!(egress_ip, "the Elastic IP is an output");
            assert_eq!(
                r.resolve(&t["Outputs"]["EgressIp"]["Value"]),
                Value::String("ref:NatEip".into())
            );
        } else {
            assert!(
                !names.contains("Vpc") && !names.contains("NatEip"),
                "{egress} creates no network"
            );
            assert!(!egress_ip, "{egress}: no EgressIp output");
        }
    }
}

/// The function resource's logical id for each binary.
fn function_ids(t: &Value) -> BTreeSet<String> {
    of_type(t, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// Every `!Ref X` under `v`.
fn refs(v: &Value) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Tagged(t) if t.tag == "Ref" => {
                refs.insert(t.value.as_str().unwrap_or_default().to_owned());
            }
            Value::Tagged(t) => stack.push(&t.value),
            Value::Mapping(m) => stack.extend(m.values()),
            Value::Sequence(s) => stack.extend(s.iter()),
            _ => {}
        }
    }
    refs
}

#[test]
fn every_alarm_of_the_issue_exists_notifies_the_optional_topic_and_watches_this_stack() {
    let t = template();
    assert_eq!(t["Parameters"]["AlarmTopicArn"]["Default"], "");
    let namespace =
        untag(&t["Globals"]["Function"]["Environment"]["Variables"]["METRICS_NAMESPACE"]);
    assert_eq!(namespace, "WxOpen/${AWS::StackName}");
    let alarms = of_type(&t, "AWS::CloudWatch::Alarm");
    for (id, alarm) in &alarms {
        let p = &alarm["Properties"];
        for actions in ["AlarmActions", "OKActions"] {
            let choice = untag(&p[actions]);
            assert_eq!(choice[0], "HasAlarmTopic", "{id} {actions}");
            assert_eq!(untag(&choice[1][0]), "AlarmTopicArn", "{id} {actions}");
        }
        assert!(
            p["AlarmDescription"].as_str().is_some_and(|d| d.len() > 40),
            "{id} says what it means"
        );
    }
    let alarm = |id: &str| {
        &alarms
            .iter()
            .find(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .1["Properties"]
    };
    // No ticket for 30 minutes: the refresher reports the ticket's age every run.
    let ticket = alarm("TicketAlarm");
    assert_eq!(ticket["MetricName"], wxopen::telemetry::TICKET_AGE);
    assert_eq!(untag(&ticket["Namespace"]), namespace);
    assert_eq!(ticket["Dimensions"][0]["Value"], "refresher");
    assert_eq!(ticket["Threshold"].as_f64(), Some(1800.0));
    // 61004, 45009 and needs_reauth across every function of the stack, whatever it is.
    for (id, needle) in [
        ("WhitelistAlarm", "ErrCode = '61004'"),
        ("QuotaAlarm", "ErrCode = '45009'"),
        ("NeedsReauthAlarm", wxopen::telemetry::NEEDS_REAUTH),
        ("KeyUnavailableAlarm", wxopen::telemetry::KEY_UNAVAILABLE),
    ] {
        let query = untag(&alarm(id)["Metrics"][0]["Expression"])
            .as_str()
            .unwrap()
            .to_owned();
        assert!(query.starts_with("SELECT SUM("), "{id}: {query}");
        assert!(
            query.contains(&format!("SCHEMA(\"{}\"", namespace.as_str().unwrap())),
            "{id}: {query}"
        );
        assert!(query.contains(needle), "{id}: {query}");
    }
    let whitelist = untag(&alarm("WhitelistAlarm")["Metrics"][0]["Expression"]);
    assert!(whitelist
        .as_str()
        .unwrap()
        .contains(wxopen::telemetry::WECHAT_ERRORS));
    // Every function's errors and throttles are watched: the refresher and rollouts by their
    // own alarms.
    let mut watched = refs(&alarm("FunctionErrorsAlarm")["Metrics"]);
    watched.extend(refs(&alarm("RefresherAlarm")["Metrics"]));
    watched.extend(refs(&alarm("RolloutsErrorsAlarm")["Metrics"]));
    assert_eq!(watched, function_ids(&t));
    let mut throttled = refs(&alarm("FunctionThrottlesAlarm")["Metrics"]);
    throttled.extend(refs(&alarm("RefresherAlarm")["Metrics"]));
    throttled.extend(refs(&alarm("RolloutsErrorsAlarm")["Metrics"]));
    assert_eq!(throttled, function_ids(&t));
    for id in ["FunctionErrorsAlarm", "FunctionThrottlesAlarm"] {
        let metrics = alarm(id)["Metrics"].as_sequence().unwrap();
        assert!(
            metrics.len() <= 11,
            "CloudWatch allows ten metrics in an alarm"
        );
    }
    // DynamoDB throttling on the state table, and events the notifier gave up on.
    assert_eq!(
        refs(&alarm("TableThrottlesAlarm")["Metrics"]),
        BTreeSet::from(["StateTable".to_owned()])
    );
    assert_eq!(
        untag(&alarm("UndeliveredEventsAlarm")["Dimensions"][0]["Value"]),
        "NotifierFailureQueue.QueueName"
    );
}

#[test]
fn the_dashboard_is_valid_json_showing_every_metric_and_alarm() {
    let t = template();
    let (_, dashboard) = &of_type(&t, "AWS::CloudWatch::Dashboard")[0];
    let body = untag(&dashboard["Properties"]["DashboardBody"])
        .as_str()
        .unwrap();
    // What `!Sub` substitutes: every `${...}` names a parameter, a resource or a pseudo parameter.
    let names: BTreeSet<String> = resources(&t).into_iter().map(|(id, _)| id).collect();
    let mut rendered = String::new();
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        rendered.push_str(&rest[..start]);
        let end = rest[start..].find('}').unwrap() + start;
        let name = &rest[start + 2..end];
        let base = name.split('.').next().unwrap();
        assert!(
            base.starts_with("AWS::") || names.contains(base),
            "${{{name}}} names nothing"
        );
        rendered.push('x');
        rest = &rest[end + 1..];
    }
    rendered.push_str(rest);
    let parsed: serde_json::Value = serde_json::from_str(&rendered).expect("valid JSON");
    let widgets = parsed["widgets"].as_array().unwrap();
    assert!(widgets.len() >= 8);
    for metric in [
        wxopen::telemetry::TICKET_AGE,
        wxopen::telemetry::TICKET_MISSING,
        wxopen::telemetry::TOKEN_REFRESHES,
        wxopen::telemetry::WECHAT_ERRORS,
        wxopen::telemetry::NEEDS_REAUTH,
        wxopen::telemetry::RECONCILE_RUNS,
        wxopen::telemetry::RECONCILE_LISTED,
        wxopen::telemetry::RECONCILE_ADDED,
        wxopen::telemetry::RECONCILE_RESTORED,
        wxopen::telemetry::LEASE_WAIT,
        wxopen::telemetry::KEY_UNAVAILABLE,
        wxopen::telemetry::PLAINTEXT_TOKENS_READ,
    ] {
        assert!(
            body.contains(&format!("\"{metric}\"")) || body.contains(&format!("\\\"{metric}\\\"")),
            "{metric} is not on the dashboard"
        );
    }
    for (id, _) in of_type(&t, "AWS::CloudWatch::Alarm") {
        assert!(
            body.contains(&format!("${{{id}.Arn}}")),
            "{id} is not on the dashboard"
        );
    }
    for id in function_ids(&t) {
        assert!(
            body.contains(&format!("${{{id}}}")),
            "{id} is not on the dashboard"
        );
    }
}

#[test]
fn every_function_logs_to_its_own_group_with_a_retention_and_the_stage_has_an_access_log() {
    let t = template();
    let groups: Vec<(String, &Value)> = of_type(&t, "AWS::Logs::LogGroup");
    for (id, function) in of_type(&t, "AWS::Serverless::Function") {
        let group = untag(&function["Properties"]["LoggingConfig"]["LogGroup"]);
        let group = group
            .as_str()
            .unwrap_or_else(|| panic!("{id} names no log group"));
        let (_, resource) = groups
            .iter()
            .find(|(g, _)| g == group)
            .unwrap_or_else(|| panic!("{id}: no log group {group}"));
        let name = untag(&resource["Properties"]["LogGroupName"])
            .as_str()
            .unwrap();
        assert!(
            name.ends_with(&format!("-{}", binary_of(&id))),
            "{id}: {name}"
        );
        assert_eq!(
            untag(&resource["Properties"]["RetentionInDays"]).as_str(),
            Some("LogRetentionDays")
        );
    }
    assert_eq!(
        t["Parameters"]["LogRetentionDays"]["Default"].as_u64(),
        Some(90)
    );
    let (_, stage) = &of_type(&t, "AWS::ApiGatewayV2::Stage")[0];
    let format = stage["Properties"]["AccessLogSettings"]["Format"]
        .as_str()
        .unwrap();
    assert!(format.contains("$context.routeKey") && format.contains("$context.status"));
    for leaky in ["requestOverride", "querystring", "$context.path?"] {
        assert!(
            !format.to_lowercase().contains(&leaky.to_lowercase()),
            "{format}"
        );
    }
    // Each public route has its own throttle.
    let routes = stage["Properties"]["RouteSettings"].as_mapping().unwrap();
    for route in [
        "GET /wechat/authorize",
        "GET /wechat/callback",
        "POST /wechat/events",
        "POST /wechat/messages/{appid}",
    ] {
        assert!(routes.contains_key(route), "{route}");
    }
}

/// The `Resource` of the statement granting `secretsmanager:GetSecretValue`, if any.
fn secret_grant(f: &Value) -> Option<&Value> {
    let policies = f["Properties"]["Policies"].as_sequence().unwrap();
    policies
        .iter()
        .flat_map(|p| p["Statement"].as_sequence().unwrap())
        .find(|s| s["Action"] == "secretsmanager:GetSecretValue")
        .map(|s| &s["Resource"])
}

#[test]
fn each_function_may_read_only_the_secrets_holding_the_keys_it_uses() {
    let t = template();
    let split = |binary: &str| match binary {
        "authorize" | "callback" => Some(("HasStateSecrets", "StateSecretsArn")),
        "events" | "messages" => Some(("HasMessageSecrets", "MessageSecretsArn")),
        _ => None,
    };
    for binary in function_binaries() {
        let f = function(&t, &binary);
        let grant = secret_grant(f);
        if binary == "notifier" {
            assert!(grant.is_none(), "the notifier reads no secret");
            continue;
        }
        let grant = grant.unwrap_or_else(|| panic!("{binary} reads SecretsArn"));
        let variable = &f["Properties"]["Environment"]["Variables"]["WECHAT_SECRETS_ARN"];
        match split(&binary) {
            None => {
                assert_eq!(
                    refs(grant),
                    BTreeSet::from(["SecretsArn".to_owned()]),
                    "{binary}"
                );
                assert!(
                    variable.is_null(),
                    "{binary} keeps the global WECHAT_SECRETS_ARN"
                );
            }
            Some((condition, parameter)) => {
                let both = BTreeSet::from(["SecretsArn".to_owned(), parameter.to_owned()]);
                for v in [grant, variable] {
                    assert_eq!(tag(v).as_deref(), Some("!If"), "{binary}");
                    let branches = untag(v).as_sequence().unwrap();
                    assert_eq!(branches[0], condition, "{binary}");
                    assert_eq!(refs(&branches[1]), both, "{binary}: split");
                    assert_eq!(untag(&branches[2]), "SecretsArn", "{binary}: one secret");
                }
            }
        }
    }
    for (parameter, readers) in [
        ("MessageSecretsArn", ["EventsFunction", "MessagesFunction"]),
        ("StateSecretsArn", ["AuthorizeFunction", "CallbackFunction"]),
    ] {
        let p = &t["Parameters"][parameter];
        assert_eq!(p["Default"], "", "{parameter} is optional");
        let users: BTreeSet<String> = resources(&t)
            .into_iter()
            .filter(|(_, r)| refs(r).contains(parameter))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(
            users,
            BTreeSet::from(readers.map(String::from)),
            "{parameter}"
        );
    }
}

#[test]
fn tokens_are_sealed_under_the_stacks_key_or_the_given_one_and_only_functions_storing_them_may_use_it(
) {
    let t = template();
    let key = &t["Resources"]["TokenKey"];
    assert_eq!(key["Type"], "AWS::KMS::Key");
    assert_eq!(key["Condition"], "CreateTokenKey");
    assert_eq!(key["DeletionPolicy"], "Retain");
    assert_eq!(key["Properties"]["EnableKeyRotation"], true);
    // The key policy only delegates to the account's IAM: no other principal, no grant of use.
    let statements = key["Properties"]["KeyPolicy"]["Statement"]
        .as_sequence()
        .unwrap();
    assert_eq!(statements.len(), 1);
    let root = untag(&statements[0]["Principal"]["AWS"]).as_str().unwrap();
    assert!(root.ends_with(":root"), "{root}");
    let variable = &t["Globals"]["Function"]["Environment"]["Variables"]["TOKEN_KMS_KEY_ID"];
    assert_eq!(
        refs(variable),
        BTreeSet::from(["TokenKmsKeyArn".to_owned()]),
        "the given key, else the stack's"
    );
    assert!(format!("{variable:?}").contains("TokenKey.Arn"));
    for binary in function_binaries() {
        let f = function(&t, &binary);
        let statements = f["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap();
        let kms: Vec<&Value> = statements
            .iter()
            .filter(|s| format!("{s:?}").contains("kms:"))
            .collect();
        if binary == "notifier" {
            assert!(kms.is_empty(), "the notifier stores no token");
            continue;
        }
        assert_eq!(
            kms.len(),
            2,
            "{binary}: the key, and the previous one while moving"
        );
        let usage = kms
            .iter()
            .find(|s| s["Action"].is_sequence())
            .unwrap_or_else(|| panic!("{binary}: no grant on the key"));
        let actions: BTreeSet<&str> = usage["Action"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            BTreeSet::from(["kms:Decrypt", "kms:GenerateDataKey"]),
            "{binary}"
        );
        assert_eq!(
            refs(&usage["Resource"]),
            BTreeSet::from(["TokenKmsKeyArn".to_owned()])
        );
        let context = &usage["Condition"]["StringEquals"]["kms:EncryptionContext:wxopen_component"];
        assert_eq!(
            untag(context),
            "ComponentAppId",
            "{binary}: its component's data keys only"
        );
        let previous = kms
            .iter()
            .find(|s| tag(s).as_deref() == Some("!If"))
            .unwrap();
        let branches = untag(previous).as_sequence().unwrap();
        assert_eq!(branches[0], "HasPreviousTokenKey");
        assert_eq!(
            branches[1]["Action"], "kms:Decrypt",
            "{binary}: the previous key only opens"
        );
    }
}

#[test]
fn rollouts_run_on_their_queue_the_bus_and_a_schedule_with_dead_letters_and_the_quota_watched() {
    let t = template();
    let f = function(&t, "rollouts");
    let p = &f["Properties"];
    assert_eq!(
        untag(&p["Environment"]["Variables"]["ROLLOUT_QUEUE_URL"]),
        "RolloutQueue"
    );
    let work = &p["Events"]["Work"];
    assert_eq!(work["Type"], "SQS");
    assert_eq!(untag(&work["Properties"]["Queue"]), "RolloutQueue.Arn");
    assert_eq!(
        work["Properties"]["FunctionResponseTypes"][0],
        "ReportBatchItemFailures"
    );
    let audits = &p["Events"]["AuditResults"];
    assert_eq!(audits["Type"], "EventBridgeRule");
    let pattern = &audits["Properties"]["Pattern"];
    assert_eq!(
        pattern["detail-type"][0],
        wxopen_models::notifications::MESSAGE
    );
    let events: Vec<&str> = pattern["detail"]["event"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "weapp_audit_success",
            "weapp_audit_fail",
            "weapp_audit_delay"
        ]
    );
    let sweep = &p["Events"]["Sweep"];
    assert_eq!(
        (
            sweep["Type"].as_str(),
            sweep["Properties"]["Input"].as_str()
        ),
        (Some("Schedule"), Some("{\"job\": \"sweep\"}"))
    );
    let policy = serde_yaml::to_string(&p["Policies"]).unwrap();
    assert!(
        policy.contains("sqs:SendMessage") && policy.contains("RolloutQueue.Arn"),
        "{policy}"
    );
    assert!(
        policy.contains("dynamodb:BatchWriteItem") && policy.contains("dynamodb:Query"),
        "{policy}"
    );
    // Work that fails five deliveries is dead-lettered, and that is an alarm.
    let queue = &resources(&t)
        .into_iter()
        .find(|(id, _)| id == "RolloutQueue")
        .unwrap()
        .1["Properties"];
    assert_eq!(
        untag(&queue["RedrivePolicy"]["deadLetterTargetArn"]),
        "RolloutDeadLetterQueue.Arn"
    );
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 5);
    let alarms = of_type(&t, "AWS::CloudWatch::Alarm");
    let alarm = |id: &str| {
        alarms
            .iter()
            .find(|(i, _)| i == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .1["Properties"]
            .clone()
    };
    assert_eq!(
        untag(&alarm("RolloutDeadLettersAlarm")["Dimensions"][0]["Value"]),
        "RolloutDeadLetterQueue.QueueName"
    );
    let quota = untag(&alarm("AuditQuotaAlarm")["Metrics"][0]["Expression"])
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        quota.contains(wxopen::telemetry::AUDIT_QUOTA_LEFT),
        "{quota}"
    );
    assert_eq!(
        alarm("AuditQuotaAlarm")["ComparisonOperator"],
        "LessThanOrEqualToThreshold"
    );
}

#[test]
fn every_public_url_follows_the_custom_domain_and_the_console_link_the_partition() {
    let t = template();
    let rendered = |domain: &str, zone: &str, partition: &str| Rendered {
        t: &t,
        params: std::collections::HashMap::from([
            ("DomainName", Value::String(domain.into())),
            ("HostedZoneId", Value::String(zone.into())),
            ("AWS::Partition", Value::String(partition.into())),
        ]),
    };
    let callback = &t["Globals"]["Function"]["Environment"]["Variables"]["AUTH_CALLBACK_URL"];
    let outputs = t["Outputs"].as_mapping().unwrap();
    for (domain, zone) in [
        ("", ""),
        ("wx.platform.example", ""),
        ("wx.platform.example", "Z0123456789"),
    ] {
        let r = rendered(domain, zone, "aws");
        // Every URL the functions or an operator use: the callback and each URL output.
        let mut urls = vec![("AUTH_CALLBACK_URL".to_owned(), r.resolve(callback))];
        for (name, output) in outputs {
            let value = r.resolve(&output["Value"]);
            let is_url = value
                .as_str()
                .is_some_and(|v| v.starts_with("https://") && !v.contains("console"));
            if is_url {
                urls.push((name.as_str().unwrap().to_owned(), value));
            }
        }
        assert!(urls.len() >= 6, "{urls:?}");
        for (name, url) in &urls {
            let url = url.as_str().unwrap();
            match domain.is_empty() {
                true => assert!(
                    url.starts_with(
                        "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"
                    ),
                    "{name}: {url}"
                ),
                false => assert!(url.starts_with("https://${DomainName}/"), "{name}: {url}"),
            }
        }
        let created: Vec<String> = r.resources().into_iter().map(|(id, _)| id).collect();
        let has = |id: &str| created.iter().any(|c| c == id);
        assert_eq!(
            (has("ApiDomain"), has("ApiMapping")),
            (!domain.is_empty(), !domain.is_empty())
        );
        assert_eq!(has("ApiDomainRecord"), !zone.is_empty());
        let api = &resources(&t)
            .into_iter()
            .find(|(id, _)| id == "HttpApi")
            .unwrap()
            .1["Properties"];
        assert_eq!(
            r.resolve(&api["DisableExecuteApiEndpoint"]),
            Value::Bool(!domain.is_empty())
        );
    }
    // The certificate is required with a domain.
    let rule = &t["Rules"]["CertificateForDomain"];
    assert!(serde_yaml::to_string(rule)
        .unwrap()
        .contains("CertificateArn"));
    // The dashboard's link in each partition.
    for (partition, console) in [
        ("aws", "https://console.aws.amazon.com/"),
        ("aws-cn", "https://console.amazonaws.cn/"),
    ] {
        let link = rendered("", "", partition).resolve(&t["Outputs"]["DashboardUrl"]["Value"]);
        assert!(
            link.as_str().unwrap().starts_with(console),
            "{partition}: {link:?}"
        );
    }
    // WeChat's other access points reach every function.
    let fallbacks =
        &t["Globals"]["Function"]["Environment"]["Variables"]["WECHAT_API_FALLBACK_BASES"];
    assert_eq!(untag(fallbacks), "WeChatApiFallbackBases");
    assert_eq!(
        t["Parameters"]["WeChatApiFallbackBases"]["Default"],
        wxopen::config::DEFAULT_FALLBACK_BASE
    );
}
