//! What the customer portal shows.

use serde::{Deserialize, Serialize};

use super::enums::DocumentStatus;

/// Money as integer minor units of a currency (cents for USD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// An ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Currency(pub [u8; 3]);
