//! Onboarding campaigns: staff pick accounts by what their profile lacks, each account's
//! billing contact gets a `profile` magic link asking to check and update the company's
//! details, and reminders follow on a schedule until the contact opens the link and
//! completes the profile.
//!
//! The launch (campaign, targets and first emails) is one transaction. Each follow-up is
//! claimed with a guarded UPDATE of the target's follow-up count before its email is
//! queued in the same transaction, so two workers running at once never send it twice.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait, TryInsertResult, prelude::*,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::entities::{account, campaign, campaign_target, contact, template};
use crate::error::AppError;
use crate::model::campaigns::{
    CampaignDetail, CampaignTarget, CampaignView, TARGETS_SHOWN, check_follow_ups,
};
use crate::model::enums::{
    AccountKind, ActorKind, CampaignKind, CampaignStatus, EmailStatus, LinkPurpose, TargetStatus,
    TemplateChannel,
};
use crate::services::accounts::VERIFIED_WITHIN;
use crate::services::magic_links::{self, Creator};
use crate::services::mail;

/// Days after the first email when follow-ups go out, unless staff choose others.
pub const DEFAULT_FOLLOW_UPS: [i64; 3] = [3, 7, 14];
/// Key of the profile update request (ctx: `link`, `company`, `contact_name`, `reminder`).
pub const TEMPLATE: &str = "profile_update_request";
/// The most accounts one campaign may reach.
pub const MAX_TARGETS: u64 = 5_000;

const TEMPLATE_NAME: &str = "Profile update request";
const TEMPLATE_SUBJECT: &str =
    "{% if reminder %}Reminder: {% endif %}Please check the billing details of {{ company }}";
const TEMPLATE_TEXT: &str = "Hello {{ contact_name }},
{% if reminder %}
A few days ago we asked you to check the billing details we keep for {{ company }}. If you have not had a chance yet, it takes only a minute.
{% else %}
To make sure invoices, statements and payments reach the right place, please check and update the billing details we keep for {{ company }}: contacts, addresses, remit-to and tax ID.
{% endif %}
{{ link }}

The link is valid for 14 days. If everything is correct, simply confirm it.

Thank you.
";
const TEMPLATE_HTML: &str = "<p>Hello {{ contact_name }},</p>
{% if reminder %}<p>A few days ago we asked you to check the billing details we keep for {{ company }}. If you have not had a chance yet, it takes only a minute.</p>
{% else %}<p>To make sure invoices, statements and payments reach the right place, please check and update the billing details we keep for {{ company }}: contacts, addresses, remit-to and tax ID.</p>
{% endif %}<p><a href=\"{{ link }}\">Check and update our billing details</a></p>
<p>The link is valid for 14 days. If everything is correct, simply confirm it.</p>
<p>Thank you.</p>
";

const HAS_USABLE_EMAIL: &str = "EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = accounts.id \
     AND c.email IS NOT NULL AND c.email <> '' AND c.email_status <> 'bounced')";
const HAS_ADDRESS: &str = "EXISTS (SELECT 1 FROM addresses a WHERE a.account_id = accounts.id \
     AND a.kind IN ('mailing', 'billing'))";
const IN_RUNNING: &str = "campaign_id IN (SELECT id FROM campaigns \
     WHERE status = 'running' AND kind = 'profile_update')";
const IN_DONE: &str = "campaign_id IN (SELECT id FROM campaigns \
     WHERE status = 'done' AND kind = 'profile_update')";

/// What `campaigns.filter` holds: how the accounts were picked and the schedule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Filter {
    gap: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_ids: Option<Vec<i64>>,
    follow_ups: Vec<i64>,
    #[serde(default)]
    skipped: u64,
}

fn filter_of(c: &campaign::Model) -> Filter {
    match c.filter.as_deref().map(serde_json::from_str::<Filter>) {
        Some(Ok(filter)) => filter,
        Some(Err(err)) => {
            tracing::warn!(campaign = c.id, %err, "unreadable campaign filter; using defaults");
            Filter {
                follow_ups: DEFAULT_FOLLOW_UPS.to_vec(),
                ..Filter::default()
            }
        }
        None => Filter {
            follow_ups: DEFAULT_FOLLOW_UPS.to_vec(),
            ..Filter::default()
        },
    }
}

/// Inserts the [`TEMPLATE`] email template unless one with its key exists; returns how
/// many were added (0 or 1).
///
/// # Errors
/// Database errors as `Internal`.
pub async fn seed_template(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let row = template::ActiveModel {
        key: Set(TEMPLATE.to_owned()),
        channel: Set(TemplateChannel::Email),
        name: Set(TEMPLATE_NAME.to_owned()),
        subject: Set(TEMPLATE_SUBJECT.to_owned()),
        body_text: Set(TEMPLATE_TEXT.to_owned()),
        body_html: Set(Some(TEMPLATE_HTML.to_owned())),
        version: Set(1),
        updated_at: Set(now),
        ..Default::default()
    };
    let result = template::Entity::insert(row)
        .on_conflict_do_nothing_on([template::Column::Key])
        .exec(db)
        .await?;
    Ok(usize::from(matches!(result, TryInsertResult::Inserted(_))))
}

/// Launches a profile update campaign over the customer accounts that have `gap` (a key
/// of `model::accounts::GAPS`; `None` for any) and, when given, are among `account_ids`.
///
/// Each account's contact is its primary billing contact with an email address that did
/// not bounce, else another contact with such an address. An account whose addresses all
/// bounced becomes a `bounced` target and gets no email; an account with no address at
/// all is left out and counted as skipped. The campaign, its targets and the first emails
/// (a fresh `profile` link each) are written in one transaction.
///
/// # Errors
/// `Validation` for a name that is empty or longer than 200 characters (`name`), a bad
/// schedule (`follow_ups`), an unknown gap (`gap`), no matching account or more than
/// [`MAX_TARGETS`] (`accounts`); database and mail errors as `Internal`.
#[allow(clippy::too_many_arguments)]
pub async fn launch(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    staff_id: i64,
    name: &str,
    gap: Option<&str>,
    account_ids: Option<&[i64]>,
    follow_ups: &[i64],
    now: DateTime<Utc>,
) -> Result<CampaignView, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::validation("name", "give the campaign a name"));
    }
    if name.chars().count() > 200 {
        return Err(AppError::validation("name", "at most 200 characters"));
    }
    check_follow_ups(follow_ups).map_err(|m| AppError::validation("follow_ups", m))?;
    let gap = gap.map(str::trim).filter(|g| !g.is_empty());

    let txn = crate::db::begin_write(db).await?;
    let accounts = matching_accounts(&txn, gap, account_ids, now).await?;
    if accounts.is_empty() {
        return Err(AppError::validation("accounts", "no account matches"));
    }
    let contacts = contacts_of(&txn, &accounts).await?;
    let skipped = accounts
        .iter()
        .filter(|id| !contacts.contains_key(id))
        .count();
    if skipped == accounts.len() {
        return Err(AppError::validation(
            "accounts",
            format!(
                "none of the {} matching accounts has a contact with an email address",
                accounts.len()
            ),
        ));
    }
    seed_template(&txn, now).await?;
    let filter = Filter {
        gap: gap.map(str::to_owned),
        account_ids: account_ids.map(<[i64]>::to_vec),
        follow_ups: follow_ups.to_vec(),
        skipped: u64::try_from(skipped).unwrap_or(u64::MAX),
    };
    let filter = serde_json::to_string(&filter).map_err(|err| {
        tracing::error!(%err, "campaign filter does not serialize");
        AppError::Internal
    })?;
    let created = campaign::ActiveModel {
        name: Set(name.to_owned()),
        kind: Set(CampaignKind::ProfileUpdate),
        filter: Set(Some(filter)),
        status: Set(CampaignStatus::Running),
        created_by: Set(Some(staff_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let creator = Creator {
        kind: ActorKind::Staff,
        id: Some(staff_id),
    };
    let mut targets = Vec::with_capacity(accounts.len());
    for account_id in &accounts {
        let Some(pick) = contacts.get(account_id) else {
            continue;
        };
        let (status, last_sent_at) = match pick {
            Pick::Usable(contact_id) => {
                send(&txn, public_url, *contact_id, false, creator, now).await?;
                (TargetStatus::Sent, Some(now))
            }
            Pick::Bounced(_) => (TargetStatus::Bounced, None),
        };
        targets.push(campaign_target::ActiveModel {
            campaign_id: Set(created.id),
            account_id: Set(*account_id),
            contact_id: Set(Some(pick.contact_id())),
            status: Set(status),
            follow_ups: Set(0),
            last_sent_at: Set(last_sent_at),
            ..Default::default()
        });
    }
    for chunk in targets.chunks(500) {
        campaign_target::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    view(db, created.id).await
}

/// The ids of the customer accounts a launch reaches, refusing more than [`MAX_TARGETS`].
async fn matching_accounts(
    db: &impl ConnectionTrait,
    gap: Option<&str>,
    account_ids: Option<&[i64]>,
    now: DateTime<Utc>,
) -> Result<Vec<i64>, AppError> {
    let mut query = account::Entity::find().filter(account::COLUMN.kind.eq(AccountKind::Customer));
    match gap {
        None => {}
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
    if let Some(ids) = account_ids {
        if ids.len() > usize::try_from(MAX_TARGETS).unwrap_or(usize::MAX) {
            return Err(too_many());
        }
        query = query.filter(account::COLUMN.id.is_in(ids.iter().copied()));
    }
    if query.clone().count(db).await? > MAX_TARGETS {
        return Err(too_many());
    }
    Ok(query
        .select_only()
        .column(account::Column::Id)
        .order_by_asc(account::COLUMN.id)
        .into_tuple::<i64>()
        .all(db)
        .await?)
}

fn too_many() -> AppError {
    AppError::validation(
        "accounts",
        format!("more than {MAX_TARGETS} accounts match; narrow the selection"),
    )
}

/// Who a campaign writes to at one account.
#[derive(Debug, Clone, Copy)]
enum Pick {
    Usable(i64),
    /// Every address the account has bounced; this is the best of those contacts.
    Bounced(i64),
}

impl Pick {
    fn contact_id(self) -> i64 {
        match self {
            Pick::Usable(id) | Pick::Bounced(id) => id,
        }
    }
}

/// The contact to write to at each account that has any contact with an email address.
async fn contacts_of(
    db: &impl ConnectionTrait,
    accounts: &[i64],
) -> Result<HashMap<i64, Pick>, AppError> {
    let mut best: HashMap<i64, (bool, contact::Model)> = HashMap::new();
    for chunk in accounts.chunks(1000) {
        let rows = contact::Entity::find()
            .filter(contact::COLUMN.account_id.is_in(chunk.iter().copied()))
            .filter(contact::COLUMN.email.is_not_null())
            .order_by_asc(contact::COLUMN.id)
            .all(db)
            .await?;
        for c in rows {
            if c.email.as_deref().is_none_or(|e| e.trim().is_empty()) {
                continue;
            }
            let usable = c.email_status != EmailStatus::Bounced;
            let better = match best.get(&c.account_id) {
                None => true,
                Some((best_usable, b)) => {
                    (usable, c.is_primary_billing) > (*best_usable, b.is_primary_billing)
                }
            };
            if better {
                best.insert(c.account_id, (usable, c));
            }
        }
    }
    Ok(best
        .into_iter()
        .map(|(account_id, (usable, c))| {
            let pick = if usable {
                Pick::Usable(c.id)
            } else {
                Pick::Bounced(c.id)
            };
            (account_id, pick)
        })
        .collect())
}

/// Issues a fresh `profile` link to the contact and queues the request (or reminder).
async fn send(
    db: &impl ConnectionTrait,
    public_url: &str,
    contact_id: i64,
    reminder: bool,
    creator: Creator,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let token = magic_links::issue(
        db,
        contact_id,
        LinkPurpose::Profile,
        None,
        magic_links::PURPOSE_TTL,
        creator,
        now,
    )
    .await?;
    let base = public_url.trim_end_matches('/');
    mail::send_to_contact(
        db,
        public_url,
        contact_id,
        TEMPLATE,
        json!({ "link": format!("{base}/l/{token}"), "reminder": reminder }),
        now,
    )
    .await?;
    Ok(())
}

/// Sends the follow-ups that are due in running campaigns and returns how many went out.
///
/// A target that was sent or opened the request gets its k-th reminder once the
/// campaign's k-th follow-up day (counted from the launch) has come; when several are
/// due at once (the worker was down) one reminder covers them. A target whose contact
/// bounced or lost its address since becomes `bounced` instead. A campaign with no
/// target left to remind is set to done.
///
/// # Errors
/// Database and mail errors as `Internal`.
pub async fn follow_up(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let running = campaign::Entity::find()
        .filter(campaign::COLUMN.status.eq(CampaignStatus::Running))
        .filter(campaign::COLUMN.kind.eq(CampaignKind::ProfileUpdate))
        .order_by_asc(campaign::COLUMN.id)
        .all(db)
        .await?;
    let creator = Creator {
        kind: ActorKind::System,
        id: None,
    };
    let mut sent = 0;
    for c in running {
        let days = filter_of(&c).follow_ups;
        let scheduled = i32::try_from(days.len()).unwrap_or(i32::MAX);
        let due = days
            .iter()
            .take_while(|d| c.created_at + Duration::days(**d) <= now)
            .count();
        let due = i32::try_from(due).unwrap_or(i32::MAX);
        let waiting = campaign_target::Entity::find()
            .filter(campaign_target::COLUMN.campaign_id.eq(c.id))
            .filter(
                campaign_target::COLUMN
                    .status
                    .is_in([TargetStatus::Sent, TargetStatus::Opened]),
            )
            .filter(campaign_target::COLUMN.follow_ups.lt(due))
            .order_by_asc(campaign_target::COLUMN.id)
            .all(db)
            .await?;
        for t in waiting {
            let Some(contact_id) = t.contact_id else {
                continue;
            };
            let txn = crate::db::begin_write(db).await?;
            let claimed = campaign_target::Entity::update_many()
                .col_expr(campaign_target::Column::FollowUps, Expr::value(due))
                .col_expr(campaign_target::Column::LastSentAt, Expr::value(Some(now)))
                .filter(campaign_target::COLUMN.id.eq(t.id))
                .filter(campaign_target::COLUMN.follow_ups.eq(t.follow_ups))
                .filter(
                    campaign_target::COLUMN
                        .status
                        .is_in([TargetStatus::Sent, TargetStatus::Opened]),
                )
                .exec(&txn)
                .await?;
            if claimed.rows_affected != 1 {
                continue;
            }
            let reachable = contact::Entity::find_by_id(contact_id)
                .one(&txn)
                .await?
                .is_some_and(|ct| {
                    ct.email_status != EmailStatus::Bounced
                        && ct.email.as_deref().is_some_and(|e| !e.trim().is_empty())
                });
            if reachable {
                send(&txn, public_url, contact_id, true, creator, now).await?;
                sent += 1;
            } else {
                campaign_target::Entity::update_many()
                    .col_expr(
                        campaign_target::Column::Status,
                        Expr::value(TargetStatus::Bounced),
                    )
                    .filter(campaign_target::COLUMN.id.eq(t.id))
                    .exec(&txn)
                    .await?;
            }
            txn.commit().await?;
        }
        let left = campaign_target::Entity::find()
            .filter(campaign_target::COLUMN.campaign_id.eq(c.id))
            .filter(campaign_target::COLUMN.status.is_in([
                TargetStatus::Pending,
                TargetStatus::Sent,
                TargetStatus::Opened,
            ]))
            .filter(campaign_target::COLUMN.follow_ups.lt(scheduled))
            .count(db)
            .await?;
        if left == 0 {
            campaign::Entity::update_many()
                .col_expr(campaign::Column::Status, Expr::value(CampaignStatus::Done))
                .filter(campaign::COLUMN.id.eq(c.id))
                .filter(campaign::COLUMN.status.eq(CampaignStatus::Running))
                .exec(db)
                .await?;
        }
    }
    Ok(sent)
}

/// Targets a contact's action still counts for: those of running campaigns, and of
/// finished ones while the last link sent is valid.
fn counting(now: DateTime<Utc>) -> Condition {
    Condition::any().add(Expr::cust(IN_RUNNING)).add(
        Condition::all().add(Expr::cust(IN_DONE)).add(
            campaign_target::COLUMN
                .last_sent_at
                .gt(now - magic_links::PURPOSE_TTL),
        ),
    )
}

/// Records that `contact_id` opened a `profile` link: their `sent` targets become
/// `opened`. Returns how many changed.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn mark_opened(
    db: &impl ConnectionTrait,
    contact_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let result = campaign_target::Entity::update_many()
        .col_expr(
            campaign_target::Column::Status,
            Expr::value(TargetStatus::Opened),
        )
        .filter(campaign_target::COLUMN.contact_id.eq(contact_id))
        .filter(campaign_target::COLUMN.status.eq(TargetStatus::Sent))
        .filter(counting(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Records that the profile of `account_id` was verified or updated: its pending, sent
/// and opened targets become `completed` and get no more follow-ups. Returns how many
/// changed.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn mark_completed(
    db: &impl ConnectionTrait,
    account_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let result = campaign_target::Entity::update_many()
        .col_expr(
            campaign_target::Column::Status,
            Expr::value(TargetStatus::Completed),
        )
        .filter(campaign_target::COLUMN.account_id.eq(account_id))
        .filter(campaign_target::COLUMN.status.is_in([
            TargetStatus::Pending,
            TargetStatus::Sent,
            TargetStatus::Opened,
        ]))
        .filter(counting(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Targets per (campaign, status) with their follow-ups, for `campaign_id` or all.
async fn tallies(
    db: &impl ConnectionTrait,
    campaign_id: Option<i64>,
) -> Result<HashMap<i64, Vec<(TargetStatus, i64, i64)>>, AppError> {
    let mut query = campaign_target::Entity::find()
        .select_only()
        .column(campaign_target::Column::CampaignId)
        .column(campaign_target::Column::Status)
        .column_as(campaign_target::Column::Id.count(), "targets")
        .column_as(campaign_target::Column::FollowUps.sum(), "follow_ups")
        .group_by(campaign_target::Column::CampaignId)
        .group_by(campaign_target::Column::Status);
    if let Some(id) = campaign_id {
        query = query.filter(campaign_target::COLUMN.campaign_id.eq(id));
    }
    let rows: Vec<(i64, TargetStatus, i64, Option<i64>)> = query.into_tuple().all(db).await?;
    let mut out: HashMap<i64, Vec<(TargetStatus, i64, i64)>> = HashMap::new();
    for (campaign_id, status, targets, follow_ups) in rows {
        out.entry(campaign_id)
            .or_default()
            .push((status, targets, follow_ups.unwrap_or(0)));
    }
    Ok(out)
}

fn to_view(c: campaign::Model, tally: &[(TargetStatus, i64, i64)]) -> CampaignView {
    let filter = filter_of(&c);
    let count = |wanted: &[TargetStatus]| -> u64 {
        tally
            .iter()
            .filter(|(s, _, _)| wanted.contains(s))
            .map(|(_, n, _)| u64::try_from(*n).unwrap_or(0))
            .sum()
    };
    CampaignView {
        id: c.id,
        name: c.name,
        status: c.status,
        created_at: c.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        gap: filter.gap,
        follow_up_days: filter.follow_ups,
        skipped: filter.skipped,
        targets: tally
            .iter()
            .map(|(_, n, _)| u64::try_from(*n).unwrap_or(0))
            .sum(),
        sent: count(&[
            TargetStatus::Sent,
            TargetStatus::Opened,
            TargetStatus::Completed,
        ]),
        opened: count(&[TargetStatus::Opened, TargetStatus::Completed]),
        completed: count(&[TargetStatus::Completed]),
        bounced: count(&[TargetStatus::Bounced]),
        follow_ups_sent: tally
            .iter()
            .map(|(_, _, f)| u64::try_from(*f).unwrap_or(0))
            .sum(),
    }
}

/// One campaign with its counts.
///
/// # Errors
/// `NotFound` for an unknown campaign; database errors as `Internal`.
pub async fn view(db: &impl ConnectionTrait, campaign_id: i64) -> Result<CampaignView, AppError> {
    let c = campaign::Entity::find_by_id(campaign_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let tally = tallies(db, Some(campaign_id)).await?;
    Ok(to_view(
        c,
        tally
            .get(&campaign_id)
            .map(Vec::as_slice)
            .unwrap_or_default(),
    ))
}

/// Every campaign with its counts, newest first, in two queries.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<CampaignView>, AppError> {
    let campaigns = campaign::Entity::find()
        .order_by_desc(campaign::COLUMN.created_at)
        .order_by_desc(campaign::COLUMN.id)
        .all(db)
        .await?;
    let tally = tallies(db, None).await?;
    Ok(campaigns
        .into_iter()
        .map(|c| {
            let id = c.id;
            to_view(c, tally.get(&id).map(Vec::as_slice).unwrap_or_default())
        })
        .collect())
}

/// Campaign `campaign_id` with the first [`TARGETS_SHOWN`] of its targets (those with
/// `status`, when given), companies in order, in six queries whatever the campaign's size.
///
/// # Errors
/// `NotFound` for an unknown campaign; database errors as `Internal`.
pub async fn detail(
    db: &impl ConnectionTrait,
    campaign_id: i64,
    status: Option<TargetStatus>,
) -> Result<CampaignDetail, AppError> {
    use sea_orm::QueryTrait;
    let campaign = view(db, campaign_id).await?;
    let mut chosen =
        campaign_target::Entity::find().filter(campaign_target::COLUMN.campaign_id.eq(campaign_id));
    if let Some(status) = status {
        chosen = chosen.filter(campaign_target::COLUMN.status.eq(status));
    }
    let matching = chosen.clone().count(db).await?;
    let accounts = account::Entity::find()
        .filter(
            account::COLUMN.id.in_subquery(
                chosen
                    .select_only()
                    .column(campaign_target::Column::AccountId)
                    .into_query(),
            ),
        )
        .order_by_asc(account::COLUMN.display_name)
        .order_by_asc(account::COLUMN.id)
        .limit(TARGETS_SHOWN)
        .all(db)
        .await?;
    // One target per (campaign, account): a unique index says so.
    let mut targets: HashMap<i64, campaign_target::Model> = campaign_target::Entity::find()
        .filter(campaign_target::COLUMN.campaign_id.eq(campaign_id))
        .filter(
            campaign_target::COLUMN
                .account_id
                .is_in(accounts.iter().map(|a| a.id)),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.account_id, t))
        .collect();
    let rows: Vec<(campaign_target::Model, account::Model)> = accounts
        .into_iter()
        .filter_map(|a| targets.remove(&a.id).map(|t| (t, a)))
        .collect();
    let contact_ids: Vec<i64> = rows.iter().filter_map(|(t, _)| t.contact_id).collect();
    let contacts: HashMap<i64, contact::Model> = contact::Entity::find()
        .filter(contact::COLUMN.id.is_in(contact_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let targets = rows
        .into_iter()
        .map(|(t, a)| {
            let (account_number, company) = (a.account_number, a.display_name);
            let contact = t
                .contact_id
                .and_then(|id| contacts.get(&id))
                .map(|c| format!("{} <{}>", c.name, c.email.clone().unwrap_or_default()))
                .unwrap_or_default();
            CampaignTarget {
                account_id: t.account_id,
                account_number,
                company,
                contact,
                status: t.status,
                follow_ups: t.follow_ups,
                last_sent_at: t
                    .last_sent_at
                    .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
            }
        })
        .collect();
    Ok(CampaignDetail {
        campaign,
        targets,
        matching,
    })
}
