//! What every request handler and server function can reach on the server.

use std::sync::Arc;

use axum::extract::FromRef;
use chrono::{DateTime, NaiveDate, Utc};
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

/// The source of "now". Tests inject a fixed clock instead of sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;

    fn today(&self) -> NaiveDate {
        self.now().date_naive()
    }
}

/// Wall-clock time.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that reads a time set by the test.
#[derive(Debug)]
pub struct FixedClock(pub std::sync::Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn at(now: DateTime<Utc>) -> Self {
        FixedClock(std::sync::Mutex::new(now))
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Settings the app needs at request time.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Base of every link Settle puts in an email or letter, without a trailing slash.
    pub public_url: String,
    /// Whether cookies get the `Secure` attribute (public URL is https).
    pub secure_cookies: bool,
    /// Where stored files (uploads, imported documents) live.
    pub data_dir: std::path::PathBuf,
    /// The largest file a customer may upload, in bytes.
    pub max_upload_bytes: u64,
    /// `SETTLE_SECRET_KEY`: seals sensitive values at rest.
    pub secret_key: SecretKey,
}

/// A 32-byte key that never shows in logs or debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey(pub [u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

/// The default upload limit: 10 MiB.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// Shared state of the axum router, provided to server functions as context.
#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// The Easy Pay provider (the sandbox unless configured otherwise).
    pub pay: Arc<dyn crate::services::easy_pay::Provider>,
    /// Poked after mail is queued, so the delivery worker sends it now rather than at its next tick.
    pub mail_wake: Arc<tokio::sync::Notify>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
