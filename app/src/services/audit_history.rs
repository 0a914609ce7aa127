//! The audit log read back for staff, one account at a time: filtered, paginated for the
//! history page and walked in bounded pages for the CSV export. Actors are named; the
//! hash chain stays out of it.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{
    ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    prelude::*,
};

use crate::entities::{account, audit_event, contact, staff_user};
use crate::error::AppError;
use crate::model::audit::{ACTORS, HistoryPage, HistoryRow, PAGE_SIZE, actor_label};
use crate::model::enums::ActorKind;

/// How many events [`for_each_row`] reads at a time.
const EXPORT_PAGE: u64 = 1_000;

/// The filters of an account's history; `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// The kind of record changed, as stored (`account`, `contact`, ...).
    pub entity: Option<String>,
    pub actor_kind: Option<ActorKind>,
    /// The field's stored name, matched exactly.
    pub field: Option<String>,
    /// On or after the start of this day (UTC).
    pub from: Option<NaiveDate>,
    /// On or before the end of this day (UTC).
    pub to: Option<NaiveDate>,
}

/// Turns the page's query parameters into a filter; blank values mean "any".
///
/// # Errors
/// `Validation` naming the parameter that is not a kind of actor or a `YYYY-MM-DD` date,
/// or `from` when it is after `to`.
pub fn parse_filter(
    entity: Option<&str>,
    actor: Option<&str>,
    field: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<HistoryFilter, AppError> {
    let actor_kind = non_empty(actor)
        .map(|a| {
            ACTORS
                .iter()
                .map(|(kind, _)| *kind)
                .find(|kind| kind.as_str() == a)
                .ok_or_else(|| AppError::validation("actor", "is not a kind of actor"))
        })
        .transpose()?;
    let from = non_empty(from).map(|d| parse_date("from", d)).transpose()?;
    let to = non_empty(to).map(|d| parse_date("to", d)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(AppError::validation(
            "from",
            "must not be after the end date",
        ));
    }
    Ok(HistoryFilter {
        entity: non_empty(entity).map(str::to_owned),
        actor_kind,
        field: non_empty(field).map(str::to_owned),
        from,
        to,
    })
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn parse_date(field: &str, value: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| AppError::validation(field, "expected a date like 2026-11-23"))
}

/// The account's number, which names its export.
///
/// # Errors
/// `NotFound` when there is no such account; database errors as `Internal`.
pub async fn account_number(
    db: &impl ConnectionTrait,
    account_id: i64,
) -> Result<String, AppError> {
    account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .map(|a| a.account_number)
        .ok_or(AppError::NotFound)
}

/// One page (zero-based) of the account's events matching `filter`, newest first.
/// A page past the end gives the last page.
///
/// # Errors
/// `NotFound` when there is no such account; database errors as `Internal`.
pub async fn page(
    db: &impl ConnectionTrait,
    account_id: i64,
    filter: &HistoryFilter,
    page: u64,
) -> Result<HistoryPage, AppError> {
    account_number(db, account_id).await?;
    let paginator = matching(account_id, filter)
        .order_by_desc(audit_event::COLUMN.occurred_at)
        .order_by_desc(audit_event::COLUMN.id)
        .paginate(db, PAGE_SIZE);
    let counts = paginator.num_items_and_pages().await?;
    let page = Ord::min(page, counts.number_of_pages.saturating_sub(1));
    let events = paginator.fetch_page(page).await?;
    Ok(HistoryPage {
        rows: rows_of(db, events).await?,
        total: counts.number_of_items,
        page,
        pages: counts.number_of_pages,
    })
}

/// Calls `f` with every event of the account matching `filter`, oldest first (in the
/// order the log was written), reading a thousand at a time. Returns how many it visited.
///
/// # Errors
/// Database errors as `Internal`; `f` may have seen some rows by then.
pub async fn for_each_row(
    db: &impl ConnectionTrait,
    account_id: i64,
    filter: &HistoryFilter,
    mut f: impl FnMut(&HistoryRow),
) -> Result<u64, AppError> {
    let mut after = 0_i64;
    let mut visited = 0_u64;
    loop {
        let events = matching(account_id, filter)
            .filter(audit_event::COLUMN.id.gt(after))
            .order_by_asc(audit_event::COLUMN.id)
            .limit(EXPORT_PAGE)
            .all(db)
            .await?;
        let Some(last) = events.last() else {
            return Ok(visited);
        };
        after = last.id;
        for row in rows_of(db, events).await? {
            f(&row);
            visited += 1;
        }
    }
}

/// The account's events matching `filter`, unordered.
fn matching(account_id: i64, filter: &HistoryFilter) -> Select<audit_event::Entity> {
    let start_of = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut query =
        audit_event::Entity::find().filter(audit_event::COLUMN.account_id.eq(account_id));
    if let Some(entity) = &filter.entity {
        query = query.filter(audit_event::COLUMN.entity.eq(entity.as_str()));
    }
    if let Some(kind) = filter.actor_kind {
        query = query.filter(audit_event::COLUMN.actor_kind.eq(kind));
    }
    if let Some(field) = &filter.field {
        query = query.filter(audit_event::COLUMN.field.eq(field.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::COLUMN.occurred_at.gte(start_of(from)));
    }
    if let Some(next_day) = filter.to.and_then(|to| to.succ_opt()) {
        query = query.filter(audit_event::COLUMN.occurred_at.lt(start_of(next_day)));
    }
    query
}

/// The events as rows, their staff and contact actors named with one query each.
async fn rows_of(
    db: &impl ConnectionTrait,
    events: Vec<audit_event::Model>,
) -> Result<Vec<HistoryRow>, AppError> {
    let ids_of = |kind: ActorKind| -> HashSet<i64> {
        events
            .iter()
            .filter(|e| e.actor_kind == kind)
            .filter_map(|e| e.actor_id)
            .collect()
    };
    let staff_ids = ids_of(ActorKind::Staff);
    let contact_ids = ids_of(ActorKind::Contact);
    let staff: HashMap<i64, String> = if staff_ids.is_empty() {
        HashMap::new()
    } else {
        staff_user::Entity::find()
            .select_only()
            .column(staff_user::Column::Id)
            .column(staff_user::Column::Name)
            .filter(staff_user::COLUMN.id.is_in(staff_ids))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    let contacts: HashMap<i64, String> = if contact_ids.is_empty() {
        HashMap::new()
    } else {
        contact::Entity::find()
            .select_only()
            .column(contact::Column::Id)
            .column(contact::Column::Name)
            .filter(contact::COLUMN.id.is_in(contact_ids))
            .into_tuple::<(i64, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(events
        .into_iter()
        .map(|e| HistoryRow {
            actor: actor_name(e.actor_kind, e.actor_id, &staff, &contacts),
            occurred_at: e.occurred_at,
            channel: e.channel,
            entity: e.entity,
            entity_id: e.entity_id,
            field: e.field,
            old_value: e.old_value,
            new_value: e.new_value,
            client_ip: e.client_ip,
        })
        .collect())
}

/// "Staff · Rita Reviewer", "Contact · Pat", "System"; a person no longer on file is
/// shown by id.
fn actor_name(
    kind: ActorKind,
    id: Option<i64>,
    staff: &HashMap<i64, String>,
    contacts: &HashMap<i64, String>,
) -> String {
    let names = match kind {
        ActorKind::Staff => staff,
        ActorKind::Contact => contacts,
        _ => return actor_label(kind).to_owned(),
    };
    let label = actor_label(kind);
    match id {
        Some(id) => match names.get(&id) {
            Some(name) => format!("{label} · {name}"),
            None => format!("{label} #{id}"),
        },
        None => label.to_owned(),
    }
}

/// The export's header row.
pub const CSV_HEADER: [&str; 9] = [
    "occurred_at",
    "actor",
    "channel",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "client_ip",
];

/// A row as the export's cells, in [`CSV_HEADER`]'s order; text a spreadsheet would take
/// for a formula is quoted with a leading `'`.
pub fn csv_record(row: &HistoryRow) -> [String; 9] {
    let text = |v: &Option<String>| spreadsheet_safe(v.as_deref().unwrap_or_default());
    [
        row.occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        spreadsheet_safe(&row.actor),
        row.channel.as_str().to_owned(),
        spreadsheet_safe(&row.entity),
        row.entity_id.map(|id| id.to_string()).unwrap_or_default(),
        text(&row.field),
        text(&row.old_value),
        text(&row.new_value),
        text(&row.client_ip),
    ]
}

/// `text`, with a `'` in front when it starts like a formula (`=`, `+`, `-`, `@`, or the
/// tab and carriage return some spreadsheets skip before one).
pub fn spreadsheet_safe(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
