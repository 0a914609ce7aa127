//! Server-side services: plain async functions over `&impl ConnectionTrait`, so they run
//! inside or outside a transaction and are tested without HTTP.

pub mod demo;
pub mod magic_links;
pub mod portal;
pub mod rate_limit;
pub mod sessions;
pub mod staff;
pub mod tokens;
