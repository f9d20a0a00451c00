//! What the simulator remembers: tickets, tokens, codes, authorizations, faults and counters.

use crate::accounts::{built_in, Account};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;
use wxopen::clock::now_secs;

/// The AppID prefix of generated accounts.
pub const SEEDED_PREFIX: &str = "wxseed";

/// The AppID of generated account `n`.
pub fn seeded_appid(n: usize) -> String {
    format!("{SEEDED_PREFIX}{n:07}")
}

/// Settings of one simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The platform's AppID.
    pub component_appid: String,
    /// Its AppSecret.
    pub component_appsecret: String,
    /// The message token used to sign pushes.
    pub msg_token: String,
    /// The EncodingAESKey used to encrypt pushes.
    pub encoding_aes_key: String,
    /// Where to push events (the platform's authorization event URL).
    pub events_url: Option<String>,
    /// The platform's message URL, with `$APPID$` where the account's AppID goes: where the
    /// release test sends its messages.
    pub messages_url: Option<String>,
    /// How often a new ticket is pushed.
    pub ticket_interval: Duration,
    /// Lifetime of component and authorizer access tokens, seconds.
    pub token_ttl: i64,
    /// Lifetime of authorization codes, seconds.
    pub auth_code_ttl: i64,
    /// Lifetime of pre-auth codes, seconds.
    pub pre_auth_code_ttl: i64,
}

/// A fault to inject into the next calls of an endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct Fault {
    /// The endpoint (`api_query_auth`, ...).
    pub endpoint: String,
    /// Answer with this errcode.
    #[serde(default)]
    pub errcode: Option<i64>,
    /// Wait this long first.
    #[serde(default)]
    pub delay_ms: Option<u64>,
    /// For how many calls.
    #[serde(default = "one")]
    pub count: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone)]
pub(crate) struct Code {
    pub appid: Option<String>,
    pub expires_at: i64,
    pub used: bool,
}

/// A customer-service message the simulator accepted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SentMessage {
    /// The account whose access token sent it.
    pub appid: String,
    /// The user's openid.
    pub touser: String,
    /// The text.
    pub content: String,
    /// When it arrived, epoch milliseconds.
    pub at_ms: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Authorization {
    pub refresh_token: String,
    pub auth_time: i64,
}

/// The mutable state behind one lock.
#[derive(Debug)]
pub struct State {
    /// The settings, changeable at run time by in-process tests.
    pub config: SimConfig,
    pub(crate) accounts: Vec<Account>,
    /// The latest ticket pushed (settable by in-process harnesses).
    pub latest_ticket: Option<String>,
    /// The accounts whose quotas `clear_quota/v2` reset, in order (empty: the platform's own).
    pub quota_resets: Vec<String>,
    /// Tickets pushed before it that are still valid (WeChat honours a ticket for 12 hours,
    /// so a push that crossed a newer one does not break the platform).
    pub(crate) earlier_tickets: VecDeque<String>,
    pub(crate) tickets_delivered: u64,
    pub(crate) component_tokens: HashMap<String, i64>,
    pub(crate) authorizer_tokens: HashMap<String, (String, i64)>,
    pub(crate) pre_auth_codes: HashMap<String, Code>,
    pub(crate) auth_codes: HashMap<String, Code>,
    /// Ordered by AppID, so that `api_get_authorizer_list` pages without sorting.
    pub(crate) authorizations: BTreeMap<String, Authorization>,
    pub(crate) faults: HashMap<String, VecDeque<Fault>>,
    /// Permission sets granted, where they differ from an account's built-in ones.
    pub(crate) grants: HashMap<String, Vec<u32>>,
    /// Customer-service messages accepted, in order.
    pub(crate) sent: Vec<SentMessage>,
    /// Users' login and OAuth codes already exchanged.
    pub(crate) used_user_codes: std::collections::HashSet<String>,
    pub(crate) calls: HashMap<String, u64>,
    pub(crate) serial: u64,
    /// Fast registrations the platform started, in order.
    pub(crate) registrations: Vec<crate::registration::SimRegistration>,
    /// Mini Programs fast registration created (or seeded), with their kind.
    pub(crate) registered: BTreeMap<String, String>,
    /// Code management: each Mini Program's code, the audit quota, the audits.
    pub code: crate::code::CodeState,
}

impl State {
    /// Fresh state.
    pub fn new(config: SimConfig) -> Self {
        Self {
            config,
            accounts: built_in(),
            latest_ticket: None,
            quota_resets: Vec::new(),
            earlier_tickets: VecDeque::new(),
            tickets_delivered: 0,
            component_tokens: HashMap::new(),
            authorizer_tokens: HashMap::new(),
            pre_auth_codes: HashMap::new(),
            auth_codes: HashMap::new(),
            authorizations: BTreeMap::new(),
            faults: HashMap::new(),
            grants: HashMap::new(),
            sent: Vec::new(),
            used_user_codes: Default::default(),
            calls: HashMap::new(),
            serial: 0,
            registrations: Vec::new(),
            registered: BTreeMap::new(),
            code: Default::default(),
        }
    }

    pub(crate) fn next(&mut self, prefix: &str) -> String {
        self.serial += 1;
        format!("{prefix}{}{:08x}", self.serial, rand::random::<u32>())
    }

    pub(crate) fn account(&self, appid: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.appid == appid)
    }

    /// The permission sets `appid` grants now.
    pub(crate) fn permissions(&self, appid: &str) -> Vec<u32> {
        match self.grants.get(appid) {
            Some(ids) => ids.clone(),
            // A Mini Program fast registration created grants what a Mini Program does.
            None if self.registered.contains_key(appid) => vec![17, 18, 19],
            None => self
                .account(appid)
                .map(|a| a.permissions.to_vec())
                .unwrap_or_default(),
        }
    }

    /// `appid` confirms an authorization (as on the page): a new refresh token, and a fresh
    /// authorization code for it.
    pub fn authorize(&mut self, appid: &str) -> String {
        let refresh_token = self.next("sim-refresh-token-");
        self.authorizations.insert(
            appid.to_owned(),
            Authorization {
                refresh_token,
                auth_time: now_secs(),
            },
        );
        let ttl = self.config.auth_code_ttl;
        self.issue_code("queryauthcode@@@sim-", Some(appid), ttl)
    }

    /// Makes WeChat refuse the current access token of `appid` (every call with it answers
    /// 40001 until a refresh issues another). `false` when it has none.
    pub fn refuse_authorizer_token(&mut self, appid: &str) -> bool {
        self.authorizer_tokens.remove(appid).is_some()
    }

    /// Makes WeChat refuse every component token issued so far.
    pub fn refuse_component_tokens(&mut self) {
        self.component_tokens.clear();
    }

    /// The customer-service messages accepted so far.
    pub fn sent_messages(&self) -> Vec<SentMessage> {
        self.sent.clone()
    }

    /// Authorizes `count` generated Official Accounts (`wxseed<n>`), as if each had confirmed
    /// the authorization page: for benchmarks at scale. Returns how many are authorized now.
    pub fn seed_authorizations(&mut self, count: usize) -> usize {
        let auth_time = now_secs();
        for n in 0..count {
            self.authorizations.insert(
                seeded_appid(n),
                Authorization {
                    refresh_token: format!("sim-refresh-seed-{n}"),
                    auth_time,
                },
            );
        }
        self.authorizations.len()
    }

    /// Authorizes `count` generated Mini Programs (`wxmini<n>`, named, granting 17, 18 and 19),
    /// as if each had confirmed the authorization page; their AppIDs with a fresh code each.
    pub fn seed_mini_programs(&mut self, count: usize) -> Vec<(String, String)> {
        (0..count)
            .map(|n| {
                let appid = format!("wxmini{n:010}");
                self.registered.insert(appid.clone(), "seeded".into());
                let code = self.authorize(&appid);
                (appid, code)
            })
            .collect()
    }

    /// Issues a new ticket; the one before it stays valid.
    pub(crate) fn new_ticket(&mut self) -> String {
        let ticket = self.next("ticket@@@sim-");
        if let Some(previous) = self.latest_ticket.replace(ticket.clone()) {
            self.earlier_tickets.push_front(previous);
            self.earlier_tickets.truncate(8);
        }
        ticket
    }

    /// Whether `api_component_token` accepts `ticket`.
    pub(crate) fn ticket_valid(&self, ticket: &str) -> bool {
        self.latest_ticket.as_deref() == Some(ticket)
            || self.earlier_tickets.iter().any(|t| t == ticket)
    }

    /// Calls answered so far, by endpoint.
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.calls.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// Calls answered so far on `endpoint`.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.calls.get(endpoint).copied().unwrap_or(0)
    }

    /// Calls answered so far, all endpoints together.
    pub fn total_calls(&self) -> u64 {
        self.calls.values().sum()
    }

    /// The `api_get_authorizer_info` answer of a built-in or a seeded account.
    pub(crate) fn info(&self, appid: &str) -> Option<serde_json::Value> {
        if let Some(account) = self.account(appid) {
            let mut info = account.info.clone();
            info["authorization_info"]["func_info"] = self
                .permissions(appid)
                .iter()
                .map(|id| serde_json::json!({"funcscope_category": {"id": id}}))
                .collect();
            return Some(info);
        }
        if self.registered.contains_key(appid) {
            // Newly registered: no name, avatar or description yet.
            let mut info = self.accounts[1].info.clone();
            info["authorization_info"]["authorization_appid"] = appid.into();
            info["authorization_info"]["func_info"] = serde_json::json!([17, 18, 19]
                .iter()
                .map(|id| serde_json::json!({"funcscope_category": {"id": id}}))
                .collect::<Vec<_>>());
            // Newly registered: no name yet (submit_audit answers 86002); seeded ones have one.
            let name = match self.registered.get(appid).map(String::as_str) {
                Some("seeded") => format!("Seeded Mini Program {appid}"),
                _ => String::new(),
            };
            info["authorizer_info"]["nick_name"] = name.into();
            return Some(info);
        }
        let seeded = appid.starts_with(SEEDED_PREFIX) && self.authorizations.contains_key(appid);
        seeded.then(|| {
            let mut info = self.accounts[0].info.clone();
            info["authorization_info"]["authorization_appid"] = appid.into();
            info["authorizer_info"]["nick_name"] = format!("Seeded account {appid}").into();
            info
        })
    }

    /// Queues `fault` after any queued for its endpoint.
    pub fn add_fault(&mut self, fault: Fault) {
        self.faults
            .entry(fault.endpoint.clone())
            .or_default()
            .push_back(fault);
    }

    /// Takes one queued fault for `endpoint`, if any.
    pub(crate) fn take_fault(&mut self, endpoint: &str) -> Option<Fault> {
        let queue = self.faults.get_mut(endpoint)?;
        let fault = queue.front_mut()?;
        fault.count = fault.count.saturating_sub(1);
        let taken = fault.clone();
        if fault.count == 0 {
            queue.pop_front();
        }
        Some(taken)
    }

    /// Issues a single-use code valid for `ttl` seconds.
    pub(crate) fn issue_code(&mut self, prefix: &str, appid: Option<&str>, ttl: i64) -> String {
        let code = self.next(prefix);
        let entry = Code {
            appid: appid.map(str::to_owned),
            expires_at: now_secs() + ttl,
            used: false,
        };
        if appid.is_some() {
            self.auth_codes.insert(code.clone(), entry);
        } else {
            self.pre_auth_codes.insert(code.clone(), entry);
        }
        code
    }
}
