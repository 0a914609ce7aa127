//! The write load generator. oha repeats one body, but each write here must be new: an
//! inline edit names the version it loaded, a line can be disputed once. So every request
//! takes the next target (read from the database before the run) and is posted as the
//! browser posts it — form-urlencoded to the server function, with the session cookie
//! and `Sec-Fetch-Site: same-origin`. After the run the rows are counted: every
//! acknowledged (2xx) write must be in the database.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::DatabaseConnection;

use crate::db;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Kind {
    /// Staff inline edit of an account's display name (`/api/staff/field`).
    Edit,
    /// A customer disputes one line (`/api/portal/disputes/submit`).
    Dispute,
    /// A customer promises to pay one invoice (`/api/portal/promises/record`).
    Promise,
}

pub struct Plan {
    pub kind: Kind,
    pub base: String,
    pub db: String,
    pub cookie: String,
    pub account: String,
    pub seconds: u64,
    pub concurrency: usize,
}

const EDIT_SUFFIX: &str = " (bench edit)";
/// More promises than any run sends.
const PROMISE_BODIES: usize = 200_000;

/// Runs the plan and prints one JSON line with the figures.
///
/// # Errors
/// The database cannot be read, there is nothing to write, or no request could be sent.
pub async fn run(plan: Plan) -> Result<(), String> {
    let conn = db::connect(&plan.db).await?;
    let (path, bodies) = targets(&conn, &plan).await?;
    if bodies.is_empty() {
        return Err("nothing to write: no targets in the database".to_owned());
    }
    let before = written(&conn, plan.kind).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    let url = format!("{}{path}", plan.base.trim_end_matches('/'));
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(plan.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..plan.concurrency.max(1) {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        let cookie = plan.cookie.clone();
        workers.push(tokio::spawn(async move {
            let mut out = Outcome::default();
            while Instant::now() < deadline {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i) else { break };
                let sent = Instant::now();
                let res = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .header("accept", "application/json")
                    .header("sec-fetch-site", "same-origin")
                    .header("cookie", &cookie)
                    .body(body.clone())
                    .send()
                    .await;
                match res {
                    Ok(res) => {
                        let status = res.status();
                        let text = res.text().await.unwrap_or_default();
                        out.latencies.push(sent.elapsed());
                        if status.is_success() {
                            out.ok += 1;
                        } else {
                            out.refused += 1;
                            if out.first_refusal.is_none() {
                                out.first_refusal = Some(format!("{status}: {text}"));
                            }
                        }
                    }
                    Err(err) => {
                        out.failed += 1;
                        if out.first_refusal.is_none() {
                            out.first_refusal = Some(err.to_string());
                        }
                    }
                }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for w in workers {
        let out = w.await.map_err(|e| format!("a worker stopped: {e}"))?;
        all.ok += out.ok;
        all.refused += out.refused;
        all.failed += out.failed;
        all.latencies.extend(out.latencies);
        if all.first_refusal.is_none() {
            all.first_refusal = out.first_refusal;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = written(&conn, plan.kind).await?;
    all.latencies.sort();
    let pct = |p: f64| -> f64 {
        if all.latencies.is_empty() {
            return f64::NAN;
        }
        let idx = ((all.latencies.len() as f64 - 1.0) * p).round() as usize;
        all.latencies[idx].as_secs_f64() * 1000.0
    };
    let stored = after - before;
    let result = serde_json::json!({
        "kind": format!("{:?}", plan.kind).to_lowercase(),
        "url": url,
        "concurrency": plan.concurrency,
        "seconds": elapsed,
        "sent": all.ok + all.refused + all.failed,
        "acknowledged": all.ok,
        "non_2xx": all.refused,
        "transport_errors": all.failed,
        "writes_per_s": all.ok as f64 / elapsed,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "stored": stored,
        "lost": all.ok as i64 - stored,
        "targets_left": bodies.len().saturating_sub(next.load(Ordering::Relaxed)),
        "first_refusal": all.first_refusal,
    });
    println!("{result}");
    Ok(())
}

#[derive(Default)]
struct Outcome {
    ok: u64,
    refused: u64,
    failed: u64,
    latencies: Vec<Duration>,
    first_refusal: Option<String>,
}

/// The server function's path and one request body per write, each a new change.
async fn targets(
    conn: &DatabaseConnection,
    plan: &Plan,
) -> Result<(&'static str, Vec<String>), String> {
    let get = |r: &sea_orm::QueryResult, c: &str| -> Result<i64, String> {
        r.try_get::<i64>("", c).map_err(|e| format!("{c}: {e}"))
    };
    match plan.kind {
        Kind::Edit => {
            let rows = db::all(
                conn,
                "SELECT id, version, display_name FROM accounts WHERE account_number <> $1 \
                 ORDER BY id",
                vec![plan.account.clone().into()],
            )
            .await?;
            let mut bodies = Vec::with_capacity(rows.len());
            for r in &rows {
                let name: String = r
                    .try_get("", "display_name")
                    .map_err(|e| format!("display_name: {e}"))?;
                let version: i32 = r
                    .try_get("", "version")
                    .map_err(|e| format!("version: {e}"))?;
                bodies.push(format!(
                    "record=account&id={}&field=display_name&value={}&version={version}&original={}",
                    get(r, "id")?,
                    encode(&format!("{name}{EDIT_SUFFIX}")),
                    encode(&name)
                ));
            }
            Ok(("/api/staff/field", bodies))
        }
        Kind::Dispute => {
            let rows = db::all(
                conn,
                "SELECT l.id AS line_id, d.id AS document_id FROM document_lines l \
                 JOIN documents d ON d.id = l.document_id \
                 JOIN accounts a ON a.id = d.account_id \
                 WHERE a.account_number = $1 AND d.number <> $2 AND d.status = 'open' \
                 AND l.id NOT IN (SELECT open_line_id FROM dispute_lines WHERE open_line_id IS NOT NULL) \
                 ORDER BY l.id",
                vec![
                    plan.account.clone().into(),
                    crate::dataset::LONG_INVOICE.into(),
                ],
            )
            .await?;
            let mut bodies = Vec::with_capacity(rows.len());
            for r in &rows {
                bodies.push(format!(
                    "document_id={}&annotations[0][line_id]={}&annotations[0][reason]=price\
                     &annotations[0][quantity]=&annotations[0][amount]=0.01\
                     &annotations[0][note]=bench",
                    get(r, "document_id")?,
                    get(r, "line_id")?
                ));
            }
            Ok(("/api/portal/disputes/submit", bodies))
        }
        Kind::Promise => {
            let rows = db::all(
                conn,
                "SELECT d.id FROM documents d JOIN accounts a ON a.id = d.account_id \
                 WHERE a.account_number = $1 AND d.kind = 'invoice' AND d.status = 'open' \
                 AND d.open_minor > 100 ORDER BY d.id",
                vec![plan.account.clone().into()],
            )
            .await?;
            let ids: Vec<i64> = rows
                .iter()
                .map(|r| get(r, "id"))
                .collect::<Result<_, _>>()?;
            if ids.is_empty() {
                return Ok(("/api/portal/promises/record", Vec::new()));
            }
            let date = (Utc::now().date_naive() + chrono::Duration::days(7)).to_string();
            // A new promise on an invoice replaces its open one: the invoices can repeat.
            let bodies = (0..PROMISE_BODIES)
                .map(|i| {
                    format!(
                        "document_ids[0]={}&amount=1.00&date={date}",
                        ids[i % ids.len()]
                    )
                })
                .collect();
            Ok(("/api/portal/promises/record", bodies))
        }
    }
}

/// How many writes of `kind` the database holds.
async fn written(conn: &DatabaseConnection, kind: Kind) -> Result<i64, String> {
    match kind {
        Kind::Edit => {
            db::count(
                conn,
                "SELECT COUNT(*) FROM accounts WHERE display_name LIKE $1",
                vec![format!("%{EDIT_SUFFIX}").into()],
            )
            .await
        }
        Kind::Dispute => db::count(conn, "SELECT COUNT(*) FROM dispute_lines", vec![]).await,
        Kind::Promise => db::count(conn, "SELECT COUNT(*) FROM promises", vec![]).await,
    }
}

/// `text` form-urlencoded (spaces as `+`), as a browser posts a form field.
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
