//! The scheduled jobs. `{"job": "reconcile"}` compares WeChat's list of authorizers with the
//! stored ones (hourly by default); any other event, such as the 10-minute schedule's,
//! keeps the component token fresh. A reconcile stops cleanly before the Lambda's deadline and
//! the next run continues where it stopped. Run by hand: `{"job": "seal_tokens"}` seals what a
//! version before sealing stored in plaintext (once, after upgrading), and
//! `{"job": "rotate_data_key"}` makes a new data key and seals every token under it.

use wxopen::clock::Timestamp;
use wxopen::services::{Job, RefreshReport, Refresher};
use wxopen_lambda::ApiError;

fn job(event: &serde_json::Value) -> Result<Job, ApiError> {
    match event.get("job").and_then(serde_json::Value::as_str) {
        None | Some("component_token") => Ok(Job::ComponentToken),
        Some("reconcile") => Ok(Job::Reconcile),
        Some("seal_tokens") => Ok(Job::SealTokens),
        Some("rotate_data_key") => Ok(Job::RotateDataKey),
        Some(other) => Err(ApiError::bad_request(
            "invalid_job",
            format!(
                "job {:?} is not one of \"component_token\", \"reconcile\", \"seal_tokens\" and \"rotate_data_key\"",
                other.chars().take(40).collect::<String>()
            ),
        )),
    }
}

/// Handles one scheduled event; `deadline` is the invocation's.
pub async fn handle(
    refresher: &Refresher,
    event: serde_json::Value,
    deadline: Timestamp,
) -> Result<RefreshReport, ApiError> {
    let job = job(&event)?;
    refresher.run(job, deadline).await.map_err(|e| {
        let e = ApiError::from(e);
        tracing::error!(code = %e.code, message = %e.message, ?job, "refresher failed");
        e
    })
}

#[cfg(test)]
mod tests;
