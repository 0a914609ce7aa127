//! The `settle` server: configuration, the HTTP router and its middleware, and the
//! command-line entry points.

#![recursion_limit = "256"]

pub mod api_v1;
pub mod cli;
pub mod config;
pub mod downloads;
pub mod exports;
pub mod import;
pub mod import_page;
pub mod letters;
pub mod mailer;
pub mod pay;
pub mod uploads;
pub mod web;
pub mod workers;
