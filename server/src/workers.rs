//! Background work that runs inside `settle serve`.

use std::sync::Arc;
use std::time::Duration;

use app::services::sessions;
use app::state::Clock;
use sea_orm::DatabaseConnection;

/// How often ended sessions and links are cleared away.
const PURGE_EVERY: Duration = Duration::from_secs(15 * 60);

/// Starts the workers; they stop when the process does.
pub fn spawn(db: DatabaseConnection, clock: Arc<dyn Clock>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tick.tick().await;
            match sessions::purge_expired(&db, clock.now()).await {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "purged ended sessions and links"),
                Err(err) => tracing::warn!(%err, "purging sessions failed; will retry"),
            }
        }
    });
}
