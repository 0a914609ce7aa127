//! Data shapes of the API keys page.

use serde::{Deserialize, Serialize};

use super::enums::ApiScope;

/// The longest key name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// A key as the page lists it: never the key itself, only its first characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    /// The key's first characters, so people can tell keys apart.
    pub prefix: String,
    pub scope: ApiScope,
    /// Who created it (a staff member's name), if known.
    pub created_by: Option<String>,
    /// "2026-11-23 09:00 UTC".
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A key just created: the only time the whole key is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    /// The whole key, for the `Authorization: Bearer` header; Settle keeps only its hash.
    pub secret: String,
}

/// What a key may do, in words.
pub fn scope_label(scope: ApiScope) -> &'static str {
    match scope {
        ApiScope::Read => "Read only",
        ApiScope::ReadWrite => "Read and write",
    }
}

/// Checks a key's name as typed: trimmed, 1 to [`MAX_NAME_CHARS`] characters.
///
/// # Errors
/// A message for the name field.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Give the key a name, such as the system that will use it.".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("At most {MAX_NAME_CHARS} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("The name cannot contain control characters.".to_owned());
    }
    Ok(name.to_owned())
}
