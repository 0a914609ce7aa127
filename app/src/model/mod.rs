//! Data shapes shared by the server and the browser.

pub mod enums;
pub mod portal;
pub mod staff;
