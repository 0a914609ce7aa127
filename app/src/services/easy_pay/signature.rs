//! Webhook signatures in Stripe's scheme, used by every provider (the sandbox signs its
//! callbacks the same way): the header `Stripe-Signature: t=<unix seconds>,v1=<hex>` where
//! the hex is HMAC-SHA256 over `"<t>.<body>"` with the endpoint's secret. A delivery whose
//! timestamp is further than [`TOLERANCE_SECS`] from now is refused, so a captured request
//! cannot be replayed later.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header that carries the signature.
pub const HEADER: &str = "stripe-signature";
/// How far a delivery's timestamp may be from now, in seconds (Stripe's default).
pub const TOLERANCE_SECS: i64 = 300;

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches the body")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // An HMAC key may have any length; `new_from_slice` cannot fail for HMAC.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value that signs `body` at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(digest))
}

/// Checks `header` against `body`. Any one of several `v1` signatures may match (a provider
/// sends two while a secret is being rolled).
///
/// # Errors
/// Why the delivery must be refused.
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => {
                timestamp = Some(t.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            Some(("v1", sig)) => {
                signatures.push(hex::decode(sig).map_err(|_| SignatureError::Malformed)?);
            }
            Some(_) => {}
            None => return Err(SignatureError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now.timestamp() - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    let expected = mac(secret, timestamp, body);
    if signatures
        .iter()
        .any(|sig| expected.clone().verify_slice(sig).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
    }

    const SECRET: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;

    #[test]
    fn a_signature_made_now_verifies() {
        let header = sign(SECRET, 1_700_000_000, BODY);
        assert_eq!(
            verify(SECRET, Some(&header), BODY, at(1_700_000_010)),
            Ok(())
        );
    }

    #[test]
    fn the_digest_matches_an_independent_hmac() {
        // python3: hmac.new(b"whsec_test", b'1700000000.{"id":"evt_1"}', hashlib.sha256).hexdigest()
        assert_eq!(
            sign(SECRET, 1_700_000_000, BODY),
            "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
        );
    }

    #[test]
    fn a_changed_body_or_secret_is_refused() {
        let header = sign(SECRET, 1_700_000_000, BODY);
        let now = at(1_700_000_000);
        assert_eq!(
            verify(SECRET, Some(&header), br#"{"id":"evt_2"}"#, now),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"whsec_other", Some(&header), BODY, now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_stale_or_future_timestamp_is_refused() {
        let header = sign(SECRET, 1_700_000_000, BODY);
        assert_eq!(
            verify(
                SECRET,
                Some(&header),
                BODY,
                at(1_700_000_000 + TOLERANCE_SECS + 1)
            ),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(
                SECRET,
                Some(&header),
                BODY,
                at(1_700_000_000 - TOLERANCE_SECS - 1)
            ),
            Err(SignatureError::Stale)
        );
    }

    #[test]
    fn a_missing_or_malformed_header_is_refused() {
        let now = at(1_700_000_000);
        assert_eq!(
            verify(SECRET, None, BODY, now),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(SECRET, Some("garbage"), BODY, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some("t=1700000000"), BODY, now),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(SECRET, Some("t=1700000000,v1=zz"), BODY, now),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn any_of_several_signatures_may_match() {
        let good = sign(SECRET, 1_700_000_000, BODY);
        let v1 = good.split_once("v1=").map(|(_, s)| s).unwrap_or_default();
        let header = format!("t=1700000000,v1={},v1={v1}", "00".repeat(32));
        assert_eq!(
            verify(SECRET, Some(&header), BODY, at(1_700_000_000)),
            Ok(())
        );
    }
}
