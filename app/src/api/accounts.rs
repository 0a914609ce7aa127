//! Staff accounts: the list, the account page, and inline saves of account and contact
//! fields (with the version they were edited from).

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::accounts::{AccountDetail, AccountList, Saved};

/// A page of the accounts list. Every filter is optional text as it comes from the URL.
#[server(endpoint = "staff/accounts")]
pub async fn list_accounts(
    q: Option<String>,
    status: Option<String>,
    collector: Option<String>,
    gap: Option<String>,
    bounced: Option<String>,
    sort: Option<String>,
    page: Option<u64>,
) -> Result<AccountList, AppError> {
    use super::ctx;
    use crate::model::accounts::parse_status;
    use crate::model::enums::StaffRole;
    use crate::services::accounts::{ListFilter, list};
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let blank =
                |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
            let status = match blank(status) {
                None => None,
                Some(s) => Some(
                    parse_status(&s)
                        .ok_or_else(|| AppError::validation("status", "unknown status"))?,
                ),
            };
            let collector_id = match blank(collector) {
                None => None,
                Some(c) => Some(
                    c.parse()
                        .map_err(|_| AppError::validation("collector", "unknown collector"))?,
                ),
            };
            let filter = ListFilter {
                q: blank(q),
                status,
                collector_id,
                gap: blank(gap),
                bounced: blank(bounced).is_some(),
                sort: blank(sort),
            };
            list(
                &state.db,
                &filter,
                page.unwrap_or(1).saturating_sub(1),
                state.clock.now(),
            )
            .await
        }
        .await,
    )
}

/// Account `id` with its contacts.
#[server(endpoint = "staff/account")]
pub async fn get_account(id: i64) -> Result<AccountDetail, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (_, role) = ctx::caller().staff(StaffRole::Viewer)?;
            let can_edit = role != StaffRole::Viewer;
            crate::services::accounts::detail(&state.db, id, can_edit, state.clock.now()).await
        }
        .await,
    )
}

/// Saves one field in place: `record` is `account` or `contact`, `id` its id, `field` the
/// field's name; `version` and `original` are what the editor loaded.
#[server(endpoint = "staff/field")]
pub async fn save_field(
    record: String,
    id: i64,
    field: String,
    value: String,
    version: i32,
    original: String,
) -> Result<Saved, AppError> {
    use super::ctx;
    use crate::model::accounts::{AccountField, ContactField};
    use crate::model::enums::StaffRole;
    use crate::services::accounts::{save_account_field, save_contact_field};
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            let now = state.clock.now();
            let unknown = || AppError::validation("field", "this field cannot be edited here");
            match record.as_str() {
                "account" => {
                    let f = AccountField::ALL
                        .into_iter()
                        .find(|f| f.as_str() == field)
                        .ok_or_else(unknown)?;
                    save_account_field(&state.db, staff_id, id, f, &value, version, &original, now)
                        .await
                }
                "contact" => {
                    let f = [
                        ContactField::Name,
                        ContactField::Email,
                        ContactField::Phone,
                        ContactField::Role,
                    ]
                    .into_iter()
                    .find(|f| f.as_str() == field)
                    .ok_or_else(unknown)?;
                    save_contact_field(&state.db, staff_id, id, f, &value, version, &original, now)
                        .await
                }
                _ => Err(unknown()),
            }
        }
        .await,
    )
}
