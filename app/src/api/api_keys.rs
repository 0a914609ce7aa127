//! Server functions of the API keys page: list, create (the key is shown once) and revoke —
//! admins only.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::api_keys::{ApiKeyView, CreatedApiKey};
use crate::model::enums::ApiScope;

/// Every API key, newest first (admins).
#[server(endpoint = "staff/api-keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::api_keys::list(&state.db).await
        }
        .await,
    )
}

/// Creates a key; the answer carries the whole key, which is never shown again (admins).
#[server(endpoint = "staff/api-keys/create")]
pub async fn create_api_key(name: String, scope: ApiScope) -> Result<CreatedApiKey, AppError> {
    use super::ctx;
    use crate::services::api_keys;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            let (key, secret) =
                api_keys::create(&state.db, &name, scope, Some(staff_id), state.clock.now())
                    .await?;
            let created = api_keys::list(&state.db)
                .await?
                .into_iter()
                .find(|k| k.id == key.id)
                .ok_or(AppError::Internal)?;
            Ok(CreatedApiKey {
                key: created,
                secret,
            })
        }
        .await,
    )
}

/// Revokes key `id`: requests with it are refused from now on (admins).
#[server(endpoint = "staff/api-keys/revoke")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(crate::model::enums::StaffRole::Admin)?;
            crate::services::api_keys::revoke(&state.db, id, Some(staff_id), state.clock.now())
                .await
                .map(|_| ())
        }
        .await,
    )
}
