//! What staff pages show about the signed-in user.

use serde::{Deserialize, Serialize};

use super::enums::StaffRole;

/// The signed-in staff user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffMe {
    pub name: String,
    pub email: String,
    pub role: StaffRole,
}
