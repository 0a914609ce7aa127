//! The supplier's own profile: public to everyone, and sent by staff to chosen contacts.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Someone in accounts receivable whom customers may write to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArContact {
    pub name: String,
    pub email: String,
}

/// A customer contact the share form can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactChoice {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub company: String,
}

/// The supplier's public profile: where to send payments and whom to ask about invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierCard {
    /// The name customers know the supplier by.
    pub name: String,
    pub legal_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub website: Option<String>,
    /// The remit-to address, one line of the address per line of text.
    pub remit_to: String,
    /// ISO code of the currency invoices are in.
    pub currency: String,
    /// The last four characters of the TIN when one is on file; never the whole number.
    pub tin_last4: Option<String>,
    /// Active staff who work receivables (admins and collectors), by name.
    pub ar_contacts: Vec<ArContact>,
}

impl SupplierCard {
    /// What the card says about the TIN: "TIN on request", or which four characters it ends in.
    pub fn tin_text(&self) -> String {
        match &self.tin_last4 {
            Some(last4) => format!("TIN ending in {last4} (in full on request)"),
            None => "TIN on request".to_owned(),
        }
    }
}

/// The supplier's profile, for anyone (no sign-in needed).
#[server(endpoint = "supplier")]
pub async fn get_supplier_card() -> Result<SupplierCard, AppError> {
    use super::ctx;
    ctx::respond(
        async {
            let state = ctx::state()?;
            crate::services::supplier_profile::public_profile(&state.db).await
        }
        .await,
    )
}

/// Emails the supplier's profile to the given contacts (collectors and admins); returns how
/// many emails were queued.
#[server(endpoint = "staff/supplier/share")]
pub async fn share_supplier_profile(
    // An empty list is sent as no field at all.
    #[server(default)] contact_ids: Vec<i64>,
) -> Result<usize, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            let (staff_id, _) = ctx::caller().staff(StaffRole::Collector)?;
            let sent = crate::services::supplier_profile::share(
                &state.db,
                &state.settings.public_url,
                staff_id,
                &contact_ids,
                state.clock.now(),
            )
            .await?;
            state.mail_wake.notify_one();
            Ok(sent)
        }
        .await,
    )
}

/// Customer contacts with an email address whose name, address or company contains `q`
/// (at most 20; collectors and admins).
#[server(endpoint = "staff/supplier/contacts")]
pub async fn find_share_contacts(q: String) -> Result<Vec<ContactChoice>, AppError> {
    use super::ctx;
    use crate::model::enums::StaffRole;
    ctx::respond(
        async {
            let state = ctx::state()?;
            ctx::caller().staff(StaffRole::Collector)?;
            crate::services::supplier_profile::find_contacts(&state.db, &q, 20).await
        }
        .await,
    )
}
