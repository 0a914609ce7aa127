//! Uploads over HTTP: streamed to the data directory, typed by content, capped in size,
//! and served back only to the account that uploaded them (and staff).

mod common;

use app::testing::{databases, fixtures};
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use common::{TempDir, router_with_files, session_for};

const BOUNDARY: &str = "settle-test-boundary";

fn multipart(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send(router: &axum::Router, req: Request<Body>) -> (StatusCode, Vec<u8>) {
    let res = router.clone().oneshot(req).await.expect("response");
    let status = res.status();
    (
        status,
        res.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
}

fn upload(cookie: Option<&str>, name: &str, bytes: &[u8]) -> Request<Body> {
    let mut req = Request::post("/portal/uploads").header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    req.body(Body::from(multipart(name, bytes)))
        .expect("request")
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

#[tokio::test]
async fn a_pdf_is_stored_and_served_back_only_to_its_account() {
    for t in databases("http_uploads").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let b = fixtures::customer(db, "C-2", "Bolt").await;
        fixtures::contact(db, b.id, "Bo", "bo@bolt.test").await;
        let (_, a_cookie) = session_for(db, "C-1").await;
        let (_, b_cookie) = session_for(db, "C-2").await;
        let dir = TempDir::new("uploads");
        let router = router_with_files(db.clone(), dir.0.clone(), 1024);

        let (status, body) = send(
            &router,
            upload(Some(&a_cookie), "../../etc/delivery note.pdf", PDF),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}: {}",
            t.backend,
            String::from_utf8_lossy(&body)
        );
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(json["content_type"], "application/pdf");
        assert_eq!(json["size_bytes"], PDF.len());
        let name = json["file_name"].as_str().unwrap_or_default();
        assert!(!name.contains('/') && name.ends_with(".pdf"), "{name}");
        let stored: Vec<_> = std::fs::read_dir(dir.0.join("uploads"))
            .expect("uploads dir")
            .collect();
        assert_eq!(stored.len(), 1, "one file, no leftovers");

        let id = json["id"].as_i64().unwrap_or_default();
        let get = |cookie: &str| {
            Request::get(format!("/files/{id}"))
                .header(header::COOKIE, cookie)
                .body(Body::empty())
                .expect("request")
        };
        let (status, bytes) = send(&router, get(&a_cookie)).await;
        assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PDF));
        let (status, _) = send(&router, get(&b_cookie)).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "{}: another account's file",
            t.backend
        );
    }
}

#[tokio::test]
async fn wrong_types_big_files_strangers_and_other_sites_are_refused() {
    for t in databases("http_uploads_refused").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let (_, cookie) = session_for(db, "C-1").await;
        let dir = TempDir::new("uploads-refused");
        let router = router_with_files(db.clone(), dir.0.clone(), 1024);

        let (status, body) = send(
            &router,
            upload(
                Some(&cookie),
                "invoice.pdf",
                b"<html><script>alert(1)</script></html>",
            ),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{}: {}",
            t.backend,
            String::from_utf8_lossy(&body)
        );
        let mut big = PDF.to_vec();
        big.resize(2048, b' ');
        let (status, _) = send(&router, upload(Some(&cookie), "big.pdf", &big)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let (status, _) = send(&router, upload(None, "x.pdf", PDF)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let mut cross = upload(Some(&cookie), "x.pdf", PDF);
        cross.headers_mut().insert(
            "sec-fetch-site",
            http::HeaderValue::from_static("cross-site"),
        );
        let (status, _) = send(&router, cross).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let leftovers = std::fs::read_dir(dir.0.join("uploads"))
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(
            leftovers, 0,
            "{}: refused uploads leave nothing behind",
            t.backend
        );
    }
}
