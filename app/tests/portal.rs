//! The overview service on a small book whose numbers are computed by hand.

use app::entities::{account, document, payment};
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
