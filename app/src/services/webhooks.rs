//! Webhooks: endpoints admins register, deliveries queued in the transaction of their cause,
//! signed with HMAC-SHA256 and retried with backoff.
//!
//! Queueing is an outbox: [`enqueue`] writes one `webhook_deliveries` row per active
//! endpoint subscribed to the event, inside the transaction of the change that caused it, so
//! a change that rolls back sends nothing. `(endpoint_id, event_id)` is unique, so queueing
//! the same event twice is a no-op. A worker claims due rows with a lease ([`claim_due`]:
//! `FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional `UPDATE` per row on SQLite, as the
//! email outbox does), posts them ([`deliver`]) and records the answer. Delivery is at least
//! once; receivers de-duplicate on the `Settle-Webhook-Id` header. `docs/webhooks.md`
//! documents the headers and how to verify a signature.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait, TryInsertResult, prelude::*,
};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::entities::{
    account, audit_event, dispute, document, payment, payment_application, promise,
    promise_document, webhook_delivery, webhook_endpoint,
};
use crate::error::AppError;
use crate::model::enums::{ActorKind, Channel, DeliveryStatus, WebhookEventKind};
use crate::model::webhooks::{
    ALL_EVENTS, CreatedEndpoint, DeliveryView, EndpointView, EndpointWithDeliveries, check_url,
};
use crate::services::audit::{self, Change};
use crate::services::{crypto, outbox};
use crate::state::SecretKey;

/// Failed attempts after which a delivery is given up (`dead`).
pub const MAX_ATTEMPTS: i32 = 8;
/// How long a claim keeps other workers off a delivery: well beyond [`TIMEOUT`].
pub const LEASE: Duration = Duration::seconds(60);
/// How long Settle waits for a receiver's answer.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// How much of a receiver's answer is kept.
pub const RESPONSE_EXCERPT_BYTES: usize = 2048;
/// The delivery's event id: the same on every retry, for the receiver to de-duplicate.
pub const ID_HEADER: &str = "Settle-Webhook-Id";
/// Unix seconds at which the delivery was signed.
pub const TIMESTAMP_HEADER: &str = "Settle-Webhook-Timestamp";
/// `v1=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"` under the endpoint's secret.
pub const SIGNATURE_HEADER: &str = "Settle-Webhook-Signature";
/// The event name (`payment.received`, …).
pub const EVENT_HEADER: &str = "Settle-Webhook-Event";
/// The longest description of an endpoint.
pub const MAX_DESCRIPTION: usize = 200;
/// Entity name of endpoints in the audit log.
const AUDIT_ENTITY: &str = "webhook_endpoint";
/// Prefix of generated signing secrets.
const SECRET_PREFIX: &str = "whsec_";

type HmacSha256 = Hmac<Sha256>;

/// An endpoint to register.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewEndpoint {
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEventKind>,
}

/// What one run of [`deliver_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub claimed: usize,
    pub delivered: usize,
    /// Failed and scheduled again.
    pub retrying: usize,
    /// Failed for the last time.
    pub dead: usize,
}

/// The `Settle-Webhook-Signature` value for `body` sent at `timestamp` (unix seconds):
/// `v1=` followed by the lowercase hex HMAC-SHA256 of `"{timestamp}.{body}"` keyed with the
/// endpoint's secret (the whole `whsec_…` string, as shown to the admin).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The HTTP client deliveries use: [`TIMEOUT`], no redirects followed (a receiver that
/// moved must be re-registered), a `Settle-Webhooks` user agent.
///
/// # Errors
/// `Internal` when the TLS backend cannot be initialised.
pub fn http_client() -> Result<reqwest::Client, AppError> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Settle-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|err| {
            tracing::error!(%err, "building the webhook HTTP client failed");
            AppError::Internal
        })
}

fn parse_events(text: &str) -> Vec<WebhookEventKind> {
    ALL_EVENTS
        .into_iter()
        .filter(|e| text.split(',').any(|t| t.trim() == e.as_str()))
        .collect()
}

fn events_text(events: &[WebhookEventKind]) -> String {
    ALL_EVENTS
        .into_iter()
        .filter(|e| events.contains(e))
        .map(WebhookEventKind::as_str)
        .collect::<Vec<_>>()
        .join(",")
}

fn endpoint_view(row: &webhook_endpoint::Model) -> EndpointView {
    EndpointView {
        id: row.id,
        url: row.url.clone(),
        description: row.description.clone(),
        events: parse_events(&row.events),
        active: row.active,
        created_at: row.created_at,
    }
}

fn delivery_view(row: webhook_delivery::Model) -> DeliveryView {
    DeliveryView {
        id: row.id,
        endpoint_id: row.endpoint_id,
        event_id: row.event_id,
        event: row.event,
        status: row.status,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        last_status_code: row.last_status_code,
        last_response: row.last_response,
        last_error: row.last_error,
        created_at: row.created_at,
        delivered_at: row.delivered_at,
    }
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", hex::encode(bytes))
}

fn staff_change(
    staff_id: i64,
    id: i64,
    field: &str,
    old: Option<String>,
    new: Option<String>,
) -> Change<'_> {
    Change {
        actor_kind: ActorKind::Staff,
        actor_id: Some(staff_id),
        channel: Channel::StaffUi,
        account_id: None,
        entity: AUDIT_ENTITY,
        entity_id: Some(id),
        field: Some(field),
        old_value: old,
        new_value: new,
    }
}

/// Registers an endpoint for `input.events` with a new signing secret, sealed at rest
/// under `key`; the secret is returned this once. Audited.
///
/// # Errors
/// `Validation` (`url`, `events`, `description`) for bad input; database errors as
/// `Internal`.
pub async fn create_endpoint(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &SecretKey,
    staff_id: i64,
    input: NewEndpoint,
    now: DateTime<Utc>,
) -> Result<CreatedEndpoint, AppError> {
    let url = check_url(&input.url).map_err(|m| AppError::validation("url", m))?;
    let events = events_text(&input.events);
    if events.is_empty() {
        return Err(AppError::validation("events", "choose at least one event"));
    }
    let description = input.description.trim().to_owned();
    if description.chars().count() > MAX_DESCRIPTION {
        return Err(AppError::validation(
            "description",
            format!("at most {MAX_DESCRIPTION} characters"),
        ));
    }
    let secret = new_secret();
    let sealed = crypto::seal(key, secret.as_bytes())?;
    let txn = crate::db::begin_write(db).await?;
    let row = webhook_endpoint::ActiveModel {
        url: Set(url.clone()),
        description: Set(description),
        secret_encrypted: Set(sealed),
        events: Set(events.clone()),
        active: Set(true),
        created_by: Set(Some(staff_id)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        staff_change(
            staff_id,
            row.id,
            "created",
            None,
            Some(format!("{url} [{events}]")),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedEndpoint {
        endpoint: endpoint_view(&row),
        secret,
    })
}

/// Every endpoint, oldest first.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list_endpoints(db: &impl ConnectionTrait) -> Result<Vec<EndpointView>, AppError> {
    Ok(webhook_endpoint::Entity::find()
        .order_by_asc(webhook_endpoint::COLUMN.id)
        .all(db)
        .await?
        .iter()
        .map(endpoint_view)
        .collect())
}

/// Every endpoint with its `per_endpoint` most recent deliveries.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn overview(
    db: &impl ConnectionTrait,
    per_endpoint: u64,
) -> Result<Vec<EndpointWithDeliveries>, AppError> {
    let mut out = Vec::new();
    for endpoint in list_endpoints(db).await? {
        let deliveries = recent_deliveries(db, endpoint.id, per_endpoint).await?;
        out.push(EndpointWithDeliveries {
            endpoint,
            deliveries,
        });
    }
    Ok(out)
}

/// The `limit` most recent deliveries to `endpoint_id`, newest first.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn recent_deliveries(
    db: &impl ConnectionTrait,
    endpoint_id: i64,
    limit: u64,
) -> Result<Vec<DeliveryView>, AppError> {
    Ok(webhook_delivery::Entity::find()
        .filter(webhook_delivery::COLUMN.endpoint_id.eq(endpoint_id))
        .order_by_desc(webhook_delivery::COLUMN.id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(delivery_view)
        .collect())
}

/// Turns endpoint `id` on or off. An inactive endpoint gets no new deliveries, and its
/// queued ones wait until it is active again. Audited when it changes.
///
/// # Errors
/// `NotFound` for an unknown endpoint; database errors as `Internal`.
pub async fn set_active(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    id: i64,
    active: bool,
    now: DateTime<Utc>,
) -> Result<EndpointView, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let moved = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Active, Expr::value(active))
        .filter(webhook_endpoint::COLUMN.id.eq(id))
        .filter(webhook_endpoint::COLUMN.active.ne(active))
        .exec(&txn)
        .await?;
    let row = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if moved.rows_affected == 1 {
        audit::append(
            &txn,
            staff_change(
                staff_id,
                id,
                "active",
                Some((!active).to_string()),
                Some(active.to_string()),
            ),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(endpoint_view(&row))
}

/// Changes which events endpoint `id` receives. Audited.
///
/// # Errors
/// `Validation` (`events`) for an empty choice; `NotFound` for an unknown endpoint;
/// database errors as `Internal`.
pub async fn set_events(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    id: i64,
    events: &[WebhookEventKind],
    now: DateTime<Utc>,
) -> Result<EndpointView, AppError> {
    let text = events_text(events);
    if text.is_empty() {
        return Err(AppError::validation("events", "choose at least one event"));
    }
    let txn = crate::db::begin_write(db).await?;
    let before = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    if before.events != text {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::Events, Expr::value(text.clone()))
            .filter(webhook_endpoint::COLUMN.id.eq(id))
            .exec(&txn)
            .await?;
        audit::append(
            &txn,
            staff_change(
                staff_id,
                id,
                "events",
                Some(before.events.clone()),
                Some(text.clone()),
            ),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(endpoint_view(&webhook_endpoint::Model {
        events: text,
        ..before
    }))
}

/// Gives endpoint `id` a new signing secret, returned this once; deliveries signed from
/// now on use it. Audited (without the secret).
///
/// # Errors
/// `NotFound` for an unknown endpoint; database errors as `Internal`.
pub async fn rotate_secret(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &SecretKey,
    staff_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<CreatedEndpoint, AppError> {
    let secret = new_secret();
    let sealed = crypto::seal(key, secret.as_bytes())?;
    let txn = crate::db::begin_write(db).await?;
    let moved = webhook_endpoint::Entity::update_many()
        .col_expr(
            webhook_endpoint::Column::SecretEncrypted,
            Expr::value(sealed),
        )
        .filter(webhook_endpoint::COLUMN.id.eq(id))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    let row = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::append(
        &txn,
        staff_change(staff_id, id, "secret", None, Some("rotated".to_owned())),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(CreatedEndpoint {
        endpoint: endpoint_view(&row),
        secret,
    })
}

/// Removes endpoint `id` and its deliveries. Audited.
///
/// # Errors
/// `NotFound` for an unknown endpoint; database errors as `Internal`.
pub async fn delete_endpoint(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let txn = crate::db::begin_write(db).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::COLUMN.endpoint_id.eq(id))
        .exec(&txn)
        .await?;
    let row = webhook_endpoint::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    webhook_endpoint::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    audit::append(
        &txn,
        staff_change(staff_id, id, "deleted", Some(row.url), None),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Queues `event` for every active endpoint subscribed to it and returns how many
/// deliveries were written. The body sent is the envelope
/// `{"id": event_id, "type": event, "created_at": now, "data": data}`. Call it inside the
/// transaction of the change that caused the event: a rollback takes the deliveries with
/// it. `event_id` must name the event for good (the same cause gives the same id): queueing
/// an id again writes nothing.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    event: WebhookEventKind,
    event_id: &str,
    data: Value,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let endpoints: Vec<i64> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::COLUMN.active.eq(true))
        .order_by_asc(webhook_endpoint::COLUMN.id)
        .all(db)
        .await?
        .into_iter()
        .filter(|e| parse_events(&e.events).contains(&event))
        .map(|e| e.id)
        .collect();
    if endpoints.is_empty() {
        return Ok(0);
    }
    let body = json!({
        "id": event_id,
        "type": event.as_str(),
        "created_at": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "data": data,
    })
    .to_string();
    let rows = endpoints
        .into_iter()
        .map(|endpoint_id| webhook_delivery::ActiveModel {
            endpoint_id: Set(endpoint_id),
            event_id: Set(event_id.to_owned()),
            event: Set(event),
            payload: Set(body.clone()),
            status: Set(DeliveryStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_status_code: Set(None),
            last_response: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
            ..Default::default()
        });
    let written = webhook_delivery::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            webhook_delivery::Column::EndpointId,
            webhook_delivery::Column::EventId,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(match written {
        TryInsertResult::Inserted(n) => n,
        TryInsertResult::Empty | TryInsertResult::Conflicted => 0,
    })
}

/// Deliveries a claimer may take at `now`: pending, due, and not under a running lease.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .add(webhook_delivery::COLUMN.next_attempt_at.lte(now))
        .add(
            Condition::any()
                .add(webhook_delivery::COLUMN.claimed_until.is_null())
                .add(webhook_delivery::COLUMN.claimed_until.lte(now)),
        )
}

/// Claims up to `limit` deliveries due at `now` to active endpoints, for [`LEASE`], and
/// returns them, soonest due first. Two concurrent claimers never get the same delivery
/// while its lease runs; a delivery whose claimer died is claimable again when it passes.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn claim_due(
    db: &(impl ConnectionTrait + TransactionTrait),
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<webhook_delivery::Model>, AppError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let active: Vec<i64> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::COLUMN.active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.id)
        .collect();
    if active.is_empty() {
        return Ok(Vec::new());
    }
    let until = now + LEASE;
    let due = webhook_delivery::Entity::find()
        .filter(claimable(now))
        .filter(webhook_delivery::COLUMN.endpoint_id.is_in(active))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .order_by_asc(webhook_delivery::Column::Id)
        .limit(limit);
    let mark = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(until));
    let mut claimed = crate::services::claims::claim(
        db,
        due,
        mark,
        claimable(now),
        webhook_delivery::Column::Id,
        |row| row.id,
    )
    .await?;
    claimed.sort_by_key(|row| (row.next_attempt_at, row.id));
    Ok(claimed)
}

/// The first [`RESPONSE_EXCERPT_BYTES`] of a body, cut on a character boundary.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(RESPONSE_EXCERPT_BYTES)]);
    let mut end = text.len().min(RESPONSE_EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// What a receiver answered.
struct Answer {
    status: Option<u16>,
    body: Option<String>,
    error: Option<String>,
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    headers: [(&str, String); 4],
    body: String,
) -> Answer {
    let mut request = client
        .post(url)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let mut response = match request.body(body).send().await {
        Ok(response) => response,
        Err(err) => {
            return Answer {
                status: None,
                body: None,
                error: Some(describe(&err)),
            };
        }
    };
    let status = response.status().as_u16();
    let mut kept = Vec::new();
    let mut error = None;
    while kept.len() < RESPONSE_EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(err) => {
                error = Some(format!("reading the answer: {}", describe(&err)));
                break;
            }
        }
    }
    Answer {
        status: Some(status),
        body: Some(excerpt(&kept)),
        error,
    }
}

fn describe(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        format!("no answer within {} s", TIMEOUT.as_secs())
    } else if err.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        detail = format!("{detail}: {inner}");
        source = inner.source();
    }
    format!("{what} ({detail})")
}

/// Posts a claimed delivery to its endpoint, signed with the endpoint's secret (opened with
/// `key`) at `now`, and records the outcome: a 2xx answer makes it `delivered`; anything
/// else (another status, a timeout, no connection) records the status code, the start of
/// the answer and the error, and schedules another attempt after [`outbox::backoff`] — or,
/// at the [`MAX_ATTEMPTS`]-th failure, makes it `dead`. Returns the delivery as it is now.
///
/// # Errors
/// `NotFound` when the delivery or its endpoint is gone; `Conflict` when the delivery
/// changed meanwhile (another worker took it after this lease passed); `Internal` when the
/// secret cannot be opened with `key`, or for database errors.
pub async fn deliver(
    db: &impl ConnectionTrait,
    key: &SecretKey,
    client: &reqwest::Client,
    delivery: &webhook_delivery::Model,
    now: DateTime<Utc>,
) -> Result<webhook_delivery::Model, AppError> {
    let endpoint = webhook_endpoint::Entity::find_by_id(delivery.endpoint_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let secret = crypto::open(key, &endpoint.secret_encrypted).inspect_err(|_| {
        tracing::error!(
            endpoint = endpoint.id,
            "the webhook secret does not open with SETTLE_SECRET_KEY"
        );
    })?;
    let secret = String::from_utf8(secret).map_err(|_| AppError::Internal)?;
    let timestamp = now.timestamp();
    let signature = sign(&secret, timestamp, delivery.payload.as_bytes());
    let answer = post(
        client,
        &endpoint.url,
        [
            (ID_HEADER, delivery.event_id.clone()),
            (TIMESTAMP_HEADER, timestamp.to_string()),
            (SIGNATURE_HEADER, signature),
            (EVENT_HEADER, delivery.event.as_str().to_owned()),
        ],
        delivery.payload.clone(),
    )
    .await;
    record(db, delivery, answer, now).await
}

async fn record(
    db: &impl ConnectionTrait,
    delivery: &webhook_delivery::Model,
    answer: Answer,
    now: DateTime<Utc>,
) -> Result<webhook_delivery::Model, AppError> {
    let attempts = delivery.attempts.saturating_add(1);
    let ok = answer.status.is_some_and(|s| (200..300).contains(&s)) && answer.error.is_none();
    let (status, next_attempt_at, delivered_at, error) = if ok {
        (
            DeliveryStatus::Delivered,
            delivery.next_attempt_at,
            Some(now),
            None,
        )
    } else {
        let error = answer.error.clone().or_else(|| {
            answer
                .status
                .map(|s| format!("the endpoint answered HTTP {s}"))
        });
        if attempts >= MAX_ATTEMPTS {
            (DeliveryStatus::Dead, delivery.next_attempt_at, None, error)
        } else {
            (
                DeliveryStatus::Pending,
                now + outbox::backoff(attempts),
                None,
                error,
            )
        }
    };
    let status_code = answer.status.map(i32::from);
    let done = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(status))
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .col_expr(
            webhook_delivery::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_delivery::Column::LastStatusCode,
            Expr::value(status_code),
        )
        .col_expr(
            webhook_delivery::Column::LastResponse,
            Expr::value(answer.body.clone()),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(error.clone()),
        )
        .col_expr(
            webhook_delivery::Column::DeliveredAt,
            Expr::value(delivered_at),
        )
        .filter(webhook_delivery::COLUMN.id.eq(delivery.id))
        .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
        .filter(webhook_delivery::COLUMN.attempts.eq(delivery.attempts))
        .exec(db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "delivery {} changed while its outcome was recorded",
            delivery.id
        )));
    }
    Ok(webhook_delivery::Model {
        status,
        attempts,
        next_attempt_at,
        claimed_until: None,
        last_status_code: status_code,
        last_response: answer.body,
        last_error: error,
        delivered_at,
        ..delivery.clone()
    })
}

/// Claims up to `limit` due deliveries and delivers them one after the other, each
/// recorded at the time `now()` gives after its answer.
///
/// # Errors
/// Errors of the claim; a delivery that fails to be recorded is logged and left to its
/// lease.
pub async fn deliver_due(
    db: &(impl ConnectionTrait + TransactionTrait),
    key: &SecretKey,
    client: &reqwest::Client,
    now: &(dyn Fn() -> DateTime<Utc> + Send + Sync),
    limit: u64,
) -> Result<DeliveryReport, AppError> {
    let claimed = claim_due(db, now(), limit).await?;
    let mut report = DeliveryReport {
        claimed: claimed.len(),
        ..DeliveryReport::default()
    };
    for delivery in &claimed {
        match deliver(db, key, client, delivery, now()).await {
            Ok(done) => match done.status {
                DeliveryStatus::Delivered => report.delivered += 1,
                DeliveryStatus::Dead => report.dead += 1,
                DeliveryStatus::Pending => report.retrying += 1,
            },
            Err(err) => {
                tracing::warn!(delivery = delivery.id, %err, "recording a webhook delivery failed");
            }
        }
    }
    Ok(report)
}

/// Puts a `dead` (or already `delivered`) delivery back in the queue, due at `now`, with
/// its attempts reset. Audited.
///
/// # Errors
/// `NotFound` when no dead or delivered delivery has that id; database errors as
/// `Internal`.
pub async fn redeliver(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    id: i64,
    now: DateTime<Utc>,
) -> Result<DeliveryView, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let moved = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(DeliveryStatus::Pending),
        )
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_delivery::COLUMN.id.eq(id))
        .filter(
            webhook_delivery::Column::Status
                .is_in([DeliveryStatus::Dead, DeliveryStatus::Delivered]),
        )
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::NotFound);
    }
    let row = webhook_delivery::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    audit::append(
        &txn,
        staff_change(
            staff_id,
            row.endpoint_id,
            "redeliver",
            None,
            Some(row.event_id.clone()),
        ),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(delivery_view(row))
}

async fn account_number(db: &impl ConnectionTrait, account_id: i64) -> Result<String, AppError> {
    Ok(account::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .map(|a| a.account_number)
        .unwrap_or_default())
}

fn event_id(event: WebhookEventKind, id: i64) -> String {
    format!("{}.{id}", event.as_str())
}

/// Queues `profile.changed` for a master-data change recorded as audit event `change`
/// (inside its transaction). The payload names what changed, not the values: the change
/// feed has them, and sensitive ones never leave sealed.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn profile_changed(
    db: &impl ConnectionTrait,
    change: &audit_event::Model,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let kind = WebhookEventKind::ProfileChanged;
    let number = match change.account_id {
        Some(id) => Some(account_number(db, id).await?),
        None => None,
    };
    enqueue(
        db,
        kind,
        &event_id(kind, change.id),
        json!({
            "change_id": change.id,
            "account_id": change.account_id,
            "account_number": number,
            "entity": change.entity,
            "entity_id": change.entity_id,
            "field": change.field,
            "actor": change.actor_kind.as_str(),
            "channel": change.channel.as_str(),
        }),
        now,
    )
    .await
}

/// Queues `payment.received` for succeeded payment `payment_id`, with its applications to
/// invoices as they stand in the transaction.
///
/// # Errors
/// `NotFound` for an unknown payment; database errors as `Internal`.
pub async fn payment_received(
    db: &impl ConnectionTrait,
    payment_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let kind = WebhookEventKind::PaymentReceived;
    let p = payment::Entity::find_by_id(payment_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let applications = payment_application::Entity::find()
        .filter(payment_application::COLUMN.payment_id.eq(payment_id))
        .order_by_asc(payment_application::COLUMN.id)
        .all(db)
        .await?;
    let numbers = document_numbers(db, applications.iter().map(|a| a.document_id)).await?;
    let applied: Vec<Value> = applications
        .iter()
        .map(|a| {
            json!({
                "document_id": a.document_id,
                "document_number": numbers.iter().find(|(id, _)| *id == a.document_id).map(|(_, n)| n),
                "amount_minor": a.amount_minor,
            })
        })
        .collect();
    enqueue(
        db,
        kind,
        &event_id(kind, p.id),
        json!({
            "payment_id": p.id,
            "account_id": p.account_id,
            "account_number": account_number(db, p.account_id).await?,
            "external_id": p.external_id,
            "amount_minor": p.amount_minor,
            "unapplied_minor": p.unapplied_minor,
            "currency": p.currency,
            "method": p.method.as_str(),
            "provider": p.provider.as_str(),
            "provider_ref": p.provider_ref,
            "received_at": p.received_at.to_rfc3339_opts(SecondsFormat::Secs, true),
            "applied": applied,
        }),
        now,
    )
    .await
}

async fn document_numbers(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<Vec<(i64, String)>, AppError> {
    let ids: Vec<i64> = ids.collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(document::Entity::find()
        .filter(document::COLUMN.id.is_in(ids))
        .order_by_asc(document::COLUMN.id)
        .all(db)
        .await?
        .into_iter()
        .map(|d| (d.id, d.number))
        .collect())
}

/// Queues `promise.made` or `promise.broken` (`event`) for promise `promise_id` as it
/// stands in the transaction (its `status` tells `broken` from `partially_kept`).
///
/// # Errors
/// `NotFound` for an unknown promise; database errors as `Internal`.
pub async fn promise_event(
    db: &impl ConnectionTrait,
    event: WebhookEventKind,
    promise_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let p = promise::Entity::find_by_id(promise_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let parts = promise_document::Entity::find()
        .filter(promise_document::COLUMN.promise_id.eq(promise_id))
        .all(db)
        .await?;
    let numbers = document_numbers(db, parts.iter().map(|d| d.document_id)).await?;
    let invoices: Vec<Value> = parts
        .iter()
        .map(|d| {
            json!({
                "document_id": d.document_id,
                "document_number": numbers.iter().find(|(id, _)| *id == d.document_id).map(|(_, n)| n),
                "amount_minor": d.amount_minor,
            })
        })
        .collect();
    enqueue(
        db,
        event,
        &event_id(event, p.id),
        json!({
            "promise_id": p.id,
            "account_id": p.account_id,
            "account_number": account_number(db, p.account_id).await?,
            "contact_id": p.contact_id,
            "amount_minor": p.amount_minor,
            "currency": p.currency,
            "promised_date": p.promised_date.to_string(),
            "status": p.status.as_str(),
            "invoices": invoices,
        }),
        now,
    )
    .await
}

/// Queues `dispute.opened` or `dispute.resolved` (`event`) for dispute `dispute_id` as it
/// stands in the transaction.
///
/// # Errors
/// `NotFound` for an unknown dispute; database errors as `Internal`.
pub async fn dispute_event(
    db: &impl ConnectionTrait,
    event: WebhookEventKind,
    dispute_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, AppError> {
    let d = dispute::Entity::find_by_id(dispute_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let invoice = document::Entity::find_by_id(d.document_id).one(db).await?;
    enqueue(
        db,
        event,
        &event_id(event, d.id),
        json!({
            "dispute_id": d.id,
            "account_id": d.account_id,
            "account_number": account_number(db, d.account_id).await?,
            "document_id": d.document_id,
            "document_number": invoice.as_ref().map(|i| i.number.clone()),
            "currency": invoice.as_ref().map(|i| i.currency.clone()),
            "status": d.status.as_str(),
            "disputed_minor": d.disputed_minor,
            "credited_minor": d.credited_minor,
            "resolution_note": d.resolution_note,
        }),
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            sign("whsec_test", 1_700_000_000, br#"{"a":1}"#),
            "v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
    }

    #[test]
    fn events_round_trip_through_their_stored_text() {
        let events = [
            WebhookEventKind::DisputeOpened,
            WebhookEventKind::PaymentReceived,
        ];
        let text = events_text(&events);
        assert_eq!(text, "payment.received,dispute.opened");
        assert_eq!(
            parse_events(&text),
            vec![
                WebhookEventKind::PaymentReceived,
                WebhookEventKind::DisputeOpened
            ]
        );
        assert!(parse_events("payment.received.x,").is_empty());
    }

    #[test]
    fn excerpts_stop_at_two_kilobytes_on_a_character_boundary() {
        let long = format!("a{}", "é".repeat(RESPONSE_EXCERPT_BYTES));
        let cut = excerpt(long.as_bytes());
        assert!(cut.len() <= RESPONSE_EXCERPT_BYTES && cut.len() > RESPONSE_EXCERPT_BYTES - 4);
        assert!(cut.chars().skip(1).all(|c| c == 'é'), "{cut}");
        assert_eq!(excerpt(b"ok"), "ok");
    }
}
