//! Horizontal scale: two `settle serve` processes against one PostgreSQL database, requests
//! alternating between their ports (a round-robin balancer). A session made on one works on
//! the other, a write on one is read on the other, and with both processes' workers running
//! — started together, each running the reminder rules at start-up and draining the outbox —
//! each reminder is queued once and each queued email reaches the SMTP server once.
//! PostgreSQL only (SQLite is one file on one machine); skipped with a note without
//! `TEST_DATABASE_URL`.

mod common;

use std::collections::HashMap;

use app::entities::{document, outbox_email, reminder_touch};
use app::model::enums::{DocumentKind, DocumentStatus, OutboxStatus};
use app::services::outbox::{self, NewEmail};
use app::services::reminders;
use app::testing::fixtures;
use chrono::{Duration, Utc};
use common::{
    Served, Sink, TempDir, eventually, free_port, fresh_postgres_url, settle_serve_command,
    sign_in_over_http,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

/// Accounts with overdue invoices for the reminder rules.
const ACCOUNTS: usize = 12;
/// Plain emails queued before the processes start.
const QUEUED: usize = 30;

/// Each account: invoices 3 and 5 days past due (the default rule's "1 day past due" email,
/// one for both) and one 25 days past due (its "20 days past due" email). Relative to the
/// real today: the processes read the system clock. Returns the reminder emails expected.
async fn overdue_invoices(db: &DatabaseConnection, accounts: std::ops::Range<usize>) -> usize {
    let today = Utc::now().date_naive();
    let expected = accounts.len() * 2;
    for a in accounts {
        let number = format!("SR{a:03}");
        let account = fixtures::customer(db, &number, &format!("Scale {a}")).await;
        fixtures::contact(db, account.id, "Pat", &format!("ap{a}@scale.test")).await;
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
    expected
}

fn page_headers(cookie: &str) -> Vec<(&'static str, String)> {
    vec![("cookie", cookie.to_owned())]
}

fn form_headers(cookie: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cookie", cookie.to_owned()),
        ("accept", "application/json".to_owned()),
        (
            "content-type",
            "application/x-www-form-urlencoded".to_owned(),
        ),
    ]
}

async fn get(server: &Served, path: &str, headers: &[(&'static str, String)]) -> (u16, String) {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let res = server
        .http("GET", path, &headers, b"")
        .await
        .unwrap_or_else(|e| panic!("GET {path} on port {}: {e}", server.port));
    (res.status, res.body)
}

async fn post(
    server: &Served,
    path: &str,
    headers: &[(&'static str, String)],
    body: &str,
) -> (u16, String) {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let res = server
        .http("POST", path, &headers, body.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("POST {path} on port {}: {e}", server.port));
    (res.status, res.body)
}

#[tokio::test]
async fn two_processes_share_sessions_writes_and_send_each_email_once() {
    let Some(url) = fresh_postgres_url("server_scale").await else {
        println!("TEST_DATABASE_URL is unset: skipping the two-process (horizontal scale) test");
        return;
    };
    let db = app::db::connect(&url).await.expect("postgres");
    app::db::migrate(&db).await.expect("migrate");
    let signer = fixtures::customer(&db, "SC-1", "Round Robin Supply").await;
    let who = fixtures::contact(&db, signer.id, "Robin", "robin@scale.test").await;
    let mut reminders_expected = overdue_invoices(&db, 0..ACCOUNTS).await;
    let mut queued = Vec::new();
    for n in 0..QUEUED {
        queued.push(
            outbox::enqueue(
                &db,
                NewEmail {
                    to: format!("q{n}@scale.test"),
                    subject: format!("Queued {n}"),
                    text: format!("Hello {n}"),
                    ..NewEmail::default()
                },
                Utc::now(),
            )
            .await
            .expect("enqueue"),
        );
    }

    // Two processes, started together, sharing the database and the SMTP server.
    let sink = Sink::start("scale").await;
    let (dir_a, dir_b) = (TempDir::new("scale-a"), TempDir::new("scale-b"));
    let serve = |dir: &TempDir| {
        let port = free_port();
        let mut cmd = settle_serve_command(&url, &dir.0, port);
        cmd.env("SETTLE_SMTP_URL", sink.url())
            .env("SETTLE_MAIL_POLL_SECS", "1");
        (cmd, port)
    };
    let ((cmd_a, port_a), (cmd_b, port_b)) = (serve(&dir_a), serve(&dir_b));
    let (mut a, mut b) = tokio::join!(Served::start(cmd_a, port_a), Served::start(cmd_b, port_b));
    let servers = [&a, &b];

    // A session made on A works on both, request after request, alternately.
    let cookie = sign_in_over_http(&db, a.port, who.id).await;
    for i in 0..6 {
        let server = servers[i % 2];
        let (status, page) = get(server, "/portal", &page_headers(&cookie)).await;
        assert_eq!(status, 200, "portal page on port {}", server.port);
        assert!(
            page.contains("Round Robin Supply"),
            "the portal page on port {} shows the account",
            server.port
        );
        let (status, overview) =
            post(server, "/api/portal/overview", &form_headers(&cookie), "").await;
        assert_eq!(status, 200, "overview on port {}: {overview}", server.port);
        assert!(overview.contains("Round Robin Supply"), "{overview}");
    }

    // A write on B is read on A, and one on A on B.
    for (i, (writer, reader)) in [(&b, &a), (&a, &b)].into_iter().enumerate() {
        let name = format!("Round Robin Supply {}", ["West", "East"][i]);
        let (status, body) = post(
            writer,
            "/api/portal/profile/company",
            &form_headers(&cookie),
            &format!(
                "legal_name=Round+Robin+Supply+Inc.&display_name={}&website=",
                name.replace(' ', "+")
            ),
        )
        .await;
        assert_eq!(status, 200, "the edit on port {}: {body}", writer.port);
        let (status, page) = get(reader, "/portal", &page_headers(&cookie)).await;
        assert_eq!(status, 200);
        assert!(
            page.contains(&name),
            "the edit made on port {} is shown on port {}",
            writer.port,
            reader.port
        );
    }

    // Both processes ran the reminder rules at start-up and both drain the outbox.
    eventually(60, "the reminder rules to have run", || async {
        reminder_touch::Entity::find().count(&db).await.unwrap_or(0) == (ACCOUNTS * 8) as u64
    })
    .await;
    eventually(60, "every queued email to be sent", || async {
        outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.status.ne(OutboxStatus::Sent))
            .count(&db)
            .await
            .unwrap_or(1)
            == 0
    })
    .await;

    // The scheduler run from two connections at the same instant: each reminder once.
    reminders_expected += overdue_invoices(&db, ACCOUNTS..2 * ACCOUNTS).await;
    let one = app::db::connect(&url).await.expect("a connection");
    let two = app::db::connect(&url).await.expect("another connection");
    let now = Utc::now();
    let (first, second) = tokio::join!(
        reminders::run(&one, "http://settle.test", now),
        reminders::run(&two, "http://settle.test", now)
    );
    let (first, second) = (first.expect("a run"), second.expect("the other run"));
    assert_eq!(
        first.emails + second.emails,
        (ACCOUNTS * 2) as u64,
        "the two runs queued each new reminder once between them"
    );
    assert_eq!(
        reminder_touch::Entity::find().count(&db).await.expect("n"),
        (2 * ACCOUNTS * 8) as u64
    );
    eventually(60, "the new reminders to be sent", || async {
        outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.status.ne(OutboxStatus::Sent))
            .count(&db)
            .await
            .unwrap_or(1)
            == 0
    })
    .await;
    assert!(a.alive() && b.alive(), "both processes still running");
    a.kill().await;
    b.kill().await;

    let rows = outbox_email::Entity::find().all(&db).await.expect("outbox");
    for row in &rows {
        assert_eq!(
            sink.received(&row.message_id).len(),
            1,
            "{} ({}) arrived exactly once",
            row.message_id,
            row.subject
        );
    }
    assert_eq!(sink.count(), rows.len(), "as many arrived as were queued");
    for id in &queued {
        assert!(
            rows.iter().any(|r| &r.message_id == id),
            "{id} is in the outbox"
        );
    }
    // Each overdue invoice is listed in exactly one reminder.
    let mut listed: HashMap<String, usize> = HashMap::new();
    let reminders: Vec<_> = rows.iter().filter(|r| r.body_text.contains("SR")).collect();
    for email in &reminders {
        for word in email.body_text.split([' ', ':', '\n']) {
            if word.starts_with("SR") && word.contains('-') {
                *listed.entry(word.to_owned()).or_default() += 1;
            }
        }
    }
    assert_eq!(
        reminders.len(),
        reminders_expected,
        "one reminder per account and step"
    );
    assert_eq!(
        listed.len(),
        2 * ACCOUNTS * 3,
        "every overdue invoice reminded"
    );
    assert!(listed.values().all(|n| *n == 1), "{listed:?}");
    println!(
        "two processes: {} emails ({QUEUED} queued, {} reminders) each delivered once",
        rows.len(),
        reminders.len()
    );
}
