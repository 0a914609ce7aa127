//! Sealing sensitive values at rest (bank account numbers, TINs, pending profile changes)
//! with AES-256-GCM under `SETTLE_SECRET_KEY`. A sealed value is base64 of a random 96-bit
//! nonce followed by the ciphertext and tag; opening checks the tag, so a tampered or
//! foreign value is refused rather than misread.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::AppError;
use crate::state::SecretKey;

const NONCE_BYTES: usize = 12;

/// Seals `plain` under `key`.
///
/// # Errors
/// `Internal` if the cipher fails (it does not for valid keys).
pub fn seal(key: &SecretKey, plain: &[u8]) -> Result<String, AppError> {
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| AppError::Internal)?;
    let nonce_bytes: [u8; NONCE_BYTES] = rand::random();
    let sealed = cipher
        .encrypt(Nonce::from_slice(&nonce_bytes), plain)
        .map_err(|_| AppError::Internal)?;
    let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
    out.extend_from_slice(&nonce_bytes);
    out.extend_from_slice(&sealed);
    Ok(STANDARD.encode(out))
}

/// Opens a value [`seal`] made under `key`.
///
/// # Errors
/// `Internal` when the value is not base64, was sealed under another key, or was altered.
pub fn open(key: &SecretKey, sealed: &str) -> Result<Vec<u8>, AppError> {
    let bytes = STANDARD.decode(sealed).map_err(|_| AppError::Internal)?;
    if bytes.len() < NONCE_BYTES {
        return Err(AppError::Internal);
    }
    let (nonce, body) = bytes.split_at(NONCE_BYTES);
    let cipher = Aes256Gcm::new_from_slice(&key.0).map_err(|_| AppError::Internal)?;
    cipher
        .decrypt(Nonce::from_slice(nonce), body)
        .map_err(|_| AppError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let key = SecretKey([7; 32]);
        let sealed = seal(&key, b"021000021 123456789").unwrap_or_default();
        assert!(!sealed.contains("123456789"));
        assert_eq!(
            open(&key, &sealed).ok().as_deref(),
            Some(&b"021000021 123456789"[..])
        );
        assert!(open(&SecretKey([8; 32]), &sealed).is_err());
    }

    #[test]
    fn the_same_value_seals_differently_each_time_and_tampering_is_caught() {
        let key = SecretKey([1; 32]);
        let a = seal(&key, b"x").unwrap_or_default();
        let b = seal(&key, b"x").unwrap_or_default();
        assert_ne!(a, b);
        let mut bytes = STANDARD.decode(&a).unwrap_or_default();
        if let Some(last) = bytes.last_mut() {
            *last ^= 1;
        }
        assert!(open(&key, &STANDARD.encode(bytes)).is_err());
        assert!(open(&key, "not base64!").is_err());
    }
}
