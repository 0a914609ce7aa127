//! The baseline the portal overview is measured against: one axum handler that resolves
//! the session cookie, runs the queries Settle's overview page runs (the session, the
//! overview's seven, the open promises' three — app/src/services/portal.rs and
//! promises.rs) and writes the same tables with `write!` into one `String`, plus the data
//! as JSON (Settle's page carries its data for hydration). Same compression layer, same
//! pool settings, and Settle's own money formatting and HTML escaping (so both sides build
//! the same strings). Whatever Settle spends beyond this is the framework's share.

use std::collections::HashMap;
use std::fmt::Write as _;

use app::model::portal::format_money as money;
use app::services::templates::escape_html as escape;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{DatabaseConnection, QueryResult, Value};
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;

use crate::db;

const COOKIE: &str = "settle_session";

/// Serves `GET /portal` on `addr` until killed.
///
/// # Errors
/// The database cannot be opened or the address bound.
pub async fn serve(url: &str, addr: &str) -> Result<(), String> {
    let conn = db::connect(url).await?;
    let app = Router::new()
        .route("/portal", get(portal))
        .layer(CompressionLayer::new())
        .with_state(conn);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    println!("baseline listening on http://{addr}");
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("baseline server: {e}"))
}

async fn portal(State(conn): State<DatabaseConnection>, headers: HeaderMap) -> Response {
    match overview(&conn, &headers).await {
        Ok(Some(html)) => ([(header::CACHE_CONTROL, "no-store")], Html(html)).into_response(),
        Ok(None) => (StatusCode::UNAUTHORIZED, Html("<p>Please sign in</p>")).into_response(),
        Err(err) => {
            eprintln!("baseline: {err}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn session_secret(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

fn col<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> Result<T, String> {
    row.try_get::<T>("", col).map_err(|e| format!("{col}: {e}"))
}

struct Invoice {
    id: i64,
    number: String,
    po: Option<String>,
    issued: NaiveDate,
    due: Option<NaiveDate>,
    total: i64,
    open: i64,
    late: i64,
    pending: bool,
}

async fn overview(
    conn: &DatabaseConnection,
    headers: &HeaderMap,
) -> Result<Option<String>, String> {
    let Some(secret) = session_secret(headers) else {
        return Ok(None);
    };
    let now = Utc::now();
    let hash = hex::encode(Sha256::digest(secret.as_bytes()));
    let sessions = db::all(
        conn,
        "SELECT id, principal_kind, account_id, purpose, expires_at, last_seen_at, revoked_at \
         FROM sessions WHERE id_hash = $1",
        vec![hash.into()],
    )
    .await?;
    let Some(s) = sessions.first() else {
        return Ok(None);
    };
    let last_seen: DateTime<Utc> = col(s, "last_seen_at")?;
    let expires: DateTime<Utc> = col(s, "expires_at")?;
    let revoked: Option<DateTime<Utc>> = col(s, "revoked_at")?;
    let kind: String = col(s, "principal_kind")?;
    let purpose: Option<String> = col(s, "purpose")?;
    let account_id: Option<i64> = col(s, "account_id")?;
    let (Some(account_id), true) = (
        account_id,
        kind == "contact"
            && purpose.as_deref() == Some("portal")
            && revoked.is_none()
            && now < expires
            && now - last_seen < chrono::Duration::minutes(30),
    ) else {
        return Ok(None);
    };
    if now - last_seen >= chrono::Duration::minutes(1) {
        let id: i64 = col(s, "id")?;
        db::all(
            conn,
            "UPDATE sessions SET last_seen_at = $1 WHERE id = $2",
            vec![now.into(), id.into()],
        )
        .await?;
    }
    let today = now.date_naive();

    let account = db::all(
        conn,
        "SELECT display_name, account_number, currency FROM accounts WHERE id = $1",
        vec![account_id.into()],
    )
    .await?;
    let account = account.first().ok_or("no such account")?;
    let name: String = col(account, "display_name")?;
    let number: String = col(account, "account_number")?;
    let currency: String = col(account, "currency")?;

    let open = db::all(
        conn,
        "SELECT id, kind, number, po_number, issue_date, due_date, total_minor, open_minor, status \
         FROM documents WHERE account_id = $1 AND kind IN ('invoice', 'credit_memo') \
         AND status IN ('open', 'payment_pending') AND open_minor <> 0 ORDER BY due_date, id",
        vec![account_id.into()],
    )
    .await?;
    let unapplied = db::all(
        conn,
        "SELECT unapplied_minor FROM payments WHERE account_id = $1 AND status = 'succeeded' \
         AND unapplied_minor > 0",
        vec![account_id.into()],
    )
    .await?;
    let mut credits = 0i64;
    for p in &unapplied {
        credits += col::<i64>(p, "unapplied_minor")?;
    }
    let mut aging = [0i64; 5];
    let mut invoices = Vec::with_capacity(open.len());
    for d in &open {
        let open_minor: i64 = col(d, "open_minor")?;
        if col::<String>(d, "kind")? == "credit_memo" {
            credits += open_minor;
            continue;
        }
        let due: Option<NaiveDate> = col(d, "due_date")?;
        let late = due.map_or(0, |due| (today - due).num_days());
        let bucket = match late {
            i64::MIN..=0 => 0,
            1..=30 => 1,
            31..=60 => 2,
            61..=90 => 3,
            _ => 4,
        };
        aging[bucket] += open_minor;
        invoices.push(Invoice {
            id: col(d, "id")?,
            number: col(d, "number")?,
            po: col(d, "po_number")?,
            issued: col(d, "issue_date")?,
            due,
            total: col(d, "total_minor")?,
            open: open_minor,
            late,
            pending: col::<String>(d, "status")? == "payment_pending",
        });
    }
    let recent = db::all(
        conn,
        "SELECT id, received_at, amount_minor, method, status FROM payments WHERE account_id = $1 \
         AND status IN ('succeeded', 'pending') ORDER BY received_at DESC, id DESC LIMIT 5",
        vec![account_id.into()],
    )
    .await?;
    let payment_ids: Vec<i64> = recent
        .iter()
        .map(|p| col(p, "id"))
        .collect::<Result<_, _>>()?;
    let applied = db::all(
        conn,
        &format!(
            "SELECT payment_id, document_id FROM payment_applications WHERE payment_id IN ({})",
            id_list(&payment_ids)
        ),
        vec![],
    )
    .await?;
    let disputes = db::all(
        conn,
        "SELECT document_id, disputed_minor, status, created_at, COUNT(*) OVER () AS open_count, \
         CAST(SUM(disputed_minor) OVER () AS BIGINT) AS open_total FROM disputes \
         WHERE account_id = $1 AND status = 'open' ORDER BY created_at DESC, id DESC LIMIT 10",
        vec![account_id.into()],
    )
    .await?;
    let mut referred = Vec::new();
    for a in &applied {
        referred.push(col::<i64>(a, "document_id")?);
    }
    for d in &disputes {
        referred.push(col::<i64>(d, "document_id")?);
    }
    let numbers = numbers_of(conn, &referred, Some(account_id)).await?;

    let promises = db::all(
        conn,
        "SELECT id, amount_minor, currency, promised_date, status FROM promises \
         WHERE account_id = $1 AND status = 'open' ORDER BY promised_date, id",
        vec![account_id.into()],
    )
    .await?;
    let promise_ids: Vec<i64> = promises
        .iter()
        .map(|p| col(p, "id"))
        .collect::<Result<_, _>>()?;
    let links = db::all(
        conn,
        &format!(
            "SELECT promise_id, document_id FROM promise_documents WHERE promise_id IN ({})",
            id_list(&promise_ids)
        ),
        vec![],
    )
    .await?;
    let linked: Vec<i64> = links
        .iter()
        .map(|l| col(l, "document_id"))
        .collect::<Result<_, _>>()?;
    let promised_numbers = numbers_of(conn, &linked, None).await?;

    // The page.
    let total: i64 = aging.iter().sum();
    let mut h = String::with_capacity(64 * 1024 + invoices.len() * 700);
    let w = |e: std::fmt::Error| e.to_string();
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/><title>My account</title><link rel=\"stylesheet\" href=\"/pkg/settle.css\"/></head><body><main>");
    write!(
        h,
        "<section class=\"account-head\"><div><h1>{}</h1><p class=\"muted\">Account {} · as of {}</p></div>\
         <a class=\"button\" href=\"/portal/documents\">Documents</a><a class=\"button\" href=\"/portal/messages\">Send us a message</a>\
         <a class=\"button\" href=\"/portal/profile\">Company profile</a>\
         <form class=\"inline\" method=\"post\" action=\"/api/portal/sign-out\"><button class=\"button\" type=\"submit\">Sign out</button></form></section>",
        escape(&name),
        escape(&number),
        today.format("%b %-d, %Y")
    )
    .map_err(w)?;
    write!(
        h,
        "<section class=\"stats\" aria-label=\"Balance\"><div class=\"stat\"><span class=\"stat-label\">Balance due</span><span class=\"stat-value\" data-testid=\"balance\">{}</span></div>\
         <div class=\"stat\"><span class=\"stat-label\">Past due</span><span class=\"stat-value warn\">{}</span></div>\
         <div class=\"stat\"><span class=\"stat-label\">Credits</span><span class=\"stat-value\">{}</span></div></section>",
        money(total - credits, &currency),
        money(total - aging[0], &currency),
        money(credits, &currency)
    )
    .map_err(w)?;
    h.push_str("<section class=\"panel\" aria-labelledby=\"aging-title\"><h2 id=\"aging-title\">Aging</h2><svg viewBox=\"0 0 500 120\" role=\"img\">");
    let max = aging.iter().copied().max().unwrap_or(0).max(1);
    for (i, v) in aging.iter().enumerate() {
        write!(
            h,
            "<rect x=\"{}\" y=\"{}\" width=\"80\" height=\"{}\"></rect>",
            i * 100,
            100 - v * 100 / max,
            v * 100 / max
        )
        .map_err(w)?;
    }
    h.push_str("</svg><table class=\"aging-table\"><thead><tr><th scope=\"col\">Current</th><th scope=\"col\">1–30</th><th scope=\"col\">31–60</th><th scope=\"col\">61–90</th><th scope=\"col\">90+</th></tr></thead><tbody><tr>");
    for v in aging {
        write!(h, "<td class=\"num\">{}</td>", money(v, &currency)).map_err(w)?;
    }
    h.push_str("</tr></tbody></table></section>");
    let overdue = invoices.iter().filter(|i| i.late > 0).count();
    write!(
        h,
        "<section class=\"panel\" aria-labelledby=\"open-title\"><div class=\"panel-head\"><h2 id=\"open-title\">Open invoices</h2>\
         <div class=\"controls\"><label class=\"check\"><input type=\"checkbox\" name=\"overdue-only\"/> Overdue only ({overdue})</label>\
         <label>Sort by <select name=\"sort\"><option value=\"due\" selected>Due date</option><option value=\"amount\">Amount open</option></select></label></div></div>\
         <div class=\"table-wrap\"><table class=\"invoices\" data-testid=\"open-invoices\"><thead><tr><th scope=\"col\" aria-label=\"Select\"></th>\
         <th scope=\"col\">Invoice</th><th scope=\"col\">PO</th><th scope=\"col\">Issued</th><th scope=\"col\">Due</th><th scope=\"col\" class=\"num\">Total</th>\
         <th scope=\"col\" class=\"num\">Open</th><th scope=\"col\">Status</th><th scope=\"col\">File</th></tr></thead><tbody>"
    )
    .map_err(w)?;
    for inv in &invoices {
        let status = if inv.pending {
            "Payment pending".to_owned()
        } else if inv.late > 0 {
            format!("{} days late", inv.late)
        } else {
            "Current".to_owned()
        };
        write!(
            h,
            "<tr{}><td data-label=\"Select\"><input type=\"checkbox\" name=\"promise-invoice\" value=\"{id}\" aria-label=\"Select invoice {num}\"/></td>\
             <td data-label=\"Invoice\"><a href=\"/portal/invoices/{id}\">{num}</a></td><td data-label=\"PO\">{}</td>\
             <td data-label=\"Issued\">{}</td><td data-label=\"Due\">{}</td><td data-label=\"Total\" class=\"num\">{}</td>\
             <td data-label=\"Open\" class=\"num\">{}</td><td data-label=\"Status\">{status}</td>\
             <td data-label=\"File\"><a href=\"/portal/documents/{id}/pdf\" download=\"\" rel=\"external\">PDF</a></td></tr>",
            if inv.late > 0 { " class=\"late\"" } else { "" },
            escape(inv.po.as_deref().unwrap_or_default()),
            inv.issued,
            inv.due.map(|d| d.to_string()).unwrap_or_default(),
            money(inv.total, &currency),
            money(inv.open, &currency),
            id = inv.id,
            num = escape(&inv.number),
        )
        .map_err(w)?;
    }
    h.push_str("</tbody></table></div></section>");
    write!(
        h,
        "<div class=\"two-up\"><section class=\"panel\"><h2>Pay online</h2><p>Choose one or more open invoices in the table above.</p></section>\
         <div><section class=\"panel\" aria-labelledby=\"promise-title\"><h2 id=\"promise-title\">Promise to pay</h2><form class=\"stack\" novalidate>\
         <p>Choose one or more open invoices in the table above.</p><label for=\"promise-amount\">Amount</label><input id=\"promise-amount\" name=\"amount\" inputmode=\"decimal\"/>\
         <label for=\"promise-date\">Pay by</label><input id=\"promise-date\" name=\"date\" type=\"date\" min=\"{today}\"/>\
         <label for=\"promise-note\">Note (optional)</label><textarea id=\"promise-note\" name=\"note\" rows=\"2\"></textarea>\
         <button class=\"button primary\" type=\"submit\">Promise to pay</button></form></section>\
         <section class=\"panel\"><h2>Open promises</h2><table class=\"invoices\"><tbody>"
    )
    .map_err(w)?;
    for p in &promises {
        let id: i64 = col(p, "id")?;
        let on: Vec<&str> = links
            .iter()
            .filter(|l| col::<i64>(l, "promise_id").is_ok_and(|x| x == id))
            .filter_map(|l| col::<i64>(l, "document_id").ok())
            .filter_map(|d| promised_numbers.get(&d).map(String::as_str))
            .collect();
        let date: NaiveDate = col(p, "promised_date")?;
        write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{date}</td><td>{}</td></tr>",
            escape(&on.join(", ")),
            money(col(p, "amount_minor")?, &col::<String>(p, "currency")?),
            col::<String>(p, "status")?
        )
        .map_err(w)?;
    }
    h.push_str("</tbody></table></section></div></div><section class=\"panel\"><h2>Recent payments</h2><table class=\"invoices\"><tbody>");
    let mut payments_json = Vec::new();
    for p in &recent {
        let id: i64 = col(p, "id")?;
        let on: Vec<&str> = applied
            .iter()
            .filter(|a| col::<i64>(a, "payment_id").is_ok_and(|x| x == id))
            .filter_map(|a| col::<i64>(a, "document_id").ok())
            .filter_map(|d| numbers.get(&d).map(String::as_str))
            .collect();
        let received: DateTime<Utc> = col(p, "received_at")?;
        let amount: i64 = col(p, "amount_minor")?;
        let method: String = col(p, "method")?;
        let status: String = col(p, "status")?;
        write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            received.date_naive(),
            money(amount, &currency),
            method.to_uppercase(),
            escape(&on.join(", ")),
            if status == "pending" {
                "clearing"
            } else {
                "received"
            }
        )
        .map_err(w)?;
        payments_json.push(serde_json::json!({
            "received_on": received.date_naive(), "amount_minor": amount, "method": method,
            "status": status, "invoices": on,
        }));
    }
    h.push_str("</tbody></table></section><section class=\"panel\"><h2>Open disputes</h2>");
    if let Some(first) = disputes.first() {
        let count: i64 = col(first, "open_count")?;
        if count > disputes.len() as i64 {
            write!(
                h,
                "<p class=\"muted\">The {} newest of {count} open disputes; {} disputed in all.</p>",
                disputes.len(),
                money(col(first, "open_total")?, &currency)
            )
            .map_err(w)?;
        }
    }
    h.push_str("<table class=\"invoices\"><tbody>");
    for d in &disputes {
        let doc: i64 = col(d, "document_id")?;
        let opened: DateTime<Utc> = col(d, "created_at")?;
        write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td>open</td></tr>",
            escape(numbers.get(&doc).map_or("", String::as_str)),
            money(col(d, "disputed_minor")?, &currency),
            opened.date_naive()
        )
        .map_err(w)?;
    }
    h.push_str("</tbody></table></section></main>");
    // The data again, as Settle's page carries it for hydration.
    let data = serde_json::json!({
        "account_name": name, "account_number": number, "currency": currency, "as_of": today,
        "balance_minor": total - credits, "credits_minor": credits, "aging": aging,
        "open_invoices": invoices.iter().map(|i| serde_json::json!({
            "id": i.id, "number": i.number, "po_number": i.po, "issue_date": i.issued,
            "due_date": i.due, "total_minor": i.total, "open_minor": i.open,
            "days_past_due": i.late, "status": if i.pending { "payment_pending" } else { "open" },
        })).collect::<Vec<_>>(),
        "recent_payments": payments_json,
    });
    write!(
        h,
        "<script type=\"application/json\" id=\"data\">{}</script></body></html>",
        data.to_string().replace('<', "\\u003c")
    )
    .map_err(w)?;
    Ok(Some(h))
}

fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "NULL".to_owned();
    }
    ids.iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

async fn numbers_of(
    conn: &DatabaseConnection,
    ids: &[i64],
    account_id: Option<i64>,
) -> Result<HashMap<i64, String>, String> {
    let mut sql = format!(
        "SELECT id, number FROM documents WHERE id IN ({})",
        id_list(ids)
    );
    let mut values: Vec<Value> = Vec::new();
    if let Some(account) = account_id {
        sql.push_str(" AND account_id = $1");
        values.push(account.into());
    }
    let rows = db::all(conn, &sql, values).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in &rows {
        out.insert(col::<i64>(r, "id")?, col::<String>(r, "number")?);
    }
    Ok(out)
}
