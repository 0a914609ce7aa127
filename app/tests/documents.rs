//! The Documents page service on both databases: filters, literal search, pagination and
//! scoping to the caller's account.

use app::entities::document;
use app::model::documents::{DocumentFilter, PAGE_SIZE};
use app::model::enums::{DocumentKind, DocumentStatus};
use app::services::documents;
use app::testing::fixtures;
use chrono::{Duration, NaiveDate};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default() + Duration::days(n)
}

async fn doc(
    db: &DatabaseConnection,
    account_id: i64,
    kind: DocumentKind,
    number: &str,
    po: Option<&str>,
    issued: NaiveDate,
    status: DocumentStatus,
) -> document::Model {
    document::ActiveModel {
        account_id: Set(account_id),
        kind: Set(kind),
        number: Set(number.to_owned()),
        po_number: Set(po.map(str::to_owned)),
        issue_date: Set(issued),
        due_date: Set(Some(issued + Duration::days(30))),
        currency: Set("USD".to_owned()),
        total_minor: Set(10_000),
        tax_minor: Set(0),
        open_minor: Set(10_000),
        disputed_minor: Set(0),
        status: Set(status),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("document")
}

/// Account A: 30 invoices INV-001.. (one a day, every third one paid), a credit memo,
/// a statement, a PO-bearing bill of lading and two documents whose numbers contain LIKE
/// wildcards. Account B: look-alike documents that A must never see.
async fn book(db: &DatabaseConnection) -> (i64, i64) {
    use DocumentKind::*;
    use DocumentStatus::*;
    let a = fixtures::customer(db, "A-1", "Alpha").await.id;
    let b = fixtures::customer(db, "B-1", "Beta").await.id;
    for i in 1..=30 {
        let status = if i % 3 == 0 { Paid } else { Open };
        doc(db, a, Invoice, &format!("INV-{i:03}"), None, day(i), status).await;
    }
    doc(db, a, CreditMemo, "CM-001", None, day(40), Open).await;
    doc(db, a, Statement, "ST-2026-02", None, day(41), Closed).await;
    doc(
        db,
        a,
        BillOfLading,
        "BOL-9",
        Some("PO-7788"),
        day(42),
        Closed,
    )
    .await;
    doc(db, a, Invoice, "SALE-50%OFF", None, day(43), Open).await;
    doc(db, a, Invoice, "SALE-50XOFF", None, day(44), Open).await;
    doc(db, a, Invoice, "LOT_A", None, day(45), Open).await;
    doc(db, a, Invoice, "LOTXA", None, day(46), Open).await;
    doc(db, b, Invoice, "INV-B-001", Some("PO-7788"), day(5), Open).await;
    doc(db, b, Invoice, "SALE-50%OFF-B", None, day(43), Open).await;
    (a, b)
}

fn search(q: &str) -> DocumentFilter {
    DocumentFilter {
        q: Some(q.to_owned()),
        ..Default::default()
    }
}

fn numbers(list: &app::model::documents::DocumentList) -> Vec<&str> {
    list.rows.iter().map(|r| r.number.as_str()).collect()
}

#[tokio::test]
async fn documents_are_paginated_newest_first_with_a_total() {
    for test_db in app::testing::databases("documents_pagination").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        let (a, _) = book(db).await;
        let all = DocumentFilter::default();
        let first = documents::list(db, a, &all, 0).await.expect("page 1");
        assert_eq!(first.total, 37, "{backend}");
        assert_eq!(first.pages, 2, "{backend}");
        assert_eq!(first.page, 0, "{backend}");
        assert_eq!(first.rows.len() as u64, PAGE_SIZE, "{backend}");
        assert_eq!(first.rows[0].number, "LOTXA", "{backend}: newest first");
        let second = documents::list(db, a, &all, 1).await.expect("page 2");
        assert_eq!(second.rows.len(), 12, "{backend}");
        assert_eq!(
            second.rows.last().map(|r| r.number.as_str()),
            Some("INV-001")
        );
        let past_end = documents::list(db, a, &all, 9).await.expect("past the end");
        assert_eq!(past_end.page, 1, "{backend}: clamped to the last page");
    }
}

#[tokio::test]
async fn documents_filter_by_kind_status_and_dates() {
    for test_db in app::testing::databases("documents_filters").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        let (a, _) = book(db).await;
        let credits = DocumentFilter {
            kind: Some(DocumentKind::CreditMemo),
            ..Default::default()
        };
        let list = documents::list(db, a, &credits, 0).await.expect("kind");
        assert_eq!(numbers(&list), ["CM-001"], "{backend}");

        let paid = DocumentFilter {
            kind: Some(DocumentKind::Invoice),
            status: Some(DocumentStatus::Paid),
            ..Default::default()
        };
        let list = documents::list(db, a, &paid, 0).await.expect("status");
        assert_eq!(list.total, 10, "{backend}");
        assert!(list.rows.iter().all(|r| r.status == DocumentStatus::Paid));

        let range = DocumentFilter {
            from: Some(day(10)),
            to: Some(day(12)),
            ..Default::default()
        };
        let list = documents::list(db, a, &range, 0).await.expect("dates");
        assert_eq!(
            numbers(&list),
            ["INV-012", "INV-011", "INV-010"],
            "{backend}"
        );

        let parsed = documents::parse_filter(
            Some("invoice"),
            Some(""),
            Some("2026-01-11"),
            None,
            Some("  "),
        )
        .expect("parse");
        assert_eq!(parsed.kind, Some(DocumentKind::Invoice));
        assert_eq!((parsed.status, parsed.q), (None, None));
        assert!(documents::parse_filter(Some("receipt"), None, None, None, None).is_err());
        assert!(documents::parse_filter(None, None, Some("11/01/2026"), None, None).is_err());
    }
}

#[tokio::test]
async fn documents_search_number_and_po_literally() {
    for test_db in app::testing::databases("documents_search").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        let (a, _) = book(db).await;
        let list = documents::list(db, a, &search("50%"), 0).await.expect("%");
        assert_eq!(numbers(&list), ["SALE-50%OFF"], "{backend}: % is literal");
        let list = documents::list(db, a, &search("lot_"), 0).await.expect("_");
        assert_eq!(
            numbers(&list),
            ["LOT_A"],
            "{backend}: _ is literal, case ignored"
        );
        let list = documents::list(db, a, &search("inv-02"), 0)
            .await
            .expect("number");
        assert_eq!(list.total, 10, "{backend}");
        let list = documents::list(db, a, &search("7788"), 0)
            .await
            .expect("po");
        assert_eq!(numbers(&list), ["BOL-9"], "{backend}: PO number, A's only");
        let list = documents::list(db, a, &search("nothing-like-it"), 0)
            .await
            .expect("none");
        assert_eq!(
            (list.total, list.pages, list.rows.len()),
            (0, 0, 0),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn documents_of_another_account_are_never_listed_or_downloaded() {
    for test_db in app::testing::databases("documents_scoped").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        let (a, b) = book(db).await;
        let list = documents::list(db, b, &DocumentFilter::default(), 0)
            .await
            .expect("b");
        assert_eq!(numbers(&list), ["SALE-50%OFF-B", "INV-B-001"], "{backend}");
        let list = documents::list(db, a, &search("-B"), 0).await.expect("a");
        assert!(list.rows.is_empty(), "{backend}: A saw B's documents");

        let b_doc = list_first_id(db, b).await;
        let err = documents::download(db, a, b_doc, "http://x")
            .await
            .expect_err("another account's document");
        assert_eq!(err, app::error::AppError::NotFound, "{backend}");
        let own = documents::download(db, b, b_doc, "http://x")
            .await
            .expect("own document");
        assert!(
            matches!(own, documents::Download::Rendered { ref bytes, .. } if bytes.starts_with(b"%PDF")),
            "{backend}"
        );
    }
}

async fn list_first_id(db: &DatabaseConnection, account_id: i64) -> i64 {
    documents::list(db, account_id, &DocumentFilter::default(), 0)
        .await
        .expect("list")
        .rows[0]
        .id
}
