//! Webhooks: deliveries are queued only by committed changes, only for active endpoints
//! subscribed to the event, once per event; each cause queues its event; concurrent
//! claimers never share a delivery; deliveries to a real local HTTP server are signed and
//! recorded, failures retried with backoff until dead, and dead ones can be redelivered.

use app::entities::{payment, webhook_delivery};
use app::model::accounts::AccountField;
use app::model::disputes::Annotation;
use app::model::enums::*;
use app::model::payments::PayItem;
use app::services::disputes::{self, Resolution};
use app::services::easy_pay::event::session_event;
use app::services::easy_pay::sandbox::Sandbox;
use app::services::easy_pay::{self, Payer, record, signature};
use app::services::webhooks::{self, NewEndpoint};
use app::services::{accounts, outbox, promises};
use app::state::SecretKey;
use app::testing::{databases, file_sqlite, fixtures};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionTrait,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: SecretKey = SecretKey([9; 32]);
const PUBLIC_URL: &str = "https://billing.example.com";
const PAY_SECRET: &[u8] = b"sandbox-secret-for-webhook-tests";

async fn admin(db: &impl ConnectionTrait) -> i64 {
    app::services::staff::add(
        db,
        "ada@settle.test",
        "Ada Admin",
        StaffRole::Admin,
        "a long enough password",
        fixtures::now(),
    )
    .await
    .expect("staff")
    .id
}

async fn endpoint(
    db: &DatabaseConnection,
    staff: i64,
    url: &str,
    events: &[WebhookEventKind],
) -> app::model::webhooks::CreatedEndpoint {
    webhooks::create_endpoint(
        db,
        &KEY,
        staff,
        NewEndpoint {
            url: url.to_owned(),
            description: String::new(),
            events: events.to_vec(),
        },
        fixtures::now(),
    )
    .await
    .expect("create endpoint")
}

async fn deliveries(db: &impl ConnectionTrait) -> Vec<webhook_delivery::Model> {
    webhook_delivery::Entity::find()
        .order_by_asc(webhook_delivery::COLUMN.id)
        .all(db)
        .await
        .expect("read deliveries")
}

async fn events_queued(db: &impl ConnectionTrait) -> Vec<WebhookEventKind> {
    deliveries(db).await.into_iter().map(|d| d.event).collect()
}

#[tokio::test]
async fn a_rolled_back_change_queues_nothing_and_a_committed_one_queues_once() {
    for t in databases("webhooks_rollback").await {
        let db = &t.conn;
        let staff = admin(db).await;
        endpoint(
            db,
            staff,
            "https://erp.example.com/a",
            &[WebhookEventKind::PaymentReceived],
        )
        .await;
        let now = fixtures::now();

        let txn = db.begin().await.expect("begin");
        let queued = webhooks::enqueue(
            &txn,
            WebhookEventKind::PaymentReceived,
            "payment.received.1",
            json!({"payment_id": 1}),
            now,
        )
        .await
        .expect("enqueue");
        assert_eq!(queued, 1, "{}", t.backend);
        txn.rollback().await.expect("rollback");
        assert!(
            deliveries(db).await.is_empty(),
            "{}: rolled back",
            t.backend
        );

        let txn = db.begin().await.expect("begin");
        webhooks::enqueue(
            &txn,
            WebhookEventKind::PaymentReceived,
            "payment.received.1",
            json!({"payment_id": 1}),
            now,
        )
        .await
        .expect("enqueue");
        txn.commit().await.expect("commit");
        let again = webhooks::enqueue(
            db,
            WebhookEventKind::PaymentReceived,
            "payment.received.1",
            json!({"payment_id": 1}),
            now,
        )
        .await
        .expect("enqueue again");
        assert_eq!(again, 0, "{}: the same event id is a no-op", t.backend);
        let rows = deliveries(db).await;
        assert_eq!(rows.len(), 1, "{}", t.backend);
        let body: serde_json::Value = serde_json::from_str(&rows[0].payload).expect("json");
        assert_eq!(body["id"], "payment.received.1");
        assert_eq!(body["type"], "payment.received");
        assert_eq!(body["data"]["payment_id"], 1);
        assert_eq!(body["created_at"], "2026-11-23T09:00:00Z");
    }
}

#[tokio::test]
async fn only_active_endpoints_subscribed_to_the_event_get_a_delivery() {
    for t in databases("webhooks_subscribed").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        let pays = endpoint(
            db,
            staff,
            "https://erp.example.com/pay",
            &[WebhookEventKind::PaymentReceived],
        )
        .await;
        let both = endpoint(
            db,
            staff,
            "https://erp.example.com/both",
            &[
                WebhookEventKind::PaymentReceived,
                WebhookEventKind::DisputeOpened,
            ],
        )
        .await;
        let off = endpoint(
            db,
            staff,
            "https://erp.example.com/off",
            &[WebhookEventKind::PaymentReceived],
        )
        .await;
        webhooks::set_active(db, staff, off.endpoint.id, false, now)
            .await
            .expect("turn off");
        endpoint(
            db,
            staff,
            "https://erp.example.com/disputes",
            &[WebhookEventKind::DisputeOpened],
        )
        .await;

        webhooks::enqueue(db, WebhookEventKind::PaymentReceived, "p1", json!({}), now)
            .await
            .expect("enqueue");
        let mut got: Vec<i64> = deliveries(db).await.iter().map(|d| d.endpoint_id).collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![pays.endpoint.id, both.endpoint.id],
            "{}",
            t.backend
        );
    }
}

/// A customer with a contact and a three-line invoice; returns (account, contact, invoice, lines).
async fn customer(
    db: &impl ConnectionTrait,
) -> (i64, i64, app::entities::document::Model, Vec<i64>) {
    let acct = fixtures::customer(db, "C-7", "Seven Co").await;
    let who = fixtures::contact(db, acct.id, "Pat", "pat@seven.test").await;
    let (invoice, lines) = fixtures::invoice_with_lines(
        db,
        acct.id,
        "INV-7",
        &[("Bolts", 10_000, 500, 0), ("Hoist", 1_000, 10_000, 0)],
    )
    .await;
    (
        acct.id,
        who.id,
        invoice,
        lines.iter().map(|l| l.id).collect(),
    )
}

#[tokio::test]
async fn each_cause_queues_its_event_in_its_own_transaction() {
    for t in databases("webhooks_causes").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        endpoint(
            db,
            staff,
            "https://erp.example.com/all",
            &app::model::webhooks::ALL_EVENTS,
        )
        .await;
        let (account_id, contact_id, invoice, lines) = customer(db).await;
        let other = fixtures::invoice(db, account_id, "INV-8", 20_000).await;

        // Profile changed: a staff inline edit.
        accounts::save_account_field(
            db,
            staff,
            account_id,
            AccountField::DisplayName,
            "Seven Company",
            1,
            "Seven Co",
            now,
        )
        .await
        .expect("save");
        assert_eq!(
            events_queued(db).await,
            vec![WebhookEventKind::ProfileChanged],
            "{}",
            t.backend
        );

        // Promise made, then broken when its date passes unpaid.
        let promised = promises::record_promise(
            db,
            PUBLIC_URL,
            contact_id,
            account_id,
            &[other.id],
            20_000,
            now.date_naive() + Duration::days(3),
            None,
            now,
        )
        .await
        .expect("promise");
        promises::follow_up(db, PUBLIC_URL, now + Duration::days(4))
            .await
            .expect("follow up");

        // Dispute opened, then resolved.
        let d = disputes::submit(
            db,
            PUBLIC_URL,
            contact_id,
            account_id,
            invoice.id,
            &[Annotation {
                line_id: lines[1],
                reason: DisputeReason::NotReceived,
                quantity: "1".to_owned(),
                amount: String::new(),
                note: String::new(),
            }],
            &[],
            now,
        )
        .await
        .expect("dispute");
        disputes::resolve(
            db,
            PUBLIC_URL,
            staff,
            d.id,
            d.version,
            Resolution::Accept,
            now,
        )
        .await
        .expect("resolve");

        // Payment received through Easy Pay's sandbox and its signed provider event.
        let sandbox = Sandbox::new(PAY_SECRET.to_vec(), PUBLIC_URL);
        let url = easy_pay::start_checkout(
            db,
            &sandbox,
            PUBLIC_URL,
            Payer {
                account_id,
                contact_id,
                only_document: None,
            },
            &[PayItem {
                document_id: other.id,
                amount: "200.00".to_owned(),
            }],
            PaymentChannel::Card,
            "webhooks-1",
            now,
        )
        .await
        .expect("checkout");
        let session = url.rsplit('/').next().unwrap_or_default();
        let body = session_event(
            "evt_w1",
            "checkout.session.completed",
            session,
            "paid",
            20_000,
            "USD",
            now.timestamp(),
        );
        let header = signature::sign(PAY_SECRET, now.timestamp(), &body);
        let outcome = record::receive(db, &sandbox, PUBLIC_URL, Some(&header), &body, now).await;
        assert_eq!(outcome, Ok(record::Outcome::Paid), "{}", t.backend);

        assert_eq!(
            events_queued(db).await,
            vec![
                WebhookEventKind::ProfileChanged,
                WebhookEventKind::PromiseMade,
                WebhookEventKind::PromiseBroken,
                WebhookEventKind::DisputeOpened,
                WebhookEventKind::DisputeResolved,
                WebhookEventKind::PaymentReceived,
            ],
            "{}",
            t.backend
        );
        let rows = deliveries(db).await;
        let data = |i: usize| -> serde_json::Value {
            serde_json::from_str::<serde_json::Value>(&rows[i].payload).expect("json")["data"]
                .clone()
        };
        assert_eq!(data(0)["account_number"], "C-7");
        assert_eq!(data(0)["field"], "display_name");
        assert_eq!(data(1)["promise_id"], promised.id);
        assert_eq!(data(2)["status"], "broken");
        assert_eq!(data(3)["dispute_id"], d.id);
        assert_eq!(data(4)["status"], "credited");
        assert_eq!(data(4)["credited_minor"], 10_000);
        let paid = payment::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("payment");
        assert_eq!(rows[5].event_id, format!("payment.received.{}", paid.id));
        assert_eq!(data(5)["amount_minor"], 20_000);
        assert_eq!(data(5)["currency"], "USD");
        assert_eq!(data(5)["applied"][0]["document_number"], "INV-8");
    }
}

#[tokio::test]
async fn a_cause_that_fails_after_queueing_queues_nothing() {
    for t in databases("webhooks_failed_cause").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        endpoint(
            db,
            staff,
            "https://erp.example.com/all",
            &app::model::webhooks::ALL_EVENTS,
        )
        .await;
        let (account_id, contact_id, _, _) = customer(db).await;
        let open = fixtures::invoice(db, account_id, "INV-9", 10_000).await;
        // The confirmation email is queued after the event: a contact without an address
        // makes it fail, and the whole promise rolls back.
        app::entities::contact::ActiveModel {
            id: sea_orm::ActiveValue::Unchanged(contact_id),
            email: sea_orm::ActiveValue::Set(None),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("remove the address");
        let refused = promises::record_promise(
            db,
            PUBLIC_URL,
            contact_id,
            account_id,
            &[open.id],
            10_000,
            now.date_naive() + Duration::days(3),
            None,
            now,
        )
        .await;
        assert!(
            matches!(refused, Err(app::error::AppError::Validation { .. })),
            "{}: {refused:?}",
            t.backend
        );
        assert_eq!(
            app::entities::promise::Entity::find()
                .count(db)
                .await
                .expect("count"),
            0,
            "{}",
            t.backend
        );
        assert!(deliveries(db).await.is_empty(), "{}", t.backend);
    }
}

/// Claims from two connections at once, `rounds` times, and checks no delivery is claimed
/// twice while every one is claimed once.
async fn claim_concurrently(a: &DatabaseConnection, b: &DatabaseConnection, label: &str) {
    let staff = admin(a).await;
    let now = fixtures::now();
    endpoint(
        a,
        staff,
        "https://erp.example.com/c",
        &[WebhookEventKind::PaymentReceived],
    )
    .await;
    for i in 0..60 {
        webhooks::enqueue(
            a,
            WebhookEventKind::PaymentReceived,
            &format!("e{i}"),
            json!({}),
            now,
        )
        .await
        .expect("enqueue");
    }
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..60 {
        let (x, y) = tokio::join!(
            webhooks::claim_due(a, now, 7),
            webhooks::claim_due(b, now, 7)
        );
        let (x, y) = (x.expect("claim a"), y.expect("claim b"));
        if x.is_empty() && y.is_empty() {
            break;
        }
        for row in x.into_iter().chain(y) {
            assert!(
                seen.insert(row.id),
                "{label}: delivery {} claimed twice",
                row.id
            );
            assert_eq!(row.claimed_until, Some(now + webhooks::LEASE), "{label}");
        }
    }
    assert_eq!(seen.len(), 60, "{label}: every delivery claimed once");
    let rest = webhooks::claim_due(a, now, 100).await.expect("claim");
    assert!(rest.is_empty(), "{label}: every delivery is under a lease");
    let after_lease = webhooks::claim_due(a, now + webhooks::LEASE, 100)
        .await
        .expect("claim");
    assert_eq!(after_lease.len(), 60, "{label}: leases pass");
}

#[tokio::test]
async fn concurrent_claims_never_share_a_delivery() {
    for t in databases("webhooks_claims").await {
        if t.backend == "postgres" {
            claim_concurrently(&t.conn, &t.conn, "postgres").await;
        }
    }
    let dir = std::env::temp_dir().join(format!("settle-webhooks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("claims.sqlite");
    let _ = std::fs::remove_file(&file);
    let a = file_sqlite(&file).await;
    let b = app::db::connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .expect("second connection");
    claim_concurrently(&a, &b, "sqlite file").await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_signature_matches_a_known_vector() {
    // python3 -c "import hmac,hashlib;print(hmac.new(b'whsec_test',b'1700000000.{\"a\":1}',hashlib.sha256).hexdigest())"
    assert_eq!(
        webhooks::sign("whsec_test", 1_700_000_000, br#"{"a":1}"#),
        "v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
    );
    assert_ne!(
        webhooks::sign("whsec_test", 1_700_000_001, br#"{"a":1}"#),
        webhooks::sign("whsec_test", 1_700_000_000, br#"{"a":1}"#)
    );
}

#[tokio::test]
async fn a_delivery_is_signed_posted_and_recorded() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks"))
        .respond_with(ResponseTemplate::new(202).set_body_string("accepted"))
        .mount(&server)
        .await;
    for t in databases("webhooks_deliver_ok").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        let created = endpoint(
            db,
            staff,
            &format!("{}/hooks", server.uri()),
            &[WebhookEventKind::PromiseMade],
        )
        .await;
        webhooks::enqueue(
            db,
            WebhookEventKind::PromiseMade,
            "promise.made.5",
            json!({"promise_id": 5}),
            now,
        )
        .await
        .expect("enqueue");
        let client = webhooks::http_client().expect("client");
        let report = webhooks::deliver_due(db, &KEY, &client, &|| now, 10)
            .await
            .expect("deliver");
        assert_eq!((report.claimed, report.delivered), (1, 1), "{}", t.backend);
        let row = &deliveries(db).await[0];
        assert_eq!(row.status, DeliveryStatus::Delivered, "{}", t.backend);
        assert_eq!(row.last_status_code, Some(202));
        assert_eq!(row.last_response.as_deref(), Some("accepted"));
        assert_eq!((row.attempts, row.delivered_at), (1, Some(now)));

        let requests = server.received_requests().await.unwrap_or_default();
        let request = requests.last().expect("a request arrived");
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(header("settle-webhook-id"), "promise.made.5");
        assert_eq!(
            header("settle-webhook-timestamp"),
            now.timestamp().to_string()
        );
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(request.body, row.payload.as_bytes());
        assert_eq!(
            header("settle-webhook-signature"),
            webhooks::sign(&created.secret, now.timestamp(), &request.body),
            "{}: signed with the secret shown once",
            t.backend
        );
        assert!(
            webhooks::claim_due(db, now + Duration::days(1), 10)
                .await
                .expect("claim")
                .is_empty(),
            "delivered is done"
        );
    }
}

#[tokio::test]
async fn a_failing_receiver_is_retried_with_backoff_until_dead_then_redelivered() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/down"))
        .respond_with(
            ResponseTemplate::new(500).set_body_string(format!("boom {}", "x".repeat(5000))),
        )
        .mount(&server)
        .await;
    for t in databases("webhooks_retry").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let mut now = fixtures::now();
        endpoint(
            db,
            staff,
            &format!("{}/down", server.uri()),
            &[WebhookEventKind::DisputeOpened],
        )
        .await;
        webhooks::enqueue(
            db,
            WebhookEventKind::DisputeOpened,
            "dispute.opened.1",
            json!({}),
            now,
        )
        .await
        .expect("enqueue");
        let client = webhooks::http_client().expect("client");
        for attempt in 1..=webhooks::MAX_ATTEMPTS {
            let claimed = webhooks::claim_due(db, now, 10).await.expect("claim");
            assert_eq!(claimed.len(), 1, "{}: attempt {attempt} is due", t.backend);
            let row = webhooks::deliver(db, &KEY, &client, &claimed[0], now)
                .await
                .expect("recorded");
            assert_eq!(row.attempts, attempt);
            assert_eq!(row.last_status_code, Some(500));
            let excerpt = row.last_response.clone().unwrap_or_default();
            assert!(excerpt.starts_with("boom x"), "{excerpt}");
            assert_eq!(excerpt.len(), webhooks::RESPONSE_EXCERPT_BYTES);
            assert!(
                row.last_error
                    .as_deref()
                    .unwrap_or_default()
                    .contains("500")
            );
            if attempt < webhooks::MAX_ATTEMPTS {
                assert_eq!(row.status, DeliveryStatus::Pending, "{}", t.backend);
                let wait = outbox::backoff(attempt);
                assert_eq!(row.next_attempt_at, now + wait);
                assert!(
                    webhooks::claim_due(db, now + wait - Duration::seconds(1), 10)
                        .await
                        .expect("claim")
                        .is_empty(),
                    "{}: not due before its backoff",
                    t.backend
                );
                now += wait;
            } else {
                assert_eq!(row.status, DeliveryStatus::Dead, "{}", t.backend);
            }
        }
        let stored = &deliveries(db).await[0];
        assert_eq!(
            (stored.status, stored.attempts),
            (DeliveryStatus::Dead, webhooks::MAX_ATTEMPTS)
        );
        assert!(
            webhooks::claim_due(db, now + Duration::days(30), 10)
                .await
                .expect("claim")
                .is_empty(),
            "{}: dead is not retried",
            t.backend
        );

        let later = now + Duration::hours(1);
        let again = webhooks::redeliver(db, staff, stored.id, later)
            .await
            .expect("redeliver");
        assert_eq!(
            (again.status, again.attempts, again.next_attempt_at),
            (DeliveryStatus::Pending, 0, later)
        );
        assert_eq!(
            webhooks::claim_due(db, later, 10)
                .await
                .expect("claim")
                .len(),
            1,
            "{}",
            t.backend
        );
        let not_dead = webhooks::redeliver(db, staff, stored.id, later).await;
        assert!(
            not_dead.is_err(),
            "{}: a pending delivery is not redelivered",
            t.backend
        );
    }
}

#[tokio::test]
async fn an_unreachable_receiver_records_the_error_and_retries() {
    // A port nothing listens on: bind, note the address, close.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    for t in databases("webhooks_unreachable").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        endpoint(
            db,
            staff,
            &format!("http://{addr}/x"),
            &[WebhookEventKind::PaymentReceived],
        )
        .await;
        webhooks::enqueue(
            db,
            WebhookEventKind::PaymentReceived,
            "payment.received.9",
            json!({}),
            now,
        )
        .await
        .expect("enqueue");
        let client = webhooks::http_client().expect("client");
        let report = webhooks::deliver_due(db, &KEY, &client, &|| now, 10)
            .await
            .expect("deliver");
        assert_eq!((report.claimed, report.retrying), (1, 1), "{}", t.backend);
        let row = &deliveries(db).await[0];
        assert_eq!(
            (row.status, row.last_status_code),
            (DeliveryStatus::Pending, None)
        );
        assert!(
            row.last_error
                .as_deref()
                .unwrap_or_default()
                .contains("could not connect"),
            "{:?}",
            row.last_error
        );
        assert_eq!(row.next_attempt_at, now + outbox::backoff(1));
    }
}

#[tokio::test]
async fn endpoints_refuse_bad_urls_and_keep_their_secret_sealed() {
    for t in databases("webhooks_endpoints").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        for bad in ["http://erp.example.com/x", "ftp://x", "https://"] {
            let err = webhooks::create_endpoint(
                db,
                &KEY,
                staff,
                NewEndpoint {
                    url: bad.to_owned(),
                    description: String::new(),
                    events: vec![WebhookEventKind::PaymentReceived],
                },
                now,
            )
            .await;
            assert!(
                matches!(&err, Err(app::error::AppError::Validation { field, .. }) if field == "url"),
                "{bad}: {err:?}"
            );
        }
        let none = webhooks::create_endpoint(
            db,
            &KEY,
            staff,
            NewEndpoint {
                url: "https://erp.example.com/x".to_owned(),
                description: String::new(),
                events: vec![],
            },
            now,
        )
        .await;
        assert!(none.is_err(), "an endpoint needs an event");
        let created = endpoint(
            db,
            staff,
            "https://erp.example.com/x",
            &[WebhookEventKind::PaymentReceived],
        )
        .await;
        let row = app::entities::webhook_endpoint::Entity::find_by_id(created.endpoint.id)
            .one(db)
            .await
            .expect("read")
            .expect("endpoint");
        assert!(!row.secret_encrypted.contains(&created.secret));
        assert_eq!(
            app::services::crypto::open(&KEY, &row.secret_encrypted).expect("opens"),
            created.secret.as_bytes()
        );
        let rotated = webhooks::rotate_secret(db, &KEY, staff, created.endpoint.id, now)
            .await
            .expect("rotate");
        assert_ne!(rotated.secret, created.secret);
        let audited = app::entities::audit_event::Entity::find()
            .filter(
                app::entities::audit_event::COLUMN
                    .entity
                    .eq("webhook_endpoint"),
            )
            .count(db)
            .await
            .expect("count");
        assert_eq!(audited, 2, "{}: created and rotated", t.backend);
        webhooks::delete_endpoint(db, staff, created.endpoint.id, now)
            .await
            .expect("delete");
        assert!(webhooks::list_endpoints(db).await.expect("list").is_empty());
    }
}

#[tokio::test]
async fn an_approved_sensitive_change_queues_profile_changed_and_a_rejected_one_does_not() {
    use app::entities::outbox_email;
    use app::model::profile::SensitiveChange;
    use app::services::profile;
    for t in databases("webhooks_profile_decide").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        endpoint(
            db,
            staff,
            "https://erp.example.com/p",
            &[WebhookEventKind::ProfileChanged],
        )
        .await;
        let (account_id, contact_id, _, _) = customer(db).await;
        let mut decided = Vec::new();
        for (approve, tin) in [(false, "12-3456789"), (true, "98-7654321")] {
            let id = profile::request_change(
                db,
                &KEY,
                PUBLIC_URL,
                contact_id,
                account_id,
                &SensitiveChange::Tin(tin.into()),
                now,
            )
            .await
            .expect("request");
            let mail = outbox_email::Entity::find()
                .filter(outbox_email::COLUMN.template_key.eq(profile::CODE_TEMPLATE))
                .order_by_desc(outbox_email::COLUMN.id)
                .one(db)
                .await
                .expect("read")
                .expect("code mail");
            let code = mail
                .body_text
                .split(|c: char| !c.is_ascii_digit())
                .find(|w| w.len() == 6)
                .unwrap_or_default()
                .to_owned();
            profile::confirm(db, PUBLIC_URL, contact_id, id, &code, now)
                .await
                .expect("confirm");
            profile::decide(db, &KEY, PUBLIC_URL, staff, id, approve, "not ours", now)
                .await
                .expect("decide");
            decided.push(deliveries(db).await.len());
        }
        assert_eq!(
            decided,
            vec![0, 1],
            "{}: only the approval is an event",
            t.backend
        );
        let body: serde_json::Value =
            serde_json::from_str(&deliveries(db).await[0].payload).expect("json");
        assert_eq!(body["type"], "profile.changed");
        assert_eq!(body["data"]["entity"], "profile_change");
        assert_eq!(body["data"]["field"], "tin");
        assert_eq!(body["data"]["account_number"], "C-7");
        assert!(
            !body.to_string().contains("7654321"),
            "no value in the event"
        );
    }
}

#[tokio::test]
async fn a_customers_own_profile_edit_queues_profile_changed_per_changed_field() {
    use app::services::profile;
    for t in databases("webhooks_profile_own_edit").await {
        let db = &t.conn;
        let staff = admin(db).await;
        let now = fixtures::now();
        endpoint(
            db,
            staff,
            "https://erp.example.com/p",
            &[WebhookEventKind::ProfileChanged],
        )
        .await;
        let (account_id, contact_id, _, _) = customer(db).await;
        let current = profile::profile(db, account_id).await.expect("profile");
        let website = "https://new.example.com";
        profile::update_company(
            db,
            contact_id,
            account_id,
            &current.legal_name,
            &current.display_name,
            website,
            now,
        )
        .await
        .expect("save");
        let queued = deliveries(db).await;
        assert_eq!(queued.len(), 1, "{}: one field changed", t.backend);
        let body: serde_json::Value = serde_json::from_str(&queued[0].payload).expect("json");
        assert_eq!(body["data"]["field"], "website");
        assert_eq!(body["data"]["channel"], "portal");
        // Saving the same values again is no change and no event.
        profile::update_company(
            db,
            contact_id,
            account_id,
            &current.legal_name,
            &current.display_name,
            website,
            now,
        )
        .await
        .expect("save again");
        assert_eq!(deliveries(db).await.len(), 1, "{}", t.backend);
    }
}
