//! Pieces of UI shared by several pages.

pub mod aging_chart;
pub mod focus;
pub mod layout;
pub mod resource;
pub mod staff_error;
