//! `/accounts`: customers and vendors with their contacts and addresses.

use std::collections::HashMap;

use app::entities::{account, address, contact};
use app::model::enums::{
    AccountKind, AccountStatus, AddressKind, ContactRole, EmailStatus, PaymentMethodKind,
};
use app::state::AppState;
use axum::extract::State;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, prelude::*};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::Object;
use utoipa::{IntoParams, ToSchema};

use super::auth::ApiKey;
use super::errors::{GetProblems, ListProblems};
use super::page::{self, Page, parse_vocab, vocab};
use super::problem::{ApiResult, Path, Problem, Query};

fn account_kind() -> Object {
    vocab::<AccountKind>()
}
fn account_status() -> Object {
    vocab::<AccountStatus>()
}
fn payment_method_kind() -> Object {
    vocab::<PaymentMethodKind>()
}
fn contact_role() -> Object {
    vocab::<ContactRole>()
}
fn email_status() -> Object {
    vocab::<EmailStatus>()
}
fn address_kind() -> Object {
    vocab::<AddressKind>()
}

/// An account with its contacts and addresses.
#[derive(Debug, Serialize, ToSchema)]
pub struct Account {
    pub id: i64,
    pub account_number: String,
    /// The ERP's id for the account.
    pub external_id: Option<String>,
    #[schema(schema_with = account_kind)]
    pub kind: AccountKind,
    #[schema(schema_with = account_status)]
    pub status: AccountStatus,
    pub legal_name: String,
    pub display_name: String,
    /// The last four characters of the tax id; the whole one never leaves Settle.
    pub tin_last4: Option<String>,
    pub phone: Option<String>,
    pub website: Option<String>,
    pub payment_terms_days: i32,
    /// Minor units of `currency`.
    pub credit_limit_minor: Option<i64>,
    /// ISO 4217.
    pub currency: String,
    #[schema(schema_with = payment_method_kind, nullable)]
    pub preferred_payment_method: Option<PaymentMethodKind>,
    pub segment: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    /// Increases with every change.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub contacts: Vec<Contact>,
    pub addresses: Vec<Address>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Contact {
    pub id: i64,
    pub external_id: Option<String>,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[schema(schema_with = contact_role)]
    pub role: ContactRole,
    pub is_primary_billing: bool,
    #[schema(schema_with = email_status)]
    pub email_status: EmailStatus,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Address {
    pub id: i64,
    #[schema(schema_with = address_kind)]
    pub kind: AddressKind,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: String,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

fn contact_out(c: contact::Model) -> Contact {
    Contact {
        id: c.id,
        external_id: c.external_id,
        name: c.name,
        email: c.email,
        phone: c.phone,
        role: c.role,
        is_primary_billing: c.is_primary_billing,
        email_status: c.email_status,
        version: c.version,
        updated_at: c.updated_at,
    }
}

fn address_out(a: address::Model) -> Address {
    Address {
        id: a.id,
        kind: a.kind,
        line1: a.line1,
        line2: a.line2,
        city: a.city,
        region: a.region,
        postal_code: a.postal_code,
        country: a.country,
        version: a.version,
        updated_at: a.updated_at,
    }
}

/// The accounts with their contacts and addresses (two queries for any number of accounts).
async fn with_people(
    db: &impl ConnectionTrait,
    accounts: Vec<account::Model>,
) -> Result<Vec<Account>, Problem> {
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let mut contacts: HashMap<i64, Vec<Contact>> = HashMap::new();
    for c in contact::Entity::find()
        .filter(contact::COLUMN.account_id.is_in(ids.clone()))
        .order_by_asc(contact::COLUMN.id)
        .all(db)
        .await?
    {
        contacts
            .entry(c.account_id)
            .or_default()
            .push(contact_out(c));
    }
    let mut addresses: HashMap<i64, Vec<Address>> = HashMap::new();
    for a in address::Entity::find()
        .filter(address::COLUMN.account_id.is_in(ids))
        .order_by_asc(address::COLUMN.id)
        .all(db)
        .await?
    {
        addresses
            .entry(a.account_id)
            .or_default()
            .push(address_out(a));
    }
    Ok(accounts
        .into_iter()
        .map(|a| Account {
            contacts: contacts.remove(&a.id).unwrap_or_default(),
            addresses: addresses.remove(&a.id).unwrap_or_default(),
            id: a.id,
            account_number: a.account_number,
            external_id: a.external_id,
            kind: a.kind,
            status: a.status,
            legal_name: a.legal_name,
            display_name: a.display_name,
            tin_last4: a.tin_last4,
            phone: a.phone,
            website: a.website,
            payment_terms_days: a.payment_terms_days,
            credit_limit_minor: a.credit_limit_minor,
            currency: a.currency,
            preferred_payment_method: a.preferred_payment_method,
            segment: a.segment,
            verified_at: a.verified_at,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        })
        .collect())
}

/// Filters of the accounts list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountFilter {
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before.
    pub cursor: Option<String>,
    /// Only accounts changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
    #[param(schema_with = account_status)]
    pub status: Option<String>,
    /// Name, legal name or account number contains this (any case).
    pub q: Option<String>,
    /// The ERP's id.
    pub external_id: Option<String>,
}

/// List accounts, in id order.
#[utoipa::path(
    get,
    path = "/accounts",
    tag = "accounts",
    params(AccountFilter),
    responses((status = 200, description = "A page of accounts", body = Page<Account>), ListProblems),
    security(("bearer" = []))
)]
pub async fn list_accounts(
    _key: ApiKey,
    State(state): State<AppState>,
    Query(f): Query<AccountFilter>,
) -> ApiResult<axum::Json<Page<Account>>> {
    let limit = page::limit(f.limit)?;
    let after = page::decode(f.cursor.as_deref(), "cursor")?;
    let status = parse_vocab::<AccountStatus>(f.status.as_deref(), "status")?;
    let mut select = account::Entity::find().filter(app::services::accounts::search(
        f.q.as_deref().unwrap_or(""),
    ));
    if let Some(since) = f.updated_since {
        select = select.filter(account::COLUMN.updated_at.gte(since));
    }
    if let Some(status) = status {
        select = select.filter(account::COLUMN.status.eq(status));
    }
    if let Some(external_id) = f.external_id {
        select = select.filter(account::COLUMN.external_id.eq(external_id));
    }
    let page = page::fetch(&state.db, select, account::Column::Id, after, limit, |a| {
        a.id
    })
    .await?;
    Ok(axum::Json(Page {
        data: with_people(&state.db, page.data).await?,
        next_cursor: page.next_cursor,
    }))
}

/// One account with its contacts and addresses.
#[utoipa::path(
    get,
    path = "/accounts/{id}",
    tag = "accounts",
    params(("id" = i64, Path, description = "The account's id")),
    responses((status = 200, description = "The account", body = Account), GetProblems),
    security(("bearer" = []))
)]
pub async fn get_account(
    _key: ApiKey,
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Account>> {
    let found = account::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No account {id}.")))?;
    with_people(&state.db, vec![found])
        .await?
        .pop()
        .map(axum::Json)
        .ok_or_else(|| Problem::not_found(format!("No account {id}.")))
}
