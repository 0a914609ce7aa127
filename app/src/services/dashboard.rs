//! The staff dashboard's numbers, each an SQL aggregate: a fixed list of [`QUERIES`]
//! queries however many accounts, invoices or payments there are. Only the final ratios
//! (DSO, CEI, shares) are divided in Rust, from the aggregated sums.
//!
//! Amounts are minor units summed across accounts without conversion: accounts are in one
//! currency in practice, the supplier's, which the dashboard shows them in.
//!
//! Periods are whole days ending today: "the last 90 days" are today and the 89 days
//! before it, starting at 00:00 UTC of the first day.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryOrder, QueryResult, Statement, Value};

use crate::entities::supplier;
use crate::error::AppError;
use crate::model::dashboard::{
    CEI_DAYS, DSO_DAYS, Dashboard, RECENT_DAYS, ReasonTotal, ratio_tenths,
};
use crate::model::enums::DisputeReason;
use crate::model::portal::Aging;
use crate::services::accounts::{HAS_ADDRESS, HAS_USABLE_EMAIL, VERIFIED_WITHIN};

/// How many queries [`dashboard`] runs, whatever the data.
pub const QUERIES: usize = 8;

/// Invoices that still make up receivables.
const OPEN_INVOICE: &str = "kind = 'invoice' AND status IN ('open', 'payment_pending')";
/// Invoices that were billed (whatever happened since), for sales.
const BILLED_INVOICE: &str = "kind = 'invoice' AND status <> 'void'";

/// Every dashboard number as of `now`.
///
/// Total AR is the open balance of open invoices; open credit memos and unapplied payments
/// are reported beside it as unapplied credits, not netted off, so that AR, aging, DSO and
/// CEI all speak about what customers owe on invoices.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn dashboard(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<Dashboard, AppError> {
    let today = now.date_naive();
    let first_90 = first_day(today, RECENT_DAYS);
    let first_dso = first_day(today, DSO_DAYS);
    let first_cei = first_day(today, CEI_DAYS);

    let receivables = receivables(db, today).await?;
    let unapplied_credits_minor = unapplied_credits(db).await?;
    let sales = sales(db, first_dso, first_cei, first_90, today).await?;
    let beginning_ar_minor = beginning_ar(db, first_cei).await?;
    let promises = promises(db, start_of(first_90)).await?;
    let disputes_by_reason = disputes_by_reason(db).await?;
    let counts = counts(db, today, now - VERIFIED_WITHIN).await?;
    let currency = supplier::Entity::find()
        .order_by_asc(supplier::COLUMN.id)
        .one(db)
        .await?
        .map_or_else(|| "USD".to_owned(), |s| s.currency);

    let total_ar_minor = receivables.total();
    let cei_base = beginning_ar_minor + sales.last_cei;
    Ok(Dashboard {
        as_of: today,
        currency,
        total_ar_minor,
        aging: receivables,
        unapplied_credits_minor,
        credit_sales_90_minor: sales.last_dso,
        dso_tenths: ratio_tenths(total_ar_minor, sales.last_dso, DSO_DAYS),
        beginning_ar_minor,
        credit_sales_30_minor: sales.last_cei,
        cei_tenths: ratio_tenths(
            cei_base - total_ar_minor,
            cei_base - receivables.current,
            100,
        ),
        promises_kept: promises.kept,
        promises_resolved: promises.resolved,
        promises_kept_tenths: ratio_tenths(promises.kept, promises.resolved, 100),
        promises_open: promises.open,
        open_disputes: counts.open_disputes,
        open_disputed_minor: counts.open_disputed,
        disputes_by_reason,
        active_customers: counts.active_customers,
        complete_profiles: counts.complete_profiles,
        complete_tenths: ratio_tenths(counts.complete_profiles, counts.active_customers, 100),
        bounced_contacts: counts.bounced,
        reported_wrong_contacts: counts.reported_wrong,
        recent_invoices: sales.invoices,
        misdirected_invoices: sales.misdirected,
        misdirected_tenths: ratio_tenths(sales.misdirected, sales.invoices, 100),
        tasks_due: counts.tasks_due,
    })
}

/// The first day of the `days`-day period ending `today` (today included).
fn first_day(today: NaiveDate, days: i64) -> NaiveDate {
    today - Duration::days(days - 1)
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// `SUM(expr)` as a BIGINT that is 0 over no rows (PostgreSQL sums BIGINTs as NUMERIC).
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

/// Open invoice balances by days past due. Bucket edges are due dates computed here, so
/// the SQL needs no date arithmetic (which SQLite and PostgreSQL spell differently).
async fn receivables(db: &impl ConnectionTrait, today: NaiveDate) -> Result<Aging, AppError> {
    let due_after = |days: i64| today - Duration::days(days);
    let bucket = |cond: &str| sum(&format!("CASE WHEN {cond} THEN open_minor ELSE 0 END"));
    let sql = format!(
        "SELECT {current} AS b0, {b1} AS b1, {b2} AS b2, {b3} AS b3, {b4} AS b4 \
         FROM documents WHERE {OPEN_INVOICE}",
        current = bucket("due_date IS NULL OR due_date >= ?"),
        b1 = bucket("due_date < ? AND due_date >= ?"),
        b2 = bucket("due_date < ? AND due_date >= ?"),
        b3 = bucket("due_date < ? AND due_date >= ?"),
        b4 = bucket("due_date < ?"),
    );
    let row = one(
        db,
        &sql,
        vec![
            today.into(),
            today.into(),
            due_after(30).into(),
            due_after(30).into(),
            due_after(60).into(),
            due_after(60).into(),
            due_after(90).into(),
            due_after(90).into(),
        ],
    )
    .await?;
    Ok(Aging {
        current: int(&row, "b0")?,
        days_1_30: int(&row, "b1")?,
        days_31_60: int(&row, "b2")?,
        days_61_90: int(&row, "b3")?,
        days_over_90: int(&row, "b4")?,
    })
}

/// Open credit memos plus unapplied succeeded payments, as a positive amount.
async fn unapplied_credits(db: &impl ConnectionTrait) -> Result<i64, AppError> {
    let sql = format!(
        "SELECT (SELECT {memos} FROM documents WHERE kind = 'credit_memo' \
                 AND status IN ('open', 'payment_pending') AND open_minor < 0) \
              + (SELECT {payments} FROM payments WHERE status = 'succeeded' \
                 AND unapplied_minor > 0) AS credits",
        memos = sum("-open_minor"),
        payments = sum("unapplied_minor"),
    );
    int(&one(db, &sql, vec![]).await?, "credits")
}

struct Sales {
    last_dso: i64,
    last_cei: i64,
    invoices: i64,
    misdirected: i64,
}

/// Credit sales of the DSO and CEI periods, and the invoices of the recent period with
/// those whose account's primary billing contact bounced or was reported wrong.
async fn sales(
    db: &impl ConnectionTrait,
    first_dso: NaiveDate,
    first_cei: NaiveDate,
    first_recent: NaiveDate,
    today: NaiveDate,
) -> Result<Sales, AppError> {
    let earliest = first_dso.min(first_cei).min(first_recent);
    let misdirected = "EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = documents.account_id \
         AND c.is_primary_billing AND c.email_status IN ('bounced', 'reported_wrong'))";
    let sql = format!(
        "SELECT {dso} AS last_dso, {cei} AS last_cei, {invoices} AS invoices, \
                {misdirected} AS misdirected \
         FROM documents WHERE {BILLED_INVOICE} AND issue_date >= ? AND issue_date <= ?",
        dso = sum("CASE WHEN issue_date >= ? THEN total_minor ELSE 0 END"),
        cei = sum("CASE WHEN issue_date >= ? THEN total_minor ELSE 0 END"),
        invoices = sum("CASE WHEN issue_date >= ? THEN 1 ELSE 0 END"),
        misdirected = sum(&format!(
            "CASE WHEN issue_date >= ? AND {misdirected} THEN 1 ELSE 0 END"
        )),
    );
    let row = one(
        db,
        &sql,
        vec![
            first_dso.into(),
            first_cei.into(),
            first_recent.into(),
            first_recent.into(),
            earliest.into(),
            today.into(),
        ],
    )
    .await?;
    Ok(Sales {
        last_dso: int(&row, "last_dso")?,
        last_cei: int(&row, "last_cei")?,
        invoices: int(&row, "invoices")?,
        misdirected: int(&row, "misdirected")?,
    })
}

/// Receivables at 00:00 UTC of `first`, rebuilt backwards from today: the open balance of
/// the (not void) invoices issued before `first`, plus what was taken off them since —
/// payments received since `first` applied to them, and dispute credits resolved since.
///
/// This equals "invoices issued before the period minus the payments applied before it"
/// when every settlement is a payment application, and stays right for invoices that
/// arrived already settled (imported as paid) or were credited before the period.
async fn beginning_ar(db: &impl ConnectionTrait, first: NaiveDate) -> Result<i64, AppError> {
    let start = start_of(first);
    let sql = format!(
        "SELECT (SELECT {open} FROM documents WHERE {BILLED_INVOICE} AND issue_date < ?) \
              + (SELECT {paid} FROM payment_applications pa \
                 JOIN payments p ON p.id = pa.payment_id \
                 JOIN documents d ON d.id = pa.document_id \
                 WHERE d.kind = 'invoice' AND d.status <> 'void' AND d.issue_date < ? \
                 AND p.received_at >= ?) \
              + (SELECT {credited} FROM disputes di \
                 JOIN documents d ON d.id = di.document_id \
                 WHERE d.kind = 'invoice' AND d.status <> 'void' AND d.issue_date < ? \
                 AND di.resolved_at >= ?) AS beginning",
        open = sum("open_minor"),
        paid = sum("pa.amount_minor"),
        credited = sum("di.credited_minor"),
    );
    let row = one(
        db,
        &sql,
        vec![
            first.into(),
            first.into(),
            start.into(),
            first.into(),
            start.into(),
        ],
    )
    .await?;
    int(&row, "beginning")
}

struct Promises {
    kept: i64,
    resolved: i64,
    open: i64,
}

/// Promises resolved since `since` (kept, and kept + partially kept + broken), and open.
async fn promises(db: &impl ConnectionTrait, since: DateTime<Utc>) -> Result<Promises, AppError> {
    let sql = format!(
        "SELECT {kept} AS kept, {resolved} AS resolved, {open} AS open FROM promises",
        kept = sum("CASE WHEN status = 'kept' AND resolved_at >= ? THEN 1 ELSE 0 END"),
        resolved = sum(
            "CASE WHEN status IN ('kept', 'partially_kept', 'broken') AND resolved_at >= ? \
             THEN 1 ELSE 0 END"
        ),
        open = sum("CASE WHEN status = 'open' THEN 1 ELSE 0 END"),
    );
    let row = one(db, &sql, vec![since.into(), since.into()]).await?;
    Ok(Promises {
        kept: int(&row, "kept")?,
        resolved: int(&row, "resolved")?,
        open: int(&row, "open")?,
    })
}

/// Lines of open disputes by reason, largest amount first.
async fn disputes_by_reason(db: &impl ConnectionTrait) -> Result<Vec<ReasonTotal>, AppError> {
    let sql = format!(
        "SELECT dl.reason AS reason, COUNT(DISTINCT d.id) AS disputes, COUNT(*) AS lines, \
                {amount} AS amount \
         FROM dispute_lines dl JOIN disputes d ON d.id = dl.dispute_id \
         WHERE d.status = 'open' GROUP BY dl.reason ORDER BY 4 DESC, 1",
        amount = sum("dl.disputed_minor"),
    );
    let rows = db
        .query_all_raw(statement(db.get_database_backend(), &sql, vec![]))
        .await?;
    rows.iter()
        .map(|row| {
            Ok(ReasonTotal {
                reason: row.try_get::<DisputeReason>("", "reason")?,
                disputes: int(row, "disputes")?,
                lines: int(row, "lines")?,
                amount_minor: int(row, "amount")?,
            })
        })
        .collect()
}

struct Counts {
    bounced: i64,
    reported_wrong: i64,
    tasks_due: i64,
    open_disputes: i64,
    open_disputed: i64,
    active_customers: i64,
    complete_profiles: i64,
}

/// Counts over contacts, tasks, disputes and accounts. A complete profile has none of the
/// gaps the accounts list filters by (`services::accounts`): a usable email, a mailing or
/// billing address, a TIN, and a verification within `VERIFIED_WITHIN`.
async fn counts(
    db: &impl ConnectionTrait,
    today: NaiveDate,
    verified_since: DateTime<Utc>,
) -> Result<Counts, AppError> {
    let active = "kind = 'customer' AND status = 'active'";
    let sql = format!(
        "SELECT \
           (SELECT COUNT(*) FROM contacts WHERE email_status = 'bounced') AS bounced, \
           (SELECT COUNT(*) FROM contacts WHERE email_status = 'reported_wrong') AS reported_wrong, \
           (SELECT COUNT(*) FROM tasks WHERE status IN ('open', 'in_progress') \
              AND due_date <= ?) AS tasks_due, \
           (SELECT COUNT(*) FROM disputes WHERE status = 'open') AS open_disputes, \
           (SELECT {disputed} FROM disputes WHERE status = 'open') AS open_disputed, \
           (SELECT COUNT(*) FROM accounts WHERE {active}) AS active_customers, \
           (SELECT COUNT(*) FROM accounts WHERE {active} AND {HAS_USABLE_EMAIL} \
              AND {HAS_ADDRESS} AND tin_last4 IS NOT NULL AND verified_at >= ?) AS complete",
        disputed = sum("disputed_minor"),
    );
    let row = one(db, &sql, vec![today.into(), verified_since.into()]).await?;
    Ok(Counts {
        bounced: int(&row, "bounced")?,
        reported_wrong: int(&row, "reported_wrong")?,
        tasks_due: int(&row, "tasks_due")?,
        open_disputes: int(&row, "open_disputes")?,
        open_disputed: int(&row, "open_disputed")?,
        active_customers: int(&row, "active_customers")?,
        complete_profiles: int(&row, "complete")?,
    })
}

async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<QueryResult, AppError> {
    db.query_one_raw(statement(db.get_database_backend(), sql, values))
        .await?
        .ok_or_else(|| {
            tracing::error!(sql, "an aggregate query returned no row");
            AppError::Internal
        })
}

fn int(row: &QueryResult, column: &str) -> Result<i64, AppError> {
    Ok(row.try_get::<i64>("", column)?)
}

/// `sql` with `?` placeholders, numbered `$1, $2, …` for PostgreSQL.
fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 16);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}
