//! What the staff's history of an account shows: audit events with the actor named and
//! the hash chain left out.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{ActorKind, Channel};

/// Events listed per page.
pub const PAGE_SIZE: u64 = 50;

/// The kinds of record the filter offers, in order, with their labels.
pub const ENTITIES: [(&str, &str); 8] = [
    ("account", "Account"),
    ("contact", "Contact"),
    ("address", "Address"),
    ("payment_method", "Payment method"),
    ("profile_change", "Profile change"),
    ("dispute", "Dispute"),
    ("payment", "Payment"),
    ("promise", "Promise"),
];

/// Every kind of actor, in the order the filter offers them, with its label.
pub const ACTORS: [(ActorKind, &str); 6] = [
    (ActorKind::Staff, "Staff"),
    (ActorKind::Contact, "Contact"),
    (ActorKind::System, "System"),
    (ActorKind::Import, "Import"),
    (ActorKind::Api, "API"),
    (ActorKind::Rule, "Rule"),
];

/// The human label of a kind of record; unknown kinds are shown as stored.
pub fn entity_label(entity: &str) -> &str {
    ENTITIES
        .iter()
        .find(|(e, _)| *e == entity)
        .map_or(entity, |(_, label)| label)
}

/// The human label of a kind of actor.
pub fn actor_label(kind: ActorKind) -> &'static str {
    ACTORS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, label)| label)
}

/// The human label of the channel a change came through.
pub fn channel_label(channel: Channel) -> &'static str {
    match channel {
        Channel::StaffUi => "Staff screens",
        Channel::Portal => "Portal",
        Channel::MagicLink => "Emailed link",
        Channel::Import => "Import",
        Channel::Api => "API",
        Channel::System => "System",
    }
}

/// One change in an account's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub occurred_at: DateTime<Utc>,
    /// Who made the change: "Staff · Rita Reviewer", "Contact · Pat", "System", ...
    pub actor: String,
    pub channel: Channel,
    /// The kind of record changed (`account`, `contact`, ...).
    pub entity: String,
    pub entity_id: Option<i64>,
    pub field: Option<String>,
    /// As recorded: sensitive values are already masked.
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub client_ip: Option<String>,
}

/// One page of an account's history, newest first, with the total across all pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryPage {
    pub rows: Vec<HistoryRow>,
    pub total: u64,
    /// Zero-based page number.
    pub page: u64,
    pub pages: u64,
}
