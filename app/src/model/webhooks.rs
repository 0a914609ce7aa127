//! Data shapes of the webhooks page, and the endpoint URL rule shared by the form and the
//! server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::enums::{DeliveryStatus, WebhookEventKind};

/// Every event an endpoint can subscribe to, in the order the page lists them.
pub const ALL_EVENTS: [WebhookEventKind; 6] = [
    WebhookEventKind::ProfileChanged,
    WebhookEventKind::PaymentReceived,
    WebhookEventKind::PromiseMade,
    WebhookEventKind::PromiseBroken,
    WebhookEventKind::DisputeOpened,
    WebhookEventKind::DisputeResolved,
];

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// What an event means, for the page.
pub fn event_label(event: WebhookEventKind) -> &'static str {
    match event {
        WebhookEventKind::ProfileChanged => "Profile changed",
        WebhookEventKind::PaymentReceived => "Payment received",
        WebhookEventKind::PromiseMade => "Promise made",
        WebhookEventKind::PromiseBroken => "Promise broken",
        WebhookEventKind::DisputeOpened => "Dispute opened",
        WebhookEventKind::DisputeResolved => "Dispute resolved",
    }
}

/// Checks an endpoint URL and returns it trimmed: `https://`, or `http://` only to
/// `localhost` or `127.0.0.1` (a receiver on the same machine, for testing); a host is
/// required; no spaces or credentials.
///
/// # Errors
/// A sentence saying what is wrong.
pub fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    if url.is_empty() {
        return Err("enter the URL Settle should post events to".to_owned());
    }
    if url.len() > MAX_URL_LEN {
        return Err(format!("at most {MAX_URL_LEN} characters"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a URL has no spaces".to_owned());
    }
    let lower = url.to_ascii_lowercase();
    let (https, rest) = if let Some(rest) = lower.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (false, rest)
    } else {
        return Err("the URL must start with https://".to_owned());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("leave user names and passwords out of the URL".to_owned());
    }
    let host = if authority.starts_with('[') {
        authority
            .split_inclusive(']')
            .next()
            .unwrap_or_default()
            .to_owned()
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    if host.is_empty() || host == "." {
        return Err("the URL needs a host name".to_owned());
    }
    if let Some(port) = authority
        .strip_prefix(host.as_str())
        .and_then(|p| p.strip_prefix(':'))
        && (port.is_empty() || port.parse::<u16>().is_err())
    {
        return Err("the port must be a number up to 65535".to_owned());
    }
    if !https && host != "localhost" && host != "127.0.0.1" {
        return Err("use https:// (http:// only for localhost or 127.0.0.1)".to_owned());
    }
    Ok(url.to_owned())
}

/// A registered endpoint, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointView {
    pub id: i64,
    pub url: String,
    pub description: String,
    pub events: Vec<WebhookEventKind>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// An endpoint just created or whose secret was just rotated, with the secret: the only
/// time Settle shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointView,
    pub secret: String,
}

/// One event on its way to one endpoint, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: i64,
    pub endpoint_id: i64,
    pub event_id: String,
    pub event: WebhookEventKind,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_status_code: Option<i32>,
    /// The start of the receiver's last answer.
    pub last_response: Option<String>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// An endpoint with its most recent deliveries, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointWithDeliveries {
    pub endpoint: EndpointView,
    pub deliveries: Vec<DeliveryView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_to_this_machine() {
        assert_eq!(
            check_url(" https://erp.example.com/hooks/settle ").as_deref(),
            Ok("https://erp.example.com/hooks/settle")
        );
        assert!(check_url("https://erp.example.com:8443/x?y=1").is_ok());
        assert!(check_url("http://localhost:9000/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("http://erp.example.com/hook").is_err());
        assert!(check_url("http://localhost.evil.com/hook").is_err());
        assert!(check_url("ftp://erp.example.com").is_err());
        assert!(check_url("https://").is_err());
        assert!(check_url("https://user:pw@erp.example.com").is_err());
        assert!(check_url("https://erp.example.com:99999/").is_err());
        assert!(check_url("https://erp example.com").is_err());
        assert!(check_url("").is_err());
    }
}
