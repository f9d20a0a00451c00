//! The store: its ports (narrow traits bound to one component), the rules every adapter
//! applies, and two adapters: [`DynamoStore`] for production and [`MemoryStore`] for fast
//! service tests. [`behaviour`] is the one suite both adapters pass.
//!
//! Writes that replace a token or a refresh token are conditional on a lease owner or a
//! version, so a slower writer never overwrites a newer value.

#[cfg(any(test, feature = "testkit"))]
pub mod behaviour;
mod dynamo;
mod memory;
mod ports;
pub mod rules;

pub use dynamo::sealing::RECHECK as DATA_KEY_RECHECK;
pub use dynamo::stream::history_change;
pub use dynamo::DynamoStore;
pub use memory::MemoryStore;
pub use ports::*;

/// How long the record of an exchanged code is kept (codes live 10 minutes at most).
pub const EXCHANGED_CODE_TTL: std::time::Duration = std::time::Duration::from_secs(3600);
