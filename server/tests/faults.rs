//! Faults a real installation meets, against the real `settle` binary:
//!
//! - kill -9 in the middle of a burst of signed payment webhooks: after a restart, and the
//!   provider's retries of every unanswered delivery plus redeliveries of answered ones,
//!   every payment is applied exactly once;
//! - kill -9 in the middle of `settle import invoices`: importing the same file again ends
//!   where a one-shot import into a fresh database ends;
//! - PostgreSQL unreachable under load (a TCP proxy in front of it is cut): requests answer
//!   503 within a bound, the process stays up, and requests succeed again once the proxy
//!   is back, without restarting Settle;
//! - SMTP down for an hour on a simulated clock: mail queued meanwhile is delivered once,
//!   none given up, when the SMTP server comes up at the same address.
//!
//! Each runs on SQLite and, with `TEST_DATABASE_URL`, on PostgreSQL (the proxy test on
//! PostgreSQL only).

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app::entities::{
    account, document, document_line, import_run, outbox_email, payment, payment_application,
    payment_link, webhook_event,
};
use app::model::enums::{
    ApiScope, DocumentStatus, ImportStatus, OutboxStatus, PaymentChannel, PaymentLinkStatus,
    PaymentStatus,
};
use app::model::payments::PayItem;
use app::services::easy_pay::event::session_event;
use app::services::easy_pay::record::RECEIPT_TEMPLATE;
use app::services::easy_pay::sandbox::Sandbox;
use app::services::easy_pay::{self, Payer, signature};
use app::services::outbox::{self, NewEmail};
use app::state::{Clock, FixedClock};
use app::testing::fixtures;
use chrono::Utc;
use common::{
    HttpResponse, Served, Sink, TempDir, eventually, free_port, fresh_postgres_url, http,
    settle_command, settle_serve_command, sign_in_over_http,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use server::mailer::{Mailer, MailerOptions};

/// The sandbox webhook secret of a `settle` run with [`common::SECRET_KEY_HEX`].
fn sandbox_secret() -> Vec<u8> {
    server::config::sandbox_secret(&[0u8; 32])
}

fn is_2xx(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

/// A database for one run: its URL (for `settle`) and a connection (for the test).
struct Db {
    backend: &'static str,
    url: String,
    conn: DatabaseConnection,
}

/// A migrated SQLite file in `dir` and, with `TEST_DATABASE_URL`, a fresh PostgreSQL
/// database `settle_t_{name}`; both seeded as `settle` seeds them.
async fn file_databases(dir: &TempDir, name: &str) -> Vec<Db> {
    let path = dir.0.join(format!("{name}.db"));
    let mut out = vec![Db {
        backend: "sqlite",
        url: format!("sqlite://{}?mode=rwc", path.display()),
        conn: app::testing::file_sqlite(&path).await,
    }];
    if let Some(url) = fresh_postgres_url(name).await {
        let conn = app::db::connect(&url)
            .await
            .expect("postgres test database");
        app::db::migrate(&conn).await.expect("migrate postgres");
        out.push(Db {
            backend: "postgres",
            url,
            conn,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------
// 1. kill -9 during a payment webhook burst
// ---------------------------------------------------------------------------------------

const PAYERS: usize = 80;
/// The server is killed once this many deliveries were acknowledged.
const KILL_AFTER_ACKS: usize = 10;
const PUBLIC_URL: &str = "http://settle.test";

/// One customer's checkout: two invoices (250.00 and 300.00 open), 100.00 on the first and
/// all of the second; the signed event the provider sends when it is paid.
struct Checkout {
    first: i64,
    second: i64,
    session: String,
    body: Vec<u8>,
}

async fn open_checkouts(db: &DatabaseConnection) -> Vec<Checkout> {
    let sandbox = Sandbox::new(sandbox_secret(), PUBLIC_URL);
    let mut out = Vec::new();
    for i in 0..PAYERS {
        let number = format!("WB-{i:03}");
        let acct = fixtures::customer(db, &number, &format!("Burst {i}")).await;
        let who = fixtures::contact(db, acct.id, "Pat", &format!("ap{i}@burst.test")).await;
        let first = fixtures::invoice(db, acct.id, &format!("{number}-A"), 25_000).await;
        let second = fixtures::invoice(db, acct.id, &format!("{number}-B"), 30_000).await;
        let url = easy_pay::start_checkout(
            db,
            &sandbox,
            PUBLIC_URL,
            Payer {
                account_id: acct.id,
                contact_id: who.id,
                only_document: None,
            },
            &[
                PayItem {
                    document_id: first.id,
                    amount: "100.00".to_owned(),
                },
                PayItem {
                    document_id: second.id,
                    amount: "300.00".to_owned(),
                },
            ],
            PaymentChannel::Card,
            "burst",
            Utc::now(),
        )
        .await
        .expect("start a checkout");
        let session = url.rsplit('/').next().unwrap_or_default().to_owned();
        let body = session_event(
            &format!("evt_burst_{i:03}"),
            "checkout.session.completed",
            &session,
            "paid",
            40_000,
            "USD",
            Utc::now().timestamp(),
        );
        out.push(Checkout {
            first: first.id,
            second: second.id,
            session,
            body,
        });
    }
    out
}

/// Delivers a webhook as the provider does (signed at the moment of sending).
async fn deliver(port: u16, body: &[u8]) -> std::io::Result<HttpResponse> {
    let header = signature::sign(&sandbox_secret(), Utc::now().timestamp(), body);
    http(
        port,
        "POST",
        "/webhooks/sandbox",
        &[
            ("content-type", "application/json"),
            ("stripe-signature", &header),
        ],
        body,
    )
    .await
}

async fn webhook_burst_survives_kill_9(db: &Db) {
    let what = db.backend;
    let conn = &db.conn;
    let checkouts = Arc::new(open_checkouts(conn).await);
    let dir = TempDir::new(&format!("faults-pay-{what}"));

    // The burst: every delivery at once; the server is killed once KILL_AFTER_ACKS are in.
    let port = free_port();
    let mut first = Served::start(settle_serve_command(&db.url, &dir.0, port), port).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..PAYERS {
        let (tx, checkouts) = (tx.clone(), checkouts.clone());
        tokio::spawn(async move {
            let answer = deliver(port, &checkouts[i].body).await.ok();
            let _ = tx.send((i, answer.map(|r| r.status)));
        });
    }
    drop(tx);
    let mut answers: BTreeMap<usize, Option<u16>> = BTreeMap::new();
    let collect = async {
        while let Some((i, status)) = rx.recv().await {
            answers.insert(i, status);
            if answers.values().filter(|s| is_2xx(**s)).count() == KILL_AFTER_ACKS {
                first.kill().await;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), collect)
        .await
        .unwrap_or_else(|_| panic!("{what}: the burst was not answered within 60 s"));
    assert!(!first.alive(), "{what}: the server was killed mid-burst");
    let acked: Vec<usize> = (0..PAYERS).filter(|i| is_2xx(answers[i])).collect();
    let unanswered: Vec<usize> = (0..PAYERS).filter(|i| !is_2xx(answers[i])).collect();
    assert!(
        !unanswered.is_empty(),
        "{what}: every delivery was acknowledged before the kill; the kill came too late"
    );
    println!(
        "{what}: {} of {PAYERS} deliveries acknowledged before kill -9",
        acked.len()
    );

    // Restart; the provider retries every delivery it has no 2xx for, and redelivers half
    // of the acknowledged ones.
    let port = free_port();
    let mut second = Served::start(settle_serve_command(&db.url, &dir.0, port), port).await;
    let redelivered: Vec<usize> = acked.iter().copied().step_by(2).collect();
    let mut applied_unanswered = 0;
    for &i in unanswered.iter().chain(&redelivered) {
        let res = deliver(port, &checkouts[i].body)
            .await
            .unwrap_or_else(|e| panic!("{what}: redelivery {i} unanswered: {e}"));
        assert_eq!(res.status, 200, "{what}: redelivery {i}: {}", res.body);
        if !acked.contains(&i) && res.body.contains("Duplicate") {
            applied_unanswered += 1;
        }
        if acked.contains(&i) {
            assert!(
                res.body.contains("Duplicate"),
                "{what}: an acknowledged event is a duplicate: {}",
                res.body
            );
        }
    }
    assert!(second.alive());
    second.kill().await;
    println!(
        "{what}: {} retried, {applied_unanswered} of them already applied (committed, answer lost); {} acknowledged ones redelivered",
        unanswered.len(),
        redelivered.len()
    );

    // Exactly once: one handled event, one payment, two applications, one receipt each.
    assert_eq!(
        webhook_event::Entity::find().count(conn).await.expect("n"),
        PAYERS as u64,
        "{what}: one handled event per delivery id"
    );
    let payments = payment::Entity::find().all(conn).await.expect("payments");
    assert_eq!(payments.len(), PAYERS, "{what}: one payment per checkout");
    for c in checkouts.iter() {
        let mine: Vec<&payment::Model> = payments
            .iter()
            .filter(|p| p.provider_ref.as_deref() == Some(c.session.as_str()))
            .collect();
        assert_eq!(mine.len(), 1, "{what}: {}", c.session);
        let p = mine[0];
        assert_eq!(
            (p.amount_minor, p.unapplied_minor, p.status),
            (40_000, 0, PaymentStatus::Succeeded),
            "{what}: {}",
            c.session
        );
        let applied: Vec<(i64, i64)> = payment_application::Entity::find()
            .filter(payment_application::COLUMN.payment_id.eq(p.id))
            .order_by_asc(payment_application::COLUMN.document_id)
            .all(conn)
            .await
            .expect("applications")
            .iter()
            .map(|a| (a.document_id, a.amount_minor))
            .collect();
        assert_eq!(
            applied,
            vec![(c.first, 10_000), (c.second, 30_000)],
            "{what}: {}",
            c.session
        );
        for (id, open, status) in [
            (c.first, 15_000, DocumentStatus::Open),
            (c.second, 0, DocumentStatus::Paid),
        ] {
            let d = document::Entity::find_by_id(id)
                .one(conn)
                .await
                .expect("read")
                .expect("invoice");
            assert_eq!(
                (d.open_minor, d.status),
                (open, status),
                "{what}: {}",
                d.number
            );
        }
    }
    assert_eq!(
        payment_application::Entity::find()
            .count(conn)
            .await
            .expect("n"),
        2 * PAYERS as u64,
        "{what}"
    );
    let links = payment_link::Entity::find().all(conn).await.expect("links");
    assert!(
        links
            .iter()
            .all(|l| l.status == PaymentLinkStatus::Completed),
        "{what}: every checkout completed"
    );
    assert_eq!(
        outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.template_key.eq(RECEIPT_TEMPLATE))
            .count(conn)
            .await
            .expect("n"),
        PAYERS as u64,
        "{what}: one receipt per payment"
    );
}

#[tokio::test]
async fn payments_are_applied_once_after_a_kill_during_a_webhook_burst() {
    let dir = TempDir::new("faults-pay-db");
    for db in file_databases(&dir, "server_faults_pay").await {
        webhook_burst_survives_kill_9(&db).await;
    }
}

// ---------------------------------------------------------------------------------------
// 2. kill -9 during an import
// ---------------------------------------------------------------------------------------

const IMPORT_ACCOUNTS: usize = 20;
const LINES_PER_INVOICE: usize = 10;

async fn import_accounts(db: &DatabaseConnection) {
    for a in 0..IMPORT_ACCOUNTS {
        fixtures::customer(db, &format!("IMP{a:03}"), &format!("Import {a}")).await;
    }
}

/// An invoices file of `invoices` invoices of [`LINES_PER_INVOICE`] lines.
fn write_invoices_csv(path: &std::path::Path, invoices: usize) {
    let mut csv = String::from(
        "external_id,invoice_number,account_number,invoice_date,due_date,currency,line_no,sku,description,quantity,unit_price,tax\n",
    );
    for i in 1..=invoices {
        let account = format!("IMP{:03}", i % IMPORT_ACCOUNTS);
        let day = 1 + i % 28;
        for l in 1..=LINES_PER_INVOICE {
            csv.push_str(&format!(
                "FI-{i},FINV-{i:05},{account},2026-10-{day:02},2026-11-{day:02},USD,{l},SKU-{l},Item {l} of {i},{}.5,{}.25,1.50\n",
                1 + l % 7,
                10 + i % 90
            ));
        }
    }
    std::fs::write(path, csv).expect("write the invoices file");
}

type DocRow = (
    String,
    String,
    Option<String>,
    chrono::NaiveDate,
    Option<chrono::NaiveDate>,
    i64,
    i64,
    i64,
    DocumentStatus,
);
type LineRow = (String, i32, Option<String>, String, i64, i64, i64, i64);

/// Everything an invoices import writes, without ids and timestamps.
async fn imported(db: &DatabaseConnection) -> (Vec<DocRow>, Vec<LineRow>) {
    let numbers: BTreeMap<i64, String> = account::Entity::find()
        .all(db)
        .await
        .expect("accounts")
        .into_iter()
        .map(|a| (a.id, a.account_number))
        .collect();
    let docs = document::Entity::find()
        .order_by_asc(document::COLUMN.number)
        .all(db)
        .await
        .expect("documents");
    let doc_numbers: BTreeMap<i64, String> =
        docs.iter().map(|d| (d.id, d.number.clone())).collect();
    let doc_rows = docs
        .iter()
        .map(|d| {
            (
                d.number.clone(),
                numbers.get(&d.account_id).cloned().unwrap_or_default(),
                d.external_id.clone(),
                d.issue_date,
                d.due_date,
                d.total_minor,
                d.tax_minor,
                d.open_minor,
                d.status,
            )
        })
        .collect();
    let mut lines: Vec<LineRow> = document_line::Entity::find()
        .all(db)
        .await
        .expect("lines")
        .into_iter()
        .map(|l| {
            (
                doc_numbers.get(&l.document_id).cloned().unwrap_or_default(),
                l.line_no,
                l.sku,
                l.description,
                l.quantity_milli,
                l.unit_price_minor,
                l.amount_minor,
                l.tax_minor,
            )
        })
        .collect();
    lines.sort();
    (doc_rows, lines)
}

/// `created C, updated U, unchanged N, rejected R` of `settle import`'s summary line.
fn counts(stdout: &str) -> BTreeMap<String, u64> {
    let line = stdout.lines().next().unwrap_or_default();
    line.split([';', ','])
        .filter_map(|part| {
            let mut words = part.split_whitespace().rev();
            let n = words.next()?.parse().ok()?;
            Some((words.next()?.to_owned(), n))
        })
        .collect()
}

async fn import_resumes_after_kill_9(db: &Db, oneshot: &Db, invoices: usize) {
    let what = db.backend;
    let dir = TempDir::new(&format!("faults-import-{what}"));
    let file = dir.0.join("invoices.csv");
    write_invoices_csv(&file, invoices);
    let file_arg = file.to_string_lossy().into_owned();
    let rows = (invoices * LINES_PER_INVOICE) as u64;
    import_accounts(&db.conn).await;
    import_accounts(&oneshot.conn).await;

    // kill -9 once the first batch is committed.
    let started = Instant::now();
    let mut child = settle_command(&["import", "invoices", &file_arg], &db.url, &dir.0)
        .spawn()
        .expect("settle import starts");
    eventually(60, "the import's first committed batch", || async {
        document::Entity::find().count(&db.conn).await.unwrap_or(0) > 0
    })
    .await;
    child.kill().await.expect("kill -9 settle import");
    let killed_after = started.elapsed();
    let partial = document::Entity::find().count(&db.conn).await.expect("n");
    assert!(
        partial < invoices as u64,
        "{what}: the import was killed part-way ({partial} of {invoices} invoices in)"
    );
    let runs = import_run::Entity::find()
        .all(&db.conn)
        .await
        .expect("runs");
    assert_eq!(runs.len(), 1, "{what}");
    assert_eq!(
        runs[0].status,
        ImportStatus::Running,
        "{what}: a run killed outright stays running"
    );

    // Importing the same file again carries on.
    let started = Instant::now();
    let again = settle_command(&["import", "invoices", &file_arg], &db.url, &dir.0)
        .stdout(std::process::Stdio::piped())
        .output()
        .await
        .expect("settle import runs");
    let resumed_in = started.elapsed();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{what}: {stdout}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let c = counts(&stdout);
    assert_eq!(
        (c.get("updated"), c.get("rejected")),
        (Some(&0), Some(&0)),
        "{what}: {stdout}"
    );
    assert_eq!(
        c.get("created").copied().unwrap_or(0) + c.get("unchanged").copied().unwrap_or(0),
        rows,
        "{what}: every row seen once: {stdout}"
    );
    assert_eq!(
        c.get("unchanged").copied().unwrap_or(0),
        partial * LINES_PER_INVOICE as u64,
        "{what}: the rows committed before the kill are found unchanged: {stdout}"
    );
    let last = import_run::Entity::find()
        .order_by_desc(import_run::COLUMN.id)
        .one(&db.conn)
        .await
        .expect("runs")
        .expect("the second run");
    assert_eq!(last.status, ImportStatus::Applied, "{what}");

    // The same as one import into a fresh database.
    let started = Instant::now();
    let once = settle_command(&["import", "invoices", &file_arg], &oneshot.url, &dir.0)
        .output()
        .await
        .expect("settle import runs");
    let oneshot_in = started.elapsed();
    assert!(once.status.success(), "{what}: the one-shot import failed");
    let (docs, lines) = imported(&db.conn).await;
    let (docs_once, lines_once) = imported(&oneshot.conn).await;
    assert_eq!(docs.len(), invoices, "{what}");
    assert_eq!(lines.len() as u64, rows, "{what}");
    assert!(
        docs == docs_once,
        "{what}: the invoices differ from a one-shot import"
    );
    assert!(
        lines == lines_once,
        "{what}: the lines differ from a one-shot import"
    );
    let total: i64 = docs.iter().map(|d| d.5).sum();
    let total_once: i64 = docs_once.iter().map(|d| d.5).sum();
    assert_eq!(total, total_once, "{what}");
    println!(
        "{what}: {rows} rows; killed after {killed_after:.1?} with {partial} invoices in; resumed in {resumed_in:.1?}; one-shot {oneshot_in:.1?}; total {total}"
    );
}

#[tokio::test]
async fn an_import_killed_part_way_resumes_to_the_one_shot_result() {
    let dir = TempDir::new("faults-import-db");
    let resumed = file_databases(&dir, "server_faults_import").await;
    let oneshot = file_databases(&dir, "server_faults_import_once").await;
    for (db, once) in resumed.iter().zip(&oneshot) {
        // PostgreSQL imports more slowly in a debug build; a smaller file still has
        // several batches after the first.
        let invoices = if db.backend == "postgres" {
            1_500
        } else {
            5_000
        };
        import_resumes_after_kill_9(db, once, invoices).await;
    }
}

// ---------------------------------------------------------------------------------------
// 3. PostgreSQL unreachable under load
// ---------------------------------------------------------------------------------------

/// A TCP proxy in front of PostgreSQL that the test can cut (listener closed, every live
/// connection dropped) and open again on the same port.
struct Proxy {
    port: u16,
    upstream: SocketAddr,
    stop: Option<tokio::sync::watch::Sender<bool>>,
    accept: Option<tokio::task::JoinHandle<()>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let mut proxy = Proxy {
            port: free_port(),
            upstream,
            stop: None,
            accept: None,
        };
        proxy.open().await;
        proxy
    }

    async fn open(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the proxy's port");
        let (tx, rx) = tokio::sync::watch::channel(false);
        let upstream = self.upstream;
        self.accept = Some(tokio::spawn(async move {
            let mut stopped = rx.clone();
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((mut client, _)) = accepted else { continue };
                        let mut stop = rx.clone();
                        tokio::spawn(async move {
                            let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                                return;
                            };
                            tokio::select! {
                                _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                                _ = stop.changed() => {}
                            }
                        });
                    }
                }
            }
        }));
        self.stop = Some(tx);
    }

    /// Closes the listener and every connection through it.
    async fn cut(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(accept) = self.accept.take() {
            accept.await.expect("the proxy's accept loop ends");
        }
    }
}

/// `host:port` of a PostgreSQL URL, and the URL with that replaced by `127.0.0.1:{port}`.
fn through_proxy(url: &str, port: u16) -> (SocketAddr, String) {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let hostport = if hostport.contains(':') {
        hostport.to_owned()
    } else {
        format!("{hostport}:5432")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    let upstream: SocketAddr = hostport
        .parse()
        .unwrap_or_else(|_| panic!("TEST_DATABASE_URL's host must be an IP address: {hostport}"));
    let proxied = format!(
        "{}{userinfo}127.0.0.1:{port}{}",
        &url[..scheme_end],
        &rest[authority_end..]
    );
    (upstream, proxied)
}

/// One request of the load: a name and how to make it.
#[derive(Clone)]
struct Probe {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

impl Probe {
    async fn send(&self, port: u16) -> std::io::Result<HttpResponse> {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        http(port, self.method, self.path, &headers, &self.body).await
    }
}

/// An answer is due within this: the pool's 10 s acquire timeout and some margin.
const ANSWER_BOUND: Duration = Duration::from_secs(15);

/// One timed request: its status, or `None` when there was no answer within the bound.
async fn timed(probe: &Probe, port: u16) -> (Option<u16>, Duration, String) {
    let started = Instant::now();
    match tokio::time::timeout(ANSWER_BOUND, probe.send(port)).await {
        Ok(Ok(res)) => (Some(res.status), started.elapsed(), res.body),
        Ok(Err(err)) => (None, started.elapsed(), format!("connection failed: {err}")),
        Err(_) => (
            None,
            started.elapsed(),
            "no answer within the bound".to_owned(),
        ),
    }
}

#[tokio::test]
async fn requests_answer_503_while_postgres_is_unreachable_and_recover_without_restart() {
    let Some(url) = fresh_postgres_url("server_faults_pg_down").await else {
        println!("TEST_DATABASE_URL is unset: skipping the PostgreSQL outage test");
        return;
    };
    let db = app::db::connect(&url).await.expect("postgres");
    app::db::migrate(&db).await.expect("migrate");
    let acct = fixtures::customer(&db, "PGD-1", "Outage Outfitters").await;
    let who = fixtures::contact(&db, acct.id, "Pat", "pat@outage.test").await;
    fixtures::invoice(&db, acct.id, "PGD-INV-1", 12_500).await;
    let (_, api_key) =
        app::services::api_keys::create(&db, "outage", ApiScope::Read, None, Utc::now())
            .await
            .expect("an API key");

    let dir = TempDir::new("faults-pg-down");
    let (upstream, _) = through_proxy(&url, 0);
    let mut proxy = Proxy::start(upstream).await;
    let (_, proxied) = through_proxy(&url, proxy.port);
    let port = free_port();
    let mut settle = Served::start(
        {
            let mut cmd = settle_serve_command(&proxied, &dir.0, port);
            cmd.env("RUST_LOG", "error");
            cmd
        },
        port,
    )
    .await;
    let cookie = sign_in_over_http(&db, port, who.id).await;
    let probes = vec![
        Probe {
            name: "portal page",
            method: "GET",
            path: "/portal",
            headers: vec![("cookie", cookie.clone())],
            body: Vec::new(),
        },
        Probe {
            name: "server function",
            method: "POST",
            path: "/api/portal/overview",
            headers: vec![
                ("cookie", cookie.clone()),
                ("accept", "application/json".to_owned()),
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                ),
            ],
            body: Vec::new(),
        },
        Probe {
            name: "anonymous server function",
            method: "POST",
            path: "/api/links/describe",
            headers: vec![
                ("accept", "application/json".to_owned()),
                (
                    "content-type",
                    "application/x-www-form-urlencoded".to_owned(),
                ),
            ],
            body: b"token=not-a-real-token".to_vec(),
        },
        Probe {
            name: "REST API",
            method: "GET",
            path: "/api/v1/accounts",
            headers: vec![("authorization", format!("Bearer {api_key}"))],
            body: Vec::new(),
        },
    ];
    for probe in &probes {
        let (status, _, body) = timed(probe, port).await;
        assert_eq!(
            status,
            Some(200),
            "{} before the outage: {body}",
            probe.name
        );
    }

    // Requests flow the whole time: one client per kind of request, paced (the REST API's
    // key is limited to 600 a minute).
    let flowing = Arc::new(AtomicBool::new(true));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for probe in probes.clone() {
        let (flowing, answered) = (flowing.clone(), answered.clone());
        clients.spawn(async move {
            let every = if probe.name == "REST API" { 200 } else { 25 };
            let mut pace = tokio::time::interval(Duration::from_millis(every));
            let mut seen = Vec::new();
            while flowing.load(Ordering::SeqCst) {
                pace.tick().await;
                let (status, took, body) = timed(&probe, port).await;
                answered.fetch_add(1, Ordering::SeqCst);
                seen.push((probe.name, status, took, body));
            }
            seen
        });
    }

    eventually(30, "requests to flow", || async {
        answered.load(Ordering::SeqCst) >= 40
    })
    .await;

    // The database goes away: every kind of request answers 503 within the bound.
    proxy.cut().await;
    let mut outage = tokio::task::JoinSet::new();
    for probe in probes.clone() {
        outage.spawn(async move { (probe.name, timed(&probe, port).await) });
    }
    let outage = outage.join_all().await;
    assert!(settle.alive(), "settle is still running during the outage");

    // It comes back: requests succeed again, the same process.
    proxy.open().await;
    let recovered = Instant::now();
    for probe in &probes {
        eventually(
            30,
            &format!("{} to succeed after the outage", probe.name),
            || async { timed(probe, port).await.0 == Some(200) },
        )
        .await;
    }
    let recovered_in = recovered.elapsed();
    flowing.store(false, Ordering::SeqCst);
    let flow: Vec<_> = clients.join_all().await.into_iter().flatten().collect();
    assert!(settle.alive(), "settle was never restarted");
    settle.kill().await;

    for (name, (status, took, body)) in &outage {
        println!("outage: {name}: {status:?} after {took:.1?}");
        assert_eq!(
            *status,
            Some(503),
            "{name} while the database is unreachable, after {took:.1?}: {body}"
        );
    }
    let by_status = flow.iter().fold(BTreeMap::new(), |mut m, (_, s, _, _)| {
        *m.entry(*s).or_insert(0_usize) += 1;
        m
    });
    let slowest = flow.iter().map(|f| f.2).max().unwrap_or_default();
    println!(
        "flow: {} requests, by status {by_status:?}, slowest {slowest:.1?}; recovered in {recovered_in:.1?}",
        flow.len()
    );
    for (name, status, took, body) in &flow {
        assert!(
            matches!(status, Some(200 | 503)),
            "{name}: {status:?} after {took:.1?} (only 200 or 503 is clean): {body}"
        );
    }
    assert!(
        flow.iter().any(|f| f.1 == Some(503)),
        "the flowing requests met the outage"
    );
}

// ---------------------------------------------------------------------------------------
// 4. SMTP down for an hour (simulated clock)
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn mail_queued_while_smtp_is_down_for_an_hour_is_delivered_once_when_it_is_back() {
    for t in app::testing::databases("server_faults_smtp_down").await {
        let db = &t.conn;
        let what = t.backend;
        // The SMTP server's address: nobody listens there for the first hour.
        let smtp_port = free_port();
        let mailer = Mailer::smtp(
            &format!("smtp://127.0.0.1:{smtp_port}"),
            "Settle <billing@settle.test>".parse().expect("from"),
            MailerOptions {
                batch: 50,
                smtp_timeout: Duration::from_secs(5),
                send_timeout: Duration::from_secs(10),
                ..MailerOptions::default()
            },
        )
        .expect("mailer");
        let clock = FixedClock::at(fixtures::now());
        let queue = |n: usize| {
            let clock = &clock;
            async move {
                outbox::enqueue(
                    db,
                    NewEmail {
                        to: format!("ap{n}@down.test"),
                        subject: format!("Statement {n}"),
                        text: format!("Hello {n}"),
                        ..NewEmail::default()
                    },
                    clock.now(),
                )
                .await
                .expect("enqueue")
            }
        };
        let mut queued = Vec::new();
        for n in 0..10 {
            queued.push(queue(n).await);
        }
        // An hour, a minute at a time: the mail worker tries what is due; more is queued.
        for minute in 1..=60 {
            clock.advance(chrono::Duration::minutes(1));
            if minute % 10 == 0 {
                queued.push(queue(100 + minute).await);
            }
            let report = mailer.deliver_due(db, &clock).await.expect("deliver");
            assert_eq!(
                (report.sent, report.dead, report.retrying),
                (0, 0, report.claimed),
                "{what}: minute {minute}: {report:?}"
            );
        }
        let rows = outbox_email::Entity::find().all(db).await.expect("outbox");
        assert_eq!(rows.len(), queued.len(), "{what}");
        assert!(
            rows.iter()
                .all(|r| r.status == OutboxStatus::Pending && r.attempts > 0),
            "{what}: everything waits, tried at least once"
        );

        // SMTP comes up at the same address; the worker carries on a minute at a time.
        let up = Sink::start_on(&format!("faults-smtp-down-{what}"), smtp_port).await;
        let mut minutes = 0;
        while outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.status.ne(OutboxStatus::Sent))
            .count(db)
            .await
            .expect("n")
            > 0
        {
            minutes += 1;
            assert!(
                minutes <= 120,
                "{what}: not all delivered two hours after SMTP came back"
            );
            clock.advance(chrono::Duration::minutes(1));
            let report = mailer.deliver_due(db, &clock).await.expect("deliver");
            assert_eq!(
                (report.dead, report.bounced),
                (0, 0),
                "{what}: nothing given up: {report:?}"
            );
        }
        for id in &queued {
            assert_eq!(
                up.received(id).len(),
                1,
                "{what}: {id} arrived exactly once"
            );
        }
        assert_eq!(up.count(), queued.len(), "{what}: nothing else arrived");
        println!(
            "{what}: all {} delivered {minutes} min after SMTP came back",
            queued.len()
        );
    }
}
