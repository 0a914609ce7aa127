//! The REST API over HTTP: keys and scopes, pagination, every resource, ERP writes,
//! problem details, the rate limit, the change feed and the OpenAPI document.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use app::entities::{api_key, audit_event, document};
use app::model::enums::{ActorKind, ApiScope, Channel};
use app::services::audit::{self, Change};
use app::services::{api_keys, demo};
use app::state::{Clock, FixedClock};
use app::testing::{databases, fixtures};
use axum::body::Body;
use chrono::Duration;
use http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use sea_orm::{
    DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait, prelude::*,
};
use serde_json::{Value, json};
use tower::ServiceExt;

use common::{PUBLIC_URL, SANDBOX_SECRET, now};

/// The app's router with a clock the test moves.
struct Api {
    router: axum::Router,
    clock: Arc<FixedClock>,
}

impl Api {
    fn new(db: &DatabaseConnection) -> Api {
        let clock = Arc::new(FixedClock::at(now()));
        let options = LeptosOptions::builder()
            .output_name("settle")
            .site_root("target/site")
            .build();
        let state = server::web::state(
            db.clone(),
            options,
            clock.clone(),
            PUBLIC_URL,
            Arc::new(app::services::easy_pay::sandbox::Sandbox::new(
                SANDBOX_SECRET.to_vec(),
                PUBLIC_URL,
            )),
        );
        Api {
            router: server::web::router(state),
            clock,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, http::HeaderMap, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(key) = key {
            req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("response");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, value)
    }

    async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.call(Method::GET, path, Some(key), None).await;
        (status, body)
    }

    async fn post(&self, path: &str, key: &str, body: &Value) -> (StatusCode, Value) {
        let (status, _, body) = self.call(Method::POST, path, Some(key), Some(body)).await;
        (status, body)
    }
}

async fn key(db: &DatabaseConnection, scope: ApiScope) -> String {
    api_keys::create(db, "test connector", scope, None, now())
        .await
        .expect("create key")
        .1
}

fn content_type(headers: &http::HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Asserts an RFC 9457 problem with this status.
fn assert_problem(status: StatusCode, headers: &http::HeaderMap, body: &Value, want: StatusCode) {
    assert_eq!(status, want, "{body}");
    assert_eq!(content_type(headers), "application/problem+json", "{body}");
    assert_eq!(
        body["status"].as_u64(),
        Some(u64::from(want.as_u16())),
        "{body}"
    );
    assert!(
        body["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("https://")),
        "{body}"
    );
    assert!(
        body["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn keys_are_checked_scoped_revocable_and_record_their_use() {
    for t in databases("api_v1_keys").await {
        let db = &t.conn;
        let api = Api::new(db);
        let reader = key(db, ApiScope::Read).await;
        let writer = key(db, ApiScope::ReadWrite).await;

        let (status, headers, body) = api.call(Method::GET, "/api/v1/accounts", None, None).await;
        assert_problem(status, &headers, &body, StatusCode::UNAUTHORIZED);
        let (status, headers, body) = api
            .call(
                Method::GET,
                "/api/v1/accounts",
                Some("settle_not-a-real-key"),
                None,
            )
            .await;
        assert_problem(status, &headers, &body, StatusCode::UNAUTHORIZED);

        let (status, body) = api.get("/api/v1/accounts", &reader).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", t.backend);

        let invoice = json!({"external_id": "X", "account_number": "nobody", "number": "1",
            "issue_date": "2026-11-01", "currency": "USD",
            "lines": [{"description": "d", "quantity_milli": 1000, "unit_price_minor": 100}]});
        let (status, headers, body) = api
            .call(
                Method::POST,
                "/api/v1/documents",
                Some(&reader),
                Some(&invoice),
            )
            .await;
        assert_problem(status, &headers, &body, StatusCode::FORBIDDEN);
        let (status, body) = api.post("/api/v1/documents", &writer, &invoice).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["field"], "account_number");

        let stored = api_key::Entity::find()
            .filter(
                api_key::COLUMN
                    .secret_hash
                    .eq(app::services::tokens::hash_token(&reader)),
            )
            .one(db)
            .await
            .expect("read")
            .expect("the key");
        assert_eq!(stored.last_used_at, Some(now()), "{}", t.backend);
        assert!(stored.prefix.starts_with("settle_") && reader.starts_with(&stored.prefix));
        assert_ne!(stored.secret_hash, reader, "only the hash is stored");

        api.clock.advance(Duration::seconds(30));
        api.get("/api/v1/accounts", &reader).await;
        let seen = api_key::Entity::find_by_id(stored.id)
            .one(db)
            .await
            .expect("read")
            .expect("key");
        assert_eq!(
            seen.last_used_at,
            Some(now()),
            "not rewritten within a minute"
        );
        api.clock.advance(Duration::seconds(31));
        api.get("/api/v1/accounts", &reader).await;
        let seen = api_key::Entity::find_by_id(stored.id)
            .one(db)
            .await
            .expect("read")
            .expect("key");
        assert_eq!(seen.last_used_at, Some(now() + Duration::seconds(61)));

        api_keys::revoke(db, stored.id, None, api.clock.now())
            .await
            .expect("revoke");
        let (status, headers, body) = api
            .call(Method::GET, "/api/v1/accounts", Some(&reader), None)
            .await;
        assert_problem(status, &headers, &body, StatusCode::UNAUTHORIZED);
        let (status, _) = api.get("/api/v1/accounts", &writer).await;
        assert_eq!(status, StatusCode::OK, "other keys still work");
    }
}

#[tokio::test]
async fn lists_page_by_cursor_without_gaps_or_duplicates() {
    for t in databases("api_v1_pages").await {
        let db = &t.conn;
        let api = Api::new(db);
        let k = key(db, ApiScope::Read).await;
        for i in 0..123 {
            fixtures::customer(db, &format!("C-{i:03}"), &format!("Customer {i}")).await;
        }

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/accounts?limit=50&cursor={c}"),
                None => "/api/v1/accounts?limit=50".to_owned(),
            };
            let (status, body) = api.get(&path, &k).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            pages += 1;
            let data = body["data"].as_array().expect("data");
            assert!(data.len() <= 50);
            seen.extend(data.iter().map(|a| a["id"].as_i64().expect("id")));
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(pages, 3, "{}", t.backend);
        assert_eq!(seen.len(), 123);
        assert!(
            seen.windows(2).all(|w| w[0] < w[1]),
            "ascending, no duplicate"
        );
        let all: Vec<i64> = app::entities::account::Entity::find()
            .all(db)
            .await
            .expect("accounts")
            .iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(
            seen.iter().copied().collect::<BTreeSet<_>>(),
            all.into_iter().collect()
        );

        let (status, body) = api.get("/api/v1/accounts?q=customer%2012", &k).await;
        assert_eq!(status, StatusCode::OK);
        let names: Vec<&str> = body["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|a| a["display_name"].as_str())
            .collect();
        assert_eq!(
            names,
            [
                "Customer 12",
                "Customer 120",
                "Customer 121",
                "Customer 122"
            ]
        );

        for bad in [
            "limit=0",
            "limit=201",
            "limit=x",
            "cursor=nonsense",
            "status=sleepy",
        ] {
            let (status, headers, body) = api
                .call(
                    Method::GET,
                    &format!("/api/v1/accounts?{bad}"),
                    Some(&k),
                    None,
                )
                .await;
            assert_problem(status, &headers, &body, StatusCode::BAD_REQUEST);
        }
    }
}

#[tokio::test]
async fn every_resource_lists_and_gets_the_demo_data() {
    for t in databases("api_v1_resources").await {
        let db = &t.conn;
        demo::load(db, now()).await.expect("demo");
        let api = Api::new(db);
        let k = key(db, ApiScope::Read).await;
        for resource in ["accounts", "documents", "payments", "promises", "disputes"] {
            let (status, body) = api.get(&format!("/api/v1/{resource}?limit=200"), &k).await;
            assert_eq!(status, StatusCode::OK, "{}: {resource}: {body}", t.backend);
            let first = body["data"][0].clone();
            let id = first["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("{resource}: {body}"));
            let (status, one) = api.get(&format!("/api/v1/{resource}/{id}"), &k).await;
            assert_eq!(status, StatusCode::OK, "{resource}");
            assert_eq!(one, first, "{resource}: get matches the list");
            let (status, headers, body) = api
                .call(
                    Method::GET,
                    &format!("/api/v1/{resource}/999999999"),
                    Some(&k),
                    None,
                )
                .await;
            assert_problem(status, &headers, &body, StatusCode::NOT_FOUND);
        }

        let (_, accounts) = api.get("/api/v1/accounts?limit=200", &k).await;
        let acme = accounts["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|a| {
                a["contacts"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["email"] == demo::DEMO_CONTACT_EMAIL))
            })
            .expect("the demo contact's account")
            .clone();
        assert!(!acme["addresses"].as_array().expect("addresses").is_empty());
        let account_id = acme["id"].as_i64().expect("id");
        let (_, docs) = api
            .get(
                &format!("/api/v1/documents?account_id={account_id}&kind=invoice&limit=200"),
                &k,
            )
            .await;
        let docs = docs["data"].as_array().expect("data");
        let stored = document::Entity::find()
            .filter(document::COLUMN.account_id.eq(account_id))
            .filter(
                document::COLUMN
                    .kind
                    .eq(app::model::enums::DocumentKind::Invoice),
            )
            .count(db)
            .await
            .expect("count");
        assert_eq!(docs.len() as u64, stored);
        let with_lines = docs
            .iter()
            .find(|d| !d["lines"].as_array().expect("lines").is_empty())
            .expect("an invoice with lines");
        let lines_total: i64 = with_lines["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| l["amount_minor"].as_i64().unwrap_or(0) + l["tax_minor"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(with_lines["total_minor"].as_i64(), Some(lines_total));
        assert!(
            with_lines["issue_date"]
                .as_str()
                .is_some_and(|d| d.len() == 10)
        );
    }
}

fn invoice(external_id: &str, number: &str, lines: Value) -> Value {
    json!({
        "external_id": external_id,
        "account_number": "C-1",
        "number": number,
        "po_number": "PO-7",
        "issue_date": "2026-11-01",
        "due_date": "2026-12-01",
        "currency": "USD",
        "lines": lines,
    })
}

async fn api_events(db: &DatabaseConnection) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::COLUMN.channel.eq(Channel::Api))
        .count(db)
        .await
        .expect("count")
}

#[tokio::test]
async fn invoices_are_created_updated_and_reposted_idempotently() {
    for t in databases("api_v1_invoices").await {
        let db = &t.conn;
        fixtures::customer(db, "C-1", "Acme").await;
        let api = Api::new(db);
        let k = key(db, ApiScope::ReadWrite).await;
        let lines = json!([
            {"sku": "A", "description": "Widgets", "quantity_milli": 2500, "unit_price_minor": 1000, "tax_minor": 200},
            {"description": "Freight", "quantity_milli": 1000, "unit_price_minor": 750}
        ]);
        let body = invoice("erp-1", "INV-1", lines.clone());

        let (status, created) = api.post("/api/v1/documents", &k, &body).await;
        assert_eq!(status, StatusCode::CREATED, "{}: {created}", t.backend);
        assert_eq!(
            created["total_minor"],
            2500 + 200 + 750,
            "totals from the lines"
        );
        assert_eq!(created["tax_minor"], 200);
        assert_eq!(created["open_minor"], 3450);
        assert_eq!(created["status"], "open");
        assert_eq!(created["lines"][0]["amount_minor"], 2500);
        let events = api_events(db).await;
        assert_eq!(events, 1, "creation is audited with channel api");

        let (status, again) = api.post("/api/v1/documents", &k, &body).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(again["id"], created["id"]);
        assert_eq!(
            again["updated_at"], created["updated_at"],
            "nothing changed"
        );
        assert_eq!(
            api_events(db).await,
            events,
            "a repost writes no audit event"
        );

        api.clock.advance(Duration::hours(1));
        let changed = invoice(
            "erp-1",
            "INV-1",
            json!([{"sku": "A", "description": "Widgets", "quantity_milli": 3000, "unit_price_minor": 1000, "tax_minor": 200}]),
        );
        let (status, updated) = api.post("/api/v1/documents", &k, &changed).await;
        assert_eq!(status, StatusCode::OK, "{updated}");
        assert_eq!(updated["id"], created["id"]);
        assert_eq!(updated["total_minor"], 3200);
        assert_eq!(updated["open_minor"], 3200);
        assert_eq!(updated["lines"].as_array().map(Vec::len), Some(1));
        let total_event = audit_event::Entity::find()
            .filter(audit_event::COLUMN.field.eq("total_minor"))
            .one(db)
            .await
            .expect("read")
            .expect("the total's change is audited");
        assert_eq!(total_event.channel, Channel::Api);
        assert_eq!(total_event.actor_kind, ActorKind::Api);
        assert_eq!(total_event.old_value.as_deref(), Some("3450"));
        assert_eq!(total_event.new_value.as_deref(), Some("3200"));

        let (status, body) = api
            .post(
                "/api/v1/documents",
                &k,
                &invoice("erp-2", "INV-1", lines.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "the number is taken: {body}");
        for (bad, field) in [
            (
                json!([{"description": "x", "quantity_milli": -1, "unit_price_minor": 1}]),
                "lines[0].quantity_milli",
            ),
            (json!([]), "lines"),
            (
                json!([{"description": " ", "quantity_milli": 1, "unit_price_minor": 1}]),
                "lines[0].description",
            ),
        ] {
            let (status, headers, body) = api
                .call(
                    Method::POST,
                    "/api/v1/documents",
                    Some(&k),
                    Some(&invoice("erp-3", "INV-3", bad)),
                )
                .await;
            assert_problem(status, &headers, &body, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(body["field"], field, "{body}");
        }
        let mut late = invoice("erp-3", "INV-3", lines.clone());
        late["due_date"] = json!("2026-10-01");
        let (status, body) = api.post("/api/v1/documents", &k, &late).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("due_date"))
        );
        let mut nul = invoice("erp-3", "INV-3", lines);
        nul["number"] = json!("IN\u{0}V");
        let (status, body) = api.post("/api/v1/documents", &k, &nul).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("number"))
        );
    }
}

#[tokio::test]
async fn payments_apply_to_invoices_and_repost_idempotently() {
    for t in databases("api_v1_payments").await {
        let db = &t.conn;
        fixtures::customer(db, "C-1", "Acme").await;
        let api = Api::new(db);
        let k = key(db, ApiScope::ReadWrite).await;
        let one_line = |price: i64| json!([{"description": "Work", "quantity_milli": 1000, "unit_price_minor": price}]);
        let (_, a) = api
            .post(
                "/api/v1/documents",
                &k,
                &invoice("erp-a", "INV-A", one_line(10_000)),
            )
            .await;
        let (_, b) = api
            .post(
                "/api/v1/documents",
                &k,
                &invoice("erp-b", "INV-B", one_line(5_000)),
            )
            .await;
        let payment = json!({
            "external_id": "pay-1",
            "account_number": "C-1",
            "amount_minor": 14_000,
            "currency": "USD",
            "method": "check",
            "received_at": "2026-11-20T10:00:00Z",
            "reference": "CHK 1001",
            "applications": [
                {"document_number": "INV-A", "amount_minor": 10_000},
                {"document_number": "INV-B", "amount_minor": 3_000}
            ]
        });

        let (status, created) = api.post("/api/v1/payments", &k, &payment).await;
        assert_eq!(status, StatusCode::CREATED, "{}: {created}", t.backend);
        assert_eq!(created["provider"], "erp");
        assert_eq!(
            created["unapplied_minor"], 1_000,
            "what no invoice took stays as credit"
        );
        assert_eq!(created["applications"].as_array().map(Vec::len), Some(2));
        let (_, a_now) = api.get(&format!("/api/v1/documents/{}", a["id"]), &k).await;
        assert_eq!(
            (a_now["open_minor"].as_i64(), a_now["status"].as_str()),
            (Some(0), Some("paid"))
        );
        let (_, b_now) = api.get(&format!("/api/v1/documents/{}", b["id"]), &k).await;
        assert_eq!(
            (b_now["open_minor"].as_i64(), b_now["status"].as_str()),
            (Some(2_000), Some("open"))
        );
        let events = api_events(db).await;

        let (status, again) = api.post("/api/v1/payments", &k, &payment).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(again, created, "the same payment, applied once");
        let (_, b_again) = api.get(&format!("/api/v1/documents/{}", b["id"]), &k).await;
        assert_eq!(b_again["open_minor"], 2_000);
        assert_eq!(api_events(db).await, events);

        let mut different = payment.clone();
        different["amount_minor"] = json!(15_000);
        let (status, headers, body) = api
            .call(Method::POST, "/api/v1/payments", Some(&k), Some(&different))
            .await;
        assert_problem(status, &headers, &body, StatusCode::CONFLICT);

        let mut over = payment.clone();
        over["external_id"] = json!("pay-2");
        over["amount_minor"] = json!(100);
        let (status, body) = api.post("/api/v1/payments", &k, &over).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("applications"))
        );
        let mut unknown = payment.clone();
        unknown["external_id"] = json!("pay-3");
        unknown["applications"] = json!([{"document_number": "INV-Z", "amount_minor": 1}]);
        let (status, body) = api.post("/api/v1/payments", &k, &unknown).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("applications[0].document_number")
            )
        );
        let (_, list) = api.get("/api/v1/payments?external_id=pay-3", &k).await;
        assert_eq!(
            list["data"],
            json!([]),
            "a refused payment leaves nothing behind"
        );
    }
}

#[tokio::test]
async fn errors_are_problem_details_and_unknown_paths_are_the_apis_own_404() {
    for t in databases("api_v1_problems").await {
        let db = &t.conn;
        let api = Api::new(db);
        let k = key(db, ApiScope::ReadWrite).await;

        let (status, headers, body) = api
            .call(Method::GET, "/api/v1/nothing-here", Some(&k), None)
            .await;
        assert_problem(status, &headers, &body, StatusCode::NOT_FOUND);
        let (status, headers, body) = api
            .call(Method::DELETE, "/api/v1/accounts", Some(&k), None)
            .await;
        assert_problem(status, &headers, &body, StatusCode::METHOD_NOT_ALLOWED);
        let (status, headers, body) = api
            .call(Method::GET, "/api/v1/accounts/abc", Some(&k), None)
            .await;
        assert_problem(status, &headers, &body, StatusCode::BAD_REQUEST);

        let req = Request::post("/api/v1/documents")
            .header(header::AUTHORIZATION, format!("Bearer {k}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{not json"))
            .expect("request");
        let res = api.router.clone().oneshot(req).await.expect("response");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(content_type(res.headers()), "application/problem+json");
        let req = Request::post("/api/v1/documents")
            .header(header::AUTHORIZATION, format!("Bearer {k}"))
            .body(Body::from("{}"))
            .expect("request");
        let res = api.router.clone().oneshot(req).await.expect("response");
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(content_type(res.headers()), "application/problem+json");
        let (status, headers, body) = api
            .call(
                Method::POST,
                "/api/v1/payments",
                Some(&k),
                Some(&json!({"external_id": 5})),
            )
            .await;
        assert_problem(status, &headers, &body, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn each_key_is_rate_limited_with_retry_after() {
    for t in databases("api_v1_rate").await {
        let db = &t.conn;
        let api = Api::new(db);
        let busy = key(db, ApiScope::Read).await;
        let other = key(db, ApiScope::Read).await;
        let max = server::api_v1::auth::RATE_LIMIT.max;

        for i in 0..max {
            let (status, body) = api.get("/api/v1/changes?limit=1", &busy).await;
            assert_eq!(status, StatusCode::OK, "{}: request {i}: {body}", t.backend);
        }
        api.clock.advance(Duration::seconds(20));
        let (status, headers, body) = api
            .call(Method::GET, "/api/v1/changes?limit=1", Some(&busy), None)
            .await;
        assert_problem(status, &headers, &body, StatusCode::TOO_MANY_REQUESTS);
        let retry: i64 = headers
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("Retry-After");
        assert_eq!(retry, 40, "the rest of the minute");
        let (status, _) = api.get("/api/v1/changes?limit=1", &other).await;
        assert_eq!(status, StatusCode::OK, "another key has its own count");

        api.clock.advance(Duration::seconds(41));
        let (status, _) = api.get("/api/v1/changes?limit=1", &busy).await;
        assert_eq!(status, StatusCode::OK, "a new minute");
    }
}

#[tokio::test]
async fn the_change_feed_pages_through_ten_thousand_changes_without_gap_or_duplicate() {
    for t in databases("api_v1_changes").await {
        let db = &t.conn;
        let api = Api::new(db);
        let k = key(db, ApiScope::Read).await;
        let change = |i: i64| Change {
            actor_kind: ActorKind::Import,
            actor_id: None,
            channel: Channel::Import,
            account_id: None,
            entity: "account",
            entity_id: Some(i),
            field: Some("display_name"),
            old_value: Some(format!("old {i}")),
            new_value: Some(format!("new {i}")),
        };
        let txn = db.begin().await.expect("begin");
        for i in 0..10_000 {
            audit::append(&txn, change(i), now()).await.expect("append");
        }
        txn.commit().await.expect("commit");
        let expected: Vec<i64> = audit_event::Entity::find()
            .all(db)
            .await
            .expect("events")
            .iter()
            .map(|e| e.id)
            .collect();
        assert!(expected.len() >= 10_000);

        let mut seen: Vec<i64> = Vec::new();
        let mut after = String::new();
        let mut added_midway = false;
        loop {
            let (status, body) = api
                .get(&format!("/api/v1/changes?limit=200&after={after}"), &k)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            seen.extend(
                body["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|e| e["id"].as_i64().expect("id")),
            );
            after = body["next_cursor"]
                .as_str()
                .expect("next_cursor")
                .to_owned();
            if !added_midway && seen.len() >= 5_000 {
                // Changes made while a connector is paging show up in a later page.
                audit::append(db, change(-1), now()).await.expect("append");
                added_midway = true;
            }
            if body["has_more"] == json!(false) {
                break;
            }
        }
        let all: Vec<i64> = audit_event::Entity::find()
            .all(db)
            .await
            .expect("events")
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(all.len(), expected.len() + 1);
        assert_eq!(seen.len(), all.len(), "{}: every change once", t.backend);
        assert_eq!(
            seen.iter().collect::<HashSet<_>>().len(),
            seen.len(),
            "no duplicate"
        );
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order");
        assert_eq!(seen, all, "no gap");

        let (_, empty) = api.get(&format!("/api/v1/changes?after={after}"), &k).await;
        assert_eq!(empty["data"], json!([]));
        assert_eq!(
            empty["next_cursor"].as_str(),
            Some(after.as_str()),
            "poll from the same place"
        );
        let (_, first) = api.get("/api/v1/changes?limit=1&entity=account", &k).await;
        assert_eq!(first["data"][0]["new_value"], "new 0");
        assert_eq!(first["data"][0]["channel"], "import");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_served_routes() {
    for t in databases("api_v1_openapi").await {
        let db = &t.conn;
        demo::load(db, now()).await.expect("demo");
        let api = Api::new(db);
        let k = key(db, ApiScope::ReadWrite).await;

        let (status, headers, doc) = api
            .call(Method::GET, "/api/v1/openapi.json", None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(content_type(&headers).starts_with("application/json"));
        assert!(
            doc["openapi"]
                .as_str()
                .is_some_and(|v| v.starts_with("3.1.")),
            "{}",
            doc["openapi"]
        );
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer"]["scheme"],
            "bearer"
        );
        assert!(doc["components"]["schemas"]["Problem"].is_object());

        let mut documented = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("path item").keys() {
                if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    documented.insert((method.to_uppercase(), path.clone()));
                }
            }
        }
        let served: BTreeSet<(String, String)> = server::api_v1::served_routes()
            .into_iter()
            .map(|(m, p)| (m.to_owned(), p))
            .collect();
        assert_eq!(
            documented, served,
            "documented and served routes are the same"
        );

        for (method, path) in &documented {
            let resource = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            let concrete = if path.contains("{id}") {
                let (_, list) = api.get(&format!("/api/v1/{resource}"), &k).await;
                let id = list["data"][0]["id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{resource} has rows"));
                path.replace("{id}", &id.to_string())
            } else {
                path.clone()
            };
            let method = Method::from_bytes(method.as_bytes()).expect("method");
            let body = (method == Method::POST).then(|| json!({}));
            let (status, _, body) = api
                .call(
                    method.clone(),
                    &format!("/api/v1{concrete}"),
                    Some(&k),
                    body.as_ref(),
                )
                .await;
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{}: {method} {concrete}: {status} {body}",
                t.backend
            );
            let operation = &doc["paths"][path][method.as_str().to_lowercase()];
            assert!(
                operation["responses"][status.as_str()].is_object(),
                "{method} {path} answered {status}, which it does not document"
            );
        }
    }
}

#[tokio::test]
async fn only_admins_manage_keys_on_the_staff_page() {
    for t in databases("api_v1_staff_keys").await {
        let db = &t.conn;
        let api = Api::new(db);
        let cookie = |secret: String| format!("{}={secret}", app::services::sessions::COOKIE);
        let mut cookies = Vec::new();
        for (email, role) in [
            ("admin@settle.test", app::model::enums::StaffRole::Admin),
            (
                "collector@settle.test",
                app::model::enums::StaffRole::Collector,
            ),
        ] {
            let user = app::services::staff::add(
                db,
                email,
                "Someone",
                role,
                "a long enough password",
                now(),
            )
            .await
            .expect("staff");
            let secret = app::services::sessions::open_staff_session(db, user.id, now())
                .await
                .expect("session");
            cookies.push(cookie(secret));
        }
        let post = |path: &'static str, cookie: String, body: String| {
            let router = api.router.clone();
            async move {
                let req = Request::post(path)
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header(header::ACCEPT, "application/json")
                    .header(header::COOKIE, cookie)
                    .body(Body::from(body))
                    .expect("request");
                let res = router.oneshot(req).await.expect("response");
                let status = res.status();
                let bytes = res.into_body().collect().await.expect("body").to_bytes();
                (status, String::from_utf8_lossy(&bytes).into_owned())
            }
        };

        let (status, _) = post(
            "/api/staff/api-keys/create",
            cookies[1].clone(),
            "name=ERP&scope=read".to_owned(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: a collector", t.backend);
        let (status, _) = post("/api/staff/api-keys", cookies[1].clone(), "".to_owned()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let (status, text) = post(
            "/api/staff/api-keys/create",
            cookies[0].clone(),
            "name=ERP&scope=read_write".to_owned(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let created: Value = serde_json::from_str(&text).expect("json");
        let secret = created["secret"]
            .as_str()
            .expect("the key, once")
            .to_owned();
        assert_eq!(created["key"]["scope"], "read_write");
        let (status, _) = api.get("/api/v1/accounts", &secret).await;
        assert_eq!(status, StatusCode::OK, "the new key works");

        let (status, text) = post("/api/staff/api-keys", cookies[0].clone(), "".to_owned()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!text.contains(&secret), "the list never shows the key");
        let id = created["key"]["id"].as_i64().expect("id");
        let body = format!("id={id}");
        let (status, _) = post(
            "/api/staff/api-keys/revoke",
            cookies[1].clone(),
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = post("/api/staff/api-keys/revoke", cookies[0].clone(), body).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = api.get("/api/v1/accounts", &secret).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked from the page");
    }
}
