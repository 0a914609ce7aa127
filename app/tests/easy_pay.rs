//! Easy Pay: starting a checkout (validation against stored balances, idempotency, Pay-link
//! scope), recording payments from signed webhooks exactly once (also under 50 concurrent
//! duplicate deliveries), partial and over-payment, bank debits that clear or come back, and
//! the Stripe provider against a local mock of its API.

use std::sync::Arc;

use app::entities::{
    document, outbox_email, payment, payment_application, payment_link, webhook_event,
};
use app::error::AppError;
use app::model::enums::*;
use app::model::payments::PayItem;
use app::services::easy_pay::event::session_event;
use app::services::easy_pay::record::{self, Outcome, WebhookError};
use app::services::easy_pay::sandbox::{self, Choice, Sandbox};
use app::services::easy_pay::signature::{self, SignatureError};
use app::services::easy_pay::stripe::Stripe;
use app::services::easy_pay::{self, Payer, Provider};
use app::testing::{databases, file_sqlite, fixtures};
use chrono::Duration;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const PUBLIC_URL: &str = "https://billing.example.com";
const SECRET: &[u8] = b"sandbox-secret-for-tests";

fn sandbox() -> Sandbox {
    Sandbox::new(SECRET.to_vec(), PUBLIC_URL)
}

fn item(document_id: i64, amount: &str) -> PayItem {
    PayItem {
        document_id,
        amount: amount.to_owned(),
    }
}

struct Account {
    payer: Payer,
    invoices: Vec<document::Model>,
}

/// A customer with a contact and invoices of the given open amounts (numbered INV-1…).
async fn account(db: &impl ConnectionTrait, number: &str, opens: &[i64]) -> Account {
    let acct = fixtures::customer(db, number, &format!("{number} Co")).await;
    let who = fixtures::contact(db, acct.id, "Pat Payer", &format!("ap@{number}.test")).await;
    let mut invoices = Vec::new();
    for (i, open) in opens.iter().enumerate() {
        invoices
            .push(fixtures::invoice(db, acct.id, &format!("{number}-INV-{}", i + 1), *open).await);
    }
    Account {
        payer: Payer {
            account_id: acct.id,
            contact_id: who.id,
            only_document: None,
        },
        invoices,
    }
}

async fn start(
    db: &DatabaseConnection,
    payer: Payer,
    items: &[PayItem],
    method: PaymentChannel,
    attempt: &str,
) -> Result<String, AppError> {
    easy_pay::start_checkout(
        db,
        &sandbox(),
        PUBLIC_URL,
        payer,
        items,
        method,
        attempt,
        fixtures::now(),
    )
    .await
}

fn session_of(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().to_owned()
}

/// Delivers a signed event as the provider would.
async fn deliver(
    db: &DatabaseConnection,
    event_id: &str,
    type_name: &str,
    session: &str,
    status: &str,
    amount: i64,
) -> Result<Outcome, WebhookError> {
    let now = fixtures::now();
    let body = session_event(
        event_id,
        type_name,
        session,
        status,
        amount,
        "USD",
        now.timestamp(),
    );
    let header = signature::sign(SECRET, now.timestamp(), &body);
    record::receive(db, &sandbox(), PUBLIC_URL, Some(&header), &body, now).await
}

async fn doc(db: &impl ConnectionTrait, id: i64) -> document::Model {
    document::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("exists")
}

async fn receipts(db: &impl ConnectionTrait) -> u64 {
    outbox_email::Entity::find()
        .filter(
            outbox_email::COLUMN
                .template_key
                .eq(record::RECEIPT_TEMPLATE),
        )
        .count(db)
        .await
        .expect("count")
}

#[tokio::test]
async fn paying_two_invoices_applies_each_and_queues_one_receipt() {
    for t in databases("easy_pay_two").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[12_500, 30_000]).await;
        let (one, two) = (&a.invoices[0], &a.invoices[1]);
        let url = start(
            db,
            a.payer,
            &[item(one.id, "125.00"), item(two.id, "300")],
            PaymentChannel::Card,
            "view-1",
        )
        .await
        .expect("checkout");
        assert!(
            url.starts_with(&format!("{PUBLIC_URL}/pay/sandbox/cs_sandbox_")),
            "{url}"
        );
        let session = session_of(&url);

        let outcome = deliver(
            db,
            "evt_1",
            "checkout.session.completed",
            &session,
            "paid",
            42_500,
        )
        .await;
        assert_eq!(outcome, Ok(Outcome::Paid), "{}", t.backend);
        for id in [one.id, two.id] {
            let d = doc(db, id).await;
            assert_eq!(
                (d.open_minor, d.status),
                (0, DocumentStatus::Paid),
                "{}",
                t.backend
            );
        }
        let paid = payment::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("payment");
        assert_eq!(
            (paid.amount_minor, paid.unapplied_minor, paid.status),
            (42_500, 0, PaymentStatus::Succeeded)
        );
        assert_eq!(
            payment_application::Entity::find()
                .count(db)
                .await
                .expect("count"),
            2
        );
        assert_eq!(receipts(db).await, 1, "{}", t.backend);
        let receipt = easy_pay::receipt(db, a.payer.account_id, &session)
            .await
            .expect("receipt");
        assert_eq!(receipt.status, PaymentLinkStatus::Completed);
        assert_eq!(receipt.lines.iter().map(|l| l.open_minor).sum::<i64>(), 0);
    }
}

#[tokio::test]
async fn a_partial_payment_leaves_the_rest_open() {
    for t in databases("easy_pay_partial").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let inv = &a.invoices[0];
        let url = start(
            db,
            a.payer,
            &[item(inv.id, "40")],
            PaymentChannel::Card,
            "v",
        )
        .await
        .expect("checkout");
        deliver(
            db,
            "evt_p",
            "checkout.session.completed",
            &session_of(&url),
            "paid",
            4_000,
        )
        .await
        .expect("delivered");
        let d = doc(db, inv.id).await;
        assert_eq!(
            (d.open_minor, d.status),
            (6_000, DocumentStatus::Open),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn paying_an_invoice_twice_leaves_the_second_payment_as_unapplied_credit() {
    for t in databases("easy_pay_over").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let inv = &a.invoices[0];
        // Two checkouts opened before either was paid (two tabs).
        let first = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Card,
            "tab-1",
        )
        .await
        .expect("1");
        let second = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Card,
            "tab-2",
        )
        .await
        .expect("2");
        assert_ne!(first, second);
        deliver(
            db,
            "evt_a",
            "checkout.session.completed",
            &session_of(&first),
            "paid",
            10_000,
        )
        .await
        .expect("a");
        deliver(
            db,
            "evt_b",
            "checkout.session.completed",
            &session_of(&second),
            "paid",
            10_000,
        )
        .await
        .expect("b");
        let d = doc(db, inv.id).await;
        assert_eq!(
            (d.open_minor, d.status),
            (0, DocumentStatus::Paid),
            "{}",
            t.backend
        );
        let credit: i64 = payment::Entity::find()
            .all(db)
            .await
            .expect("read")
            .iter()
            .map(|p| p.unapplied_minor)
            .sum();
        assert_eq!(credit, 10_000, "{}", t.backend);
        let applied: i64 = payment_application::Entity::find()
            .all(db)
            .await
            .expect("read")
            .iter()
            .map(|p| p.amount_minor)
            .sum();
        assert_eq!(applied, 10_000, "{}", t.backend);
    }
}

#[tokio::test]
async fn amounts_are_checked_against_stored_balances_not_the_browser() {
    for t in databases("easy_pay_tamper").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let other = account(db, "C-2", &[5_000]).await;
        let inv = &a.invoices[0];
        let over = start(
            db,
            a.payer,
            &[item(inv.id, "100.01")],
            PaymentChannel::Card,
            "v",
        )
        .await;
        assert!(
            matches!(&over, Err(AppError::Validation { field, .. }) if *field == format!("amount-{}", inv.id)),
            "{over:?}"
        );
        let zero = start(db, a.payer, &[item(inv.id, "0")], PaymentChannel::Card, "v").await;
        assert!(matches!(zero, Err(AppError::Validation { .. })), "{zero:?}");
        let foreign = start(
            db,
            a.payer,
            &[item(other.invoices[0].id, "10")],
            PaymentChannel::Card,
            "v",
        )
        .await;
        assert!(
            matches!(&foreign, Err(AppError::Validation { field, .. }) if field == "items"),
            "{foreign:?}"
        );
        let check = start(
            db,
            a.payer,
            &[item(inv.id, "10")],
            PaymentChannel::Check,
            "v",
        )
        .await;
        assert!(
            matches!(&check, Err(AppError::Validation { field, .. }) if field == "method"),
            "{check:?}"
        );
        assert_eq!(
            payment_link::Entity::find().count(db).await.expect("count"),
            0,
            "{}",
            t.backend
        );

        // The provider reports what was paid; a body claiming more than the checkout's
        // invoices are open for applies only their open balance, and keeps the rest as credit.
        let url = start(
            db,
            a.payer,
            &[item(inv.id, "50")],
            PaymentChannel::Card,
            "v",
        )
        .await
        .expect("ok");
        deliver(
            db,
            "evt_t",
            "checkout.session.completed",
            &session_of(&url),
            "paid",
            5_000,
        )
        .await
        .expect("paid");
        assert_eq!(doc(db, inv.id).await.open_minor, 5_000, "{}", t.backend);
    }
}

#[tokio::test]
async fn a_retried_click_reopens_the_same_checkout() {
    for t in databases("easy_pay_idem").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let inv = &a.invoices[0];
        let first = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Card,
            "view-7",
        )
        .await
        .expect("1");
        let again = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Card,
            "view-7",
        )
        .await
        .expect("2");
        assert_eq!(first, again, "{}", t.backend);
        assert_eq!(
            payment_link::Entity::find().count(db).await.expect("count"),
            1
        );
        // Once paid, the same click leads to the receipt, not to a second checkout.
        deliver(
            db,
            "evt_i",
            "checkout.session.completed",
            &session_of(&first),
            "paid",
            10_000,
        )
        .await
        .expect("paid");
        let after = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Card,
            "view-7",
        )
        .await;
        // The invoice is paid now, so the choice itself is refused.
        assert!(
            matches!(after, Err(AppError::Validation { .. })),
            "{after:?}"
        );
    }
}

#[tokio::test]
async fn a_pay_link_pays_only_its_invoice() {
    for t in databases("easy_pay_scope").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000, 20_000]).await;
        let scoped = Payer {
            only_document: Some(a.invoices[0].id),
            ..a.payer
        };
        let other = start(
            db,
            scoped,
            &[item(a.invoices[1].id, "10")],
            PaymentChannel::Card,
            "v",
        )
        .await;
        assert_eq!(other, Err(AppError::Forbidden), "{}", t.backend);
        start(
            db,
            scoped,
            &[item(a.invoices[0].id, "100")],
            PaymentChannel::Card,
            "v",
        )
        .await
        .expect("own invoice");
    }
}

#[tokio::test]
async fn bad_signatures_and_stale_timestamps_are_refused_and_change_nothing() {
    for t in databases("easy_pay_sig").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let url = start(
            db,
            a.payer,
            &[item(a.invoices[0].id, "100")],
            PaymentChannel::Card,
            "v",
        )
        .await
        .expect("ok");
        let now = fixtures::now();
        let body = session_event(
            "evt_s",
            "checkout.session.completed",
            &session_of(&url),
            "paid",
            10_000,
            "USD",
            0,
        );
        let forged = signature::sign(b"someone else's secret", now.timestamp(), &body);
        let stale = signature::sign(SECRET, (now - Duration::minutes(6)).timestamp(), &body);
        for (header, why) in [
            (Some(forged.as_str()), SignatureError::Mismatch),
            (Some(stale.as_str()), SignatureError::Stale),
            (None, SignatureError::Missing),
        ] {
            let got = record::receive(db, &sandbox(), PUBLIC_URL, header, &body, now).await;
            assert_eq!(got, Err(WebhookError::Signature(why)), "{}", t.backend);
        }
        assert_eq!(payment::Entity::find().count(db).await.expect("count"), 0);
        assert_eq!(
            webhook_event::Entity::find()
                .count(db)
                .await
                .expect("count"),
            0
        );
        assert_eq!(doc(db, a.invoices[0].id).await.open_minor, 10_000);
    }
}

/// 50 deliveries of one event at once: one payment, one application, one receipt.
async fn fifty_duplicates(db: &DatabaseConnection, backend: &str) {
    let a = account(db, "C-1", &[10_000]).await;
    let url = start(
        db,
        a.payer,
        &[item(a.invoices[0].id, "100")],
        PaymentChannel::Card,
        "v",
    )
    .await
    .expect("ok");
    let session = session_of(&url);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let db = db.clone();
        let session = session.clone();
        tasks.push(tokio::spawn(async move {
            deliver(
                &db,
                "evt_dup",
                "checkout.session.completed",
                &session,
                "paid",
                10_000,
            )
            .await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    let paid = outcomes.iter().filter(|o| **o == Ok(Outcome::Paid)).count();
    let dup = outcomes
        .iter()
        .filter(|o| **o == Ok(Outcome::Duplicate))
        .count();
    assert_eq!((paid, dup), (1, 49), "{backend}: {outcomes:?}");
    assert_eq!(
        payment::Entity::find().count(db).await.expect("count"),
        1,
        "{backend}"
    );
    assert_eq!(
        payment_application::Entity::find()
            .count(db)
            .await
            .expect("count"),
        1,
        "{backend}"
    );
    assert_eq!(receipts(db).await, 1, "{backend}");
    let d = doc(db, a.invoices[0].id).await;
    assert_eq!(
        (d.open_minor, d.status),
        (0, DocumentStatus::Paid),
        "{backend}"
    );
}

#[tokio::test]
async fn fifty_concurrent_duplicate_deliveries_record_one_payment() {
    for t in databases("easy_pay_fifty").await {
        fifty_duplicates(&t.conn, t.backend).await;
    }
    // SQLite in memory has one connection; a file has a pool of writers racing.
    let dir = std::env::temp_dir().join(format!("settle-easy-pay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("fifty.db");
    let _ = std::fs::remove_file(&path);
    let db = file_sqlite(&path).await;
    fifty_duplicates(&db, "sqlite file").await;
    db.close().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bank_debit_is_pending_until_it_clears_and_only_then_receipted() {
    for t in databases("easy_pay_ach").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let inv = &a.invoices[0];
        let url = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Ach,
            "v",
        )
        .await
        .expect("ok");
        let session = session_of(&url);
        let got = deliver(
            db,
            "evt_c",
            "checkout.session.completed",
            &session,
            "unpaid",
            10_000,
        )
        .await;
        assert_eq!(got, Ok(Outcome::Pending), "{}", t.backend);
        let d = doc(db, inv.id).await;
        assert_eq!(
            (d.open_minor, d.status),
            (10_000, DocumentStatus::PaymentPending)
        );
        assert_eq!(
            receipts(db).await,
            0,
            "{}: no receipt before the money is confirmed",
            t.backend
        );
        // A pending invoice cannot be paid again meanwhile.
        let again = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Card,
            "v2",
        )
        .await;
        assert!(
            matches!(again, Err(AppError::Validation { .. })),
            "{again:?}"
        );

        let got = deliver(
            db,
            "evt_s",
            "checkout.session.async_payment_succeeded",
            &session,
            "paid",
            10_000,
        )
        .await;
        assert_eq!(got, Ok(Outcome::Paid), "{}", t.backend);
        let d = doc(db, inv.id).await;
        assert_eq!((d.open_minor, d.status), (0, DocumentStatus::Paid));
        assert_eq!(
            payment::Entity::find().count(db).await.expect("count"),
            1,
            "the pending payment is confirmed, not doubled"
        );
        assert_eq!(receipts(db).await, 1);
    }
}

#[tokio::test]
async fn a_returned_bank_debit_changes_nothing_and_reopens_the_invoice() {
    for t in databases("easy_pay_ach_fail").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let inv = &a.invoices[0];
        let url = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Ach,
            "v",
        )
        .await
        .expect("ok");
        let session = session_of(&url);
        deliver(
            db,
            "evt_c",
            "checkout.session.completed",
            &session,
            "unpaid",
            10_000,
        )
        .await
        .expect("pending");
        let got = deliver(
            db,
            "evt_f",
            "checkout.session.async_payment_failed",
            &session,
            "unpaid",
            10_000,
        )
        .await;
        assert_eq!(got, Ok(Outcome::Failed), "{}", t.backend);
        let d = doc(db, inv.id).await;
        assert_eq!((d.open_minor, d.status), (10_000, DocumentStatus::Open));
        assert_eq!(
            payment_application::Entity::find()
                .count(db)
                .await
                .expect("count"),
            0
        );
        let p = payment::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("payment");
        assert_eq!(p.status, PaymentStatus::Failed);
        assert_eq!(receipts(db).await, 0);
        // A late success for the returned debit does nothing.
        let late = deliver(
            db,
            "evt_l",
            "checkout.session.async_payment_succeeded",
            &session,
            "paid",
            10_000,
        )
        .await;
        assert_eq!(late, Ok(Outcome::Ignored));
        assert_eq!(doc(db, inv.id).await.open_minor, 10_000);
    }
}

#[tokio::test]
async fn events_out_of_order_apply_once() {
    for t in databases("easy_pay_order").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let inv = &a.invoices[0];
        let url = start(
            db,
            a.payer,
            &[item(inv.id, "100")],
            PaymentChannel::Ach,
            "v",
        )
        .await
        .expect("ok");
        let session = session_of(&url);
        // The success overtakes the completion it follows.
        let first = deliver(
            db,
            "evt_s",
            "checkout.session.async_payment_succeeded",
            &session,
            "paid",
            10_000,
        )
        .await;
        let second = deliver(
            db,
            "evt_c",
            "checkout.session.completed",
            &session,
            "unpaid",
            10_000,
        )
        .await;
        assert_eq!(
            (first, second),
            (Ok(Outcome::Paid), Ok(Outcome::Ignored)),
            "{}",
            t.backend
        );
        let d = doc(db, inv.id).await;
        assert_eq!(
            (d.open_minor, d.status),
            (0, DocumentStatus::Paid),
            "{}",
            t.backend
        );
        assert_eq!(payment::Entity::find().count(db).await.expect("count"), 1);
    }
}

#[tokio::test]
async fn the_sandbox_buttons_go_through_the_signed_webhook_path() {
    for t in databases("easy_pay_sandbox").await {
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let provider = sandbox();
        let url = start(
            db,
            a.payer,
            &[item(a.invoices[0].id, "100")],
            PaymentChannel::Card,
            "v",
        )
        .await
        .expect("ok");
        let session = session_of(&url);
        let declined = sandbox::press(
            db,
            &provider,
            PUBLIC_URL,
            &session,
            Choice::Decline,
            fixtures::now(),
        )
        .await;
        assert_eq!(declined, Ok(format!("/pay/sandbox/{session}?declined=1")));
        assert_eq!(
            doc(db, a.invoices[0].id).await.open_minor,
            10_000,
            "a decline changes nothing"
        );
        let paid = sandbox::press(
            db,
            &provider,
            PUBLIC_URL,
            &session,
            Choice::Pay(PaymentChannel::Wallet),
            fixtures::now(),
        )
        .await;
        assert_eq!(paid, Ok(easy_pay::receipt_path(&session)), "{}", t.backend);
        assert_eq!(doc(db, a.invoices[0].id).await.status, DocumentStatus::Paid);
        assert_eq!(
            webhook_event::Entity::find()
                .count(db)
                .await
                .expect("count"),
            1
        );
        let p = payment::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("payment");
        assert_eq!(p.method, PaymentChannel::Wallet);
        let twice = sandbox::press(
            db,
            &provider,
            PUBLIC_URL,
            &session,
            Choice::Pay(PaymentChannel::Card),
            fixtures::now(),
        )
        .await;
        assert!(matches!(twice, Err(AppError::Conflict(_))), "{twice:?}");
    }
}

mod stripe_api {
    use super::*;
    use wiremock::matchers::{body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn session_json(id: &str) -> serde_json::Value {
        serde_json::json!({ "id": id, "object": "checkout.session", "url": format!("https://checkout.stripe.test/{id}") })
    }

    #[tokio::test]
    async fn a_checkout_session_is_created_with_the_key_the_amounts_and_an_idempotency_key() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .and(header("authorization", "Bearer sk_test_123"))
            .and(body_string_contains(
                "line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=4000",
            ))
            .and(body_string_contains(
                "payment_method_types%5B0%5D=us_bank_account",
            ))
            .respond_with(ResponseTemplate::new(200).set_body_json(session_json("cs_test_1")))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v1/checkout/sessions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(session_json("cs_test_3")))
            .expect(1)
            .mount(&server)
            .await;
        let stripe = Stripe::new(&server.uri(), "sk_test_123", "whsec_1").expect("client");
        let t = databases("easy_pay_stripe").await.remove(0);
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let items = [item(a.invoices[0].id, "40")];
        let go = |attempt: &'static str| {
            easy_pay::start_checkout(
                db,
                &stripe,
                PUBLIC_URL,
                a.payer,
                &items,
                PaymentChannel::Ach,
                attempt,
                fixtures::now(),
            )
        };
        let url = go("view-1").await.expect("checkout");
        assert_eq!(url, "https://checkout.stripe.test/cs_test_1");
        // A retried click is answered from the stored checkout, without calling Stripe again.
        assert_eq!(go("view-1").await.expect("again"), url);
        // A new page view is a new checkout, with a different idempotency key.
        go("view-2").await.expect("second");
        let requests = server.received_requests().await.unwrap_or_default();
        let keys: Vec<String> = requests
            .iter()
            .filter_map(|r| {
                r.headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(keys.len(), 2);
        assert_ne!(keys[0], keys[1]);
        let link = payment_link::Entity::find_by_id(1)
            .one(db)
            .await
            .expect("read")
            .expect("link");
        assert_eq!(link.provider, PaymentProvider::Stripe);
        assert_eq!(link.provider_session_id.as_deref(), Some("cs_test_1"));
    }

    #[tokio::test]
    async fn a_failing_api_is_reported_and_a_retry_reuses_the_idempotency_key() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(
                ResponseTemplate::new(500)
                    .set_body_json(serde_json::json!({"error": {"message": "boom"}})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(session_json("cs_test_2")))
            .mount(&server)
            .await;
        let stripe = Stripe::new(&server.uri(), "sk_test_123", "whsec_1").expect("client");
        let t = databases("easy_pay_stripe_fail").await.remove(0);
        let db = &t.conn;
        let a = account(db, "C-1", &[10_000]).await;
        let items = [item(a.invoices[0].id, "100")];
        let go = || {
            easy_pay::start_checkout(
                db,
                &stripe,
                PUBLIC_URL,
                a.payer,
                &items,
                PaymentChannel::Card,
                "v",
                fixtures::now(),
            )
        };
        let failed = go().await;
        assert!(
            matches!(failed, Err(AppError::Unavailable(_))),
            "{failed:?}"
        );
        assert_eq!(
            go().await.expect("retry"),
            "https://checkout.stripe.test/cs_test_2"
        );
        let requests = server.received_requests().await.unwrap_or_default();
        let keys: Vec<_> = requests
            .iter()
            .filter_map(|r| r.headers.get("idempotency-key").cloned())
            .collect();
        assert_eq!(keys.len(), 2);
        assert_eq!(
            keys[0], keys[1],
            "the retry carries the same idempotency key"
        );
        assert_eq!(
            payment_link::Entity::find().count(db).await.expect("count"),
            1
        );
    }

    #[tokio::test]
    async fn stripe_webhooks_verify_with_the_endpoint_secret() {
        let stripe =
            Stripe::new("http://127.0.0.1:9", "sk_test_123", "whsec_endpoint").expect("client");
        let t = databases("easy_pay_stripe_hook").await.remove(0);
        let db = &t.conn;
        let now = fixtures::now();
        let body = session_event(
            "evt_x",
            "checkout.session.completed",
            "cs_unknown",
            "paid",
            1,
            "USD",
            0,
        );
        let good = signature::sign(b"whsec_endpoint", now.timestamp(), &body);
        let got = record::receive(db, &stripe, PUBLIC_URL, Some(&good), &body, now).await;
        assert_eq!(
            got,
            Ok(Outcome::Ignored),
            "valid, but for no checkout of ours"
        );
        let bad = signature::sign(SECRET, now.timestamp(), &body);
        let got = record::receive(db, &stripe, PUBLIC_URL, Some(&bad), &body, now).await;
        assert_eq!(got, Err(WebhookError::Signature(SignatureError::Mismatch)));
        let _: Arc<dyn Provider> = Arc::new(stripe);
    }
}
