//! Staff work on accounts: the list (searched, filtered, sorted and paged in SQL, so ten
//! thousand accounts stay fast) and inline edits of account and contact fields.
//!
//! Every save carries the record version the editor loaded. When the record moved on,
//! the save still goes through if this field is unchanged since (someone edited another
//! field); otherwise nothing is written and the editor gets the current value — never a
//! silent overwrite. The write itself is guarded by the version read just before it, so
//! two saves racing for the same field cannot both land.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{ExprTrait as _, Func, LikeExpr};
use sea_orm::{
    ActiveValue::NotSet, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait, prelude::*,
};

use crate::entities::{account, address, contact, staff_user};
use crate::error::AppError;
use crate::model::accounts::{
    AccountDetail, AccountField, AccountList, AccountRow, ContactField, ContactRow, PAGE_SIZE,
    Saved, check_account_field, check_contact_field, parse_role, parse_status,
};
use crate::model::enums::{ActorKind, AddressKind, Channel, EmailStatus};
use crate::services::audit::{self, Change};
use crate::services::documents::contains_pattern;

/// How long a verification counts as recent.
pub const VERIFIED_WITHIN: Duration = Duration::days(365);

/// The accounts list's filters, as read from the page's URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub q: Option<String>,
    pub status: Option<crate::model::enums::AccountStatus>,
    pub collector_id: Option<i64>,
    /// A key of `model::accounts::GAPS`.
    pub gap: Option<String>,
    pub bounced: bool,
    /// `name` (default), `number` or `updated`.
    pub sort: Option<String>,
}

pub(crate) const HAS_USABLE_EMAIL: &str = "EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = accounts.id \
     AND c.email IS NOT NULL AND c.email <> '' AND c.email_status <> 'bounced')";
pub(crate) const HAS_ADDRESS: &str = "EXISTS (SELECT 1 FROM addresses a WHERE a.account_id = accounts.id \
     AND a.kind IN ('mailing', 'billing'))";
const HAS_BOUNCED: &str = "EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = accounts.id \
     AND c.email_status = 'bounced')";

/// Accounts whose name, legal name or number contains `q` (any case; `%` and `_` taken
/// literally); every account when `q` is blank.
pub fn search(q: &str) -> Condition {
    let q = q.trim();
    if q.is_empty() {
        return Condition::all();
    }
    let pattern = contains_pattern(&q.to_lowercase());
    let matches = |column: account::Column| {
        Expr::expr(Func::lower(Expr::col(column))).like(LikeExpr::new(pattern.clone()).escape('\\'))
    };
    Condition::any()
        .add(matches(account::Column::DisplayName))
        .add(matches(account::Column::LegalName))
        .add(matches(account::Column::AccountNumber))
}

/// Ids of the accounts [`search`] finds, at most `limit` (and one more, so callers can
/// tell "too many").
///
/// # Errors
/// Database errors as `Internal`.
pub async fn ids_matching(
    db: &impl ConnectionTrait,
    q: &str,
    limit: u64,
) -> Result<Vec<i64>, AppError> {
    Ok(account::Entity::find()
        .filter(search(q))
        .select_only()
        .column(account::Column::Id)
        .order_by_asc(account::COLUMN.id)
        .limit(limit + 1)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

/// One page (zero-based; past the end gives the last) of accounts matching `filter`.
///
/// # Errors
/// `Validation` (`gap`) for an unknown gap; database errors as `Internal`.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ListFilter,
    page: u64,
    now: DateTime<Utc>,
) -> Result<AccountList, AppError> {
    let mut query = account::Entity::find();
    if let Some(q) = filter.q.as_deref() {
        query = query.filter(search(q));
    }
    if let Some(status) = filter.status {
        query = query.filter(account::COLUMN.status.eq(status));
    }
    if let Some(collector) = filter.collector_id {
        query = query.filter(account::COLUMN.collector_id.eq(collector));
    }
    if filter.bounced {
        query = query.filter(Expr::cust(HAS_BOUNCED));
    }
    match filter.gap.as_deref() {
        None | Some("") => {}
        Some("email") => query = query.filter(Expr::cust(format!("NOT {HAS_USABLE_EMAIL}"))),
        Some("address") => query = query.filter(Expr::cust(format!("NOT {HAS_ADDRESS}"))),
        Some("tin") => query = query.filter(account::COLUMN.tin_last4.is_null()),
        Some("unverified") => {
            query = query.filter(
                Condition::any()
                    .add(account::COLUMN.verified_at.is_null())
                    .add(account::COLUMN.verified_at.lt(now - VERIFIED_WITHIN)),
            );
        }
        Some(_) => return Err(AppError::validation("gap", "unknown filter")),
    }
    query = match filter.sort.as_deref() {
        Some("number") => query.order_by_asc(account::COLUMN.account_number),
        Some("updated") => query.order_by_desc(account::COLUMN.updated_at),
        _ => query.order_by_asc(account::COLUMN.display_name),
    }
    .order_by_asc(account::COLUMN.id);
    let paginator = query.paginate(db, PAGE_SIZE);
    let counts = paginator.num_items_and_pages().await?;
    let page = Ord::min(page, counts.number_of_pages.saturating_sub(1));
    let accounts = paginator.fetch_page(page).await?;
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let gaps = gaps_of(db, &accounts, now).await?;
    let bounced: HashSet<i64> = contact::Entity::find()
        .filter(contact::COLUMN.account_id.is_in(ids.iter().copied()))
        .filter(contact::COLUMN.email_status.eq(EmailStatus::Bounced))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.account_id)
        .collect();
    let staff: Vec<(i64, String)> = staff_user::Entity::find()
        .order_by_asc(staff_user::COLUMN.name)
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let names: HashMap<i64, &String> = staff.iter().map(|(id, n)| (*id, n)).collect();
    let rows = accounts
        .iter()
        .map(|a| AccountRow {
            id: a.id,
            number: a.account_number.clone(),
            name: a.display_name.clone(),
            status: a.status,
            collector: a
                .collector_id
                .and_then(|id| names.get(&id).map(|n| (*n).clone())),
            has_bounced: bounced.contains(&a.id),
            gaps: gaps.get(&a.id).cloned().unwrap_or_default(),
        })
        .collect();
    Ok(AccountList {
        rows,
        total: counts.number_of_items,
        page,
        pages: counts.number_of_pages,
        collectors: staff,
    })
}

/// What each of `accounts` is missing (keys of `model::accounts::GAPS`), in two queries.
async fn gaps_of(
    db: &impl ConnectionTrait,
    accounts: &[account::Model],
    now: DateTime<Utc>,
) -> Result<HashMap<i64, Vec<String>>, AppError> {
    let ids = accounts.iter().map(|a| a.id);
    let with_email: HashSet<i64> = contact::Entity::find()
        .filter(contact::COLUMN.account_id.is_in(ids.clone()))
        .filter(contact::COLUMN.email_status.ne(EmailStatus::Bounced))
        .all(db)
        .await?
        .into_iter()
        .filter(|c| c.email.as_deref().is_some_and(|e| !e.trim().is_empty()))
        .map(|c| c.account_id)
        .collect();
    let with_address: HashSet<i64> = address::Entity::find()
        .filter(address::COLUMN.account_id.is_in(ids))
        .filter(
            address::COLUMN
                .kind
                .is_in([AddressKind::Mailing, AddressKind::Billing]),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|a| a.account_id)
        .collect();
    Ok(accounts
        .iter()
        .map(|a| {
            let mut gaps = Vec::new();
            if !with_email.contains(&a.id) {
                gaps.push("email".to_owned());
            }
            if !with_address.contains(&a.id) {
                gaps.push("address".to_owned());
            }
            if a.tin_last4.is_none() {
                gaps.push("tin".to_owned());
            }
            if a.verified_at.is_none_or(|at| at < now - VERIFIED_WITHIN) {
                gaps.push("unverified".to_owned());
            }
            (a.id, gaps)
        })
        .collect())
}

fn account_value(a: &account::Model, field: AccountField) -> String {
    match field {
        AccountField::DisplayName => a.display_name.clone(),
        AccountField::LegalName => a.legal_name.clone(),
        AccountField::Phone => a.phone.clone().unwrap_or_default(),
        AccountField::Website => a.website.clone().unwrap_or_default(),
        AccountField::PaymentTermsDays => a.payment_terms_days.to_string(),
        AccountField::Segment => a.segment.clone().unwrap_or_default(),
        AccountField::Status => a.status.as_str().to_owned(),
    }
}

fn contact_value(c: &contact::Model, field: ContactField) -> String {
    match field {
        ContactField::Name => c.name.clone(),
        ContactField::Email => c.email.clone().unwrap_or_default(),
        ContactField::Phone => c.phone.clone().unwrap_or_default(),
        ContactField::Role => c.role.as_str().to_owned(),
    }
}

/// The account page of `account_id`.
///
/// # Errors
/// `NotFound` for an unknown account; database errors as `Internal`.
pub async fn detail(
    db: &impl ConnectionTrait,
    account_id: i64,
    can_edit: bool,
    now: DateTime<Utc>,
) -> Result<AccountDetail, AppError> {
    let a = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let contacts = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(account_id))
        .order_by_desc(contact::COLUMN.is_primary_billing)
        .order_by_asc(contact::COLUMN.id)
        .all(db)
        .await?;
    let gaps = gaps_of(db, std::slice::from_ref(&a), now)
        .await?
        .remove(&a.id)
        .unwrap_or_default();
    Ok(AccountDetail {
        id: a.id,
        number: a.account_number.clone(),
        version: a.version,
        fields: AccountField::ALL
            .iter()
            .map(|f| (*f, account_value(&a, *f)))
            .collect(),
        contacts: contacts
            .into_iter()
            .map(|c| ContactRow {
                id: c.id,
                version: c.version,
                name: c.name,
                email: c.email.unwrap_or_default(),
                phone: c.phone.unwrap_or_default(),
                role: c.role,
                is_primary_billing: c.is_primary_billing,
                email_status: c.email_status,
            })
            .collect(),
        gaps,
        tin_masked: a.tin_last4.map(|l| format!("••-•••{l}")),
        can_edit,
    })
}

fn optional(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// The answer to an inline save that needs no write: stale when the record moved on since
/// `version` and the field no longer reads `original`; done when it already holds `value`.
fn answer_without_writing(
    current_version: i32,
    version: i32,
    now_value: &str,
    original: &str,
    value: &str,
) -> Option<Saved> {
    if current_version != version && now_value != original {
        return Some(Saved::Stale {
            version: current_version,
            current: now_value.to_owned(),
        });
    }
    (now_value == value).then(|| Saved::Done {
        version: current_version,
        value: value.to_owned(),
    })
}

/// The audit event of a staff member's inline edit of `field` of `record` (entity, id).
fn staff_edit(
    staff_id: i64,
    account_id: i64,
    record: (&'static str, i64),
    field: &'static str,
    old: String,
    new: &str,
) -> Change<'static> {
    Change {
        actor_kind: ActorKind::Staff,
        actor_id: Some(staff_id),
        channel: Channel::StaffUi,
        account_id: Some(account_id),
        entity: record.0,
        entity_id: Some(record.1),
        field: Some(field),
        old_value: Some(old),
        new_value: Some(new.to_owned()),
    }
}

/// Saves `text` into `field` of account `account_id`, edited from `version` when the field
/// read `original`. See the module documentation for when a save is stale.
///
/// # Errors
/// `Validation` naming the field for a bad value; `NotFound` for an unknown account;
/// database errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn save_account_field(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    account_id: i64,
    field: AccountField,
    text: &str,
    version: i32,
    original: &str,
    now: DateTime<Utc>,
) -> Result<Saved, AppError> {
    let value =
        check_account_field(field, text).map_err(|m| AppError::validation(field.as_str(), m))?;
    let current = account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let now_value = account_value(&current, field);
    if let Some(answer) =
        answer_without_writing(current.version, version, &now_value, original, &value)
    {
        return Ok(answer);
    }
    let mut change = account::ActiveModel {
        id: NotSet,
        version: sea_orm::ActiveValue::Set(current.version + 1),
        updated_at: sea_orm::ActiveValue::Set(now),
        ..Default::default()
    };
    match field {
        AccountField::DisplayName => change.display_name = sea_orm::ActiveValue::Set(value.clone()),
        AccountField::LegalName => change.legal_name = sea_orm::ActiveValue::Set(value.clone()),
        AccountField::Phone => change.phone = sea_orm::ActiveValue::Set(optional(value.clone())),
        AccountField::Website => {
            change.website = sea_orm::ActiveValue::Set(optional(value.clone()))
        }
        AccountField::Segment => {
            change.segment = sea_orm::ActiveValue::Set(optional(value.clone()))
        }
        AccountField::PaymentTermsDays => {
            change.payment_terms_days = sea_orm::ActiveValue::Set(
                value
                    .parse()
                    .map_err(|_| AppError::validation(field.as_str(), "enter a number of days"))?,
            );
        }
        AccountField::Status => {
            change.status = sea_orm::ActiveValue::Set(
                parse_status(&value)
                    .ok_or_else(|| AppError::validation(field.as_str(), "unknown status"))?,
            );
        }
    }
    let txn = crate::db::begin_write(db).await?;
    // Guarded by the version just read: a racing save of the same record finds it moved.
    let written = account::Entity::update_many()
        .set(change)
        .filter(account::COLUMN.id.eq(account_id))
        .filter(account::COLUMN.version.eq(current.version))
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        drop(txn);
        let moved = account::Entity::find_by_id(account_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(Saved::Stale {
            version: moved.version,
            current: account_value(&moved, field),
        });
    }
    let event = audit::append(
        &txn,
        staff_edit(
            staff_id,
            account_id,
            ("account", account_id),
            field.as_str(),
            now_value,
            &value,
        ),
        now,
    )
    .await?;
    crate::services::webhooks::profile_changed(&txn, &event, now).await?;
    txn.commit().await?;
    Ok(Saved::Done {
        version: current.version + 1,
        value,
    })
}

/// Saves `text` into `field` of contact `contact_id`; like [`save_account_field`]. A new
/// email address starts unverified and ends the contact's outstanding links.
///
/// # Errors
/// As [`save_account_field`].
#[allow(clippy::too_many_arguments)]
pub async fn save_contact_field(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    contact_id: i64,
    field: ContactField,
    text: &str,
    version: i32,
    original: &str,
    now: DateTime<Utc>,
) -> Result<Saved, AppError> {
    let value =
        check_contact_field(field, text).map_err(|m| AppError::validation(field.as_str(), m))?;
    let current = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let now_value = contact_value(&current, field);
    if let Some(answer) =
        answer_without_writing(current.version, version, &now_value, original, &value)
    {
        return Ok(answer);
    }
    let mut change = contact::ActiveModel {
        id: NotSet,
        version: sea_orm::ActiveValue::Set(current.version + 1),
        updated_at: sea_orm::ActiveValue::Set(now),
        ..Default::default()
    };
    match field {
        ContactField::Name => change.name = sea_orm::ActiveValue::Set(value.clone()),
        ContactField::Phone => change.phone = sea_orm::ActiveValue::Set(optional(value.clone())),
        ContactField::Email => {
            change.email = sea_orm::ActiveValue::Set(optional(value.clone()));
            change.email_status = sea_orm::ActiveValue::Set(EmailStatus::Unverified);
        }
        ContactField::Role => {
            change.role = sea_orm::ActiveValue::Set(
                parse_role(&value)
                    .ok_or_else(|| AppError::validation(field.as_str(), "unknown role"))?,
            );
        }
    }
    let txn = crate::db::begin_write(db).await?;
    let written = contact::Entity::update_many()
        .set(change)
        .filter(contact::COLUMN.id.eq(contact_id))
        .filter(contact::COLUMN.version.eq(current.version))
        .exec(&txn)
        .await?;
    if written.rows_affected != 1 {
        drop(txn);
        let moved = contact::Entity::find_by_id(contact_id)
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(Saved::Stale {
            version: moved.version,
            current: contact_value(&moved, field),
        });
    }
    if field == ContactField::Email {
        crate::services::magic_links::revoke_for_contact(&txn, contact_id, now).await?;
    }
    let event = audit::append(
        &txn,
        staff_edit(
            staff_id,
            current.account_id,
            ("contact", contact_id),
            field.as_str(),
            now_value,
            &value,
        ),
        now,
    )
    .await?;
    crate::services::webhooks::profile_changed(&txn, &event, now).await?;
    txn.commit().await?;
    Ok(Saved::Done {
        version: current.version + 1,
        value,
    })
}
