//! No page runs more than ten SQL statements, however many rows it shows. Every page is
//! rendered on the server, as a browser's first request gets it, with a counter on the
//! database connection: once on the demo data, then again after the lists behind it have
//! grown several times over. The count must stay within the budget and must not grow
//! with the rows (an N+1 query would).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use app::entities::{account, contact, dispute, document, staff_user};
use app::model::enums::DocumentKind;
use app::services::{demo, sessions};
use app::testing::{databases, fixtures};
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use tower::ServiceExt;

use common::{now, router, session_for};

/// The most statements any one page may run.
const BUDGET: usize = 10;

/// Statements run since the last `take`, and (with `SETTLE_SHOW_SQL` set) their text and
/// values.
#[derive(Clone, Default)]
struct Counter(Arc<AtomicUsize>, Arc<std::sync::Mutex<Vec<String>>>);

impl Counter {
    fn attach(&self, db: &mut DatabaseConnection) {
        let count = self.0.clone();
        let log = self.1.clone();
        let show = std::env::var_os("SETTLE_SHOW_SQL").is_some();
        db.set_metric_callback(move |info| {
            count.fetch_add(1, Ordering::SeqCst);
            if show && let Ok(mut log) = log.lock() {
                log.push(format!(
                    "{} {:?}",
                    info.statement.sql.chars().take(160).collect::<String>(),
                    info.statement.values
                ));
            }
        });
    }

    fn take(&self) -> usize {
        if let Ok(mut log) = self.1.lock()
            && !log.is_empty()
        {
            println!("    {}", log.join("\n    "));
            log.clear();
        }
        self.0.swap(0, Ordering::SeqCst)
    }
}

/// The pages, each with the cookie that may see it.
struct Pages {
    portal: String,
    staff: String,
    paths: Vec<(String, bool)>,
}

async fn pages(db: &DatabaseConnection) -> Pages {
    // The demo invoice with 200 lines, and the account it belongs to.
    let long = document::Entity::find()
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .order_by_desc(document::COLUMN.id)
        .all(db)
        .await
        .expect("documents");
    let mut longest = None;
    for doc in &long {
        let lines = app::entities::document_line::Entity::find()
            .filter(app::entities::document_line::COLUMN.document_id.eq(doc.id))
            .count(db)
            .await
            .expect("lines");
        if lines >= demo::LONG_INVOICE_LINES as u64 {
            longest = Some(doc.clone());
            break;
        }
    }
    let invoice = longest.expect("the demo's long invoice");
    let owner = account::Entity::find_by_id(invoice.account_id)
        .one(db)
        .await
        .expect("account")
        .expect("the long invoice's account");
    let (_, portal) = session_for(db, &owner.account_number).await;
    let admin = staff_user::Entity::find()
        .filter(staff_user::COLUMN.email.eq(demo::ADMIN_EMAIL))
        .one(db)
        .await
        .expect("staff")
        .expect("the demo admin");
    let secret = sessions::open_staff_session(db, admin.id, now())
        .await
        .expect("staff session");
    let staff = format!("{}={secret}", sessions::COOKIE);
    let dispute = dispute::Entity::find()
        .one(db)
        .await
        .expect("disputes")
        .expect("a demo dispute");
    let a = owner.id;
    let paths = [
        ("/portal".to_owned(), true),
        ("/portal/documents".to_owned(), true),
        (format!("/portal/invoices/{}", invoice.id), true),
        ("/portal/profile".to_owned(), true),
        ("/portal/messages".to_owned(), true),
        ("/supplier".to_owned(), true),
        ("/staff".to_owned(), false),
        ("/staff/accounts".to_owned(), false),
        (format!("/staff/accounts/{a}"), false),
        (format!("/staff/accounts/{a}/activity"), false),
        (format!("/staff/accounts/{a}/history"), false),
        ("/staff/inbox".to_owned(), false),
        ("/staff/approvals".to_owned(), false),
        ("/staff/disputes".to_owned(), false),
        (format!("/staff/disputes/{}", dispute.id), false),
        ("/staff/messages".to_owned(), false),
        (format!("/staff/messages/{a}"), false),
        ("/staff/campaigns".to_owned(), false),
        ("/staff/rules".to_owned(), false),
        ("/staff/letters".to_owned(), false),
        ("/staff/mail".to_owned(), false),
        ("/staff/templates".to_owned(), false),
        ("/staff/import".to_owned(), false),
        ("/staff/api-keys".to_owned(), false),
        ("/staff/webhooks".to_owned(), false),
    ];
    Pages {
        portal,
        staff,
        paths: paths.into_iter().collect(),
    }
}

/// Renders every page once and returns how many statements each ran.
async fn count_pages(
    router: &axum::Router,
    counter: &Counter,
    pages: &Pages,
    backend: &str,
) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (path, portal) in &pages.paths {
        let cookie = if *portal { &pages.portal } else { &pages.staff };
        counter.take();
        let res = router
            .clone()
            .oneshot(
                Request::get(path.as_str())
                    .header(header::COOKIE, cookie.as_str())
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        let status = res.status();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend}: GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        println!("GET {path}");
        out.push((path.clone(), counter.take()));
    }
    out
}

/// Adds, to the account of the long invoice and around it, several times the rows the demo
/// has: open invoices with lines, contacts, and more accounts.
async fn grow(db: &DatabaseConnection, pages: &Pages) {
    let owner_id: i64 = pages
        .paths
        .iter()
        .find_map(|(p, _)| {
            p.strip_prefix("/staff/accounts/")
                .and_then(|rest| rest.parse().ok())
        })
        .expect("the account page's id");
    for n in 0..120 {
        fixtures::invoice_with_lines(
            db,
            owner_id,
            &format!("GROW-{n:04}"),
            &[("Widget", 2_000, 1_500, 0), ("Service", 1_000, 9_900, 100)],
        )
        .await;
    }
    for n in 0..30 {
        fixtures::contact(
            db,
            owner_id,
            &format!("Extra Contact {n}"),
            &format!("extra{n}@grown.test"),
        )
        .await;
    }
    for n in 0..300 {
        let other = fixtures::customer(db, &format!("G-{n:05}"), &format!("Grown {n}")).await;
        fixtures::invoice(db, other.id, &format!("GI-{n:05}"), 25_000).await;
        fixtures::contact(
            db,
            other.id,
            &format!("Grown Person {n}"),
            &format!("ap{n}@grown{n}.test"),
        )
        .await;
    }
    let _ = contact::Entity::find().count(db).await;
}

#[tokio::test]
async fn every_page_runs_at_most_ten_statements_whatever_its_row_count() {
    for t in databases("queries_per_page").await {
        let backend = t.backend;
        let mut db = t.conn;
        demo::load(&db, now()).await.expect("demo data");
        let counter = Counter::default();
        counter.attach(&mut db);
        let pages = pages(&db).await;
        let router = router(db.clone());

        // Rendered twice: the first request to a page may fill caches (templates, the
        // supplier's profile); the steady state is what every later visitor costs.
        count_pages(&router, &counter, &pages, backend).await;
        let before = count_pages(&router, &counter, &pages, backend).await;
        grow(&db, &pages).await;
        let after = count_pages(&router, &counter, &pages, backend).await;

        let report: Vec<String> = before
            .iter()
            .zip(&after)
            .map(|((path, b), (_, a))| format!("{path}: {b} → {a}"))
            .collect();
        println!("{backend} statements per page:\n  {}", report.join("\n  "));
        for ((path, b), (_, a)) in before.iter().zip(&after) {
            assert!(
                *a <= BUDGET && *b <= BUDGET,
                "{backend}: GET {path} ran {b} statements on the demo and {a} after growth (budget {BUDGET})\n{}",
                report.join("\n")
            );
            assert_eq!(
                a,
                b,
                "{backend}: GET {path}: the statement count grew with the rows (N+1)\n{}",
                report.join("\n")
            );
        }
    }
}
