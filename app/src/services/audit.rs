//! The audit log: every change to master data appends an event whose hash covers its
//! content and the previous event's hash, so any edit behind Settle's back breaks the chain.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    prelude::*,
};
use sha2::{Digest, Sha256};

use crate::entities::audit_event;
use crate::error::AppError;
use crate::model::enums::{ActorKind, Channel};

/// The hash the first event chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The HTTP request a change happens in, recorded with its audit events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_ip: Option<String>,
}

tokio::task_local! {
    /// Set by the server's middleware around each request, so every event appended while
    /// handling it names the request and the client without each caller passing them.
    pub static REQUEST: RequestMeta;
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub actor_kind: ActorKind,
    pub actor_id: Option<i64>,
    pub channel: Channel,
    pub account_id: Option<i64>,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub field: Option<&'a str>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
}

/// Appends one event to the chain. Call it inside the transaction of the change itself.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn append(
    db: &impl ConnectionTrait,
    change: Change<'_>,
    now: DateTime<Utc>,
) -> Result<audit_event::Model, AppError> {
    if db.get_database_backend() == DbBackend::Postgres {
        // Serialise appenders so two transactions never chain to the same predecessor.
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7401)",
        ))
        .await?;
    }
    let prev_hash = audit_event::Entity::find()
        .order_by_desc(audit_event::COLUMN.id)
        .limit(1)
        .one(db)
        .await?
        .map_or_else(|| GENESIS.to_owned(), |e| e.hash);
    let meta = REQUEST.try_with(Clone::clone).ok();
    let mut event = audit_event::Model {
        id: 0,
        // PostgreSQL keeps microseconds: hash what will be read back.
        occurred_at: now.trunc_subsecs(6),
        actor_kind: change.actor_kind,
        actor_id: change.actor_id,
        channel: change.channel,
        account_id: change.account_id,
        entity: change.entity.to_owned(),
        entity_id: change.entity_id,
        field: change.field.map(str::to_owned),
        old_value: change.old_value,
        new_value: change.new_value,
        request_id: meta.as_ref().map(|m| m.request_id.clone()),
        client_ip: meta.and_then(|m| m.client_ip),
        prev_hash,
        hash: String::new(),
    };
    event.hash = hash_of(&event);
    let mut active: audit_event::ActiveModel = event.into();
    active.id = sea_orm::ActiveValue::NotSet;
    Ok(active.insert(db).await?)
}

/// The hash of an event's content and its predecessor's hash.
pub fn hash_of(e: &audit_event::Model) -> String {
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "\u{0}".to_owned());
    let id = |v: Option<i64>| v.map_or_else(|| "\u{0}".to_owned(), |n| n.to_string());
    let parts = [
        e.prev_hash.clone(),
        e.occurred_at.to_rfc3339(),
        e.actor_kind.to_string(),
        id(e.actor_id),
        e.channel.to_string(),
        id(e.account_id),
        e.entity.clone(),
        id(e.entity_id),
        opt(&e.field),
        opt(&e.old_value),
        opt(&e.new_value),
        opt(&e.request_id),
        opt(&e.client_ip),
    ];
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Events checked, in id order.
    pub checked: u64,
    /// The first event whose stored hash does not match its content, or whose `prev_hash`
    /// is not its predecessor's hash — where the chain breaks.
    pub first_broken: Option<i64>,
}

/// How many events [`verify`] reads at a time.
const VERIFY_PAGE: u64 = 1_000;

/// Walks the whole chain in id order, a page at a time, recomputing every hash.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn verify(db: &impl ConnectionTrait) -> Result<Verification, AppError> {
    let mut prev = GENESIS.to_owned();
    let mut after = 0_i64;
    let mut checked = 0_u64;
    loop {
        let page = audit_event::Entity::find()
            .filter(audit_event::COLUMN.id.gt(after))
            .order_by_asc(audit_event::COLUMN.id)
            .limit(VERIFY_PAGE)
            .all(db)
            .await?;
        let Some(last) = page.last() else {
            return Ok(Verification {
                checked,
                first_broken: None,
            });
        };
        after = last.id;
        for event in page {
            checked += 1;
            if event.prev_hash != prev || hash_of(&event) != event.hash {
                return Ok(Verification {
                    checked,
                    first_broken: Some(event.id),
                });
            }
            prev = event.hash;
        }
    }
}
