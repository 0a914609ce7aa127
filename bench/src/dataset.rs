//! The fixed data set, as the CSV files `settle import` reads (docs/import.md): every
//! figure is measured on the same accounts, invoices and lines.
//!
//! Account `B00001` is the one the portal figures sign in to: 100 open invoices, the first
//! (`BINV-1`) of 200 lines, the others of 50 lines each (the lines the dispute writes take
//! one by one), ten partial payments. The other invoices are spread over the other
//! accounts so the total is exactly the number of lines asked for.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use chrono::{Duration, NaiveDate};

/// The account the portal figures are measured on.
pub const BENCH_ACCOUNT: &str = "B00001";
/// Its contact, who signs in.
pub const BENCH_EMAIL: &str = "ap1@bench.test";
/// Its 200-line invoice.
pub const LONG_INVOICE: &str = "BINV-1";
const BENCH_INVOICES: u32 = 100;
const LONG_LINES: u32 = 200;
const OTHER_BENCH_LINES: u32 = 50;
const BENCH_PAYMENTS: u32 = 10;

/// Writes accounts.csv, contacts.csv, invoices.csv and payments.csv into `dir`.
///
/// # Errors
/// A size that cannot hold the bench account, or a file that cannot be written.
pub fn run(dir: &Path, accounts: u32, invoices: u32, lines: u32) -> Result<(), String> {
    let bench_lines = LONG_LINES + (BENCH_INVOICES - 1) * OTHER_BENCH_LINES;
    if accounts < 2
        || invoices <= BENCH_INVOICES
        || lines < bench_lines + (invoices - BENCH_INVOICES)
    {
        return Err(format!(
            "need at least 2 accounts, more than {BENCH_INVOICES} invoices and {} lines",
            bench_lines + invoices.saturating_sub(BENCH_INVOICES)
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let io = |e: std::io::Error| format!("writing the data set: {e}");

    let mut f = create(dir, "accounts.csv")?;
    writeln!(
        f,
        "external_id,account_number,legal_name,payment_terms_days,currency"
    )
    .map_err(io)?;
    for a in 1..=accounts {
        writeln!(f, "BA-{a},{},Bench {a} Inc.,30,USD", account_number(a)).map_err(io)?;
    }
    f.flush().map_err(io)?;

    let mut f = create(dir, "contacts.csv")?;
    writeln!(
        f,
        "external_id,account_number,name,email,role,is_primary_billing"
    )
    .map_err(io)?;
    for a in 1..=accounts {
        writeln!(
            f,
            "BC-{a},{},Pat Payables {a},ap{a}@bench.test,ap,yes",
            account_number(a)
        )
        .map_err(io)?;
    }
    f.flush().map_err(io)?;

    let start = NaiveDate::from_ymd_opt(2026, 7, 1).ok_or("bad start date")?;
    let mut f = create(dir, "invoices.csv")?;
    writeln!(
        f,
        "external_id,invoice_number,account_number,invoice_date,due_date,currency,po_number,\
         line_no,sku,description,quantity,unit_price,tax"
    )
    .map_err(io)?;
    let others = invoices - BENCH_INVOICES;
    let rest = lines - bench_lines;
    let (base, extra) = (rest / others, rest % others);
    let mut written = 0u64;
    for i in 1..=invoices {
        let (account, count) = if i <= BENCH_INVOICES {
            (
                1,
                if i == 1 {
                    LONG_LINES
                } else {
                    OTHER_BENCH_LINES
                },
            )
        } else {
            let k = i - BENCH_INVOICES - 1;
            (2 + k % (accounts - 1), base + u32::from(k < extra))
        };
        let issued = start + Duration::days(i64::from(i % 150));
        let due = issued + Duration::days(30);
        for l in 1..=count {
            writeln!(
                f,
                "BI-{i},BINV-{i},{},{issued},{due},USD,PO-{},{l},SKU-{},Bench item {l} of invoice {i},{}.5,{}.25,0.50",
                account_number(account),
                i % 997,
                l % 50,
                1 + l % 7,
                10 + i % 90,
            )
            .map_err(io)?;
            written += 1;
        }
    }
    f.flush().map_err(io)?;

    let mut f = create(dir, "payments.csv")?;
    writeln!(
        f,
        "external_id,account_number,payment_date,amount,currency,method,reference,applies_to"
    )
    .map_err(io)?;
    for p in 1..=BENCH_PAYMENTS {
        let day = start + Duration::days(i64::from(100 + p));
        writeln!(
            f,
            "BP-{p},{BENCH_ACCOUNT},{day},1.00,USD,check,CHK-{p},BINV-{}:1.00",
            p + 1
        )
        .map_err(io)?;
    }
    f.flush().map_err(io)?;

    println!(
        "data set in {}: {accounts} accounts, {invoices} invoices, {written} lines; \
         bench account {BENCH_ACCOUNT} ({BENCH_EMAIL}), 200-line invoice {LONG_INVOICE}",
        dir.display()
    );
    Ok(())
}

fn account_number(a: u32) -> String {
    format!("B{a:05}")
}

fn create(dir: &Path, name: &str) -> Result<BufWriter<File>, String> {
    let path = dir.join(name);
    File::create(&path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|e| format!("{}: {e}", path.display()))
}
