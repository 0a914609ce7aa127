//! Data shapes shared by the server and the browser.

pub mod accounts;
pub mod api_keys;
pub mod audit;
pub mod campaigns;
pub mod dashboard;
pub mod disputes;
pub mod documents;
pub mod enums;
pub mod import;
pub mod inbox;
pub mod iso_day;
pub mod messages;
pub mod payments;
pub mod portal;
pub mod profile;
pub mod promises;
pub mod registration;
pub mod reminders;
pub mod staff;
pub mod webhooks;
