//! Mail delivery over real SMTP: each test starts `smtp_sink.py` (aiosmtpd) on a free
//! local port and drives the `Mailer` against it, on every test database. The sink
//! refuses recipients starting with `bounce` (550) and `later` (451).

use app::testing::fixtures;
use std::path::Path;
use std::sync::{Arc, Mutex};

use app::entities::{contact, outbox_email, task};
use app::model::enums::*;
use app::services::{magic_links, mail, templates};
use app::state::{Clock, FixedClock};
use chrono::{DateTime, Duration, TimeZone, Utc};
use lettre::message::Mailbox;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};
use server::mailer::{DeliveryReport, Mailer, MailerOptions};

const PUBLIC_URL: &str = "http://settle.test";
const FROM: &str = "Northwind Billing <billing@northwind.test>";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

mod common;
use common::{Sink, TempDir};

fn mailer(sink: &Sink) -> Mailer {
    Mailer::smtp(&sink.url(), from(), options()).expect("SMTP mailer")
}

fn from() -> Mailbox {
    FROM.parse().expect("sender")
}

fn options() -> MailerOptions {
    MailerOptions {
        lease: Duration::minutes(5),
        smtp_timeout: std::time::Duration::from_secs(10),
        send_timeout: std::time::Duration::from_secs(15),
        ..MailerOptions::default()
    }
}

async fn contact_with_email(db: &DatabaseConnection, number: &str, email: &str) -> contact::Model {
    let account = fixtures::customer(db, number, &format!("{number} Company")).await;
    fixtures::contact(db, account.id, "Pat Payables", email).await
}

/// Seeds the templates and queues a `verify_contact` email to a new contact with `email`.
async fn queue_email(
    db: &DatabaseConnection,
    number: &str,
    email: &str,
) -> (contact::Model, String) {
    templates::seed_defaults(db, now()).await.expect("seed");
    let c = contact_with_email(db, number, email).await;
    let message_id = queue_verify(db, &c, number).await;
    (c, message_id)
}

/// Queues a `verify_contact` email to `c` (the templates seeded) and returns its Message-ID.
async fn queue_verify(db: &DatabaseConnection, c: &contact::Model, number: &str) -> String {
    mail::send_to_contact(
        db,
        PUBLIC_URL,
        c.id,
        "verify_contact",
        serde_json::json!({ "link": format!("{PUBLIC_URL}/verify/{number}") }),
        now(),
    )
    .await
    .expect("queue")
}

async fn row(db: &DatabaseConnection, message_id: &str) -> outbox_email::Model {
    outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.message_id.eq(message_id))
        .one(db)
        .await
        .expect("query")
        .expect("outbox row")
}

/// The token of the first `{PUBLIC_URL}/l/<token>` link in `body`.
fn link_token(body: &str) -> String {
    let prefix = format!("{PUBLIC_URL}/l/");
    let start = body.find(&prefix).expect("a magic link") + prefix.len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn a_delivered_message_has_its_stored_id_both_parts_and_a_working_footer_link() {
    let sink = Sink::start("smtp-delivered").await;
    let mailer = mailer(&sink);
    for test_db in app::testing::databases("smtp_delivered").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let (c, message_id) = queue_email(db, "SM-1", "pat@sm-1.test").await;
        let stored = row(db, &message_id).await;

        let report = mailer.deliver_due(db, &clock).await.expect("deliver");
        assert_eq!(
            report,
            DeliveryReport {
                claimed: 1,
                sent: 1,
                ..DeliveryReport::default()
            },
            "{}",
            test_db.backend
        );
        let received = sink.received(&message_id);
        assert_eq!(received.len(), 1, "{}", test_db.backend);
        let m = &received[0];
        assert_eq!(m["message_id"], message_id.as_str());
        assert_eq!(m["from"], FROM, "{}", test_db.backend);
        assert_eq!(m["mail_from"], "billing@northwind.test");
        assert_eq!(m["to"], "pat@sm-1.test");
        assert_eq!(m["rcpt_tos"], serde_json::json!(["pat@sm-1.test"]));
        assert_eq!(m["subject"], stored.subject.as_str());
        assert_eq!(
            m["subject"],
            "Please confirm your email address for SM-1 Company"
        );
        assert_eq!(m["content_type"], "multipart/alternative");
        let text = m["text"].as_str().expect("a text part");
        let html = m["html"].as_str().expect("an HTML part");
        assert!(text.contains("Hello Pat Payables,"), "{text}");
        assert!(
            text.contains(&format!("{PUBLIC_URL}/verify/SM-1")),
            "{text}"
        );
        assert!(
            text.contains("Not the right person for these? Tell us who is."),
            "{text}"
        );
        assert!(html.contains("<p>Hello Pat Payables,</p>"), "{html}");
        assert!(html.contains("Not the right person for these?"), "{html}");
        let token = link_token(&text[text.find("-- ").expect("footer")..]);
        assert_eq!(
            link_token(&html[html.find("<hr>").expect("footer")..]),
            token
        );
        let preview = magic_links::describe(db, &token, clock.now())
            .await
            .expect("describe")
            .expect("the wrong-person link opens");
        assert_eq!(
            preview.purpose,
            LinkPurpose::WrongPerson,
            "{}",
            test_db.backend
        );
        assert_eq!(preview.company, "SM-1 Company");

        let sent = row(db, &message_id).await;
        assert_eq!(sent.status, OutboxStatus::Sent, "{}", test_db.backend);
        assert_eq!(sent.sent_at, Some(now()));
        assert_eq!(sent.to_contact_id, Some(c.id));
        assert_eq!(
            mailer.deliver_due(db, &clock).await.expect("deliver"),
            DeliveryReport::default(),
            "{}: nothing left",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn a_550_marks_the_contact_bounced_the_row_dead_and_opens_a_task() {
    let sink = Sink::start("smtp-bounce").await;
    let mailer = mailer(&sink);
    for test_db in app::testing::databases("smtp_bounce").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let (c, message_id) = queue_email(db, "SM-2", "bounce-pat@sm-2.test").await;

        let report = mailer.deliver_due(db, &clock).await.expect("deliver");
        assert_eq!(
            report,
            DeliveryReport {
                claimed: 1,
                bounced: 1,
                ..DeliveryReport::default()
            },
            "{}",
            test_db.backend
        );
        assert!(sink.received(&message_id).is_empty());
        let dead = row(db, &message_id).await;
        assert_eq!(dead.status, OutboxStatus::Dead, "{}", test_db.backend);
        assert_eq!(dead.attempts, 1);
        let error = dead.last_error.clone().unwrap_or_default();
        assert!(
            error.contains("550") && error.contains("no such user"),
            "{error}"
        );

        let contact = contact::Entity::find_by_id(c.id)
            .one(db)
            .await
            .expect("query")
            .expect("contact");
        assert_eq!(
            contact.email_status,
            EmailStatus::Bounced,
            "{}",
            test_db.backend
        );
        let tasks = task::Entity::find()
            .filter(task::COLUMN.account_id.eq(c.account_id))
            .all(db)
            .await
            .expect("tasks");
        assert_eq!(tasks.len(), 1, "{}", test_db.backend);
        assert_eq!(tasks[0].kind, TaskKind::Bounce);
        assert_eq!(tasks[0].status, TaskStatus::Open);
        assert!(
            tasks[0].title.contains("bounce-pat@sm-2.test"),
            "{}",
            tasks[0].title
        );
        assert_eq!(
            app::services::outbox::list_dead(db)
                .await
                .expect("dead")
                .len(),
            1
        );
        clock.advance(Duration::days(1));
        assert_eq!(
            mailer.deliver_due(db, &clock).await.expect("deliver"),
            DeliveryReport::default(),
            "{}: a bounced email is not retried",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn a_451_or_a_refused_connection_is_retried_later() {
    let sink = Sink::start("smtp-later").await;
    let mailer = mailer(&sink);
    // A port nobody listens on: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let refused = Mailer::smtp(&format!("smtp://127.0.0.1:{closed}"), from(), options())
        .expect("SMTP mailer");
    for test_db in app::testing::databases("smtp_later").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let (c, message_id) = queue_email(db, "SM-3", "later-pat@sm-3.test").await;

        let report = mailer.deliver_due(db, &clock).await.expect("deliver");
        assert_eq!(
            report,
            DeliveryReport {
                claimed: 1,
                retrying: 1,
                ..DeliveryReport::default()
            },
            "{}",
            test_db.backend
        );
        let pending = row(db, &message_id).await;
        assert_eq!(pending.status, OutboxStatus::Pending, "{}", test_db.backend);
        assert_eq!(pending.attempts, 1);
        assert!(pending.next_attempt_at > now(), "{}", test_db.backend);
        assert_eq!(pending.next_attempt_at, now() + Duration::seconds(30));
        assert_eq!(pending.claimed_until, None);
        let error = pending.last_error.clone().unwrap_or_default();
        assert!(error.contains("451"), "{error}");
        let contact = contact::Entity::find_by_id(c.id)
            .one(db)
            .await
            .expect("query")
            .expect("contact");
        assert_eq!(
            contact.email_status,
            EmailStatus::Verified,
            "{}",
            test_db.backend
        );
        assert!(
            task::Entity::find()
                .all(db)
                .await
                .expect("tasks")
                .is_empty(),
            "{}",
            test_db.backend
        );
        assert_eq!(
            mailer.deliver_due(db, &clock).await.expect("deliver"),
            DeliveryReport::default(),
            "{}: not due before the backoff",
            test_db.backend
        );

        clock.advance(Duration::seconds(30));
        let report = refused.deliver_due(db, &clock).await.expect("deliver");
        assert_eq!(report.retrying, 1, "{}: {report:?}", test_db.backend);
        let pending = row(db, &message_id).await;
        assert_eq!(pending.status, OutboxStatus::Pending, "{}", test_db.backend);
        assert_eq!(pending.attempts, 2);
        assert_eq!(pending.next_attempt_at, clock.now() + Duration::seconds(60));
    }
}

#[tokio::test]
async fn a_claim_left_by_a_dead_process_is_delivered_once_after_its_lease() {
    let sink = Sink::start("smtp-crash").await;
    for test_db in app::testing::databases("smtp_crash_safety").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let (_, message_id) = queue_email(db, "SM-4", "pat@sm-4.test").await;

        // Process A claims the row, then dies before sending anything.
        let dying = mailer(&sink);
        let claimed = dying.claim(db, &clock).await.expect("claim");
        assert_eq!(claimed.len(), 1, "{}", test_db.backend);
        drop(dying);

        // Process B finds nothing while A's lease runs…
        let survivor = mailer(&sink);
        assert_eq!(
            survivor.deliver_due(db, &clock).await.expect("deliver"),
            DeliveryReport::default(),
            "{}",
            test_db.backend
        );
        // …and delivers the row once the lease has passed.
        clock.advance(options().lease);
        let report = survivor.deliver_due(db, &clock).await.expect("deliver");
        assert_eq!(
            report,
            DeliveryReport {
                claimed: 1,
                sent: 1,
                ..DeliveryReport::default()
            },
            "{}",
            test_db.backend
        );
        clock.advance(Duration::days(1));
        assert_eq!(
            survivor.deliver_due(db, &clock).await.expect("deliver"),
            DeliveryReport::default(),
            "{}: sent once",
            test_db.backend
        );
        assert_eq!(sink.received(&message_id).len(), 1, "{}", test_db.backend);
        assert_eq!(row(db, &message_id).await.status, OutboxStatus::Sent);
    }
}

/// Collects what the tracing subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

#[tokio::test]
async fn without_smtp_mail_is_written_as_eml_files_and_its_links_are_logged() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    // The test runs on one thread, so this subscriber sees the mailer's events.
    let _guard = tracing::subscriber::set_default(subscriber);
    for test_db in app::testing::databases("smtp_eml_files").await {
        let db = &test_db.conn;
        let data_dir = TempDir::new("eml");
        let outbox_dir = data_dir.0.join("outbox");
        let mailer = Mailer::files(&outbox_dir, from(), options());
        let clock = FixedClock::at(now());
        let (_, message_id) = queue_email(db, "SM-5", "pat@sm-5.test").await;

        let report = mailer.deliver_due(db, &clock).await.expect("deliver");
        assert_eq!(report.sent, 1, "{}: {report:?}", test_db.backend);
        let path: &Path = &outbox_dir.join(server::mailer::eml_file_name(&message_id));
        let eml = std::fs::read_to_string(path).expect("the .eml file");
        assert!(eml.contains(&format!("Message-ID: {message_id}")), "{eml}");
        assert!(eml.contains("To: pat@sm-5.test"), "{eml}");
        assert!(eml.contains("multipart/alternative"), "{eml}");
        assert_eq!(
            std::fs::read_dir(&outbox_dir).expect("outbox dir").count(),
            1,
            "{}",
            test_db.backend
        );
        assert_eq!(row(db, &message_id).await.status, OutboxStatus::Sent);

        let text = row(db, &message_id).await.body_text;
        let token = link_token(&text[text.find("-- ").expect("footer")..]);
        let logged = logs.text();
        assert!(
            logged.contains(&format!("{PUBLIC_URL}/l/{token}")),
            "{}: the wrong-person link is logged: {logged}",
            test_db.backend
        );
        assert!(
            logged.contains(&format!("{PUBLIC_URL}/verify/SM-5")),
            "{logged}"
        );
    }
}

/// A minimal SMTP server that holds its reply to each message's data until `width`
/// messages are waiting for it at once, then accepts them all; a message left waiting
/// `patience` is refused with a 451. Returns its address.
async fn barrier_smtp(width: usize, patience: std::time::Duration) -> std::net::SocketAddr {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let barrier = Arc::new(tokio::sync::Barrier::new(width));
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 barrier ESMTP\r\n").await;
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    let reply: &[u8] = if in_data {
                        if line != "." {
                            continue;
                        }
                        in_data = false;
                        match tokio::time::timeout(patience, barrier.wait()).await {
                            Ok(_) => b"250 2.0.0 accepted\r\n",
                            Err(_) => b"451 4.3.0 nobody else came\r\n",
                        }
                    } else {
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        match verb.as_str() {
                            "EHLO" => b"250-barrier\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                in_data = true;
                                b"354 go ahead\r\n"
                            }
                            "QUIT" => b"221 bye\r\n",
                            _ => b"250 OK\r\n",
                        }
                    };
                    if write.write_all(reply).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_batch_is_delivered_several_messages_at_a_time() {
    // Each message is accepted only once four are waiting at the same moment: a mailer
    // that sent one message after the other would see every one refused.
    let width = 4;
    let addr = barrier_smtp(width, std::time::Duration::from_secs(5)).await;
    let mailer = Mailer::smtp(
        &format!("smtp://{addr}"),
        from(),
        MailerOptions {
            pool_size: u32::try_from(width).expect("width"),
            ..options()
        },
    )
    .expect("SMTP mailer");
    for test_db in app::testing::databases("smtp_concurrent_batch").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        templates::seed_defaults(db, now()).await.expect("seed");
        let mut ids = Vec::new();
        for n in 0..2 * width {
            let number = format!("SC-{n}");
            let c = contact_with_email(db, &number, &format!("pat@sc-{n}.test")).await;
            ids.push(queue_verify(db, &c, &number).await);
        }

        let report = mailer.deliver_due(db, &clock).await.expect("deliver");

        assert_eq!(
            report,
            DeliveryReport {
                claimed: 2 * width,
                sent: 2 * width,
                ..DeliveryReport::default()
            },
            "{}",
            test_db.backend
        );
        for message_id in &ids {
            assert_eq!(row(db, message_id).await.status, OutboxStatus::Sent);
        }
    }
}
