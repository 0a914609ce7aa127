//! Document and statement PDFs through the router: rendered PDFs carry the document's
//! data (read back with poppler's `pdftotext`), and only the caller's own account's.

use app::entities::{document, document_line};
use app::model::enums::{DocumentKind, DocumentStatus};
use app::model::portal::format_money;
use app::services::demo;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use tower::ServiceExt;

mod common;
use common::{now, router, session_for};

async fn get(
    router: &axum::Router,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, body.to_vec())
}

/// The text of a PDF as poppler's `pdftotext` reads it, whitespace collapsed.
fn pdf_text(bytes: &[u8], name: &str) -> String {
    let path = std::env::temp_dir().join(format!("settle-{}-{name}.pdf", std::process::id()));
    std::fs::write(&path, bytes).expect("write the PDF");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An open invoice of the account with lines and no stored file.
async fn open_invoice(db: &DatabaseConnection, account_id: i64) -> document::Model {
    document::Entity::find()
        .filter(document::COLUMN.account_id.eq(account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(document::COLUMN.status.eq(DocumentStatus::Open))
        .filter(document::COLUMN.open_minor.gt(0))
        .filter(document::COLUMN.file_id.is_null())
        .order_by_asc(document::COLUMN.id)
        .one(db)
        .await
        .expect("query")
        .expect("an open invoice")
}

#[tokio::test]
async fn an_invoice_downloads_as_a_pdf_with_its_lines_and_total() {
    for test_db in app::testing::databases("downloads_invoice_pdf").await {
        let (db, backend) = (test_db.conn, test_db.backend);
        demo::load(&db, now()).await.expect("demo");
        let (a_id, a_cookie) = session_for(&db, "C-10001").await;
        let (b_id, b_cookie) = session_for(&db, "C-10002").await;
        let router = router(db.clone());
        let invoice = open_invoice(&db, a_id).await;
        let lines = document_line::Entity::find()
            .filter(document_line::COLUMN.document_id.eq(invoice.id))
            .all(&db)
            .await
            .expect("lines");
        assert!(!lines.is_empty(), "{backend}: demo invoice without lines");
        let path = format!("/portal/documents/{}/pdf", invoice.id);

        let (status, headers, body) = get(&router, &path, Some(&a_cookie)).await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/pdf",
            "{backend}"
        );
        assert_eq!(
            headers[header::CONTENT_DISPOSITION],
            format!("attachment; filename=\"{}.pdf\"", invoice.number).as_str(),
            "{backend}"
        );
        assert!(body.starts_with(b"%PDF"), "{backend}");
        let text = pdf_text(&body, &format!("invoice-{backend}"));
        assert!(text.contains(&invoice.number), "{backend}: {text}");
        for line in &lines {
            assert!(
                text.contains(&line.description),
                "{backend}: {} missing from {text}",
                line.description
            );
        }
        let total = format_money(invoice.total_minor, &invoice.currency);
        assert!(
            text.contains(&total),
            "{backend}: {total} missing from {text}"
        );
        assert!(
            text.contains("Pay online: http://settle.test/portal"),
            "{backend}: {text}"
        );
        assert!(text.contains("C-10001"), "{backend}: account number");

        // Another account's document is not there at all; without a session, sign in.
        assert_ne!(a_id, b_id);
        let (status, _, _) = get(&router, &path, Some(&b_cookie)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
        let (status, _, _) = get(&router, &path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
        let (status, _, _) = get(&router, "/portal/documents/999999999/pdf", Some(&a_cookie)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend}");
    }
}

#[tokio::test]
async fn the_statement_lists_the_invoices_in_range_and_refuses_bad_dates() {
    for test_db in app::testing::databases("downloads_statement_pdf").await {
        let (db, backend) = (test_db.conn, test_db.backend);
        demo::load(&db, now()).await.expect("demo");
        let (a_id, a_cookie) = session_for(&db, "C-10001").await;
        let router = router(db.clone());
        let invoices = document::Entity::find()
            .filter(document::COLUMN.account_id.eq(a_id))
            .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
            .filter(document::COLUMN.status.ne(DocumentStatus::Void))
            .order_by_desc(document::COLUMN.issue_date)
            .all(&db)
            .await
            .expect("invoices");
        let newest = &invoices[0];
        let older = invoices
            .iter()
            .find(|d| d.issue_date < newest.issue_date)
            .expect("an older invoice");
        let day = newest.issue_date;

        let (status, headers, body) = get(
            &router,
            &format!("/portal/statement.pdf?from={day}&to={day}"),
            Some(&a_cookie),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/pdf",
            "{backend}"
        );
        let text = pdf_text(&body, &format!("statement-{backend}"));
        for inv in invoices.iter().filter(|d| d.issue_date == day) {
            assert!(
                text.contains(&inv.number),
                "{backend}: {} missing: {text}",
                inv.number
            );
        }
        assert!(
            !text.contains(&older.number),
            "{backend}: {} is out of range",
            older.number
        );
        assert!(text.contains("Opening balance"), "{backend}");

        let (status, _, body) = get(&router, "/portal/statement.pdf", Some(&a_cookie)).await;
        assert_eq!(status, StatusCode::OK, "{backend}: default period");
        assert!(body.starts_with(b"%PDF"));

        let (status, _, body) = get(
            &router,
            "/portal/statement.pdf?from=2026-02-30",
            Some(&a_cookie),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend}");
        let message = String::from_utf8_lossy(&body);
        assert!(
            message.contains("from: expected a date like"),
            "{backend}: {message}"
        );
        let (status, _, _) = get(&router, "/portal/statement.pdf", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend}");
    }
}
