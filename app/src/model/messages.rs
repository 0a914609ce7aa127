//! Secure messages between a customer and the supplier's staff: what a thread shows, and
//! the rule a message must meet (shared by the browser and the server).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest message, in characters.
pub const MESSAGE_MAX_CHARS: usize = 4000;

/// One message of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i64,
    /// The writer's name (a contact, or a staff member).
    pub author: String,
    pub from_staff: bool,
    pub body: String,
    /// The number of the document the message is about.
    pub document: Option<String>,
    pub sent_at: DateTime<Utc>,
}

/// An account's thread as the staff inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadSummary {
    pub account_id: i64,
    pub account_name: String,
    pub account_number: String,
    pub last_body: String,
    pub last_at: DateTime<Utc>,
    /// True when the customer wrote last: a reply is owed.
    pub awaiting_reply: bool,
}

/// A staff member's view of one account's thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffThread {
    pub account_id: i64,
    pub account_name: String,
    pub account_number: String,
    pub messages: Vec<MessageView>,
}

/// Checks a message's text and returns it trimmed.
///
/// # Errors
/// The message to show beside the field.
pub fn check_body(text: &str) -> Result<String, String> {
    let body = text.trim();
    if body.is_empty() {
        return Err("write a message first".to_owned());
    }
    let chars = body.chars().count();
    if chars > MESSAGE_MAX_CHARS {
        return Err(format!(
            "keep it under {MESSAGE_MAX_CHARS} characters (this is {chars})"
        ));
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_trimmed() {
        assert_eq!(check_body("  Hello \n"), Ok("Hello".to_owned()));
    }

    #[test]
    fn empty_and_overlong_messages_are_refused() {
        assert!(check_body("   ").is_err());
        assert!(check_body(&"x".repeat(MESSAGE_MAX_CHARS + 1)).is_err());
        assert!(check_body(&"é".repeat(MESSAGE_MAX_CHARS)).is_ok());
    }
}
