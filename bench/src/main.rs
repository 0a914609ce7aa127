//! Settle's benchmark suite: the parts `scripts/bench.sh` needs a program for — the data
//! set's CSV files, the baseline server the portal overview is compared with, the write
//! load generator, the mixed-journey load test, and the report that holds every figure
//! against its budget.

// `bench load`'s one-line report is a large `serde_json::json!`.
#![recursion_limit = "256"]

mod baseline;
mod dataset;
mod db;
mod load;
mod report;
mod writes;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "bench",
    about = "Settle's benchmark suite (run it with scripts/bench.sh)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the data set as CSV files for `settle import` (accounts, contacts, invoices,
    /// payments) into DIR.
    Gen {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        accounts: u32,
        #[arg(long, default_value_t = 200_000)]
        invoices: u32,
        #[arg(long, default_value_t = 1_000_000)]
        lines: u32,
    },
    /// A minimal axum server answering `GET /portal` with the overview's queries and
    /// plain string formatting: what Settle's overview is compared with.
    BaselineServer {
        #[arg(long)]
        db: String,
        #[arg(long, default_value = "127.0.0.1:3981")]
        addr: String,
    },
    /// Sends one kind of write (`edit`, `dispute`, `promise`) as fast as the server
    /// acknowledges it and prints writes/s, latency and how many were not acknowledged.
    Writes {
        #[arg(long, value_enum)]
        kind: writes::Kind,
        /// Where Settle listens, e.g. http://127.0.0.1:3980
        #[arg(long)]
        base: String,
        /// The database Settle uses (read for the targets and to count what was written).
        #[arg(long)]
        db: String,
        /// The session cookie, `settle_session=…` (a customer's, or a staff member's for `edit`).
        #[arg(long)]
        cookie: String,
        /// The account the customer's writes are about.
        #[arg(long, default_value = dataset::BENCH_ACCOUNT)]
        account: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
    },
    /// Customers' whole journeys (sign in, overview, invoice, dispute a line, pay 1.00
    /// through the sandbox checkout, promise, and a collector's inline edit): saturation
    /// first, then an open-loop run at a fraction of it, with the server's memory sampled
    /// and every acknowledged write looked up afterwards. Prints one JSON line; exits 1
    /// on any 5xx, failed journey, lost write or growing memory.
    Load {
        /// Where Settle listens, e.g. http://127.0.0.1:3980
        #[arg(long)]
        base: String,
        /// The database Settle uses (targets, sign-in links, and the check afterwards).
        #[arg(long)]
        db: String,
        /// A collector's session cookie, `settle_session=…`, for the inline edits.
        #[arg(long)]
        staff_cookie: String,
        /// The server's process id: its VmRSS is sampled (no memory figures without it).
        #[arg(long)]
        pid: Option<u32>,
        /// How long the run at the fixed rate lasts.
        #[arg(long, default_value_t = 600)]
        seconds: u64,
        /// Journeys started per second (skips the saturation measurement).
        #[arg(long, conflicts_with = "saturate")]
        rate: Option<f64>,
        /// Measure saturation for this many seconds first (the first third is warm-up and
        /// not counted), then run at --fraction of it.
        #[arg(long)]
        saturate: Option<u64>,
        /// The share of the saturation rate to run at.
        #[arg(long, default_value_t = 0.7)]
        fraction: f64,
        /// Concurrent customers during the saturation measurement.
        #[arg(long, default_value_t = 16)]
        users: usize,
        /// How many customer accounts (the first by id with open invoices) take turns.
        #[arg(long, default_value_t = 200)]
        accounts: usize,
        /// Seconds between two samples of the server's memory.
        #[arg(long, default_value_t = 5)]
        sample_seconds: u64,
        /// Journeys in flight beyond which an arrival is dropped (and counted).
        #[arg(long, default_value_t = 512)]
        max_in_flight: usize,
    },
    /// Holds the figures of a run (a TSV file: name, value, unit, command) against
    /// `budgets.toml`, prints the table and writes it (markdown and JSON) to OUT.
    Report {
        #[arg(long)]
        figures: PathBuf,
        #[arg(long)]
        budgets: PathBuf,
        /// Path without extension: OUT.md and OUT.json are written.
        #[arg(long)]
        out: PathBuf,
        /// A line describing the machine and the run, printed above the table.
        #[arg(long, default_value = "")]
        about: String,
        /// Exit 1 naming each figure that misses its budget by more than its noise margin.
        #[arg(long)]
        check: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Gen {
            dir,
            accounts,
            invoices,
            lines,
        } => dataset::run(&dir, accounts, invoices, lines).map(|()| true),
        Command::BaselineServer { db, addr } => runtime()
            .and_then(|rt| rt.block_on(baseline::serve(&db, &addr)))
            .map(|()| true),
        Command::Writes {
            kind,
            base,
            db,
            cookie,
            account,
            seconds,
            concurrency,
        } => runtime()
            .and_then(|rt| {
                rt.block_on(writes::run(writes::Plan {
                    kind,
                    base,
                    db,
                    cookie,
                    account,
                    seconds,
                    concurrency,
                }))
            })
            .map(|()| true),
        Command::Load {
            base,
            db,
            staff_cookie,
            pid,
            seconds,
            rate,
            saturate,
            fraction,
            users,
            accounts,
            sample_seconds,
            max_in_flight,
        } => runtime().and_then(|rt| {
            rt.block_on(load::run(load::Plan {
                base,
                db,
                staff_cookie,
                pid,
                seconds,
                rate,
                saturate: saturate.unwrap_or(0),
                fraction,
                users,
                accounts,
                sample_seconds,
                max_in_flight,
            }))
        }),
        Command::Report {
            figures,
            budgets,
            out,
            about,
            check,
        } => report::run(&figures, &budgets, &out, &about, check),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("bench: {err}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}
