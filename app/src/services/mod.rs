//! Server-side services: plain async functions over `&impl ConnectionTrait`, so they run
//! inside or outside a transaction and are tested without HTTP.

pub mod accounts;
pub mod activity;
pub mod audit;
pub mod audit_history;
pub mod campaigns;
pub mod contacts;
pub mod crypto;
pub mod dashboard;
pub mod demo;
pub mod disputes;
pub mod documents;
pub mod easy_pay;
pub mod files;
pub mod inbox;
pub mod letters;
pub mod magic_links;
pub mod mail;
pub mod messages;
pub mod outbox;
pub mod pdf;
pub mod portal;
pub mod profile;
pub mod promises;
pub mod rate_limit;
pub mod registration;
pub mod reminders;
pub mod sessions;
pub mod sign_in;
pub mod staff;
pub mod supplier_profile;
pub mod tasks;
pub mod templates;
pub mod tokens;
