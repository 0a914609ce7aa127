//! Delivering the email outbox: over SMTP (lettre, pooled, with timeouts) when
//! `SETTLE_SMTP_URL` is set, otherwise as `.eml` files under `<SETTLE_DATA_DIR>/outbox/`
//! with each message's links logged, so a developer can click them.
//!
//! A delivery run claims a batch of due rows with a lease, sends each under its stored
//! `Message-ID`, and records the outcome: sent; refused for good by the recipient's
//! server (5xx for the address: a bounce); or failed for now (4xx, refused connection,
//! timeout: retried with backoff). A process that dies mid-batch leaves its rows to be
//! claimed again when the lease passes.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use app::entities::outbox_email;
use app::error::AppError;
use app::model::enums::OutboxStatus;
use app::services::outbox;
use app::state::Clock;
use futures_util::StreamExt;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use crate::config::Config;

/// How the mailer works; the defaults suit production.
#[derive(Debug, Clone)]
pub struct MailerOptions {
    /// Rows claimed per delivery run.
    pub batch: u64,
    /// How long a claim holds a row; after it another process may take the row.
    pub lease: chrono::Duration,
    /// Timeout of each SMTP command (connect, each reply).
    pub smtp_timeout: Duration,
    /// Upper bound for delivering one message, whatever the transport does.
    pub send_timeout: Duration,
    /// Most SMTP connections kept open, and most recipients of a batch delivered to at once.
    pub pool_size: u32,
    /// How often the delivery loop looks for due mail when nobody wakes it.
    pub poll_every: Duration,
}

impl Default for MailerOptions {
    fn default() -> Self {
        MailerOptions {
            batch: 20,
            lease: chrono::Duration::minutes(10),
            smtp_timeout: Duration::from_secs(20),
            send_timeout: Duration::from_secs(25),
            pool_size: 4,
            poll_every: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

/// Delivers the outbox. Cheap to clone: clones share the SMTP pool and the wake-up signal.
#[derive(Debug, Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    options: MailerOptions,
    wake: Arc<Notify>,
}

/// The SMTP URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("not a usable SMTP URL ({0}); e.g. smtp://127.0.0.1:2525")]
pub struct MailerError(String);

/// What one delivery run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Rows claimed.
    pub claimed: usize,
    /// Delivered (accepted by the SMTP server, or written to a file).
    pub sent: usize,
    /// Failed for now; due again after their backoff.
    pub retrying: usize,
    /// Refused for good by the recipient's server: the contact is marked bounced.
    pub bounced: usize,
    /// Given up for another reason (attempts exhausted, unusable message).
    pub dead: usize,
    /// Not attempted: the lease had passed before their turn, so another process may
    /// have them.
    pub skipped: usize,
}

/// What became of one claimed row, for the report.
enum Delivered {
    Skipped,
    Sent,
    Bounced,
    Retrying,
    Dead,
}

/// The outcome of one delivery attempt.
enum Outcome {
    Sent,
    /// The recipient's address was refused for good.
    Bounced(String),
    /// The message itself cannot be sent; retrying will not help.
    Unsendable(String),
    /// Worth trying again later.
    Failed(String),
}

impl Mailer {
    /// Delivers over SMTP to `url` (a lettre URL such as `smtp://127.0.0.1:2525` or
    /// `smtps://user:pass@smtp.example.com`), pooling connections.
    ///
    /// # Errors
    /// The URL is not a usable SMTP URL.
    pub fn smtp(url: &str, from: Mailbox, options: MailerOptions) -> Result<Self, MailerError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError(e.to_string()))?
            .timeout(Some(options.smtp_timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(options.pool_size.max(1))
                    .idle_timeout(Duration::from_secs(60)),
            )
            .build();
        Ok(Mailer {
            transport: Transport::Smtp(transport),
            from,
            options,
            wake: Arc::new(Notify::new()),
        })
    }

    /// Writes each message as `<dir>/<message id>.eml` and logs its links.
    pub fn files(dir: impl Into<PathBuf>, from: Mailbox, options: MailerOptions) -> Self {
        Mailer {
            transport: Transport::Files(dir.into()),
            from,
            options,
            wake: Arc::new(Notify::new()),
        }
    }

    /// SMTP when `SETTLE_SMTP_URL` is set, otherwise files under `<SETTLE_DATA_DIR>/outbox/`.
    ///
    /// # Errors
    /// `SETTLE_SMTP_URL` is not a usable SMTP URL.
    pub fn from_config(config: &Config) -> Result<Self, MailerError> {
        let options = MailerOptions {
            lease: chrono::Duration::seconds(i64::try_from(config.mail_lease_secs).unwrap_or(300)),
            poll_every: Duration::from_secs(config.mail_poll_secs),
            ..MailerOptions::default()
        };
        match &config.smtp_url {
            Some(url) => Self::smtp(url, config.mail_from.clone(), options),
            None => Ok(Self::files(
                config.data_dir.join("outbox"),
                config.mail_from.clone(),
                options,
            )),
        }
    }

    pub fn options(&self) -> &MailerOptions {
        &self.options
    }

    /// Where mail goes, for the log: `SMTP` or the outbox directory.
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    /// Asks the delivery loop to look for due mail now rather than at its next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// A handle that wakes the delivery loop, for code that has just queued mail.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Resolves when [`Mailer::wake`] is called (or was, since the last wait).
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Claims a batch of due rows for this mailer's lease without sending them.
    ///
    /// # Errors
    /// Database errors as `Internal`.
    pub async fn claim(
        &self,
        db: &DatabaseConnection,
        clock: &dyn Clock,
    ) -> Result<Vec<outbox_email::Model>, AppError> {
        outbox::claim_due(db, clock.now(), self.options.batch, self.options.lease).await
    }

    /// Claims a batch of due rows and delivers it, recording each outcome.
    ///
    /// # Errors
    /// The claim failed (database errors as `Internal`). Failures to record a single
    /// outcome are logged; that row is delivered again after its lease.
    pub async fn deliver_due(
        &self,
        db: &DatabaseConnection,
        clock: &dyn Clock,
    ) -> Result<DeliveryReport, AppError> {
        let rows = self.claim(db, clock).await?;
        Ok(self.deliver(db, clock, rows).await)
    }

    /// Delivers rows this process has claimed, recording each outcome as soon as it is
    /// known. Up to [`MailerOptions::pool_size`] recipients' rows are in flight at once, each
    /// recipient's in the order queued: a loop that waited for each message's send and
    /// record in turn got one turn of a busy server's scheduler and pool per step, and fell
    /// behind the mail the requests queued.
    /// Each row is still recorded alone, so a crash re-sends at most the rows in flight.
    pub async fn deliver(
        &self,
        db: &DatabaseConnection,
        clock: &dyn Clock,
        rows: Vec<outbox_email::Model>,
    ) -> DeliveryReport {
        let mut report = DeliveryReport {
            claimed: rows.len(),
            ..DeliveryReport::default()
        };
        // One recipient's messages go one after the other, in the order they were queued,
        // so they arrive in that order; different recipients' go side by side.
        let mut by_recipient: Vec<Vec<outbox_email::Model>> = Vec::new();
        for row in rows {
            match by_recipient.iter_mut().find(|group| {
                group
                    .first()
                    .is_some_and(|r| r.to_address == row.to_address)
            }) {
                Some(group) => group.push(row),
                None => by_recipient.push(vec![row]),
            }
        }
        let width = usize::try_from(self.options.pool_size.max(1)).unwrap_or(1);
        let mut outcomes = futures_util::stream::iter(by_recipient)
            .map(|group| async move {
                let mut done = Vec::with_capacity(group.len());
                for row in group {
                    done.push(self.deliver_one(db, clock, row).await);
                }
                done
            })
            .buffer_unordered(width);
        while let Some(group) = outcomes.next().await {
            for done in group {
                match done {
                    Delivered::Skipped => report.skipped += 1,
                    Delivered::Sent => report.sent += 1,
                    Delivered::Bounced => report.bounced += 1,
                    Delivered::Retrying => report.retrying += 1,
                    Delivered::Dead => report.dead += 1,
                }
            }
        }
        report
    }

    /// Sends one claimed row and records the outcome.
    async fn deliver_one(
        &self,
        db: &DatabaseConnection,
        clock: &dyn Clock,
        row: outbox_email::Model,
    ) -> Delivered {
        if row.claimed_until.is_none_or(|until| clock.now() >= until) {
            tracing::warn!(message_id = %row.message_id, "lease passed before delivery; leaving the email to the next claim");
            return Delivered::Skipped;
        }
        let outcome = self.send(&row).await;
        let now = clock.now();
        let (delivered, recorded) = match outcome {
            Outcome::Sent => {
                tracing::info!(message_id = %row.message_id, to = %row.to_address, "email sent");
                (Delivered::Sent, outbox::mark_sent(db, row.id, now).await)
            }
            Outcome::Bounced(error) => {
                tracing::warn!(message_id = %row.message_id, to = %row.to_address, %error, "email bounced");
                let recorded = outbox::record_bounce(db, row.id, &error, now)
                    .await
                    .map(drop);
                (Delivered::Bounced, recorded)
            }
            Outcome::Unsendable(error) => {
                tracing::error!(message_id = %row.message_id, %error, "email cannot be sent; given up");
                let recorded = outbox::mark_failed(db, row.id, &error, true, now)
                    .await
                    .map(drop);
                (Delivered::Dead, recorded)
            }
            Outcome::Failed(error) => {
                match outbox::mark_failed(db, row.id, &error, false, now).await {
                    Ok(after) if after.status == OutboxStatus::Dead => {
                        tracing::error!(message_id = %row.message_id, attempts = after.attempts, %error, "email failed too often; given up");
                        (Delivered::Dead, Ok(()))
                    }
                    Ok(after) => {
                        tracing::warn!(message_id = %row.message_id, attempts = after.attempts, next_attempt_at = %after.next_attempt_at, %error, "email failed; will retry");
                        (Delivered::Retrying, Ok(()))
                    }
                    Err(err) => (Delivered::Retrying, Err(err)),
                }
            }
        };
        if let Err(err) = recorded {
            tracing::warn!(message_id = %row.message_id, %err, "could not record the delivery outcome; the email may be sent again");
        }
        delivered
    }

    async fn send(&self, row: &outbox_email::Model) -> Outcome {
        let to: Mailbox = match row.to_address.parse() {
            Ok(to) => to,
            Err(err) => {
                return Outcome::Bounced(format!("`{}` is not an address: {err}", row.to_address));
            }
        };
        let builder = Message::builder()
            .message_id(Some(row.message_id.clone()))
            .from(self.from.clone())
            .to(to)
            .subject(row.subject.clone())
            .date(SystemTime::from(row.created_at));
        let built = match &row.body_html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                row.body_text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(SinglePart::plain(row.body_text.clone())),
        };
        let message = match built {
            Ok(message) => message,
            Err(err) => return Outcome::Unsendable(format!("building the message: {err}")),
        };
        match &self.transport {
            Transport::Smtp(smtp) => {
                match tokio::time::timeout(self.options.send_timeout, smtp.send(message)).await {
                    Ok(Ok(_)) => Outcome::Sent,
                    Ok(Err(err)) => classify(&err),
                    Err(_) => Outcome::Failed(format!(
                        "timed out after {} s",
                        self.options.send_timeout.as_secs()
                    )),
                }
            }
            Transport::Files(dir) => {
                match write_eml(dir, &row.message_id, &message.formatted()).await {
                    Ok(path) => {
                        tracing::info!(message_id = %row.message_id, to = %row.to_address, subject = %row.subject, path = %path.display(), "email written to a file (SETTLE_SMTP_URL is unset)");
                        for link in links(&row.body_text) {
                            tracing::info!(to = %row.to_address, %link, "link in email");
                        }
                        Outcome::Sent
                    }
                    Err(err) => Outcome::Failed(format!("writing the .eml file: {err}")),
                }
            }
        }
    }
}

/// A permanent reply that refuses the recipient's address is a bounce; everything else
/// (4xx, other 5xx such as a relay refusing the sender or failed authentication, network
/// errors, timeouts) is retried, so a misconfigured relay never bounces every contact.
fn classify(err: &lettre::transport::smtp::Error) -> Outcome {
    let text = err.to_string();
    let code = err.status().map(|c| c.to_string()).unwrap_or_default();
    if err.is_permanent() && refuses_address(&code, &text) {
        Outcome::Bounced(text)
    } else {
        Outcome::Failed(text)
    }
}

/// Whether a 5xx reply is about the recipient's address: by its enhanced status code
/// when it has one (`5.1.x` addressing, `5.2.x` mailbox), else by its reply code (550
/// mailbox unavailable, 551 not local, 553 name not allowed).
fn refuses_address(code: &str, text: &str) -> bool {
    let enhanced = text
        .split_once("): ")
        .map_or(text, |(_, message)| message)
        .split_whitespace()
        .next()
        .and_then(|token| {
            let mut parts = token.split('.');
            let class = parts.next()?.parse::<u8>().ok()?;
            let subject = parts.next()?.parse::<u16>().ok()?;
            parts.next()?.parse::<u16>().ok()?;
            parts.next().is_none().then_some((class, subject))
        });
    match enhanced {
        Some((class, subject)) => class == 5 && matches!(subject, 1 | 2),
        None => matches!(code, "550" | "551" | "553"),
    }
}

/// The file a message is written to: its id without angle brackets, unsafe characters
/// replaced.
pub fn eml_file_name(message_id: &str) -> String {
    let stem: String = message_id
        .trim_matches(|c| c == '<' || c == '>')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{stem}.eml")
}

/// Writes the message whole (temporary file, then rename), replacing an earlier copy.
async fn write_eml(dir: &Path, message_id: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(eml_file_name(message_id));
    let partial = path.with_extension("eml.partial");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await?;
    Ok(path)
}

/// The `http://` and `https://` links in a text, in order.
fn links(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\''))
            .unwrap_or(tail.len());
        let link = tail[..end].trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        if !link.is_empty() {
            out.push(link);
        }
        rest = &tail[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_in_text() {
        assert_eq!(
            links("Open https://x.test/l/abc.\nOr http://y.test/p?q=1, then <https://z.test>"),
            vec![
                "https://x.test/l/abc",
                "http://y.test/p?q=1",
                "https://z.test"
            ]
        );
        assert!(links("no links here").is_empty());
    }

    #[test]
    fn only_refusals_of_the_address_are_bounces() {
        let permanent = |code: &str, message: &str| {
            refuses_address(code, &format!("permanent error ({code}): {message}"))
        };
        assert!(permanent("550", "5.1.1 no such user"));
        assert!(permanent("552", "5.2.2 mailbox full"));
        assert!(permanent("550", "mailbox unavailable"));
        assert!(permanent("553", "mailbox name not allowed"));
        assert!(!permanent("550", "5.7.1 relaying denied"));
        assert!(!permanent("535", "5.7.8 authentication failed"));
        assert!(!permanent("554", "transaction failed"));
    }

    #[test]
    fn file_names_come_from_message_ids() {
        assert_eq!(
            eml_file_name("<abc123@settle.test>"),
            "abc123@settle.test.eml"
        );
        assert_eq!(eml_file_name("<a/../b@x>"), "a_.._b@x.eml");
    }
}
