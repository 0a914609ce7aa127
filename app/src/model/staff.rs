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

/// An email Settle gave up on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadMail {
    pub id: i64,
    pub to: String,
    pub subject: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: String,
}

/// An email or letter template as admins edit it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateDraft {
    pub key: String,
    pub name: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: Option<String>,
    /// The version the edit started from; a save from an older version is refused.
    pub version: i32,
}

/// A template rendered with sample values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preview {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
}
