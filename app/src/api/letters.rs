//! Direct mail for staff: the letter templates and the accounts a letter must reach
//! because no contact has an email address. The PDF itself is `GET /staff/letters.pdf`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// A letter template staff can print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterTemplate {
    pub key: String,
    pub name: String,
}

/// An active customer account without any email address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterAccount {
    pub id: i64,
    pub number: String,
    pub name: String,
    /// Whether a mailing or billing address is on file for the envelope.
    pub has_mailing_address: bool,
}

/// What the letters page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterOverview {
    /// In the order the campaign sends them.
    pub templates: Vec<LetterTemplate>,
    /// By account number.
    pub accounts: Vec<LetterAccount>,
}

/// The letter templates and the accounts without email (any staff user may look).
#[server(endpoint = "staff/letters")]
pub async fn list_letters() -> Result<LetterOverview, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    use crate::services::letters;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Viewer)?;
            let templates = letters::list_templates(&state.db)
                .await?
                .into_iter()
                .map(|t| LetterTemplate {
                    key: t.key,
                    name: t.name,
                })
                .collect();
            let accounts = letters::accounts_without_email(&state.db).await?;
            let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
            let addresses = letters::mailing_addresses(&state.db, &ids).await?;
            Ok(LetterOverview {
                templates,
                accounts: accounts
                    .into_iter()
                    .map(|a| LetterAccount {
                        has_mailing_address: addresses.contains_key(&a.id),
                        id: a.id,
                        number: a.account_number,
                        name: a.display_name,
                    })
                    .collect(),
            })
        }
        .await,
    )
}
