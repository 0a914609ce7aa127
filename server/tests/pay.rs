//! Easy Pay over HTTP: the webhook endpoint's answers (200 / 400 / 404), and a whole
//! payment through the server function, the sandbox's hosted page and the receipt.

mod common;

use app::entities::document;
use app::model::enums::DocumentStatus;
use app::services::easy_pay::event::session_event;
use app::services::easy_pay::signature;
use app::testing::{databases, fixtures};
use axum::body::Body;
use chrono::Duration;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::EntityTrait;
use tower::ServiceExt;

use common::{PUBLIC_URL, SANDBOX_SECRET, now, router, session_for};

async fn send(
    router: &axum::Router,
    req: http::request::Builder,
    body: impl Into<Body>,
) -> (StatusCode, http::HeaderMap, String) {
    let res = router
        .clone()
        .oneshot(req.body(body.into()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn form_post(path: &str, cookie: Option<&str>) -> http::request::Builder {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    req
}

#[tokio::test]
async fn the_webhook_endpoint_answers_by_signature() {
    for t in databases("http_pay_webhook").await {
        let router = router(t.conn.clone());
        let body = session_event(
            "evt_h",
            "checkout.session.completed",
            "cs_none",
            "paid",
            1,
            "USD",
            0,
        );
        let sign = |secret: &[u8], at: chrono::DateTime<chrono::Utc>| {
            signature::sign(secret, at.timestamp(), &body)
        };
        let hook = |sig: String| {
            Request::post("/webhooks/sandbox")
                .header(header::CONTENT_TYPE, "application/json")
                .header("stripe-signature", sig)
        };
        let (status, _, text) =
            send(&router, hook(sign(SANDBOX_SECRET, now())), body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        assert!(text.contains("Ignored"), "{text}");
        // The same delivery again is acknowledged as a duplicate.
        let (status, _, text) =
            send(&router, hook(sign(SANDBOX_SECRET, now())), body.clone()).await;
        assert_eq!(
            (status, text.contains("Duplicate")),
            (StatusCode::OK, true),
            "{text}"
        );

        let (status, _, _) = send(&router, hook(sign(b"forged", now())), body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: forged", t.backend);
        let (status, _, text) = send(
            &router,
            hook(sign(SANDBOX_SECRET, now() - Duration::minutes(10))),
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{}: stale", t.backend);
        assert!(text.contains("tolerance"), "{text}");
        let (status, _, _) = send(
            &router,
            Request::post("/webhooks/stripe")
                .header("stripe-signature", sign(SANDBOX_SECRET, now())),
            body.clone(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "only the configured provider has an endpoint"
        );
    }
}

#[tokio::test]
async fn a_customer_pays_through_the_sandbox_and_sees_the_receipt() {
    for t in databases("http_pay_flow").await {
        let db = &t.conn;
        let acct = fixtures::customer(db, "C-77", "Seventy Seven").await;
        fixtures::contact(db, acct.id, "Pat", "pat@c77.test").await;
        let inv = fixtures::invoice(db, acct.id, "INV-77", 25_000).await;
        let (_, cookie) = session_for(db, "C-77").await;
        let router = router(db.clone());

        // A tampered amount above the open balance is refused on the field.
        let tampered = format!(
            "items[0][document_id]={}&items[0][amount]=999&method=card&attempt=a1",
            inv.id
        );
        let (status, _, text) = send(
            &router,
            form_post("/api/portal/pay/start", Some(&cookie)),
            tampered,
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {text}",
            t.backend
        );
        assert!(text.contains(&format!("amount-{}", inv.id)), "{text}");
        // Without a session nothing starts.
        let fine = format!(
            "items[0][document_id]={}&items[0][amount]=100&method=card&attempt=a1",
            inv.id
        );
        let (status, _, _) = send(
            &router,
            form_post("/api/portal/pay/start", None),
            fine.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let (status, _, text) = send(
            &router,
            form_post("/api/portal/pay/start", Some(&cookie)),
            fine,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        let url: String = serde_json::from_str(&text).expect("a URL");
        let path = url
            .strip_prefix(PUBLIC_URL)
            .expect("our sandbox page")
            .to_owned();

        let (status, _, page) = send(&router, Request::get(&path), Body::empty()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("Test mode"), "the sandbox says it is a test");
        assert!(
            page.contains("INV-77") && page.contains("$100.00"),
            "{page}"
        );
        assert!(
            !page.contains("card number"),
            "the sandbox never asks for card data"
        );

        // Another site cannot press the button.
        let cross = Request::post(&path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "cross-site");
        let (status, _, _) = send(&router, cross, "choice=pay&method=card").await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let press =
            Request::post(&path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        let (status, headers, _) = send(&router, press, "choice=pay&method=card").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{}", t.backend);
        let receipt = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let session = receipt
            .strip_prefix("/portal/receipt/")
            .expect("receipt path")
            .to_owned();

        let d = document::Entity::find_by_id(inv.id)
            .one(db)
            .await
            .expect("read")
            .expect("doc");
        assert_eq!(
            (d.open_minor, d.status),
            (15_000, DocumentStatus::Open),
            "{}",
            t.backend
        );

        let (status, _, text) = send(
            &router,
            form_post("/api/portal/receipt", Some(&cookie)),
            format!("session_id={session}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let json: serde_json::Value = serde_json::from_str(&text).expect("receipt JSON");
        assert_eq!(json["status"], "completed");
        assert_eq!(json["lines"][0]["open_minor"], 15_000);
        // Another account's contact cannot read it.
        let other = fixtures::customer(db, "C-78", "Other").await;
        fixtures::contact(db, other.id, "Olly", "olly@c78.test").await;
        let (_, other_cookie) = session_for(db, "C-78").await;
        let (status, _, _) = send(
            &router,
            form_post("/api/portal/receipt", Some(&other_cookie)),
            format!("session_id={session}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}
