//! The scheduled job: renews the component token when under 20 minutes remain and reconciles
//! stored authorizers with `api_get_authorizer_list`. Any event triggers one run.

use wxopen::services::{RefreshReport, Refresher};
use wxopen_lambda::ApiError;

/// Handles one scheduled event.
pub async fn handle(
    refresher: &Refresher,
    _event: serde_json::Value,
) -> Result<RefreshReport, ApiError> {
    refresher.run().await.map_err(|e| {
        let e = ApiError::from(e);
        tracing::error!(code = %e.code, message = %e.message, "refresher failed");
        e
    })
}
