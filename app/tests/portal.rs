//! The overview service on a small book whose numbers are computed by hand.

use app::entities::{account, dispute, document, payment};
use app::model::enums::*;
use app::services::portal;
use app::testing::fixtures;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn today() -> NaiveDate {
    now().date_naive()
}

async fn new_account(db: &DatabaseConnection, number: &str) -> account::Model {
    fixtures::customer(db, number, number).await
}

/// A document due `days_past_due` days before today.
#[allow(clippy::too_many_arguments)] // one argument per column the tests vary
async fn new_doc(
    db: &DatabaseConnection,
    account_id: i64,
    kind: DocumentKind,
    number: &str,
    days_past_due: i64,
    total: i64,
    open: i64,
    status: DocumentStatus,
) {
    let due = today() - Duration::days(days_past_due);
    document::ActiveModel {
        account_id: Set(account_id),
        kind: Set(kind),
        number: Set(number.to_owned()),
        issue_date: Set(due - Duration::days(30)),
        due_date: Set(Some(due)),
        currency: Set("USD".to_owned()),
        total_minor: Set(total),
        tax_minor: Set(0),
        open_minor: Set(open),
        disputed_minor: Set(0),
        status: Set(status),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("document");
}

#[tokio::test]
async fn overview_ages_open_invoices_and_nets_credits() {
    for test_db in app::testing::databases("portal_overview_numbers").await {
        let db = &test_db.conn;
        let a = new_account(db, "A-1").await;
        let other = new_account(db, "B-1").await;
        use DocumentKind::{CreditMemo, Invoice};
        use DocumentStatus::{Open, Paid, PaymentPending};
        new_doc(db, a.id, Invoice, "I-current", -5, 10_000, 10_000, Open).await;
        new_doc(db, a.id, Invoice, "I-due-today", 0, 1_000, 1_000, Open).await;
        new_doc(db, a.id, Invoice, "I-15", 15, 20_000, 5_000, Open).await;
        new_doc(
            db,
            a.id,
            Invoice,
            "I-45",
            45,
            30_000,
            30_000,
            PaymentPending,
        )
        .await;
        new_doc(db, a.id, Invoice, "I-75", 75, 40_000, 40_000, Open).await;
        new_doc(db, a.id, Invoice, "I-120", 120, 50_000, 50_000, Open).await;
        new_doc(db, a.id, Invoice, "I-paid", 200, 99_000, 0, Paid).await;
        new_doc(db, a.id, CreditMemo, "CM-1", 10, 2_500, 2_500, Open).await;
        new_doc(db, other.id, Invoice, "I-other", 45, 77_700, 77_700, Open).await;
        payment::ActiveModel {
            account_id: Set(a.id),
            provider: Set(PaymentProvider::Manual),
            method: Set(PaymentChannel::Check),
            amount_minor: Set(1_500),
            unapplied_minor: Set(1_500),
            currency: Set("USD".to_owned()),
            status: Set(PaymentStatus::Succeeded),
            received_at: Set(now()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("payment");

        let o = portal::overview(db, a.id, today()).await.expect("overview");
        let backend = test_db.backend;
        assert_eq!(o.aging.current, 11_000, "{backend}");
        assert_eq!(o.aging.days_1_30, 5_000, "{backend}");
        assert_eq!(o.aging.days_31_60, 30_000, "{backend}");
        assert_eq!(o.aging.days_61_90, 40_000, "{backend}");
        assert_eq!(o.aging.days_over_90, 50_000, "{backend}");
        assert_eq!(o.credits_minor, 4_000, "{backend}");
        assert_eq!(o.balance_minor, 136_000 - 4_000, "{backend}");
        let numbers: Vec<&str> = o.open_invoices.iter().map(|i| i.number.as_str()).collect();
        assert_eq!(
            numbers,
            ["I-120", "I-75", "I-45", "I-15", "I-due-today", "I-current"],
            "{backend}"
        );
        assert_eq!(o.open_invoices[0].days_past_due, 120);
    }
}

#[tokio::test]
async fn overview_of_an_unknown_account_is_not_found() {
    for test_db in app::testing::databases("portal_overview_unknown").await {
        let err = portal::overview(&test_db.conn, 999, today())
            .await
            .expect_err("unknown account");
        assert_eq!(err, app::error::AppError::NotFound, "{}", test_db.backend);
    }
}

/// An account with more open disputes than the overview lists: the newest ten are listed,
/// and the count and total cover every open one (closed ones and other accounts' do not
/// count).
#[tokio::test]
async fn overview_lists_the_newest_open_disputes_and_counts_them_all() {
    for test_db in app::testing::databases("portal_overview_disputes").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let a = new_account(db, "A-1").await;
        let other = new_account(db, "B-1").await;
        new_doc(
            db,
            a.id,
            DocumentKind::Invoice,
            "I-1",
            10,
            90_000,
            90_000,
            DocumentStatus::Open,
        )
        .await;
        new_doc(
            db,
            other.id,
            DocumentKind::Invoice,
            "I-2",
            10,
            90_000,
            90_000,
            DocumentStatus::Open,
        )
        .await;
        let docs = portal::overview(db, a.id, today())
            .await
            .expect("overview")
            .open_invoices;
        let doc_id = docs[0].id;
        let other_doc = portal::overview(db, other.id, today())
            .await
            .expect("overview")
            .open_invoices[0]
            .id;
        let add =
            |account_id: i64, document_id: i64, minor: i64, status: DisputeStatus, minutes: i64| {
                dispute::ActiveModel {
                    account_id: Set(account_id),
                    document_id: Set(document_id),
                    contact_id: Set(None),
                    status: Set(status),
                    disputed_minor: Set(minor),
                    credited_minor: Set(0),
                    version: Set(1),
                    created_at: Set(now() - Duration::minutes(minutes)),
                    updated_at: Set(now()),
                    ..Default::default()
                }
                .insert(db)
            };
        // Twelve open disputes of 1.00 … 12.00, the 1.00 one the newest.
        for k in 1..=12 {
            add(a.id, doc_id, k * 100, DisputeStatus::Open, k)
                .await
                .expect("dispute");
        }
        add(a.id, doc_id, 99_900, DisputeStatus::Rejected, 0)
            .await
            .expect("rejected");
        add(other.id, other_doc, 88_800, DisputeStatus::Open, 0)
            .await
            .expect("other");

        let o = portal::overview(db, a.id, today()).await.expect("overview");
        assert_eq!(o.open_disputes_count, 12, "{backend}");
        assert_eq!(o.open_disputes_minor, 7_800, "{backend}: 1.00 + … + 12.00");
        let listed: Vec<i64> = o.open_disputes.iter().map(|d| d.disputed_minor).collect();
        assert_eq!(
            listed,
            (1..=10).map(|k| k * 100).collect::<Vec<_>>(),
            "{backend}: newest ten"
        );
        assert!(
            o.open_disputes.iter().all(|d| d.invoice == "I-1"),
            "{backend}"
        );

        let none = portal::overview(db, other.id, today())
            .await
            .expect("overview");
        assert_eq!(
            (none.open_disputes_count, none.open_disputes.len()),
            (1, 1),
            "{backend}"
        );
    }
}
