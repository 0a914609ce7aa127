//! Background work that runs inside `settle serve`.

use std::sync::Arc;
use std::time::Duration;

use app::services::{campaigns, promises, reminders, sessions};
use app::state::Clock;
use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;

use crate::mailer::Mailer;

/// How often ended sessions and links are cleared away.
const PURGE_EVERY: Duration = Duration::from_secs(15 * 60);
/// How often open Promises to Pay are reminded and decided.
const PROMISES_EVERY: Duration = Duration::from_secs(10 * 60);
/// How often onboarding campaigns are checked for follow-ups that are due.
const CAMPAIGNS_EVERY: Duration = Duration::from_secs(15 * 60);
/// How often due webhook deliveries are looked for.
const WEBHOOKS_EVERY: Duration = Duration::from_secs(5);
/// Webhook deliveries claimed at a time.
const WEBHOOK_BATCH: u64 = 20;
/// How often the SQLite WAL is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Starts the workers; they stop when the process does.
pub fn spawn(db: DatabaseConnection, clock: Arc<dyn Clock>, mailer: Mailer) {
    spawn_mail_delivery(db.clone(), clock.clone(), mailer);
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

/// Checkpoints the SQLite WAL every [`CHECKPOINT_EVERY`] through its own connection
/// (`db::checkpointer`), so that requests' commits never do (`db::Checkpoints::ByWorker`).
/// Nothing to do on PostgreSQL or an in-memory database.
///
/// # Errors
/// The checkpointer's connection cannot be opened.
pub async fn spawn_wal_checkpoints(url: &str) -> Result<Option<JoinHandle<()>>, String> {
    let Some(conn) = app::db::checkpointer(url)
        .await
        .map_err(|e| format!("DATABASE_URL: cannot open the checkpointer's connection: {e}"))?
    else {
        return Ok(None);
    };
    let mut checkpointer = app::db::WalCheckpointer::new(conn);
    Ok(Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut warned = false;
        loop {
            tick.tick().await;
            match checkpointer.run().await {
                Ok(Some(c)) if c.busy && !warned => {
                    warned = true;
                    tracing::warn!(
                        log_pages = c.log_pages,
                        "the WAL could not start over: a reader held it (will retry)"
                    );
                }
                Ok(Some(c)) if !c.busy => warned = false,
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "checkpointing the WAL failed; will retry"),
            }
        }
    })))
}

/// How often a PostgreSQL server without autovacuum is looked at for tables to vacuum
/// (autovacuum's own default naptime is a minute).
const VACUUM_EVERY: Duration = Duration::from_secs(30);

/// On a PostgreSQL server whose autovacuum is off, does its work for Settle's tables
/// ([`app::db::vacuum_due`]) every [`VACUUM_EVERY`], and says once in the log why. Without
/// it the dead rows of the tables a busy day updates are never reclaimed and every request
/// slows down within minutes. Nothing to do on SQLite, or while autovacuum is on (it is
/// looked at again each time, so turning it on takes over). Several processes may run it
/// against one database: `SKIP_LOCKED` passes by a table another is vacuuming.
pub fn spawn_pg_vacuum(db: DatabaseConnection) {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(VACUUM_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut warned = false;
        loop {
            tick.tick().await;
            if !warned && matches!(app::db::autovacuum_on(&db).await, Ok(Some(false))) {
                warned = true;
                tracing::warn!(
                    "PostgreSQL's autovacuum is off: Settle vacuums and analyses its own tables \
                     when they need it (turn autovacuum on to leave this to PostgreSQL)"
                );
            }
            match app::db::vacuum_due(&db).await {
                Ok(tables) if tables.is_empty() => {}
                Ok(tables) => {
                    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                    tracing::info!(tables = ?names, "vacuumed and analysed");
                }
                Err(err) => tracing::warn!(%err, "vacuuming failed; will retry"),
            }
        }
    });
}

/// Delivers queued webhook deliveries: claims due ones every [`WEBHOOKS_EVERY`] (straight
/// again after a full batch), posts them signed and records the answers. Several processes
/// may run it against one database; the claim's lease keeps them apart.
pub fn spawn_webhook_delivery(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    secret_key: app::state::SecretKey,
) {
    let client = match app::services::webhooks::http_client() {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(%err, "webhooks will not be delivered");
            return;
        }
    };
    tokio::spawn(async move {
        let now = move || clock.now();
        loop {
            match app::services::webhooks::deliver_due(
                &db,
                &secret_key,
                &client,
                &now,
                WEBHOOK_BATCH,
            )
            .await
            {
                Ok(report) if report.claimed > 0 => {
                    tracing::info!(?report, "delivered webhooks");
                    if report.claimed as u64 >= WEBHOOK_BATCH {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "claiming webhooks to deliver failed; will retry"),
            }
            tokio::time::sleep(WEBHOOKS_EVERY).await;
        }
    });
}

/// Delivers the outbox: a run every `poll_every` of the mailer's options, at once when
/// [`Mailer::wake`] is called, and straight again after a full batch.
pub fn spawn_mail_delivery(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    mailer: Mailer,
) -> JoinHandle<()> {
    tracing::info!(to = %mailer.describe(), "delivering email");
    tokio::spawn(async move {
        let batch = usize::try_from(mailer.options().batch).unwrap_or(usize::MAX);
        loop {
            match mailer.deliver_due(&db, clock.as_ref()).await {
                Ok(report) if report.claimed > 0 => {
                    tracing::info!(?report, "delivered email");
                    if report.claimed >= batch {
                        continue;
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(%err, "claiming email to deliver failed; will retry"),
            }
            tokio::select! {
                () = tokio::time::sleep(mailer.options().poll_every) => {}
                () = mailer.woken() => {}
            }
        }
    })
}

/// Reminds and decides open Promises to Pay every [`PROMISES_EVERY`], in its own task so a
/// slow run never delays the purge or mail delivery; `wake` pokes mail delivery after a
/// reminder is queued.
pub fn spawn_promise_follow_up(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    public_url: String,
    wake: Arc<tokio::sync::Notify>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PROMISES_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match promises::follow_up(&db, &public_url, clock.now()).await {
                Ok(report) if report == promises::FollowUpReport::default() => {}
                Ok(report) => {
                    tracing::info!(?report, "followed up promises to pay");
                    if report.reminded > 0 {
                        wake.notify_one();
                    }
                }
                Err(err) => tracing::warn!(%err, "following up promises failed; will retry"),
            }
        }
    })
}

/// Sends the onboarding campaigns' due follow-ups every [`CAMPAIGNS_EVERY`], in its own
/// task; `wake` pokes mail delivery after reminders are queued.
pub fn spawn_campaign_follow_up(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    public_url: String,
    wake: Arc<tokio::sync::Notify>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CAMPAIGNS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match campaigns::follow_up(&db, &public_url, clock.now()).await {
                Ok(0) => {}
                Ok(sent) => {
                    tracing::info!(sent, "sent campaign follow-ups");
                    wake.notify_one();
                }
                Err(err) => tracing::warn!(%err, "campaign follow-ups failed; will retry"),
            }
        }
    })
}

/// Runs the reminder rules every `every` (first at start-up), in its own task; `wake` pokes
/// mail delivery after reminders are queued. Each (invoice, step) fires once however often
/// this runs and however many processes run it.
pub fn spawn_reminders(
    db: DatabaseConnection,
    clock: Arc<dyn Clock>,
    public_url: String,
    wake: Arc<tokio::sync::Notify>,
    every: Duration,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match reminders::run(&db, &public_url, clock.now()).await {
                Ok(report) if report.touched() == 0 && report.steps_passed == 0 => {}
                Ok(report) => {
                    tracing::info!(
                        day = %report.day,
                        examined = report.invoices_examined,
                        emails = report.emails,
                        tasks = report.tasks,
                        passed = report.steps_passed,
                        "ran the reminder rules"
                    );
                    if report.emails > 0 {
                        wake.notify_one();
                    }
                }
                Err(err) => tracing::warn!(%err, "running the reminder rules failed; will retry"),
            }
        }
    })
}
