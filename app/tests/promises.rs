//! Promise to Pay: recording (with validation and replacement) and the follow-up that
//! reminds once and decides kept / partially kept / broken from applied payments.

use app::entities::{
    audit_event, document, outbox_email, payment, payment_application, promise, promise_document,
    task,
};
use app::error::AppError;
use app::model::enums::*;
use app::services::promises::{self, FollowUpReport};
use app::state::{Clock, FixedClock};
use app::testing::fixtures;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter,
};

const PUBLIC_URL: &str = "https://billing.example.com";

fn today() -> NaiveDate {
    fixtures::now().date_naive()
}

async fn invoice(
    db: &impl ConnectionTrait,
    account_id: i64,
    number: &str,
    open: i64,
    status: DocumentStatus,
) -> document::Model {
    document::ActiveModel {
        account_id: Set(account_id),
        kind: Set(DocumentKind::Invoice),
        number: Set(number.to_owned()),
        issue_date: Set(today() - Duration::days(40)),
        due_date: Set(Some(today() - Duration::days(10))),
        currency: Set("USD".to_owned()),
        total_minor: Set(open.max(10_000)),
        tax_minor: Set(0),
        open_minor: Set(open),
        disputed_minor: Set(0),
        status: Set(status),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert invoice")
}

async fn apply_payment(
    db: &impl ConnectionTrait,
    account_id: i64,
    document_id: i64,
    amount: i64,
    at: DateTime<Utc>,
) {
    let pay = payment::ActiveModel {
        account_id: Set(account_id),
        provider: Set(PaymentProvider::Manual),
        method: Set(PaymentChannel::Check),
        amount_minor: Set(amount),
        unapplied_minor: Set(0),
        currency: Set("USD".to_owned()),
        status: Set(PaymentStatus::Succeeded),
        received_at: Set(at),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert payment");
    payment_application::ActiveModel {
        payment_id: Set(pay.id),
        document_id: Set(document_id),
        amount_minor: Set(amount),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert application");
}

async fn mails(db: &DatabaseConnection, key: &str) -> Vec<outbox_email::Model> {
    outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.template_key.eq(key))
        .all(db)
        .await
        .expect("mails")
}

async fn status_of(db: &DatabaseConnection, id: i64) -> promise::Model {
    promise::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("q")
        .expect("promise")
}

/// A validation case: label, invoices, amount, date, note, the field expected to fail.
type Case = (
    &'static str,
    Vec<i64>,
    i64,
    NaiveDate,
    Option<String>,
    &'static str,
);

fn field_of(err: &AppError) -> &str {
    match err {
        AppError::Validation { field, .. } => field,
        _ => "",
    }
}

#[tokio::test]
async fn bad_promises_are_refused_with_the_field_named() {
    for test_db in app::testing::databases("promises_validation").await {
        let db = &test_db.conn;
        let acct = fixtures::customer(db, "C-1", "Acme").await;
        let other = fixtures::customer(db, "C-2", "Other").await;
        let me = fixtures::contact(db, acct.id, "Pat", "pat@acme.test").await;
        let a = invoice(db, acct.id, "INV-1", 30_000, DocumentStatus::Open).await;
        let b = invoice(db, acct.id, "INV-2", 20_000, DocumentStatus::Open).await;
        let paid = invoice(db, acct.id, "INV-3", 0, DocumentStatus::Paid).await;
        let foreign = invoice(db, other.id, "INV-9", 10_000, DocumentStatus::Open).await;
        let in_days = |d: i64| today() + Duration::days(d);

        let cases: [Case; 8] = [
            ("past date", vec![a.id], 100, in_days(-1), None, "date"),
            ("beyond horizon", vec![a.id], 100, in_days(61), None, "date"),
            ("zero", vec![a.id], 0, in_days(5), None, "amount"),
            (
                "above total",
                vec![a.id, b.id],
                50_001,
                in_days(5),
                None,
                "amount",
            ),
            (
                "foreign invoice",
                vec![a.id, foreign.id],
                100,
                in_days(5),
                None,
                "document_ids",
            ),
            (
                "paid invoice",
                vec![paid.id],
                100,
                in_days(5),
                None,
                "document_ids",
            ),
            ("no invoice", vec![], 100, in_days(5), None, "document_ids"),
            (
                "long note",
                vec![a.id],
                100,
                in_days(5),
                Some("x".repeat(1001)),
                "note",
            ),
        ];
        for (label, ids, amount, date, note, field) in cases {
            let err = promises::record_promise(
                db,
                PUBLIC_URL,
                me.id,
                acct.id,
                &ids,
                amount,
                date,
                note.as_deref(),
                fixtures::now(),
            )
            .await
            .expect_err(label);
            assert_eq!(
                field_of(&err),
                field,
                "{label} on {}: {err:?}",
                test_db.backend
            );
        }
        assert_eq!(promise::Entity::find().count(db).await.expect("count"), 0);
        assert!(
            mails(&test_db.conn, promises::CONFIRMATION_TEMPLATE)
                .await
                .is_empty()
        );

        // The edges pass: today, the horizon, exactly the open total.
        let ok = promises::record_promise(
            db,
            PUBLIC_URL,
            me.id,
            acct.id,
            &[a.id, b.id],
            50_000,
            in_days(60),
            Some("  check run  "),
            fixtures::now(),
        )
        .await
        .expect("valid promise");
        assert_eq!(ok.invoices, vec!["INV-1".to_owned(), "INV-2".to_owned()]);
        assert_eq!(ok.note.as_deref(), Some("check run"));
        // Someone else's contact cannot promise for this account.
        let stranger = fixtures::contact(db, other.id, "Sam", "sam@other.test").await;
        let err = promises::record_promise(
            db,
            PUBLIC_URL,
            stranger.id,
            acct.id,
            &[a.id],
            100,
            today(),
            None,
            fixtures::now(),
        )
        .await
        .expect_err("foreign contact");
        assert_eq!(err, AppError::Forbidden);
    }
}

#[tokio::test]
async fn a_promise_is_confirmed_and_a_new_one_replaces_it() {
    for test_db in app::testing::databases("promises_replace").await {
        let db = &test_db.conn;
        let acct = fixtures::customer(db, "C-1", "Acme").await;
        let me = fixtures::contact(db, acct.id, "Pat", "pat@acme.test").await;
        let a = invoice(db, acct.id, "INV-1", 30_000, DocumentStatus::Open).await;
        let b = invoice(db, acct.id, "INV-2", 20_000, DocumentStatus::Open).await;

        let first = promises::record_promise(
            db,
            PUBLIC_URL,
            me.id,
            acct.id,
            &[a.id, b.id],
            40_000,
            today() + Duration::days(7),
            Some("Next check run."),
            fixtures::now(),
        )
        .await
        .expect("first");
        let covered = promise_document::Entity::find()
            .filter(promise_document::COLUMN.promise_id.eq(first.id))
            .all(db)
            .await
            .expect("docs");
        assert_eq!(covered.iter().map(|c| c.amount_minor).sum::<i64>(), 40_000);
        let confirmation = mails(&test_db.conn, promises::CONFIRMATION_TEMPLATE).await;
        assert_eq!(confirmation.len(), 1, "{}", test_db.backend);
        assert!(
            confirmation[0].subject.contains("$400.00"),
            "{}",
            confirmation[0].subject
        );
        assert!(confirmation[0].body_text.contains("INV-1"));
        assert_eq!(confirmation[0].to_address, "pat@acme.test");
        let review = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::Review))
            .all(db)
            .await
            .expect("tasks");
        assert_eq!(review.len(), 1);
        assert!(review[0].title.contains("$400.00"), "{}", review[0].title);
        assert!(
            review[0]
                .title
                .contains(&(today() + Duration::days(7)).to_string())
        );

        let later = fixtures::now() + Duration::hours(2);
        let second = promises::record_promise(
            db,
            PUBLIC_URL,
            me.id,
            acct.id,
            &[b.id],
            20_000,
            today() + Duration::days(3),
            None,
            later,
        )
        .await
        .expect("second");
        let old = status_of(&test_db.conn, first.id).await;
        assert_eq!(old.status, PromiseStatus::Replaced, "{}", test_db.backend);
        assert_eq!(old.resolved_at, Some(later));
        let note = old.note.unwrap_or_default();
        assert!(note.starts_with("Next check run.\n"), "{note}");
        assert!(
            note.contains(&format!("replaced by promise #{}", second.id)),
            "{note}"
        );
        let open = promises::list_open(db, acct.id).await.expect("list");
        assert_eq!(open.len(), 1);
        assert_eq!((open[0].id, open[0].amount_minor), (second.id, 20_000));
        let audits = audit_event::Entity::find()
            .filter(audit_event::COLUMN.entity.eq("promise"))
            .count(db)
            .await
            .expect("audit");
        assert_eq!(audits, 3, "two promises and one replacement");
        assert_eq!(
            mails(&test_db.conn, promises::CONFIRMATION_TEMPLATE)
                .await
                .len(),
            2
        );
    }
}

#[tokio::test]
async fn follow_up_reminds_once_and_decides_from_applied_payments() {
    for test_db in app::testing::databases("promises_follow_up").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(fixtures::now());
        let acct = fixtures::customer(db, "C-1", "Acme").await;
        let me = fixtures::contact(db, acct.id, "Pat", "pat@acme.test").await;
        let kept = invoice(db, acct.id, "INV-K", 10_000, DocumentStatus::Open).await;
        let partial = invoice(db, acct.id, "INV-P", 10_000, DocumentStatus::Open).await;
        let broken = invoice(db, acct.id, "INV-B", 10_000, DocumentStatus::Open).await;
        // Paid before the promise: does not count.
        apply_payment(
            db,
            acct.id,
            broken.id,
            5_000,
            clock.now() - Duration::days(1),
        )
        .await;
        let date = today() + Duration::days(10);
        let mut ids = Vec::new();
        for doc in [&kept, &partial, &broken] {
            let p = promises::record_promise(
                db,
                PUBLIC_URL,
                me.id,
                acct.id,
                &[doc.id],
                10_000,
                date,
                None,
                clock.now(),
            )
            .await
            .expect("promise");
            ids.push(p.id);
        }

        // Too early: nothing.
        let run = promises::follow_up(db, PUBLIC_URL, clock.now())
            .await
            .expect("run");
        assert_eq!(run, FollowUpReport::default(), "{}", test_db.backend);

        // Two days before: one reminder each, never twice.
        clock.advance(Duration::days(8));
        let run = promises::follow_up(db, PUBLIC_URL, clock.now())
            .await
            .expect("run");
        assert_eq!(run.reminded, 3, "{}", test_db.backend);
        clock.advance(Duration::hours(20));
        let run = promises::follow_up(db, PUBLIC_URL, clock.now())
            .await
            .expect("run");
        assert_eq!(run, FollowUpReport::default(), "{}", test_db.backend);
        let reminders = mails(&test_db.conn, promises::REMINDER_TEMPLATE).await;
        assert_eq!(reminders.len(), 3);
        assert!(
            reminders[0].subject.contains("$100.00"),
            "{}",
            reminders[0].subject
        );

        // Payments arrive after the promise.
        apply_payment(db, acct.id, kept.id, 10_000, clock.now()).await;
        apply_payment(db, acct.id, partial.id, 2_500, clock.now()).await;

        // On the date: the one paid in full is kept; the others get until the day is over.
        clock.advance(Duration::days(1));
        assert_eq!(clock.today(), date);
        let run = promises::follow_up(db, PUBLIC_URL, clock.now())
            .await
            .expect("run");
        assert_eq!(run.kept, 1, "{}", test_db.backend);
        assert_eq!(
            status_of(&test_db.conn, ids[0]).await.status,
            PromiseStatus::Kept
        );
        assert_eq!(
            status_of(&test_db.conn, ids[1]).await.status,
            PromiseStatus::Open
        );

        clock.advance(Duration::days(1));
        let run = promises::follow_up(db, PUBLIC_URL, clock.now())
            .await
            .expect("run");
        assert_eq!(
            run,
            FollowUpReport {
                reminded: 0,
                kept: 0,
                partially_kept: 1,
                broken: 1
            },
            "{}",
            test_db.backend
        );
        let p = status_of(&test_db.conn, ids[1]).await;
        assert_eq!(
            (p.status, p.resolved_at),
            (PromiseStatus::PartiallyKept, Some(clock.now()))
        );
        assert_eq!(
            status_of(&test_db.conn, ids[2]).await.status,
            PromiseStatus::Broken
        );
        let follow_ups = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::BrokenPromise))
            .all(db)
            .await
            .expect("tasks");
        assert_eq!(follow_ups.len(), 2, "{}", test_db.backend);
        assert!(
            follow_ups
                .iter()
                .any(|t| t.title.contains("partially kept") && t.title.contains("$25.00"))
        );
        assert!(
            follow_ups
                .iter()
                .any(|t| t.title.contains("broken") && t.title.contains("$0.00"))
        );

        // Nothing left to do, and nothing is decided twice.
        let run = promises::follow_up(db, PUBLIC_URL, clock.now())
            .await
            .expect("run");
        assert_eq!(run, FollowUpReport::default());
        assert!(
            promises::list_open(db, acct.id)
                .await
                .expect("list")
                .is_empty()
        );
    }
}

/// Many customers promising at the same moment on one SQLite file (a pool of several
/// connections, as in production): every promise is recorded. A transaction that read
/// before it wrote used to fail at once with "database is locked" when another writer
/// committed in between.
#[tokio::test]
async fn concurrent_promises_on_a_sqlite_file_all_land() {
    let dir = std::env::temp_dir().join(format!("settle-promises-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("concurrent.db");
    let _ = std::fs::remove_file(&path);
    let db = app::testing::file_sqlite(&path).await;
    let mut who = Vec::new();
    for n in 0..16 {
        let a = fixtures::customer(&db, &format!("CP-{n:02}"), &format!("Concurrent {n}")).await;
        let c = fixtures::contact(&db, a.id, "AP", &format!("ap{n}@cp.test")).await;
        let inv = fixtures::invoice(&db, a.id, &format!("CP-{n:02}-1"), 40_000).await;
        who.push((a.id, c.id, inv.id));
    }
    let due = fixtures::now().date_naive() + Duration::days(7);
    let tasks: Vec<_> = who
        .iter()
        .map(|&(account, contact, invoice)| {
            let db = db.clone();
            tokio::spawn(async move {
                promises::record_promise(
                    &db,
                    "http://settle.test",
                    contact,
                    account,
                    &[invoice],
                    10_000,
                    due,
                    None,
                    fixtures::now(),
                )
                .await
            })
        })
        .collect();
    let mut failed = Vec::new();
    for task in tasks {
        if let Err(e) = task.await.expect("task") {
            failed.push(e);
        }
    }
    assert!(failed.is_empty(), "{} failed: {failed:?}", failed.len());
    let stored = promise::Entity::find().count(&db).await.expect("count");
    assert_eq!(stored, 16);
    db.close().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}
