//! Bad input gets a clear 4xx and changes nothing: bodies over the limit are refused before
//! they are read, undecodable and out-of-range values are refused by field, markup typed
//! into free text comes back escaped on every page, PDF and email, search boxes take SQL's
//! special characters literally, and random bodies sent to every server function never
//! make the server fail (a bounded, seeded fuzz of their decoders).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use app::entities::{outbox_email, promise};
use app::services::{demo, sessions};
use app::testing::{databases, fixtures};
use axum::body::{Body, Bytes};
use futures_util::StreamExt;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryOrder};
use server::web::MAX_BODY_BYTES;
use tower::ServiceExt;

use common::{TempDir, now, router, session_for};

/// Markup a customer or a staff member might type, on purpose or not.
const MARKUP: &str = r#"<script>alert("x")</script><img src=x onerror=alert(1)>"#;

async fn send(router: &axum::Router, req: Request<Body>) -> (StatusCode, String) {
    let res = router.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn form(path: &str, cookie: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    req.body(body.into()).expect("request")
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request")
}

/// A body of `chunks` × 64 KiB that counts the bytes the server pulled from it.
fn counted_body(chunks: usize) -> (Body, Arc<AtomicUsize>) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let seen = pulled.clone();
    let stream = futures_util::stream::iter(0..chunks).map(move |_| {
        let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
        seen.fetch_add(chunk.len(), Ordering::SeqCst);
        Ok::<_, std::io::Error>(chunk)
    });
    (Body::from_stream(stream), pulled)
}

async fn staff_cookie(db: &DatabaseConnection) -> String {
    let admin = app::services::staff::add(
        db,
        "admin@bad-input.test",
        "Admin",
        app::model::enums::StaffRole::Admin,
        "a long enough password",
        now(),
    )
    .await
    .expect("staff");
    let secret = sessions::open_staff_session(db, admin.id, now())
        .await
        .expect("session");
    format!("{}={secret}", sessions::COOKIE)
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_they_are_read() {
    for t in databases("bad_input_oversized").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "BI-1", "Big Body").await;
        fixtures::contact(db, a.id, "Bo", "bo@bi1.test").await;
        let (_, portal) = session_for(db, "BI-1").await;
        let router = router(db.clone());

        // Declared too large: refused on the header, not one byte pulled.
        let (body, pulled) = counted_body(1600); // 100 MiB
        let req = Request::post("/api/portal/messages/send")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::CONTENT_LENGTH, (1600 * 64 * 1024).to_string())
            .header(header::COOKIE, portal.as_str())
            .body(body)
            .expect("request");
        let (status, text) = send(&router, req).await;
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}: {text}",
            t.backend
        );
        assert!(text.contains("larger than"), "{text}");
        assert_eq!(pulled.load(Ordering::SeqCst), 0, "{}", t.backend);

        // Undeclared length: read only up to the limit, then refused.
        for path in ["/api/portal/messages/send", "/api/v1/documents"] {
            let (body, pulled) = counted_body(160); // 10 MiB
            let req = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, portal.as_str())
                .body(body)
                .expect("request");
            let (status, text) = send(&router, req).await;
            assert!(
                status == StatusCode::PAYLOAD_TOO_LARGE
                    || (path.starts_with("/api/v1") && status == StatusCode::UNAUTHORIZED),
                "{}: {path}: {status} {text}",
                t.backend
            );
            let read = pulled.load(Ordering::SeqCst) as u64;
            assert!(
                read <= MAX_BODY_BYTES + 2 * 64 * 1024,
                "{}: {path}: {read} bytes read of a body over the limit",
                t.backend
            );
        }
        let messages = app::entities::message::Entity::find()
            .count(db)
            .await
            .expect("count");
        assert_eq!(messages, 0, "{}: nothing was written", t.backend);
    }
}

#[tokio::test]
async fn undecodable_and_out_of_range_values_are_refused_by_field_and_write_nothing() {
    for t in databases("bad_input_values").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "BI-2", "Range Rover Parts").await;
        fixtures::contact(db, a.id, "Pat", "pat@range.test").await;
        let inv = fixtures::invoice(db, a.id, "BI-2-001", 50_000).await;
        let (_, portal) = session_for(db, "BI-2").await;
        let router = router(db.clone());
        let promise = |amount: &str, date: &str| {
            format!(
                "document_ids[0]={}&amount={}&date={}",
                inv.id,
                urlencode(amount),
                urlencode(date)
            )
        };

        let cases: Vec<(String, &str)> = vec![
            (promise("99999999999999999999999", "2026-12-01"), "amount"),
            (promise("-50.00", "2026-12-01"), "amount"),
            (promise("1e308", "2026-12-01"), "amount"),
            (promise("NaN", "2026-12-01"), "amount"),
            (promise("100.00", "275760-09-13"), "date"),
            (promise("100.00", "2026-02-30"), "date"),
            (promise("100.00", "0000-01-01"), "date"),
        ];
        for (body, field) in &cases {
            let (status, text) = send(
                &router,
                form("/api/portal/promises/record", Some(&portal), body.clone()),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{}: {body}: {text}",
                t.backend
            );
            assert!(
                text.contains(&format!("\"field\":\"{field}\"")),
                "{}: {body}: {text}",
                t.backend
            );
        }

        // Not UTF-8, and a number too big for its type: a 400 naming the problem.
        let mut raw = b"body=".to_vec();
        raw.extend_from_slice(&[0xff, 0xfe, 0x41]);
        for body in [
            Body::from(raw),
            Body::from(format!(
                "document_ids[0]={}0000000000000000000000&amount=1&date=2026-12-01",
                inv.id
            )),
        ] {
            let path = "/api/portal/promises/record";
            let (status, text) = send(&router, form(path, Some(&portal), body)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{}: {text}", t.backend);
        }
        let (status, text) = send(
            &router,
            form("/api/portal/messages/send", Some(&portal), {
                let mut raw = b"body=".to_vec();
                raw.extend_from_slice(&[0xc3, 0x28, b'%', b'F', b'F']);
                raw
            }),
        )
        .await;
        assert!(
            status == StatusCode::BAD_REQUEST || status == StatusCode::OK,
            "{}: {status} {text}",
            t.backend
        );
        if status == StatusCode::OK {
            // Accepted only as valid text: the bytes that were not UTF-8 are replaced, and
            // what is stored is well-formed.
            assert!(text.contains('\u{fffd}'), "{text}");
        }
        let promises = promise::Entity::find().count(db).await.expect("count");
        assert_eq!(promises, 0, "{}: no promise written", t.backend);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn markup_in_free_text_comes_back_escaped_on_pages_pdfs_and_emails() {
    for t in databases("bad_input_markup").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "BI-3", MARKUP).await;
        fixtures::contact(db, a.id, MARKUP, "markup@bi3.test").await;
        let (inv, lines) =
            fixtures::invoice_with_lines(db, a.id, "BI-3-001", &[(MARKUP, 1_000, 12_500, 0)]).await;
        let (_, portal) = session_for(db, "BI-3").await;
        let staff = staff_cookie(db).await;
        let router = router(db.clone());

        // A dispute note and a message with markup, through the server functions.
        let note = urlencode(MARKUP);
        let body = format!(
            "document_id={}&annotations[0][line_id]={}&annotations[0][reason]=price&annotations[0][quantity]=&annotations[0][amount]=10.00&annotations[0][note]={note}",
            inv.id, lines[0].id
        );
        let (status, text) = send(
            &router,
            form("/api/portal/disputes/submit", Some(&portal), body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        let (status, text) = send(
            &router,
            form(
                "/api/portal/messages/send",
                Some(&portal),
                format!("body={note}"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        let dispute = app::entities::dispute::Entity::find()
            .one(db)
            .await
            .expect("dispute")
            .expect("the dispute");

        // The pages that show the account's name, a contact's, a line's, the note or the
        // message (the documents list shows none of them, but must not break either).
        let pages = [
            ("/portal".to_owned(), &portal, true),
            (format!("/portal/invoices/{}", inv.id), &portal, true),
            ("/portal/documents".to_owned(), &portal, false),
            ("/portal/messages".to_owned(), &portal, true),
            ("/portal/profile".to_owned(), &portal, true),
            (format!("/staff/accounts/{}", a.id), &staff, true),
            ("/staff/accounts?q=BI-3".to_owned(), &staff, true),
            (format!("/staff/disputes/{}", dispute.id), &staff, true),
            (format!("/staff/messages/{}", a.id), &staff, true),
            (format!("/staff/accounts/{}/activity", a.id), &staff, true),
        ];
        for (path, cookie, shows) in pages {
            let (status, html) = send(&router, get(&path, cookie)).await;
            assert_eq!(status, StatusCode::OK, "{}: {path}", t.backend);
            assert!(
                !html.contains("<script>alert") && !html.contains("<img src=x"),
                "{}: {path} carries the markup unescaped",
                t.backend
            );
            assert!(
                !shows || html.contains("&lt;script&gt;alert") || html.contains("\\u003cscript"),
                "{}: {path} does not show the text at all",
                t.backend
            );
        }

        // The PDF shows the text as typed: it is text there, not markup.
        let dir = TempDir::new("bad-input-pdf");
        for path in [
            format!("/portal/documents/{}/pdf", inv.id),
            "/portal/statement.pdf".to_owned(),
        ] {
            let res = router
                .clone()
                .oneshot(get(&path, &portal))
                .await
                .expect("response");
            assert_eq!(res.status(), StatusCode::OK, "{}: {path}", t.backend);
            let bytes = res.into_body().collect().await.expect("body").to_bytes();
            let file = dir.0.join("doc.pdf");
            std::fs::write(&file, &bytes).expect("write pdf");
            let out = std::process::Command::new("pdftotext")
                .arg(&file)
                .arg("-")
                .output()
                .expect("pdftotext (poppler-utils) runs");
            assert!(
                out.status.success(),
                "{}: {path} is not a readable PDF",
                t.backend
            );
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("<script>alert(\"x\")</script>"),
                "{}: {path}: {text}",
                t.backend
            );
        }

        // Every email queued with the name or note carries it escaped in its HTML part.
        let emails = outbox_email::Entity::find()
            .order_by_asc(outbox_email::COLUMN.id)
            .all(db)
            .await
            .expect("outbox");
        assert!(
            !emails.is_empty(),
            "{}: the dispute is acknowledged",
            t.backend
        );
        for email in &emails {
            if let Some(html) = &email.body_html {
                assert!(
                    !html.contains("<script>alert") && !html.contains("<img src=x"),
                    "{}: email {}: {html}",
                    t.backend,
                    email.subject
                );
            }
        }
    }
}

#[tokio::test]
async fn search_boxes_take_sql_metacharacters_literally() {
    for t in databases("bad_input_search").await {
        let db = &t.conn;
        demo::load(db, now()).await.expect("demo");
        let a = fixtures::customer(db, "BI-4", "100% Pure O'Brien_Supply").await;
        fixtures::contact(db, a.id, "Ann", "ann@bi4.test").await;
        fixtures::invoice(db, a.id, "BI4-%_'-001", 30_000).await;
        let staff = staff_cookie(db).await;
        let (_, portal) = session_for(db, "BI-4").await;
        let router = router(db.clone());

        let probes = [
            ("%", 1),
            ("_", 1),
            ("'", 1),
            ("O'Brien", 1),
            ("100%", 1),
            ("\\", 0),
            ("'; DROP TABLE accounts; --", 0),
            ("%' OR '1'='1", 0),
            ("\"", 0),
        ];
        for (q, want) in probes {
            let (status, text) = send(
                &router,
                form(
                    "/api/staff/accounts",
                    Some(&staff),
                    format!("q={}", urlencode(q)),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{}: q={q}: {text}", t.backend);
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            let rows = v["rows"].as_array().map(Vec::len).unwrap_or(usize::MAX);
            assert_eq!(rows, want, "{}: q={q}: {text}", t.backend);
        }
        for (q, want) in [("%", 1), ("_", 1), ("'", 1), ("\\", 0), ("' OR 1=1 --", 0)] {
            let (status, text) = send(
                &router,
                form(
                    "/api/portal/documents",
                    Some(&portal),
                    format!("q={}", urlencode(q)),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{}: q={q}: {text}", t.backend);
            let v: serde_json::Value = serde_json::from_str(&text).expect("json");
            let rows = v["rows"].as_array().map(Vec::len).unwrap_or(usize::MAX);
            assert_eq!(rows, want, "{}: documents q={q}: {text}", t.backend);
        }
        for q in ["%", "'", "\\", "'; DROP TABLE tasks; --"] {
            let body = format!("kind=&status=&assignee=&due=&q={}", urlencode(q));
            let (status, text) = send(&router, form("/api/staff/inbox", Some(&staff), body)).await;
            assert_eq!(status, StatusCode::OK, "{}: inbox q={q}: {text}", t.backend);
            let (status, text) = send(
                &router,
                form(
                    "/api/staff/supplier/contacts",
                    Some(&staff),
                    format!("q={}", urlencode(q)),
                ),
            )
            .await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{}: contacts q={q}: {text}",
                t.backend
            );
        }
        // The tables are all still there.
        assert!(
            app::entities::account::Entity::find()
                .count(db)
                .await
                .expect("accounts")
                > 50
        );
    }
}

/// Bodies a fuzzer would try: random bytes, random keys and values, deep nesting, numbers
/// at and past the limits of their types, and text with markup and NULs.
fn random_body(rng: &mut StdRng) -> Vec<u8> {
    const KEYS: [&str; 44] = [
        "id",
        "ids[0]",
        "document_id",
        "document_ids[0]",
        "amount",
        "date",
        "note",
        "body",
        "q",
        "page",
        "status",
        "kind",
        "field",
        "value",
        "version",
        "token",
        "email",
        "code",
        "annotations[0][line_id]",
        "annotations[0][amount]",
        "approve",
        "scope",
        "name",
        "contact_ids[0]",
        "assignee",
        "due",
        "from",
        "to",
        "reason",
        "min_age_days",
        "collector_id",
        "account_id",
        "method",
        "session_id",
        "record",
        "original",
        "active",
        "url",
        "password",
        "subject",
        "sort",
        "gap",
        "bounced",
        "collector",
    ];
    const VALUES: [&str; 16] = [
        "",
        "0",
        "-1",
        "1",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775809",
        "1e400",
        "NaN",
        "true",
        "null",
        "%00",
        "%FF%FE",
        "<script>x</script>",
        "[]",
        "a%5B0%5D",
    ];
    match rng.random_range(0..8) {
        // Every key at once, so a function finds the arguments it needs among them.
        4..=7 => {
            let pairs: Vec<String> = KEYS
                .iter()
                .map(|k| format!("{k}={}", VALUES[rng.random_range(0..VALUES.len())]))
                .collect();
            pairs.join("&").into_bytes()
        }
        0 => (0..rng.random_range(0..200))
            .map(|_| rng.random())
            .collect(),
        1 => {
            let pairs: Vec<String> = (0..rng.random_range(1..8))
                .map(|_| {
                    let k = KEYS[rng.random_range(0..KEYS.len())];
                    let v = VALUES[rng.random_range(0..VALUES.len())];
                    format!("{k}={v}")
                })
                .collect();
            pairs.join("&").into_bytes()
        }
        2 => {
            let depth = rng.random_range(1..40);
            let mut key = "a".to_owned();
            for _ in 0..depth {
                key.push_str("[0]");
            }
            format!("{key}=1&id=1").into_bytes()
        }
        _ => {
            let k = KEYS[rng.random_range(0..KEYS.len())];
            format!("{k}={}", "9".repeat(rng.random_range(1..400))).into_bytes()
        }
    }
}

#[tokio::test]
async fn random_bodies_to_every_server_function_never_fail_the_server() {
    // SQLite only: this exercises the decoders and the checks in front of the database.
    let t = databases("bad_input_fuzz").await.remove(0);
    let db = &t.conn;
    demo::load(db, now()).await.expect("demo");
    let staff = staff_cookie(db).await;
    let (_, portal) = session_for(db, "C-10001").await;
    let router = router(db.clone());
    let mut paths: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .filter(|(_, method)| method == http::Method::POST)
        .map(|(path, _)| path.to_owned())
        .collect();
    paths.sort();
    assert!(
        paths.len() > 50,
        "the server functions are registered: {paths:?}"
    );
    let mut rng = StdRng::seed_from_u64(0x5e771e);
    let mut failures = Vec::new();
    let mut sent = 0;
    // Requests that got past decoding to the function's own checks or work.
    let mut reached = 0;
    for path in &paths {
        for round in 0..24 {
            let cookie = match round % 3 {
                0 => None,
                1 => Some(portal.as_str()),
                _ => Some(staff.as_str()),
            };
            let body = random_body(&mut rng);
            let json = round % 4 == 3;
            let mut req = Request::post(path.as_str()).header(
                header::CONTENT_TYPE,
                if json {
                    "application/json"
                } else {
                    "application/x-www-form-urlencoded"
                },
            );
            if let Some(cookie) = cookie {
                req = req.header(header::COOKIE, cookie);
            }
            let (status, text) =
                send(&router, req.body(Body::from(body.clone())).expect("req")).await;
            sent += 1;
            if status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY {
                reached += 1;
            }
            if status.is_server_error() {
                failures.push(format!(
                    "{path} {status} body={:?}: {}",
                    String::from_utf8_lossy(&body),
                    text.chars().take(200).collect::<String>()
                ));
            }
        }
    }
    println!("{sent} random requests, {reached} got past decoding, none failed the server");
    assert!(
        reached > 100,
        "only {reached} of {sent} random requests got past decoding: the fuzz tests nothing"
    );
    assert!(
        failures.is_empty(),
        "{} of {sent} random requests failed the server:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
