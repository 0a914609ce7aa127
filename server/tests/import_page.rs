//! The staff import page over HTTP: only collectors and admins may upload a file; the
//! upload answers a run id at once and the run goes on in the background; a dry run ends
//! `checked` and its report CSV lists every rejected row.

mod common;

use std::time::Duration;

use app::entities::import_run;
use app::model::enums::{ImportStatus, StaffRole};
use app::model::import::ImportRunView;
use app::services::{import, sessions, staff};
use app::testing::{databases, fixtures};
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{DatabaseConnection, EntityTrait};
use tower::ServiceExt;

use common::{TempDir, now, router_with_files, session_for};

const BOUNDARY: &str = "settle-import-boundary";

/// A multipart body with the given text fields, then the file (when given).
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    if let Some((file_name, bytes)) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post(cookie: Option<&str>, body: Vec<u8>) -> Request<Body> {
    let mut req = Request::post("/staff/import").header(
        header::CONTENT_TYPE,
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    req.body(Body::from(body)).expect("request")
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req = Request::get(path);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    req.body(Body::empty()).expect("request")
}

async fn send(router: &axum::Router, req: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let res = router.clone().oneshot(req).await.expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

/// A session cookie for a new staff user with `role`.
async fn staff_cookie(db: &DatabaseConnection, email: &str, role: StaffRole) -> String {
    let user = staff::add(db, email, "Staff", role, "staff password 12", now())
        .await
        .expect("staff user");
    let secret = sessions::open_staff_session(db, user.id, now())
        .await
        .expect("staff session");
    format!("{}={secret}", sessions::COOKIE)
}

fn files_in(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("imports"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits for the background task to finish run `id`: the run leaves `running` (bounded: a
/// small file takes milliseconds; the bound only stops a broken engine from hanging the suite).
async fn finished(db: &DatabaseConnection, id: i64) -> import_run::Model {
    for _ in 0..1500 {
        let run = import_run::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("run query")
            .expect("the run exists");
        if run.status != ImportStatus::Running {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("import run {id} still running after 30 s");
}

/// An invoices file: line 2 is for an account that exists, line 3 for one that does not, line
/// 4 has a date that is no date.
fn invoices_csv() -> Vec<u8> {
    b"external_id,invoice_number,account_number,invoice_date,due_date,currency,line_no,description,quantity,unit_price\n\
ERP-9001,INV-9001,C-1,2026-11-01,2026-12-01,USD,1,Widgets,2,10.00\n\
ERP-9002,INV-9002,C-404,2026-11-01,2026-12-01,USD,1,Widgets,1,5.00\n\
ERP-9003,INV-9003,C-1,2026-13-45,2026-12-01,USD,1,Widgets,1,5.00\n"
        .to_vec()
}

#[tokio::test]
async fn uploads_are_refused_without_a_staff_session_and_for_viewers() {
    for t in databases("http_import_refused").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let (_, contact) = session_for(db, "C-1").await;
        let viewer = staff_cookie(db, "viewer@example.com", StaffRole::Viewer).await;
        let dir = TempDir::new("import-refused");
        let router = router_with_files(db.clone(), dir.0.clone(), 1024);
        let body = || {
            multipart(
                &[("kind", "invoices"), ("dry_run", "true")],
                Some(("invoices.csv", &invoices_csv())),
            )
        };

        let (status, _, text) = send(&router, post(None, body())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}: {text}", t.backend);
        let (status, _, _) = send(&router, post(Some(&contact), body())).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{}: a customer",
            t.backend
        );
        let (status, _, text) = send(&router, post(Some(&viewer), body())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: {text}", t.backend);
        assert!(text.contains("collectors and admins"), "{text}");
        let mut cross = post(Some(&viewer), body());
        cross.headers_mut().insert(
            "sec-fetch-site",
            http::HeaderValue::from_static("cross-site"),
        );
        let (status, _, _) = send(&router, cross).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        let runs = import_run::Entity::find().all(db).await.expect("runs");
        assert!(runs.is_empty(), "{}: no run started", t.backend);
        assert_eq!(files_in(&dir.0), 0, "{}: nothing stored", t.backend);
        let (status, _, _) = send(&router, get("/staff/import/1/report.csv", None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, _) = send(&router, get("/staff/import/1/report.csv", Some(&contact))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn malformed_forms_are_refused_and_leave_no_file_behind() {
    for t in databases("http_import_malformed").await {
        let db = &t.conn;
        let collector = staff_cookie(db, "coll@example.com", StaffRole::Collector).await;
        let dir = TempDir::new("import-malformed");
        let router = router_with_files(db.clone(), dir.0.clone(), 1024);
        let csv = invoices_csv();
        let cases: [(&str, Vec<u8>, &str); 5] = [
            (
                "no kind",
                multipart(&[("dry_run", "true")], Some(("a.csv", &csv))),
                "choose what the file holds",
            ),
            (
                "unknown kind",
                multipart(
                    &[("kind", "orders"), ("dry_run", "true")],
                    Some(("a.csv", &csv)),
                ),
                "choose what the file holds",
            ),
            (
                "no file",
                multipart(&[("kind", "invoices"), ("dry_run", "true")], None),
                "choose a file",
            ),
            (
                "empty file",
                multipart(
                    &[("kind", "invoices"), ("dry_run", "true")],
                    Some(("a.csv", b"")),
                ),
                "the file is empty",
            ),
            (
                "dry_run neither true nor false",
                multipart(
                    &[("kind", "invoices"), ("dry_run", "maybe")],
                    Some(("a.csv", &csv)),
                ),
                "dry_run must be true or false",
            ),
        ];
        for (case, body, message) in cases {
            let (status, _, text) = send(&router, post(Some(&collector), body)).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{}: {case}: {text}",
                t.backend
            );
            assert!(text.contains(message), "{}: {case}: {text}", t.backend);
        }
        assert_eq!(files_in(&dir.0), 0, "{}: nothing left behind", t.backend);
        let runs = import_run::Entity::find().all(db).await.expect("runs");
        assert!(runs.is_empty(), "{}: no run started", t.backend);
    }
}

#[tokio::test]
async fn a_dry_run_is_checked_and_its_report_lists_every_rejected_row() {
    for t in databases("http_import_dry_run").await {
        let db = &t.conn;
        fixtures::customer(db, "C-1", "Acme").await;
        let collector = staff_cookie(db, "coll@example.com", StaffRole::Collector).await;
        let viewer = staff_cookie(db, "viewer@example.com", StaffRole::Viewer).await;
        let dir = TempDir::new("import-dry-run");
        let router = router_with_files(db.clone(), dir.0.clone(), 1024);

        // The file comes before the other fields: the form is read in any order.
        let mut body = multipart(&[], Some(("ERP invoices.csv", &invoices_csv())));
        let tail = multipart(&[("kind", "invoices"), ("dry_run", "true")], None);
        body.truncate(body.len() - format!("--{BOUNDARY}--\r\n").len());
        body.extend_from_slice(&tail);
        let (status, headers, text) = send(&router, post(Some(&collector), body)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{}: {text}", t.backend);
        assert_eq!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let id = json["run_id"].as_i64().expect("a run id");

        let run = finished(db, id).await;
        assert_eq!(
            (run.status, run.dry_run, run.total_rows, run.processed_rows),
            (ImportStatus::Checked, true, 3, 3),
            "{}: {run:?}",
            t.backend
        );
        assert_eq!(run.file_name, "ERP_invoices.csv");
        assert_eq!(run.rejected_count, 2, "{}: {run:?}", t.backend);
        assert_eq!(run.created_count, 1, "{}: {run:?}", t.backend);
        assert_eq!(
            files_in(&dir.0),
            0,
            "{}: the file is removed after the run",
            t.backend
        );

        let path = format!("/staff/import/{id}/report.csv");
        let (status, headers, csv) = send(&router, get(&path, Some(&viewer))).await;
        assert_eq!(status, StatusCode::OK, "{}: {csv}", t.backend);
        let disposition = headers
            .get(header::CONTENT_DISPOSITION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/csv")),
        );
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        assert_eq!(
            reader.headers().expect("header").iter().collect::<Vec<_>>(),
            ["line", "column", "reason"]
        );
        let rows: Vec<(i64, String, String)> = reader
            .records()
            .map(|r| {
                let r = r.expect("record");
                (
                    r[0].parse().expect("a line number"),
                    r[1].to_owned(),
                    r[2].to_owned(),
                )
            })
            .collect();
        let stored: Vec<(i64, String, String)> = import::rejects(db, id)
            .await
            .expect("rejects")
            .into_iter()
            .map(|r| (r.line, r.column_name, r.reason))
            .collect();
        assert_eq!(rows, stored, "{}: the report is every reject", t.backend);
        let lines: Vec<(i64, &str)> = rows.iter().map(|(l, c, _)| (*l, c.as_str())).collect();
        assert_eq!(
            lines,
            [(3, "account_number"), (4, "invoice_date")],
            "{}: {rows:?}",
            t.backend
        );

        let (status, _, _) = send(
            &router,
            get("/staff/import/999999/report.csv", Some(&viewer)),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // What the page polls and lists, for any staff user.
        let (status, _, text) = send(
            &router,
            server_fn("/api/staff/import/run", &format!("id={id}"), Some(&viewer)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        let view: ImportRunView = serde_json::from_str(&text).expect("a run");
        assert_eq!(
            (
                view.status,
                view.processed_rows,
                view.total_rows,
                view.rejected
            ),
            (ImportStatus::Checked, 3, 3, 2)
        );
        let shown: Vec<(i64, String)> = view
            .rejects
            .into_iter()
            .map(|r| (r.line, r.column))
            .collect();
        assert_eq!(
            shown,
            [
                (3, "account_number".to_owned()),
                (4, "invoice_date".to_owned())
            ]
        );
        let (status, _, _) = send(
            &router,
            server_fn("/api/staff/import/run", &format!("id={id}"), None),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (status, _, text) = send(
            &router,
            server_fn("/api/staff/import/runs", "", Some(&viewer)),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        let list: Vec<ImportRunView> = serde_json::from_str(&text).expect("runs");
        assert_eq!(list.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);

        // The page itself, rendered on the server for a viewer: the run listed, no upload form.
        let (status, _, html) = send(&router, get("/staff/import", Some(&viewer))).await;
        assert_eq!(status, StatusCode::OK, "{}", t.backend);
        assert!(html.contains("data-testid=\"import-viewer\""), "{html}");
        assert!(!html.contains("data-testid=\"import-form\""));
        assert!(
            html.contains(&format!("data-testid=\"import-run-{id}\"")),
            "{html}"
        );
    }
}

fn server_fn(path: &str, body: &str, cookie: Option<&str>) -> Request<Body> {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    req.body(Body::from(body.to_owned())).expect("request")
}

#[tokio::test]
async fn a_form_posted_by_the_browser_itself_is_sent_back_to_the_page() {
    for t in databases("http_import_no_script").await {
        let db = &t.conn;
        fixtures::customer(db, "C-1", "Acme").await;
        let admin = staff_cookie(db, "admin@example.com", StaffRole::Admin).await;
        let dir = TempDir::new("import-no-script");
        let router = router_with_files(db.clone(), dir.0.clone(), 1024);
        // An unticked checkbox sends nothing: the file is applied.
        let mut req = post(
            Some(&admin),
            multipart(&[("kind", "invoices")], Some(("a.csv", &invoices_csv()))),
        );
        req.headers_mut().insert(
            header::ACCEPT,
            http::HeaderValue::from_static("text/html,application/xhtml+xml"),
        );
        let (status, headers, _) = send(&router, req).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{}", t.backend);
        let runs = import_run::Entity::find().all(db).await.expect("runs");
        assert_eq!(runs.len(), 1);
        assert!(
            !runs[0].dry_run,
            "{}: no dry_run field is an apply",
            t.backend
        );
        assert_eq!(
            headers.get(header::LOCATION).and_then(|v| v.to_str().ok()),
            Some(format!("/staff/import?run={}", runs[0].id).as_str())
        );
        finished(db, runs[0].id).await;
    }
}
