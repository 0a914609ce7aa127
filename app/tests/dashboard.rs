//! The staff dashboard: every KPI on a small hand-built data set, checked against values
//! computed by hand (the arithmetic is in the comments), on an empty database, and the
//! fixed number of queries however much data there is.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use app::entities::{
    address, dispute, dispute_line, document, document_line, payment, payment_application, promise,
    supplier, task,
};
use app::model::dashboard::Dashboard;
use app::model::enums::*;
use app::model::portal::Aging;
use app::services::dashboard::{QUERIES, dashboard};
use app::testing::fixtures;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection};

/// T in the comments: 2026-11-23.
fn today() -> NaiveDate {
    fixtures::now().date_naive()
}

fn day(offset: i64) -> NaiveDate {
    today() + Duration::days(offset)
}

/// 00:00 UTC of T + `offset` days.
fn midnight(offset: i64) -> DateTime<Utc> {
    day(offset)
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// Counts the statements run on `conn` from now on.
fn count_queries(conn: &mut DatabaseConnection) -> Arc<AtomicUsize> {
    let counter = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&counter);
    conn.set_metric_callback(move |_| {
        seen.fetch_add(1, Ordering::SeqCst);
    });
    counter
}

#[allow(clippy::too_many_arguments)]
async fn doc(
    db: &impl ConnectionTrait,
    account_id: i64,
    number: &str,
    kind: DocumentKind,
    issued: i64,
    due: Option<i64>,
    total: i64,
    open: i64,
    status: DocumentStatus,
) -> document::Model {
    document::ActiveModel {
        account_id: Set(account_id),
        kind: Set(kind),
        number: Set(number.to_owned()),
        issue_date: Set(day(issued)),
        due_date: Set(due.map(day)),
        currency: Set("EUR".to_owned()),
        total_minor: Set(total),
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
    .expect("insert document")
}

/// An open invoice issued `issued` days from T, due `due` days from T.
async fn invoice(
    db: &impl ConnectionTrait,
    account_id: i64,
    number: &str,
    issued: i64,
    due: i64,
    total: i64,
    open: i64,
) -> document::Model {
    doc(
        db,
        account_id,
        number,
        DocumentKind::Invoice,
        issued,
        Some(due),
        total,
        open,
        DocumentStatus::Open,
    )
    .await
}

/// A payment of `amount` received at `at`, applied to `document_id` when given.
async fn pay(
    db: &impl ConnectionTrait,
    account_id: i64,
    document_id: Option<i64>,
    amount: i64,
    status: PaymentStatus,
    at: DateTime<Utc>,
) {
    let p = payment::ActiveModel {
        account_id: Set(account_id),
        provider: Set(PaymentProvider::Manual),
        method: Set(PaymentChannel::Check),
        amount_minor: Set(amount),
        unapplied_minor: Set(if document_id.is_some() { 0 } else { amount }),
        currency: Set("EUR".to_owned()),
        status: Set(status),
        received_at: Set(at),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert payment");
    if let Some(document_id) = document_id {
        payment_application::ActiveModel {
            payment_id: Set(p.id),
            document_id: Set(document_id),
            amount_minor: Set(amount),
            // Applied later than received: the dashboard dates a payment by its receipt.
            created_at: Set(fixtures::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert application");
    }
}

async fn line(db: &impl ConnectionTrait, document_id: i64, no: i32, amount: i64) -> i64 {
    document_line::ActiveModel {
        document_id: Set(document_id),
        line_no: Set(no),
        sku: Set(None),
        description: Set(format!("line {no}")),
        quantity_milli: Set(1000),
        unit_price_minor: Set(amount),
        amount_minor: Set(amount),
        tax_minor: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert line")
    .id
}

/// A dispute of `invoice` with `lines` of (document line id, reason, amount).
async fn dispute_of(
    db: &impl ConnectionTrait,
    invoice: &document::Model,
    status: DisputeStatus,
    credited: i64,
    resolved_at: Option<DateTime<Utc>>,
    lines: &[(i64, DisputeReason, i64)],
) {
    let open = status == DisputeStatus::Open;
    let d = dispute::ActiveModel {
        account_id: Set(invoice.account_id),
        document_id: Set(invoice.id),
        contact_id: Set(None),
        status: Set(status),
        disputed_minor: Set(lines.iter().map(|(_, _, a)| a).sum()),
        credited_minor: Set(credited),
        resolution_note: Set(None),
        assignee_id: Set(None),
        version: Set(1),
        created_at: Set(fixtures::now() - Duration::days(20)),
        updated_at: Set(fixtures::now()),
        resolved_at: Set(resolved_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert dispute");
    for (line_id, reason, amount) in lines {
        dispute_line::ActiveModel {
            dispute_id: Set(d.id),
            document_line_id: Set(*line_id),
            open_line_id: Set(open.then_some(*line_id)),
            reason: Set(*reason),
            disputed_quantity_milli: Set(None),
            disputed_minor: Set(*amount),
            note: Set(None),
            credited_minor: Set(None),
            created_at: Set(fixtures::now()),
            ..Default::default()
        }
        .insert(db)
        .await
        .expect("insert dispute line");
    }
}

async fn promise_row(
    db: &impl ConnectionTrait,
    account_id: i64,
    status: PromiseStatus,
    resolved_at: Option<DateTime<Utc>>,
) {
    promise::ActiveModel {
        account_id: Set(account_id),
        contact_id: Set(None),
        amount_minor: Set(1_000),
        currency: Set("EUR".to_owned()),
        promised_date: Set(day(-30)),
        note: Set(None),
        status: Set(status),
        created_at: Set(fixtures::now() - Duration::days(100)),
        resolved_at: Set(resolved_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert promise");
}

async fn task_row(db: &impl ConnectionTrait, status: TaskStatus, due: Option<i64>) {
    task::ActiveModel {
        account_id: Set(None),
        kind: Set(TaskKind::Call),
        title: Set("Call".to_owned()),
        related_kind: Set(None),
        related_id: Set(None),
        due_date: Set(due.map(day)),
        priority: Set(2),
        assignee_id: Set(None),
        status: Set(status),
        outcome: Set(None),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        completed_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert task");
}

/// Gives account `id` everything a complete profile has except what is switched off.
async fn profile(db: &impl ConnectionTrait, id: i64, tin: bool, verified_days_ago: i64) {
    address::ActiveModel {
        account_id: Set(id),
        kind: Set(AddressKind::Mailing),
        line1: Set("1 Main St".to_owned()),
        line2: Set(None),
        city: Set("Springfield".to_owned()),
        region: Set("IL".to_owned()),
        postal_code: Set("62701".to_owned()),
        country: Set("US".to_owned()),
        version: Set(1),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert address");
    app::entities::account::ActiveModel {
        id: Set(id),
        tin_last4: Set(tin.then(|| "1234".to_owned())),
        verified_at: Set(Some(fixtures::now() - Duration::days(verified_days_ago))),
        ..Default::default()
    }
    .update(db)
    .await
    .expect("complete the profile");
}

async fn set_email_status(db: &impl ConnectionTrait, contact_id: i64, status: EmailStatus) {
    app::entities::contact::ActiveModel {
        id: Set(contact_id),
        email_status: Set(status),
        ..Default::default()
    }
    .update(db)
    .await
    .expect("set email status");
}

/// The data set the expected values below are computed from.
async fn build(db: &impl ConnectionTrait) {
    supplier::ActiveModel {
        legal_name: Set("Supplier GmbH".to_owned()),
        display_name: Set("Supplier".to_owned()),
        email: Set("ar@supplier.example".to_owned()),
        phone: Set(None),
        website: Set(None),
        remit_to: Set("1 Supplier Way".to_owned()),
        tin: Set(None),
        currency: Set("EUR".to_owned()),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert supplier");

    // Profiles. A1 complete; A2's only contact bounced (no usable email); A3 verified
    // 400 days ago; A4 complete but on hold and V1 a vendor (neither counts).
    let a1 = fixtures::customer(db, "C-1", "Alpha").await.id;
    let a2 = fixtures::customer(db, "C-2", "Beta").await.id;
    let a3 = fixtures::customer(db, "C-3", "Gamma").await.id;
    let a4 = fixtures::customer(db, "C-4", "Delta").await.id;
    let v1 = fixtures::customer(db, "V-1", "Vendor").await.id;
    app::entities::account::ActiveModel {
        id: Set(a4),
        status: Set(AccountStatus::OnHold),
        ..Default::default()
    }
    .update(db)
    .await
    .expect("hold A4");
    app::entities::account::ActiveModel {
        id: Set(v1),
        kind: Set(AccountKind::Vendor),
        ..Default::default()
    }
    .update(db)
    .await
    .expect("make V1 a vendor");
    fixtures::contact(db, a1, "Ann", "ap@alpha.example").await;
    let a1_other = fixtures::contact(db, a1, "Old", "old@alpha.example").await;
    app::entities::contact::ActiveModel {
        id: Set(a1_other.id),
        is_primary_billing: Set(false),
        role: Set(ContactRole::Other),
        email_status: Set(EmailStatus::Bounced),
        ..Default::default()
    }
    .update(db)
    .await
    .expect("A1's second contact bounced");
    let a2_ap = fixtures::contact(db, a2, "Bob", "bob@beta.example").await;
    set_email_status(db, a2_ap.id, EmailStatus::Bounced).await;
    let a3_ap = fixtures::contact(db, a3, "Cat", "cat@gamma.example").await;
    set_email_status(db, a3_ap.id, EmailStatus::ReportedWrong).await;
    fixtures::contact(db, a4, "Dan", "ap@delta.example").await;
    fixtures::contact(db, v1, "Vic", "ap@vendor.example").await;
    profile(db, a1, true, 10).await;
    profile(db, a2, true, 10).await;
    profile(db, a3, true, 400).await;
    profile(db, a4, true, 10).await;
    profile(db, v1, true, 10).await;

    // Invoices: (issued, due) in days from T, total, open.
    let i1 = invoice(db, a1, "I1", -10, 20, 120_000, 100_000).await;
    let i2 = invoice(db, a1, "I2", -40, -10, 50_000, 30_000).await;
    let i3 = invoice(db, a2, "I3", -61, -31, 85_000, 80_000).await;
    invoice(db, a2, "I4", -120, -90, 60_000, 60_000).await;
    let i5 = invoice(db, a3, "I5", -121, -91, 40_000, 40_000).await;
    let i6 = invoice(db, a3, "I6", -30, 0, 28_000, 20_000).await;
    let i7 = invoice(db, a1, "I7", -60, -30, 35_000, 25_000).await;
    let i8 = doc(
        db,
        a1,
        "I8",
        DocumentKind::Invoice,
        -50,
        Some(-20),
        70_000,
        0,
        DocumentStatus::Paid,
    )
    .await;
    doc(
        db,
        a2,
        "I9",
        DocumentKind::Invoice,
        -5,
        Some(25),
        99_000,
        99_000,
        DocumentStatus::Void,
    )
    .await;
    doc(
        db,
        a1,
        "I10",
        DocumentKind::Invoice,
        -20,
        Some(10),
        10_000,
        10_000,
        DocumentStatus::PaymentPending,
    )
    .await;
    let i11 = doc(
        db,
        a3,
        "I11",
        DocumentKind::Invoice,
        -89,
        Some(-59),
        30_000,
        0,
        DocumentStatus::Paid,
    )
    .await;
    // Imported already paid: no payment application.
    doc(
        db,
        a3,
        "I12",
        DocumentKind::Invoice,
        -90,
        Some(-60),
        45_000,
        0,
        DocumentStatus::Paid,
    )
    .await;
    // A credit memo with 5,000 of its 15,000 still open, and a fully applied one.
    doc(
        db,
        a1,
        "CM1",
        DocumentKind::CreditMemo,
        -3,
        None,
        -15_000,
        -5_000,
        DocumentStatus::Open,
    )
    .await;
    doc(
        db,
        a2,
        "CM2",
        DocumentKind::CreditMemo,
        -10,
        None,
        -5_000,
        0,
        DocumentStatus::Closed,
    )
    .await;

    // Payments: (invoice, amount, received).
    let succeeded = PaymentStatus::Succeeded;
    pay(db, a1, Some(i1.id), 20_000, succeeded, midnight(-1)).await;
    pay(db, a1, Some(i2.id), 20_000, succeeded, midnight(-5)).await;
    pay(db, a1, Some(i7.id), 10_000, succeeded, midnight(-29)).await;
    pay(
        db,
        a3,
        Some(i6.id),
        8_000,
        succeeded,
        midnight(-29) - Duration::minutes(1),
    )
    .await;
    pay(db, a1, Some(i8.id), 70_000, succeeded, midnight(-45)).await;
    pay(db, a3, Some(i11.id), 30_000, succeeded, midnight(-70)).await;
    pay(db, a3, None, 12_000, succeeded, midnight(-2)).await;
    pay(db, a3, None, 7_000, PaymentStatus::Pending, midnight(-2)).await;

    // Disputes: I3 credited 5,000 ten days ago; open ones on I7 and I5; a draft on I1.
    let i3_line = line(db, i3.id, 1, 85_000).await;
    dispute_of(
        db,
        &i3,
        DisputeStatus::Credited,
        5_000,
        Some(midnight(-10)),
        &[(i3_line, DisputeReason::Damaged, 5_000)],
    )
    .await;
    let i7_price = line(db, i7.id, 1, 20_000).await;
    let i7_qty = line(db, i7.id, 2, 15_000).await;
    dispute_of(
        db,
        &i7,
        DisputeStatus::Open,
        0,
        None,
        &[
            (i7_price, DisputeReason::Price, 10_000),
            (i7_qty, DisputeReason::Quantity, 5_000),
        ],
    )
    .await;
    let i5_line = line(db, i5.id, 1, 40_000).await;
    dispute_of(
        db,
        &i5,
        DisputeStatus::Open,
        0,
        None,
        &[(i5_line, DisputeReason::Price, 3_000)],
    )
    .await;
    let i1_line = line(db, i1.id, 1, 120_000).await;
    dispute_of(
        db,
        &i1,
        DisputeStatus::Draft,
        0,
        None,
        &[(i1_line, DisputeReason::Damaged, 1_000)],
    )
    .await;

    // Promises: resolved at, relative to the window start T−89 00:00.
    promise_row(db, a1, PromiseStatus::Kept, Some(midnight(-10))).await;
    promise_row(db, a1, PromiseStatus::Kept, Some(midnight(-89))).await;
    promise_row(
        db,
        a1,
        PromiseStatus::Kept,
        Some(midnight(-89) - Duration::hours(1)),
    )
    .await;
    promise_row(db, a2, PromiseStatus::PartiallyKept, Some(midnight(-20))).await;
    promise_row(db, a2, PromiseStatus::Broken, Some(midnight(-5))).await;
    promise_row(db, a3, PromiseStatus::Broken, Some(midnight(-6))).await;
    promise_row(db, a3, PromiseStatus::Replaced, Some(midnight(-3))).await;
    promise_row(db, a1, PromiseStatus::Open, None).await;
    promise_row(db, a2, PromiseStatus::Open, None).await;

    // Tasks: (status, due in days from T).
    task_row(db, TaskStatus::Open, Some(-1)).await;
    task_row(db, TaskStatus::InProgress, Some(0)).await;
    task_row(db, TaskStatus::Open, Some(1)).await;
    task_row(db, TaskStatus::Done, Some(-3)).await;
    task_row(db, TaskStatus::Skipped, Some(-1)).await;
    task_row(db, TaskStatus::Open, None).await;
}

#[tokio::test]
async fn every_kpi_matches_the_hand_computed_value() {
    for mut t in app::testing::databases("dashboard_kpis").await {
        let b = t.backend;
        build(&t.conn).await;
        let queries = count_queries(&mut t.conn);

        let d: Dashboard = dashboard(&t.conn, fixtures::now())
            .await
            .expect("dashboard");

        assert_eq!(
            queries.load(Ordering::SeqCst),
            QUERIES,
            "{b}: fixed query count"
        );
        assert_eq!(d.as_of, today(), "{b}");
        assert_eq!(d.currency, "EUR", "{b}: the supplier's currency");

        // Open invoices (I8, I11, I12 paid, I9 void, credit memos not invoices):
        // I1 100,000 + I2 30,000 + I3 80,000 + I4 60,000 + I5 40,000 + I6 20,000
        // + I7 25,000 + I10 10,000 (payment pending) = 365,000.
        assert_eq!(d.total_ar_minor, 365_000, "{b}: total AR");
        // Days past due = T − due: I1 −20, I6 0 (due today), I10 −10 → current
        // 100,000 + 20,000 + 10,000 = 130,000; I2 10, I7 30 → 1–30: 30,000 + 25,000 =
        // 55,000; I3 31 → 80,000; I4 90 → 60,000; I5 91 → over 90: 40,000.
        assert_eq!(
            d.aging,
            Aging {
                current: 130_000,
                days_1_30: 55_000,
                days_31_60: 80_000,
                days_61_90: 60_000,
                days_over_90: 40_000,
            },
            "{b}: aging"
        );
        // CM1 still open 5,000 + the unapplied succeeded payment 12,000 (the pending
        // 7,000 is not money yet; CM2 is closed) = 17,000.
        assert_eq!(d.unapplied_credits_minor, 17_000, "{b}: unapplied credits");

        // Credit sales, issued T−89..T and not void: I1 120,000 + I2 50,000 + I3 85,000
        // + I6 28,000 + I7 35,000 + I8 70,000 + I10 10,000 + I11 (T−89) 30,000 = 428,000
        // (I12 at T−90, I4, I5 too old; I9 void).
        assert_eq!(
            d.credit_sales_90_minor, 428_000,
            "{b}: credit sales 90 days"
        );
        // DSO = 365,000 ÷ 428,000 × 90 = 76.75… → 76.8 days.
        assert_eq!(d.dso_tenths, Some(768), "{b}: DSO");

        // CEI period T−29..T. Credit sales: I1 120,000 + I10 10,000 = 130,000 (I6 at T−30
        // is before it).
        assert_eq!(
            d.credit_sales_30_minor, 130_000,
            "{b}: credit sales 30 days"
        );
        // Beginning AR at T−29 00:00, the invoices issued before then: I2 50,000 − 0
        // + I3 85,000 − 0 (its 5,000 credit came at T−10) + I4 60,000 + I5 40,000
        // + I6 28,000 − 8,000 (paid one minute before the start) + I7 35,000 − 0 (paid
        // exactly at the start, so after) + I8 70,000 − 70,000 + I11 30,000 − 30,000
        // + I12 45,000 − 45,000 (imported paid) = 290,000.
        // (Forward from payments alone it would be 335,000: I12 has no application.)
        assert_eq!(d.beginning_ar_minor, 290_000, "{b}: beginning AR");
        // CEI = (290,000 + 130,000 − 365,000) ÷ (290,000 + 130,000 − 130,000) × 100
        //     = 55,000 ÷ 290,000 × 100 = 18.97 → 19.0.
        assert_eq!(d.cei_tenths, Some(190), "{b}: CEI");

        // Resolved since T−89 00:00: kept at T−10 and exactly T−89 00:00 (the one an hour
        // earlier is out), partially kept, two broken; replaced does not count → 2 of 5.
        assert_eq!(d.promises_kept, 2, "{b}: promises kept");
        assert_eq!(d.promises_resolved, 5, "{b}: promises resolved");
        assert_eq!(d.promises_kept_tenths, Some(400), "{b}: kept rate 40.0%");
        assert_eq!(d.promises_open, 2, "{b}: open promises");

        // Open disputes: on I7 (price 10,000, quantity 5,000) and I5 (price 3,000); the
        // draft and the credited one are not open.
        assert_eq!(d.open_disputes, 2, "{b}: open disputes");
        assert_eq!(d.open_disputed_minor, 18_000, "{b}: disputed amount");
        let by_reason: Vec<(DisputeReason, i64, i64, i64)> = d
            .disputes_by_reason
            .iter()
            .map(|r| (r.reason, r.disputes, r.lines, r.amount_minor))
            .collect();
        assert_eq!(
            by_reason,
            vec![
                (DisputeReason::Price, 2, 2, 13_000),
                (DisputeReason::Quantity, 1, 1, 5_000),
            ],
            "{b}: disputes by reason"
        );

        // Active customers A1, A2, A3; only A1 has no gap → 1 ÷ 3 = 33.3%.
        assert_eq!(d.active_customers, 3, "{b}: active customers");
        assert_eq!(d.complete_profiles, 1, "{b}: complete profiles");
        assert_eq!(d.complete_tenths, Some(333), "{b}: completeness");

        // Bounced: A2's contact and A1's second one; reported wrong: A3's.
        assert_eq!(d.bounced_contacts, 2, "{b}: bounced");
        assert_eq!(d.reported_wrong_contacts, 1, "{b}: reported wrong");
        // Invoices of the last 90 days: A1 I1 I2 I7 I8 I10, A2 I3, A3 I6 I11 = 8; A2's
        // billing contact bounced and A3's was reported wrong (A1's bounced contact is not
        // its billing contact) → 3 ÷ 8 = 37.5%.
        assert_eq!(d.recent_invoices, 8, "{b}: recent invoices");
        assert_eq!(d.misdirected_invoices, 3, "{b}: misdirected invoices");
        assert_eq!(d.misdirected_tenths, Some(375), "{b}: misdirected share");

        // Open due T−1 and in progress due T; not tomorrow's, done, skipped or undated.
        assert_eq!(d.tasks_due, 2, "{b}: tasks due");
    }
}

#[tokio::test]
async fn an_empty_database_gives_zeros_and_no_ratios() {
    for mut t in app::testing::databases("dashboard_empty").await {
        let b = t.backend;
        let queries = count_queries(&mut t.conn);

        let d = dashboard(&t.conn, fixtures::now())
            .await
            .expect("dashboard");

        assert_eq!(
            queries.load(Ordering::SeqCst),
            QUERIES,
            "{b}: fixed query count"
        );
        assert_eq!(
            d.currency, "USD",
            "{b}: default currency without a supplier"
        );
        assert_eq!(d.total_ar_minor, 0, "{b}");
        assert_eq!(d.aging, Aging::default(), "{b}");
        assert_eq!(d.unapplied_credits_minor, 0, "{b}");
        assert_eq!(d.beginning_ar_minor, 0, "{b}");
        assert_eq!(
            (
                d.dso_tenths,
                d.cei_tenths,
                d.promises_kept_tenths,
                d.complete_tenths,
                d.misdirected_tenths
            ),
            (None, None, None, None, None),
            "{b}: no ratio without a denominator"
        );
        assert_eq!(
            (
                d.promises_open,
                d.open_disputes,
                d.active_customers,
                d.bounced_contacts,
                d.reported_wrong_contacts,
                d.recent_invoices,
                d.tasks_due
            ),
            (0, 0, 0, 0, 0, 0, 0),
            "{b}"
        );
        assert!(d.disputes_by_reason.is_empty(), "{b}");
    }
}

#[tokio::test]
async fn recording_a_promise_raises_the_open_promise_count() {
    for t in app::testing::databases("dashboard_promise").await {
        let b = t.backend;
        let account = fixtures::customer(&t.conn, "C-1", "Alpha").await;
        let contact = fixtures::contact(&t.conn, account.id, "Ann", "ap@alpha.example").await;
        let inv = fixtures::invoice(&t.conn, account.id, "INV-1", 50_000).await;
        let before = dashboard(&t.conn, fixtures::now()).await.expect("before");

        app::services::promises::record_promise(
            &t.conn,
            "https://billing.example.com",
            contact.id,
            account.id,
            &[inv.id],
            50_000,
            today() + Duration::days(7),
            None,
            fixtures::now(),
        )
        .await
        .expect("record promise");
        let after = dashboard(&t.conn, fixtures::now()).await.expect("after");

        assert_eq!(before.promises_open, 0, "{b}");
        assert_eq!(after.promises_open, 1, "{b}");
    }
}
