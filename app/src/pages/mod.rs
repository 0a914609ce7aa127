//! One module per page.

pub mod accounts;
pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod campaigns;
pub mod documents;
pub mod home;
pub mod import;
pub mod inbox;
pub mod invoice;
pub mod letters;
pub mod link;
pub mod messages;
pub mod not_found;
pub mod pay;
pub mod portal;
pub mod profile;
pub mod register;
pub mod reminders;
pub mod staff;
pub mod staff_disputes;
pub mod supplier;
pub mod webhooks;
