//! The bench's phases, each writing its section of the report.

pub mod calls;
pub mod cold;
pub mod messages;
pub mod passthrough;
pub mod rollouts;
pub mod scale;
pub mod storm;
pub mod warm;
