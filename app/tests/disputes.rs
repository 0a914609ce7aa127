//! Smart Disputes on the server: submitting annotated lines (amounts recomputed from the
//! stored lines), one open dispute per line, withdrawing, resolving each way with the credit
//! memo arithmetic, and two staff members resolving the same dispute at once.

use app::entities::{audit_event, dispute_line, document, outbox_email, staff_user, task};
use app::error::AppError;
use app::model::disputes::Annotation;
use app::model::enums::*;
use app::services::disputes::{self, QueueFilter, Resolution};
use app::testing::{databases, file_sqlite, fixtures};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter,
};

const PUBLIC_URL: &str = "https://billing.example.com";

struct Setup {
    account_id: i64,
    contact_id: i64,
    staff_id: i64,
    invoice: document::Model,
    lines: Vec<i64>,
}

/// Three lines: 10 × $5.00 + $5.00 tax ($55.00), 2 × $20.00 ($40.00), 1 × $100.00 + $8.00 tax.
async fn setup(db: &impl ConnectionTrait, number: &str) -> Setup {
    let acct = fixtures::customer(db, number, &format!("{number} Co")).await;
    let who = fixtures::contact(db, acct.id, "Pat", &format!("pat@{number}.test")).await;
    let (invoice, lines) = fixtures::invoice_with_lines(
        db,
        acct.id,
        &format!("{number}-INV"),
        &[
            ("Bolts", 10_000, 500, 500),
            ("Brackets", 2_000, 2_000, 0),
            ("Hoist", 1_000, 10_000, 800),
        ],
    )
    .await;
    let staff = staff_user::ActiveModel {
        email: Set(format!("staff@{number}.test")),
        name: Set("Sam Staff".to_owned()),
        role: Set(StaffRole::Collector),
        password_hash: Set("x".to_owned()),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("staff");
    Setup {
        account_id: acct.id,
        contact_id: who.id,
        staff_id: staff.id,
        invoice,
        lines: lines.iter().map(|l| l.id).collect(),
    }
}

fn annotation(
    line_id: i64,
    reason: DisputeReason,
    quantity: &str,
    amount: &str,
    note: &str,
) -> Annotation {
    Annotation {
        line_id,
        reason,
        quantity: quantity.to_owned(),
        amount: amount.to_owned(),
        note: note.to_owned(),
    }
}

/// Damaged 2 of 10 bolts ($11.00), price of brackets $15.00, hoist not received ($108.00).
fn three(s: &Setup) -> Vec<Annotation> {
    vec![
        annotation(
            s.lines[0],
            DisputeReason::Damaged,
            "2",
            "",
            "two arrived bent",
        ),
        annotation(
            s.lines[1],
            DisputeReason::Price,
            "",
            "15",
            "quoted at $12.50 each",
        ),
        annotation(s.lines[2], DisputeReason::NotReceived, "1", "", ""),
    ]
}

async fn doc(db: &impl ConnectionTrait, id: i64) -> document::Model {
    document::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("exists")
}

async fn submit(
    db: &DatabaseConnection,
    s: &Setup,
    a: &[Annotation],
) -> Result<app::model::disputes::DisputeView, AppError> {
    disputes::submit(
        db,
        PUBLIC_URL,
        s.contact_id,
        s.account_id,
        s.invoice.id,
        a,
        &[],
        fixtures::now(),
    )
    .await
}

#[tokio::test]
async fn submitting_recomputes_amounts_locks_lines_and_confirms() {
    for t in databases("disputes_submit").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        let d = submit(db, &s, &three(&s)).await.expect("submit");
        assert_eq!(d.status, DisputeStatus::Open);
        let amounts: Vec<i64> = d.lines.iter().map(|l| l.disputed_minor).collect();
        assert_eq!(amounts, [1_100, 1_500, 10_800], "{}", t.backend);
        assert_eq!(d.disputed_minor, 13_400);
        assert_eq!(doc(db, s.invoice.id).await.disputed_minor, 13_400);

        let page = disputes::invoice_page(db, s.account_id, s.invoice.id)
            .await
            .expect("page");
        assert!(page.lines.iter().all(|l| l.locked_by_dispute == Some(d.id)));
        let again = submit(
            db,
            &s,
            &[annotation(s.lines[0], DisputeReason::Price, "", "1", "")],
        )
        .await;
        assert!(
            matches!(again, Err(AppError::Conflict(_))),
            "{}: {again:?}",
            t.backend
        );

        let mail = outbox_email::Entity::find()
            .filter(
                outbox_email::COLUMN
                    .template_key
                    .eq(disputes::CONFIRMATION_TEMPLATE),
            )
            .one(db)
            .await
            .expect("read")
            .expect("confirmation queued");
        assert!(
            mail.body_text.contains("$134.00") && mail.body_text.contains("Not received"),
            "{}",
            mail.body_text
        );
        let tasks = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::Dispute))
            .count(db)
            .await
            .expect("count");
        assert_eq!(tasks, 1);
        let audited = audit_event::Entity::find()
            .filter(audit_event::COLUMN.entity.eq("dispute"))
            .count(db)
            .await
            .expect("count");
        assert_eq!(audited, 1);
    }
}

#[tokio::test]
async fn bad_annotations_are_refused_on_their_field_and_nothing_is_written() {
    for t in databases("disputes_bad").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        let other = setup(db, "C-2").await;
        let too_many = submit(
            db,
            &s,
            &[annotation(
                s.lines[0],
                DisputeReason::Quantity,
                "11",
                "",
                "",
            )],
        )
        .await;
        assert!(
            matches!(&too_many, Err(AppError::Validation { field, .. }) if *field == format!("line-{}-quantity", s.lines[0])),
            "{too_many:?}"
        );
        let above_line = submit(
            db,
            &s,
            &[annotation(
                s.lines[1],
                DisputeReason::Price,
                "",
                "40.01",
                "",
            )],
        )
        .await;
        assert!(
            matches!(above_line, Err(AppError::Validation { .. })),
            "{above_line:?}"
        );
        let foreign_line = submit(
            db,
            &s,
            &[annotation(
                other.lines[0],
                DisputeReason::Price,
                "",
                "1",
                "",
            )],
        )
        .await;
        assert!(
            matches!(&foreign_line, Err(AppError::Validation { field, .. }) if field == "lines")
        );
        let foreign_invoice = disputes::submit(
            db,
            PUBLIC_URL,
            s.contact_id,
            s.account_id,
            other.invoice.id,
            &three(&other),
            &[],
            fixtures::now(),
        )
        .await;
        assert_eq!(foreign_invoice.err(), Some(AppError::NotFound));
        let twice = submit(
            db,
            &s,
            &[
                annotation(s.lines[0], DisputeReason::Price, "", "1", ""),
                annotation(s.lines[0], DisputeReason::Tax, "", "1", ""),
            ],
        )
        .await;
        assert!(matches!(twice, Err(AppError::Validation { .. })));
        assert_eq!(
            dispute_line::Entity::find().count(db).await.expect("count"),
            0,
            "{}",
            t.backend
        );
        assert_eq!(doc(db, s.invoice.id).await.disputed_minor, 0);
    }
}

#[tokio::test]
async fn withdrawing_frees_the_lines_and_the_amount() {
    for t in databases("disputes_withdraw").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        let d = submit(db, &s, &three(&s)).await.expect("submit");
        let w = disputes::withdraw(db, s.contact_id, s.account_id, d.id, fixtures::now())
            .await
            .expect("withdraw");
        assert_eq!(w.status, DisputeStatus::Withdrawn);
        assert_eq!(
            doc(db, s.invoice.id).await.disputed_minor,
            0,
            "{}",
            t.backend
        );
        let twice = disputes::withdraw(db, s.contact_id, s.account_id, d.id, fixtures::now()).await;
        assert!(matches!(twice, Err(AppError::Conflict(_))));
        submit(db, &s, &three(&s))
            .await
            .expect("the lines can be disputed again");
    }
}

#[tokio::test]
async fn accepting_creates_an_applied_credit_memo_and_tells_the_customer() {
    for t in databases("disputes_accept").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        let d = submit(db, &s, &three(&s)).await.expect("submit");
        let r = disputes::resolve(
            db,
            PUBLIC_URL,
            s.staff_id,
            d.id,
            d.version,
            Resolution::Accept,
            fixtures::now(),
        )
        .await
        .expect("accept");
        assert_eq!(
            (r.status, r.credited_minor),
            (DisputeStatus::Credited, 13_400),
            "{}",
            t.backend
        );
        let inv = doc(db, s.invoice.id).await;
        assert_eq!(
            (inv.open_minor, inv.disputed_minor),
            (20_300 - 13_400, 0),
            "{}",
            t.backend
        );
        let memo = document::Entity::find()
            .filter(document::COLUMN.number.eq(format!("CM-D{}", d.id)))
            .one(db)
            .await
            .expect("read")
            .expect("credit memo");
        assert_eq!(
            (memo.kind, memo.total_minor, memo.open_minor, memo.status),
            (DocumentKind::CreditMemo, -13_400, 0, DocumentStatus::Closed)
        );
        let outcome = outbox_email::Entity::find()
            .filter(
                outbox_email::COLUMN
                    .template_key
                    .eq(disputes::OUTCOME_TEMPLATE),
            )
            .one(db)
            .await
            .expect("read")
            .expect("outcome email");
        assert!(
            outcome.subject.contains("accepted in full"),
            "{}",
            outcome.subject
        );
        assert!(
            outcome.body_text.contains("We credited $134.00"),
            "{}",
            outcome.body_text
        );
    }
}

#[tokio::test]
async fn a_partial_credit_credits_each_line_as_decided() {
    for t in databases("disputes_partial").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        let d = submit(db, &s, &three(&s)).await.expect("submit");
        let ids: Vec<i64> = d.lines.iter().map(|l| l.dispute_line_id).collect();
        let above = disputes::resolve(
            db,
            PUBLIC_URL,
            s.staff_id,
            d.id,
            d.version,
            Resolution::Partial(vec![(ids[0], 1_101)]),
            fixtures::now(),
        )
        .await;
        assert!(
            matches!(above, Err(AppError::Validation { .. })),
            "{above:?}"
        );
        let r = disputes::resolve(
            db,
            PUBLIC_URL,
            s.staff_id,
            d.id,
            d.version,
            Resolution::Partial(vec![(ids[0], 1_100), (ids[1], 500)]),
            fixtures::now(),
        )
        .await
        .expect("partial");
        assert_eq!(
            (r.status, r.credited_minor),
            (DisputeStatus::PartiallyCredited, 1_600),
            "{}",
            t.backend
        );
        let credited: Vec<Option<i64>> = r.lines.iter().map(|l| l.credited_minor).collect();
        assert_eq!(credited, [Some(1_100), Some(500), Some(0)]);
        assert_eq!(doc(db, s.invoice.id).await.open_minor, 20_300 - 1_600);
    }
}

#[tokio::test]
async fn a_rejection_needs_a_reason_and_credits_nothing() {
    for t in databases("disputes_reject").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        let d = submit(db, &s, &three(&s)).await.expect("submit");
        let no_reason = disputes::resolve(
            db,
            PUBLIC_URL,
            s.staff_id,
            d.id,
            d.version,
            Resolution::Reject("  ".into()),
            fixtures::now(),
        )
        .await;
        assert!(matches!(no_reason, Err(AppError::Validation { .. })));
        let r = disputes::resolve(
            db,
            PUBLIC_URL,
            s.staff_id,
            d.id,
            d.version,
            Resolution::Reject("Signed delivery note on file.".into()),
            fixtures::now(),
        )
        .await
        .expect("reject");
        assert_eq!((r.status, r.credited_minor), (DisputeStatus::Rejected, 0));
        let inv = doc(db, s.invoice.id).await;
        assert_eq!(
            (inv.open_minor, inv.disputed_minor),
            (20_300, 0),
            "{}",
            t.backend
        );
        let memos = document::Entity::find()
            .filter(document::COLUMN.kind.eq(DocumentKind::CreditMemo))
            .count(db)
            .await
            .expect("count");
        assert_eq!(memos, 0);
    }
}

async fn concurrent(db: &DatabaseConnection, backend: &str) {
    let s = setup(db, "C-9").await;
    let d = submit(db, &s, &three(&s)).await.expect("submit");
    let (a, b) = (db.clone(), db.clone());
    let (staff, id, version) = (s.staff_id, d.id, d.version);
    let first = tokio::spawn(async move {
        disputes::resolve(
            &a,
            PUBLIC_URL,
            staff,
            id,
            version,
            Resolution::Accept,
            fixtures::now(),
        )
        .await
    });
    let second = tokio::spawn(async move {
        disputes::resolve(
            &b,
            PUBLIC_URL,
            staff,
            id,
            version,
            Resolution::Accept,
            fixtures::now(),
        )
        .await
    });
    let results = [first.await.expect("task"), second.await.expect("task")];
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(AppError::Conflict(_))))
        .count();
    assert_eq!((ok, conflicts), (1, 1), "{backend}: {results:?}");
    let memos = document::Entity::find()
        .filter(document::COLUMN.kind.eq(DocumentKind::CreditMemo))
        .count(db)
        .await
        .expect("count");
    assert_eq!(memos, 1, "{backend}: one credit, never two");
    assert_eq!(
        doc(db, s.invoice.id).await.open_minor,
        20_300 - 13_400,
        "{backend}"
    );
}

#[tokio::test]
async fn two_staff_resolving_at_once_give_one_credit_and_one_conflict() {
    for t in databases("disputes_race").await {
        concurrent(&t.conn, t.backend).await;
    }
    let dir = std::env::temp_dir().join(format!("settle-disputes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("race.db");
    let _ = std::fs::remove_file(&path);
    let db = file_sqlite(&path).await;
    concurrent(&db, "sqlite file").await;
    db.close().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_queue_filters_and_totals_per_reason() {
    for t in databases("disputes_queue").await {
        let db = &t.conn;
        let s = setup(db, "C-1").await;
        submit(db, &s, &three(&s)).await.expect("submit");
        let q = disputes::queue(db, &QueueFilter::default(), 50, fixtures::now())
            .await
            .expect("queue");
        assert_eq!(q.total, 1);
        let damaged = q
            .by_reason
            .iter()
            .find(|r| r.reason == DisputeReason::Damaged)
            .expect("damaged");
        assert_eq!(
            (damaged.lines, damaged.disputed_minor),
            (1, 1_100),
            "{}",
            t.backend
        );
        let only_tax = QueueFilter {
            reason: Some(DisputeReason::Tax),
            ..Default::default()
        };
        assert_eq!(
            disputes::queue(db, &only_tax, 50, fixtures::now())
                .await
                .expect("queue")
                .total,
            0
        );
        let old = QueueFilter {
            min_age_days: Some(3),
            ..Default::default()
        };
        assert_eq!(
            disputes::queue(db, &old, 50, fixtures::now())
                .await
                .expect("queue")
                .total,
            0
        );
        let resolved = QueueFilter {
            status: Some(DisputeStatus::Credited),
            ..Default::default()
        };
        assert_eq!(
            disputes::queue(db, &resolved, 50, fixtures::now())
                .await
                .expect("queue")
                .total,
            0
        );
    }
}
