//! Two scheduler processes against one database: two `settle remind --now` started at
//! once for the same day queue each reminder once; the outbox is then delivered to a real
//! SMTP server, which receives each email exactly once. On PostgreSQL (skipped with a note
//! when `TEST_DATABASE_URL` is unset) and on a SQLite file.

mod common;

use std::collections::HashMap;

use app::entities::{document, outbox_email, reminder_touch};
use app::model::enums::{DocumentKind, DocumentStatus};
use app::state::SystemClock;
use app::testing::fixtures;
use chrono::{Duration, Utc};
use common::{Sink, TempDir};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend,
    EntityTrait, PaginatorTrait, Statement,
};
use server::mailer::{Mailer, MailerOptions};

const ACCOUNTS: usize = 40;
const PUBLIC_URL: &str = "https://billing.example.com";

/// Each account: two invoices 3 and 5 days past due (the default rule's "1 day past due"
/// email, one for both) and one 25 days past due (its "20 days past due" email). Dates are
/// relative to the real today: the binary reads the system clock.
async fn seed(db: &DatabaseConnection) -> usize {
    let today = Utc::now().date_naive();
    for a in 0..ACCOUNTS {
        let number = format!("R{a:03}");
        let account = fixtures::customer(db, &number, &format!("Remind {a}")).await;
        fixtures::contact(db, account.id, "Pat", &format!("ap{a}@remind.test")).await;
        for (i, dpd) in [3, 5, 25].into_iter().enumerate() {
            let due = today - Duration::days(dpd);
            document::ActiveModel {
                account_id: Set(account.id),
                kind: Set(DocumentKind::Invoice),
                number: Set(format!("{number}-{i}")),
                issue_date: Set(due - Duration::days(30)),
                due_date: Set(Some(due)),
                currency: Set("USD".to_owned()),
                total_minor: Set(10_000),
                tax_minor: Set(0),
                open_minor: Set(10_000),
                disputed_minor: Set(0),
                status: Set(DocumentStatus::Open),
                created_at: Set(fixtures::now()),
                updated_at: Set(fixtures::now()),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("invoice");
        }
    }
    ACCOUNTS * 2
}

fn remind_now(db_url: &str, dir: &TempDir) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_settle"));
    cmd.args(["remind", "--now"])
        .env("DATABASE_URL", db_url)
        .env("SETTLE_DATA_DIR", &dir.0)
        .env("SETTLE_PUBLIC_URL", PUBLIC_URL)
        .env("SETTLE_SECRET_KEY", "00".repeat(32))
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

/// Runs two `settle remind --now` at once, delivers the outbox to a real SMTP sink, and
/// checks that every reminder arrived exactly once.
async fn two_processes_send_each_reminder_once(db: &DatabaseConnection, db_url: &str, what: &str) {
    let expected = seed(db).await;
    let dir = TempDir::new(&format!("remind-{what}"));
    let (first, second) = tokio::join!(
        remind_now(db_url, &dir).output(),
        remind_now(db_url, &dir).output()
    );
    for out in [first, second] {
        let out = out.expect("settle remind runs");
        assert!(
            out.status.success(),
            "{what}: settle remind failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("Reminders for"));
    }

    let queued = outbox_email::Entity::find().all(db).await.expect("outbox");
    assert_eq!(
        queued.len(),
        expected,
        "{what}: one email per account and step"
    );
    // Each invoice number is listed in exactly one queued email.
    let mut listed: HashMap<String, usize> = HashMap::new();
    for email in &queued {
        for word in email.body_text.split([' ', ':', '\n']) {
            if word.starts_with('R') && word.contains('-') {
                *listed.entry(word.to_owned()).or_default() += 1;
            }
        }
    }
    assert_eq!(listed.len(), ACCOUNTS * 3, "{what}: every invoice reminded");
    assert!(listed.values().all(|n| *n == 1), "{what}: {listed:?}");
    // Fired and passed steps: 3 + 5 days (steps 1, 2) and 25 days (steps 1 to 4).
    assert_eq!(
        reminder_touch::Entity::find().count(db).await.expect("n"),
        (ACCOUNTS * (2 + 2 + 4)) as u64,
        "{what}"
    );

    let sink = Sink::start(&format!("remind-{what}")).await;
    let mailer = Mailer::smtp(
        &sink.url(),
        "Settle <billing@settle.test>".parse().expect("from"),
        MailerOptions {
            batch: 50,
            ..MailerOptions::default()
        },
    )
    .expect("mailer");
    loop {
        let report = mailer.deliver_due(db, &SystemClock).await.expect("deliver");
        assert_eq!(report.sent, report.claimed, "{what}: {report:?}");
        if report.claimed == 0 {
            break;
        }
    }
    let arrived = std::fs::read_dir(&sink.dir.0)
        .expect("sink directory")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(
        arrived, expected,
        "{what}: as many emails arrived as were queued"
    );
    for email in &queued {
        assert_eq!(
            sink.received(&email.message_id).len(),
            1,
            "{what}: {} arrived exactly once",
            email.message_id
        );
    }
}

#[tokio::test]
async fn two_processes_on_postgres_remind_once() {
    let Some(admin_url) = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("TEST_DATABASE_URL is unset: skipping the PostgreSQL run of two schedulers");
        return;
    };
    let name = "settle_t_server_reminders";
    let admin = app::db::connect(&admin_url).await.expect("postgres");
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{name}\""),
    ] {
        admin
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("create the test database");
    }
    admin.close().await.ok();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url.as_str(), String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    let url = format!("{root}/{name}{query}");
    let db = app::db::connect(&url).await.expect("test database");
    app::db::migrate(&db).await.expect("migrate");
    two_processes_send_each_reminder_once(&db, &url, "postgres").await;
}

#[tokio::test]
async fn two_processes_on_a_sqlite_file_remind_once() {
    let dir = TempDir::new("remind-sqlite");
    let path = dir.0.join("settle.db");
    let db = app::testing::file_sqlite(&path).await;
    let url = format!("sqlite://{}?mode=rwc", path.display());
    two_processes_send_each_reminder_once(&db, &url, "sqlite").await;
}
