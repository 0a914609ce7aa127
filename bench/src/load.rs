//! The load test: customers' whole journeys at a fixed arrival rate for minutes, with the
//! server's memory watched and every acknowledged write looked up afterwards.
//!
//! One journey is what a customer and a collector do in a visit: open a magic link
//! (`POST /api/links/open`, a fresh token issued beforehand with Settle's own
//! `magic_links::issue`), `GET /portal`, `GET /portal/invoices/{id}`, dispute one line of
//! that invoice, start a sandbox payment of 1.00 on it (`/api/portal/pay/start`), open the
//! sandbox's checkout page and press its Pay button (`POST /pay/sandbox/{session}`, which
//! records the payment through the webhook path), promise 1.00 on it a week ahead, and a
//! collector renames one account inline (`/api/staff/field`). Posts go as the browser sends
//! them: form-urlencoded, `Sec-Fetch-Site: same-origin`, the session cookie.
//!
//! First the saturation: `users` customers run journeys back to back for `saturate`
//! seconds; journeys/s completed after the first third (warm-up: the database's WAL,
//! checkpoints and the outbox reach their steady state, which a short burst would
//! borrow against), with the time the outbox then takes to deliver the mail they queued
//! added in proportion, is the saturation rate. Then journeys start at
//! `fraction` (0.7) of that rate for `seconds`, open loop — one every 1/rate s from a
//! timer, whether or not the earlier ones finished — and each step's latency is recorded.
//! Meanwhile the server's VmRSS (/proc/PID/status), the bytes it has read (`rchar`,
//! /proc/PID/io: SQLite's page reads show here) and, on SQLite, the size of the WAL file
//! are sampled; the per-minute timeline shows them beside the latencies.
//!
//! Memory is "flat" when the median of the last window ≤ 1.15 × the median of the second
//! window + 16 MiB, where a window is a minute (a third of the run when it is shorter than
//! three minutes) and the first window is warm-up.
//!
//! After the run every acknowledged write is looked up: each disputed line in
//! `dispute_lines`, each promise by its id, each sandbox payment once in `payments` with
//! one application of 1.00, and each account's name and version as the last acknowledged
//! inline edit left them.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::model::accounts::Saved;
use app::model::enums::{ActorKind, LinkPurpose};
use app::services::magic_links;
use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::DatabaseConnection;

use crate::writes::encode;
use serde_json::json;

use crate::db;

/// What `bench load` was asked to do.
pub struct Plan {
    pub base: String,
    pub db: String,
    pub staff_cookie: String,
    pub pid: Option<u32>,
    pub seconds: u64,
    pub rate: Option<f64>,
    pub saturate: u64,
    pub fraction: f64,
    pub users: usize,
    pub accounts: usize,
    pub sample_seconds: u64,
    pub max_in_flight: usize,
}

/// Each journey's amounts: 1.00 paid and promised, 0.01 disputed.
const PAY_AMOUNT: &str = "1.00";
const PAY_MINOR: i64 = 100;
const EDIT_MARK: &str = " (load ";
/// How long the pre-issued sign-in links stay valid.
const TOKEN_TTL_HOURS: i64 = 6;
/// How many errors are described in the output.
const ERRORS_SHOWN: usize = 8;
/// Memory rule: last window's median ≤ FACTOR × second window's median + SLACK.
const RSS_FACTOR: f64 = 1.15;
const RSS_SLACK_MIB: f64 = 16.0;
const MIB: f64 = 1024.0 * 1024.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Step {
    SignIn,
    Overview,
    Invoice,
    Dispute,
    PayStart,
    PayPage,
    PayConfirm,
    Promise,
    StaffEdit,
}

impl Step {
    const ALL: [Step; 9] = [
        Step::SignIn,
        Step::Overview,
        Step::Invoice,
        Step::Dispute,
        Step::PayStart,
        Step::PayPage,
        Step::PayConfirm,
        Step::Promise,
        Step::StaffEdit,
    ];

    fn name(self) -> &'static str {
        match self {
            Step::SignIn => "sign_in",
            Step::Overview => "overview",
            Step::Invoice => "invoice",
            Step::Dispute => "dispute",
            Step::PayStart => "pay_start",
            Step::PayPage => "pay_page",
            Step::PayConfirm => "pay_confirm",
            Step::Promise => "promise",
            Step::StaffEdit => "staff_edit",
        }
    }
}

/// One customer account the journeys use.
struct Customer {
    contact_id: i64,
    /// (invoice, line) pairs not yet disputed; each journey takes one.
    lines: VecDeque<(i64, i64)>,
    /// Sign-in tokens issued and not used yet.
    tokens: Vec<String>,
}

/// An account the collector renames: what the editor "loaded".
struct EditTarget {
    id: i64,
    version: i32,
    name: String,
    /// The name before the run, the base of every new name.
    original: String,
    edits: u64,
}

/// Writes the server acknowledged.
#[derive(Default)]
struct Acks {
    dispute_lines: Vec<i64>,
    promise_ids: Vec<i64>,
    payment_sessions: Vec<String>,
    /// account id → (edits acknowledged, the last name acknowledged, its version).
    edits: HashMap<i64, (u64, String, i32)>,
}

/// What the requests of one phase came to.
#[derive(Default)]
struct Tally {
    requests: u64,
    status_5xx: u64,
    transport_errors: u64,
    /// Answers that were neither the expected success nor 5xx (4xx, or a 2xx without the
    /// expected cookie or body): the journey stopped there.
    refused: u64,
    journeys_started: u64,
    journeys_completed: u64,
    journeys_failed: u64,
    latencies: HashMap<Step, Vec<Duration>>,
    journey_latencies: Vec<Duration>,
    /// When each completed journey ended, with its latency: the run's timeline.
    finished: Vec<(Instant, Duration)>,
    /// When each step's answer arrived, with its latency.
    step_log: Vec<(Instant, Step, Duration)>,
    errors: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.status_5xx += other.status_5xx;
        self.transport_errors += other.transport_errors;
        self.refused += other.refused;
        self.journeys_started += other.journeys_started;
        self.journeys_completed += other.journeys_completed;
        self.journeys_failed += other.journeys_failed;
        for (step, mut l) in other.latencies {
            self.latencies.entry(step).or_default().append(&mut l);
        }
        self.journey_latencies.extend(other.journey_latencies);
        self.finished.extend(other.finished);
        self.step_log.extend(other.step_log);
        for e in other.errors {
            if self.errors.len() < ERRORS_SHOWN {
                self.errors.push(e);
            }
        }
    }

    fn error(&mut self, text: String) {
        if self.errors.len() < ERRORS_SHOWN {
            self.errors.push(text);
        }
    }

    fn step_figures(&mut self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for step in Step::ALL {
            let l = self.latencies.entry(step).or_default();
            l.sort();
            out.insert(
                step.name().to_owned(),
                json!({ "n": l.len(), "p50_ms": pct(l, 0.50), "p99_ms": pct(l, 0.99) }),
            );
        }
        serde_json::Value::Object(out)
    }
}

/// What every journey shares.
struct Ctx {
    client: reqwest::Client,
    base: String,
    staff_cookie: String,
    conn: DatabaseConnection,
    customers: tokio::sync::Mutex<Vec<Customer>>,
    edits: Mutex<VecDeque<EditTarget>>,
    acks: Mutex<Acks>,
    next_journey: AtomicU64,
    promise_date: String,
    out_of_targets: AtomicBool,
}

/// Runs the plan, prints one JSON line of figures and answers whether every check held
/// (no 5xx, no transport error, no refused step, no lost write, memory flat).
///
/// # Errors
/// The database cannot be read, there are no targets, or the plan makes no sense.
pub async fn run(plan: Plan) -> Result<bool, String> {
    if !(plan.fraction > 0.0 && plan.fraction <= 1.0) {
        return Err("--fraction must be in (0, 1]".to_owned());
    }
    if plan.rate.is_none() && plan.saturate == 0 {
        return Err("give --rate, or --saturate SECONDS to measure it".to_owned());
    }
    let conn = db::connect(&plan.db).await?;
    let customers = customers(&conn, plan.accounts).await?;
    let lines: usize = customers.iter().map(|c| c.lines.len()).sum();
    let edits = edit_targets(&conn).await?;
    eprintln!(
        "bench load: {} customer accounts, {lines} undisputed lines to dispute, {} accounts to rename",
        customers.len(),
        edits.len()
    );
    let before_promises = db::count(&conn, "SELECT COUNT(*) FROM promises", vec![]).await?;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(plan.max_in_flight.min(256))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("http client: {e}"))?;
    let ctx = Arc::new(Ctx {
        client,
        base: plan.base.trim_end_matches('/').to_owned(),
        staff_cookie: plan.staff_cookie.clone(),
        conn,
        customers: tokio::sync::Mutex::new(customers),
        edits: Mutex::new(edits),
        acks: Mutex::new(Acks::default()),
        next_journey: AtomicU64::new(0),
        promise_date: (Utc::now().date_naive() + chrono::Duration::days(7)).to_string(),
        out_of_targets: AtomicBool::new(false),
    });

    // Saturation: `users` customers back to back.
    let mut saturation = Tally::default();
    let mut saturation_rate = None;
    let mut saturation_drain = None;
    if plan.saturate > 0 {
        let users = plan.users.max(1);
        prefill(&ctx, users * plan.saturate as usize * 2).await?;
        eprintln!(
            "bench load: saturation, {users} users back to back for {} s",
            plan.saturate
        );
        let started = Instant::now();
        let deadline = started + Duration::from_secs(plan.saturate);
        let mut workers = Vec::with_capacity(users);
        for _ in 0..users {
            let ctx = ctx.clone();
            workers.push(tokio::spawn(async move {
                let mut tally = Tally::default();
                while Instant::now() < deadline && !ctx.out_of_targets.load(Ordering::Relaxed) {
                    journey(&ctx, Instant::now(), &mut tally).await;
                }
                tally
            }));
        }
        for w in workers {
            saturation.merge(w.await.map_err(|e| format!("a user stopped: {e}"))?);
        }
        let warm_up = started + Duration::from_secs_f64(plan.saturate as f64 / 3.0);
        let measured = saturation
            .finished
            .iter()
            .filter(|(at, _)| *at >= warm_up)
            .count();
        let window = warm_up.elapsed().as_secs_f64();
        // The journeys queued email that is delivered afterwards: a rate that left that
        // work undone is not one the server keeps up. The time the outbox then takes to
        // empty is added, in proportion to the journeys counted.
        let drained = Instant::now();
        outbox_drained(&ctx.conn, OUTBOX_DRAIN_LIMIT).await?;
        let drain = drained.elapsed().as_secs_f64();
        let share = measured as f64 / saturation.finished.len().max(1) as f64;
        saturation_drain = Some(drain);
        let rate = measured as f64 / (window + drain * share);
        eprintln!("bench load: the outbox emptied {drain:.1} s after the saturation run");
        eprintln!(
            "bench load: saturation {rate:.2} journeys/s (after {:.0} s of warm-up, mail delivered)",
            plan.saturate as f64 / 3.0
        );
        saturation_rate = Some(rate);
    }
    let rate = match plan.rate {
        Some(r) => r,
        None => saturation_rate.unwrap_or_default() * plan.fraction,
    };
    if rate.is_nan() || rate <= 0.0 {
        return Err(format!(
            "no rate to run at: saturation completed {} journeys ({} failed; first errors: {:?})",
            saturation.journeys_completed, saturation.journeys_failed, saturation.errors
        ));
    }

    // The steady run: open loop at `rate`.
    let planned = (rate * plan.seconds as f64).ceil() as usize;
    prefill(&ctx, planned + planned / 10 + 10).await?;
    eprintln!(
        "bench load: {rate:.2} journeys/s for {} s ({planned} journeys)",
        plan.seconds
    );
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = plan.pid.map(|pid| {
        let stop = stop.clone();
        let every = Duration::from_secs(plan.sample_seconds.max(1));
        tokio::spawn(sample_server(
            pid,
            wal_file(&plan.db),
            ctx.conn.clone(),
            every,
            stop,
        ))
    });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    let period = Duration::from_secs_f64(1.0 / rate);
    let mut ticks = tokio::time::interval(period);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut running = tokio::task::JoinSet::new();
    let mut steady = Tally::default();
    let mut dropped = 0u64;
    let mut max_in_flight = 0u64;
    loop {
        let tick = ticks.tick().await;
        if tick.into_std() >= deadline || ctx.out_of_targets.load(Ordering::Relaxed) {
            break;
        }
        while let Some(done) = running.try_join_next() {
            steady.merge(done.map_err(|e| format!("a journey stopped: {e}"))?);
        }
        let now_in_flight = in_flight.load(Ordering::Relaxed);
        max_in_flight = max_in_flight.max(now_in_flight);
        if now_in_flight >= plan.max_in_flight as u64 {
            dropped += 1;
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let (ctx, in_flight) = (ctx.clone(), in_flight.clone());
        let scheduled = tick.into_std();
        running.spawn(async move {
            let mut tally = Tally::default();
            journey(&ctx, scheduled, &mut tally).await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            tally
        });
    }
    let offered_for = started.elapsed().as_secs_f64();
    while let Some(done) = running.join_next().await {
        steady.merge(done.map_err(|e| format!("a journey stopped: {e}"))?);
    }
    stop.store(true, Ordering::Relaxed);
    let samples = match sampler {
        Some(s) => s
            .await
            .map_err(|e| format!("the memory sampler stopped: {e}"))?,
        None => Vec::new(),
    };

    // Every acknowledged write must be in the database.
    let acks = std::mem::take(
        &mut *ctx
            .acks
            .lock()
            .map_err(|_| "the acknowledgements' lock was poisoned")?,
    );
    let check = check_writes(&ctx.conn, &acks, before_promises).await?;
    let rss: Vec<(f64, f64)> = samples.iter().map(|s| (s.at, s.rss_mib)).collect();
    let memory = memory_figures(&rss, plan.seconds);
    let timeline = timeline(started, &steady, &samples, plan.seconds);

    let out_of_targets = ctx.out_of_targets.load(Ordering::Relaxed);
    let ok = steady.status_5xx == 0
        && saturation.status_5xx == 0
        && steady.transport_errors == 0
        && steady.refused == 0
        && steady.journeys_failed == 0
        && check.lost == 0
        && dropped == 0
        && !out_of_targets
        && memory.flat != Some(false);
    let achieved = steady.journeys_completed as f64 / offered_for;
    steady.journey_latencies.sort();
    saturation.journey_latencies.sort();
    let result = json!({
        "ok": ok,
        "base": ctx.base,
        "accounts": plan.accounts,
        "users": plan.users,
        "saturate_seconds": plan.saturate,
        "saturation_journeys_per_s": saturation_rate.map(round2),
        "saturation_outbox_drain_seconds": saturation_drain.map(round1),
        "saturation_journey_p50_ms": pct(&saturation.journey_latencies, 0.50),
        "saturation_5xx": saturation.status_5xx,
        "saturation_transport_errors": saturation.transport_errors,
        "saturation_refused": saturation.refused,
        "saturation_errors": saturation.errors,
        "fraction": plan.fraction,
        "rate_journeys_per_s": round2(rate),
        "seconds": plan.seconds,
        "journeys_started": steady.journeys_started,
        "journeys_completed": steady.journeys_completed,
        "journeys_failed": steady.journeys_failed,
        "journeys_per_s": round2(achieved),
        "dropped_arrivals": dropped,
        "max_in_flight": max_in_flight,
        "out_of_targets": out_of_targets,
        "requests": steady.requests,
        "status_5xx": steady.status_5xx,
        "transport_errors": steady.transport_errors,
        "refused": steady.refused,
        "errors": steady.errors,
        "journey_p50_ms": pct(&steady.journey_latencies, 0.50),
        "journey_p99_ms": pct(&steady.journey_latencies, 0.99),
        "steps": steady.step_figures(),
        "disputes_acked": check.disputes_acked,
        "disputes_stored": check.disputes_stored,
        "promises_acked": check.promises_acked,
        "promises_stored": check.promises_stored,
        "promises_rows_added": check.promise_rows_added,
        "payments_acked": check.payments_acked,
        "payments_stored": check.payments_stored,
        "payments_misapplied": check.payments_misapplied,
        "edits_acked": check.edits_acked,
        "edits_stored": check.edits_stored,
        "lost_writes": check.lost,
        "lost_examples": check.examples,
        "rss_samples": samples.len(),
        "rss_sample_seconds": plan.sample_seconds,
        "rss_window_seconds": memory.window,
        "rss_first_mib": memory.first,
        "rss_reference_mib": memory.reference,
        "rss_last_mib": memory.last,
        "rss_max_mib": memory.max,
        "rss_limit_mib": memory.limit,
        "memory_flat": memory.flat,
        "timeline": timeline,
    });
    println!("{result}");
    Ok(ok)
}

/// One journey; what happened goes into `tally`. `scheduled` is when it was due to start
/// (its latency counts from then, so a server that falls behind shows it).
async fn journey(ctx: &Ctx, scheduled: Instant, tally: &mut Tally) {
    tally.journeys_started += 1;
    match journey_steps(ctx, tally).await {
        Ok(()) => {
            tally.journeys_completed += 1;
            let latency = scheduled.elapsed();
            tally.journey_latencies.push(latency);
            tally.finished.push((Instant::now(), latency));
        }
        Err(Stop::Failed) => tally.journeys_failed += 1,
        Err(Stop::NoTargets) => {
            ctx.out_of_targets.store(true, Ordering::Relaxed);
        }
    }
}

enum Stop {
    /// A step failed (counted and described in the tally).
    Failed,
    /// No undisputed line or account is left to write to.
    NoTargets,
}

async fn journey_steps(ctx: &Ctx, tally: &mut Tally) -> Result<(), Stop> {
    let k = ctx.next_journey.fetch_add(1, Ordering::Relaxed);
    let (token, document_id, line_id) = take_target(ctx, k).await?;
    let base = &ctx.base;

    // Sign in: the link page's button posts the token.
    let res = send(
        tally,
        Step::SignIn,
        post_form(ctx, "/api/links/open", None).body(format!("token={}", encode(&token))),
    )
    .await?;
    let cookie = res
        .headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|v| v.starts_with("settle_session=") && v.len() > "settle_session=".len())
        .map(str::to_owned);
    let Some(cookie) = cookie else {
        return Err(refuse(
            tally,
            Step::SignIn,
            &format!("{}: no settle_session cookie", res.status),
        ));
    };

    let page = |path: String| {
        ctx.client
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .header("accept", "text/html")
            .header("accept-encoding", "br")
    };
    expect(tally, Step::Overview, page("/portal".to_owned()), is_ok).await?;
    expect(
        tally,
        Step::Invoice,
        page(format!("/portal/invoices/{document_id}")),
        is_ok,
    )
    .await?;

    let body = format!(
        "document_id={document_id}&annotations[0][line_id]={line_id}&annotations[0][reason]=price\
         &annotations[0][quantity]=&annotations[0][amount]=0.01&annotations[0][note]=load"
    );
    expect(
        tally,
        Step::Dispute,
        post_form(ctx, "/api/portal/disputes/submit", Some(&cookie)).body(body),
        is_ok,
    )
    .await?;
    ack(ctx, |a| a.dispute_lines.push(line_id));

    let body = format!(
        "items[0][document_id]={document_id}&items[0][amount]={PAY_AMOUNT}&method=card\
         &attempt=load-{k}-{}",
        std::process::id()
    );
    let res = expect(
        tally,
        Step::PayStart,
        post_form(ctx, "/api/portal/pay/start", Some(&cookie)).body(body),
        is_ok,
    )
    .await?;
    let url: String = serde_json::from_slice(&res.body).unwrap_or_default();
    let Some(session) = url
        .split("/pay/sandbox/")
        .nth(1)
        .map(|s| s.split(['?', '#']).next().unwrap_or(s).to_owned())
        .filter(|s| !s.is_empty())
    else {
        return Err(refuse(
            tally,
            Step::PayStart,
            &format!("not a sandbox checkout address: {url}"),
        ));
    };
    expect(
        tally,
        Step::PayPage,
        page(format!("/pay/sandbox/{session}")),
        is_ok,
    )
    .await?;
    expect(
        tally,
        Step::PayConfirm,
        post_form(ctx, &format!("/pay/sandbox/{session}"), Some(&cookie))
            .header("accept", "text/html")
            .body("method=card&choice=pay"),
        |s| s.is_redirection(),
    )
    .await?;
    ack(ctx, |a| a.payment_sessions.push(session));

    let body = format!(
        "document_ids[0]={document_id}&amount={PAY_AMOUNT}&date={}",
        ctx.promise_date
    );
    let res = expect(
        tally,
        Step::Promise,
        post_form(ctx, "/api/portal/promises/record", Some(&cookie)).body(body),
        is_ok,
    )
    .await?;
    match serde_json::from_slice::<serde_json::Value>(&res.body)
        .ok()
        .and_then(|v| v.get("id").and_then(serde_json::Value::as_i64))
    {
        Some(id) => ack(ctx, |a| a.promise_ids.push(id)),
        None => {
            return Err(refuse(
                tally,
                Step::Promise,
                &format!("no promise id in {}", String::from_utf8_lossy(&res.body)),
            ));
        }
    }

    staff_edit(ctx, tally, k).await
}

/// A collector renames the next account in the queue, with the version it "loaded".
async fn staff_edit(ctx: &Ctx, tally: &mut Tally, k: u64) -> Result<(), Stop> {
    let target = ctx
        .edits
        .lock()
        .ok()
        .and_then(|mut q| q.pop_front())
        .ok_or(Stop::NoTargets)?;
    let value = format!("{}{EDIT_MARK}{k})", target.original);
    let body = format!(
        "record=account&id={}&field=display_name&value={}&version={}&original={}",
        target.id,
        encode(&value),
        target.version,
        encode(&target.name)
    );
    let req = ctx
        .client
        .post(format!("{}/api/staff/field", ctx.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("sec-fetch-site", "same-origin")
        .header("cookie", &ctx.staff_cookie)
        .body(body);
    // The account goes back into the queue only when its state is known.
    let res = expect(tally, Step::StaffEdit, req, is_ok).await?;
    match serde_json::from_slice::<Saved>(&res.body) {
        Ok(Saved::Done { version, value }) => {
            ack(ctx, |a| {
                let e = a.edits.entry(target.id).or_default();
                e.0 += 1;
                e.1.clone_from(&value);
                e.2 = version;
            });
            if let Ok(mut q) = ctx.edits.lock() {
                q.push_back(EditTarget {
                    version,
                    name: value,
                    edits: target.edits + 1,
                    ..target
                });
            }
            Ok(())
        }
        other => Err(refuse(
            tally,
            Step::StaffEdit,
            &format!(
                "not saved: {other:?} ({})",
                String::from_utf8_lossy(&res.body)
            ),
        )),
    }
}

/// The journey's customer (account `k` mod the customers), a sign-in token for it and
/// the next undisputed line.
async fn take_target(ctx: &Ctx, k: u64) -> Result<(String, i64, i64), Stop> {
    let mut customers = ctx.customers.lock().await;
    let n = customers.len();
    for i in 0..n {
        let idx = (k as usize + i) % n;
        let c = &mut customers[idx];
        if c.lines.is_empty() {
            continue;
        }
        if c.tokens.is_empty() {
            // Only when the pre-issued tokens ran out (saturation ran faster than guessed).
            match issue_tokens(&ctx.conn, c.contact_id, 20).await {
                Ok(t) => c.tokens = t,
                Err(err) => {
                    eprintln!("bench load: {err}");
                    return Err(Stop::NoTargets);
                }
            }
        }
        let (Some(token), Some((doc, line))) = (c.tokens.pop(), c.lines.pop_front()) else {
            continue;
        };
        return Ok((token, doc, line));
    }
    Err(Stop::NoTargets)
}

/// Issues sign-in tokens so that `journeys` more journeys have one each, spread over the
/// customers as the journeys are.
async fn prefill(ctx: &Ctx, journeys: usize) -> Result<(), String> {
    let mut customers = ctx.customers.lock().await;
    let per = journeys.div_ceil(customers.len().max(1)) + 1;
    // IMMEDIATE on SQLite, as Settle's own writes: a deferred transaction that reads the
    // contact first cannot take the write lock once the server has committed meanwhile.
    let txn = app::db::begin_write(&ctx.conn)
        .await
        .map_err(|e| format!("issuing sign-in links: {e}"))?;
    for c in customers.iter_mut() {
        let want = per.min(c.lines.len());
        while c.tokens.len() < want {
            c.tokens.push(issue_one(&txn, c.contact_id).await?);
        }
    }
    txn.commit()
        .await
        .map_err(|e| format!("issuing sign-in links: {e}"))
}

async fn issue_tokens(
    conn: &DatabaseConnection,
    contact_id: i64,
    n: usize,
) -> Result<Vec<String>, String> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(issue_one(conn, contact_id).await?);
    }
    Ok(out)
}

async fn issue_one(db: &impl sea_orm::ConnectionTrait, contact_id: i64) -> Result<String, String> {
    magic_links::issue(
        db,
        contact_id,
        LinkPurpose::Portal,
        None,
        chrono::Duration::hours(TOKEN_TTL_HOURS),
        magic_links::Creator {
            kind: ActorKind::System,
            id: None,
        },
        Utc::now(),
    )
    .await
    .map_err(|e| format!("issuing a sign-in link for contact {contact_id}: {e}"))
}

/// The first `limit` accounts (by id) with a contact and open invoices that can take a
/// 1.00 payment per line, and their lines not under dispute.
async fn customers(conn: &DatabaseConnection, limit: usize) -> Result<Vec<Customer>, String> {
    let get = |r: &sea_orm::QueryResult, c: &str| -> Result<i64, String> {
        r.try_get::<i64>("", c).map_err(|e| format!("{c}: {e}"))
    };
    let contacts = db::all(
        conn,
        "SELECT MIN(c.id) AS contact_id, c.account_id FROM contacts c \
         JOIN accounts a ON a.id = c.account_id \
         WHERE c.email IS NOT NULL AND EXISTS (SELECT 1 FROM documents d \
           WHERE d.account_id = c.account_id AND d.kind = 'invoice' AND d.status = 'open') \
         GROUP BY c.account_id ORDER BY c.account_id LIMIT $1",
        vec![(limit as i64).into()],
    )
    .await?;
    let mut out = Vec::with_capacity(contacts.len());
    for c in &contacts {
        let account_id = get(c, "account_id")?;
        let rows = db::all(
            conn,
            "SELECT d.id AS document_id, d.open_minor, l.id AS line_id FROM documents d \
             JOIN document_lines l ON l.document_id = d.id \
             WHERE d.account_id = $1 AND d.kind = 'invoice' AND d.status = 'open' \
             AND l.id NOT IN (SELECT open_line_id FROM dispute_lines WHERE open_line_id IS NOT NULL) \
             ORDER BY d.id, l.id",
            vec![account_id.into()],
        )
        .await?;
        let mut by_doc: Vec<(i64, i64, Vec<i64>)> = Vec::new();
        for r in &rows {
            let (doc, open, line) = (
                get(r, "document_id")?,
                get(r, "open_minor")?,
                get(r, "line_id")?,
            );
            match by_doc.last_mut() {
                Some((d, _, lines)) if *d == doc => lines.push(line),
                _ => by_doc.push((doc, open, vec![line])),
            }
        }
        // A journey per line pays 1.00 on its invoice: the invoice must stay open for all.
        let mut per_doc: Vec<VecDeque<(i64, i64)>> = by_doc
            .into_iter()
            .filter(|(_, open, lines)| *open > PAY_MINOR * (lines.len() as i64 + 1))
            .map(|(doc, _, lines)| lines.into_iter().map(|l| (doc, l)).collect())
            .collect();
        // Interleave the invoices, so consecutive journeys of an account differ.
        let mut lines = VecDeque::new();
        while per_doc.iter().any(|d| !d.is_empty()) {
            for d in &mut per_doc {
                if let Some(x) = d.pop_front() {
                    lines.push_back(x);
                }
            }
        }
        if !lines.is_empty() {
            out.push(Customer {
                contact_id: get(c, "contact_id")?,
                lines,
                tokens: Vec::new(),
            });
        }
    }
    if out.is_empty() {
        return Err("no customer account with open invoices and undisputed lines".to_owned());
    }
    Ok(out)
}

/// Every account, to be renamed in turn.
async fn edit_targets(conn: &DatabaseConnection) -> Result<VecDeque<EditTarget>, String> {
    let rows = db::all(
        conn,
        "SELECT id, version, display_name FROM accounts ORDER BY id DESC",
        vec![],
    )
    .await?;
    let mut out = VecDeque::with_capacity(rows.len());
    for r in &rows {
        let name: String = r
            .try_get("", "display_name")
            .map_err(|e| format!("display_name: {e}"))?;
        // A name from an earlier run is renamed from its original, not stacked on.
        let original = name
            .find(EDIT_MARK)
            .map_or(name.clone(), |i| name[..i].to_owned());
        out.push_back(EditTarget {
            id: r.try_get::<i64>("", "id").map_err(|e| format!("id: {e}"))?,
            version: r
                .try_get("", "version")
                .map_err(|e| format!("version: {e}"))?,
            name,
            original,
            edits: 0,
        });
    }
    if out.is_empty() {
        return Err("no account to rename".to_owned());
    }
    Ok(out)
}

struct Response {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

fn is_ok(s: StatusCode) -> bool {
    s.is_success()
}

fn post_form(ctx: &Ctx, path: &str, cookie: Option<&str>) -> reqwest::RequestBuilder {
    let req = ctx
        .client
        .post(format!("{}{path}", ctx.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("sec-fetch-site", "same-origin");
    match cookie {
        Some(c) => req.header("cookie", c),
        None => req,
    }
}

/// Sends one request of a journey, timing it; 5xx and transport errors are counted and
/// stop the journey.
async fn send(
    tally: &mut Tally,
    step: Step,
    req: reqwest::RequestBuilder,
) -> Result<Response, Stop> {
    tally.requests += 1;
    let sent = Instant::now();
    let res = match req.send().await {
        Ok(res) => res,
        Err(err) => {
            tally.transport_errors += 1;
            tally.error(format!("{}: {err}", step.name()));
            return Err(Stop::Failed);
        }
    };
    let status = res.status();
    let headers = res.headers().clone();
    let body = match res.bytes().await {
        Ok(b) => b.to_vec(),
        Err(err) => {
            tally.transport_errors += 1;
            tally.error(format!("{}: reading the body: {err}", step.name()));
            return Err(Stop::Failed);
        }
    };
    let latency = sent.elapsed();
    tally.latencies.entry(step).or_default().push(latency);
    tally.step_log.push((Instant::now(), step, latency));
    if status.is_server_error() {
        tally.status_5xx += 1;
        tally.error(format!(
            "{}: {status}: {}",
            step.name(),
            snippet(&body, &headers)
        ));
        return Err(Stop::Failed);
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// [`send`], and the status must pass `want`.
async fn expect(
    tally: &mut Tally,
    step: Step,
    req: reqwest::RequestBuilder,
    want: impl Fn(StatusCode) -> bool,
) -> Result<Response, Stop> {
    let res = send(tally, step, req).await?;
    if want(res.status) {
        Ok(res)
    } else {
        Err(refuse(
            tally,
            step,
            &format!("{}: {}", res.status, snippet(&res.body, &res.headers)),
        ))
    }
}

fn refuse(tally: &mut Tally, step: Step, why: &str) -> Stop {
    tally.refused += 1;
    tally.error(format!("{}: {why}", step.name()));
    Stop::Failed
}

fn snippet(body: &[u8], headers: &reqwest::header::HeaderMap) -> String {
    if headers.contains_key(reqwest::header::CONTENT_ENCODING) {
        return format!("({} compressed bytes)", body.len());
    }
    String::from_utf8_lossy(body).chars().take(200).collect()
}

fn ack(ctx: &Ctx, f: impl FnOnce(&mut Acks)) {
    if let Ok(mut a) = ctx.acks.lock() {
        f(&mut a);
    }
}

/// What the database holds of the acknowledged writes.
struct Check {
    disputes_acked: usize,
    disputes_stored: usize,
    promises_acked: usize,
    promises_stored: usize,
    promise_rows_added: i64,
    payments_acked: usize,
    payments_stored: usize,
    /// Acknowledged payments stored more than once, or not applied exactly once for 1.00.
    payments_misapplied: usize,
    edits_acked: u64,
    edits_stored: u64,
    lost: u64,
    examples: Vec<String>,
}

async fn check_writes(
    conn: &DatabaseConnection,
    acks: &Acks,
    before_promises: i64,
) -> Result<Check, String> {
    let mut examples = Vec::new();
    let mut note = |s: String| {
        if examples.len() < ERRORS_SHOWN {
            examples.push(s);
        }
    };
    let ids = |sql: &'static str| async move {
        let rows = db::all(conn, sql, vec![]).await?;
        rows.iter()
            .map(|r| {
                r.try_get_by_index::<i64>(0)
                    .map_err(|e| format!("{sql}: {e}"))
            })
            .collect::<Result<HashSet<i64>, String>>()
    };

    let disputed =
        ids("SELECT open_line_id FROM dispute_lines WHERE open_line_id IS NOT NULL").await?;
    let mut disputes_stored = 0;
    for line in &acks.dispute_lines {
        if disputed.contains(line) {
            disputes_stored += 1;
        } else {
            note(format!("dispute of line {line} acknowledged, not stored"));
        }
    }

    let promises = ids("SELECT id FROM promises").await?;
    let mut promises_stored = 0;
    for id in &acks.promise_ids {
        if promises.contains(id) {
            promises_stored += 1;
        } else {
            note(format!("promise {id} acknowledged, not stored"));
        }
    }
    let promise_rows_added =
        db::count(conn, "SELECT COUNT(*) FROM promises", vec![]).await? - before_promises;

    // session → (payments, applications, applied minor units)
    let rows = db::all(
        conn,
        "SELECT p.provider_ref, p.id, p.status, \
         (SELECT COUNT(*) FROM payment_applications a WHERE a.payment_id = p.id) AS apps, \
         (SELECT CAST(COALESCE(SUM(a.amount_minor), 0) AS BIGINT) FROM payment_applications a \
         WHERE a.payment_id = p.id) AS applied \
         FROM payments p WHERE p.provider = 'sandbox' AND p.provider_ref IS NOT NULL",
        vec![],
    )
    .await?;
    let mut payments: HashMap<String, Vec<(String, i64, i64)>> = HashMap::new();
    for r in &rows {
        let get_s = |c: &str| -> Result<String, String> {
            r.try_get::<String>("", c).map_err(|e| format!("{c}: {e}"))
        };
        let get_i = |c: &str| -> Result<i64, String> {
            r.try_get::<i64>("", c).map_err(|e| format!("{c}: {e}"))
        };
        payments.entry(get_s("provider_ref")?).or_default().push((
            get_s("status")?,
            get_i("apps")?,
            get_i("applied")?,
        ));
    }
    let (mut payments_stored, mut payments_misapplied) = (0, 0);
    for session in &acks.payment_sessions {
        match payments.get(session).map(Vec::as_slice) {
            None | Some([]) => note(format!("payment {session} acknowledged, not stored")),
            Some([(status, 1, PAY_MINOR)]) if status == "succeeded" => payments_stored += 1,
            Some(found) => {
                payments_stored += 1;
                payments_misapplied += 1;
                note(format!(
                    "payment {session} stored as (status, applications, applied) {found:?}"
                ));
            }
        }
    }

    let (mut edits_acked, mut edits_stored) = (0, 0);
    let accounts = db::all(
        conn,
        "SELECT id, version, display_name FROM accounts",
        vec![],
    )
    .await?;
    let mut now: HashMap<i64, (i32, String)> = HashMap::with_capacity(accounts.len());
    for r in &accounts {
        let id = r.try_get::<i64>("", "id").map_err(|e| format!("id: {e}"))?;
        let version = r
            .try_get::<i32>("", "version")
            .map_err(|e| format!("version: {e}"))?;
        let name = r
            .try_get::<String>("", "display_name")
            .map_err(|e| format!("display_name: {e}"))?;
        now.insert(id, (version, name));
    }
    for (id, (n, name, version)) in &acks.edits {
        edits_acked += n;
        match now.get(id) {
            Some((v, stored)) if v == version && stored == name => edits_stored += n,
            other => note(format!(
                "account {id}: last acknowledged edit {name:?} version {version}, stored {other:?}"
            )),
        }
    }

    let lost = (acks.dispute_lines.len() - disputes_stored) as u64
        + (acks.promise_ids.len() - promises_stored) as u64
        + (acks.payment_sessions.len() - payments_stored) as u64
        + payments_misapplied as u64
        + (edits_acked - edits_stored);
    Ok(Check {
        disputes_acked: acks.dispute_lines.len(),
        disputes_stored,
        promises_acked: acks.promise_ids.len(),
        promises_stored,
        promise_rows_added,
        payments_acked: acks.payment_sessions.len(),
        payments_stored,
        payments_misapplied,
        edits_acked,
        edits_stored,
        lost,
        examples,
    })
}

/// How long the outbox may take to empty after the saturation run.
const OUTBOX_DRAIN_LIMIT: Duration = Duration::from_secs(300);

/// Email queued and not yet delivered (pending, or claimed and being sent).
async fn outbox_backlog(conn: &DatabaseConnection) -> Result<u64, String> {
    use app::entities::outbox_email;
    use app::model::enums::OutboxStatus;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    outbox_email::Entity::find()
        .filter(outbox_email::Column::Status.is_in([OutboxStatus::Pending, OutboxStatus::Sending]))
        .count(conn)
        .await
        .map_err(|e| format!("counting the outbox: {e}"))
}

/// Waits until the outbox is empty (polling twice a second), at most `limit`.
async fn outbox_drained(conn: &DatabaseConnection, limit: Duration) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    let mut ticks = tokio::time::interval(Duration::from_millis(500));
    loop {
        ticks.tick().await;
        let left = outbox_backlog(conn).await?;
        if left == 0 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "the outbox still held {left} emails {} s after the saturation run",
                limit.as_secs()
            ));
        }
    }
}

/// One look at the server process and its database.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sample {
    /// Seconds since the steady run began.
    at: f64,
    rss_mib: f64,
    /// Bytes the process has read so far (`rchar`: files and sockets).
    read_bytes: Option<u64>,
    /// The SQLite WAL file's size; `None` on PostgreSQL.
    wal_bytes: Option<u64>,
    /// Email queued and not yet delivered.
    outbox: Option<u64>,
}

/// The WAL file beside a `sqlite://PATH?…` database.
fn wal_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url.strip_prefix("sqlite://")?.split('?').next()?;
    (!path.is_empty() && !path.contains(":memory:")).then(|| format!("{path}-wal").into())
}

/// Samples the server every `every` until `stop`.
async fn sample_server(
    pid: u32,
    wal: Option<std::path::PathBuf>,
    conn: DatabaseConnection,
    every: Duration,
    stop: Arc<AtomicBool>,
) -> Vec<Sample> {
    let started = Instant::now();
    let mut out = Vec::new();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        let Some(rss_mib) = rss_mib(pid) else {
            eprintln!("bench load: cannot read VmRSS of process {pid} (did it stop?)");
            break;
        };
        out.push(Sample {
            at: started.elapsed().as_secs_f64(),
            rss_mib,
            read_bytes: read_bytes(pid),
            // A missing WAL file (just truncated) is an empty one.
            wal_bytes: wal
                .as_ref()
                .map(|w| std::fs::metadata(w).map_or(0, |m| m.len())),
            outbox: outbox_backlog(&conn).await.ok(),
        });
    }
    out
}

fn rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn read_bytes(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))?
        .trim()
        .parse()
        .ok()
}

struct Memory {
    window: f64,
    first: Option<f64>,
    reference: Option<f64>,
    last: Option<f64>,
    max: Option<f64>,
    limit: Option<f64>,
    flat: Option<bool>,
}

/// Windows of a minute (a third of the run when it is shorter than three minutes): the
/// first is warm-up, the second the reference, the last is held against it.
fn memory_figures(samples: &[(f64, f64)], seconds: u64) -> Memory {
    let run = seconds as f64;
    let window = (run / 3.0).min(60.0);
    let median_in = |from: f64, to: f64| {
        let mut v: Vec<f64> = samples
            .iter()
            .filter(|(t, _)| *t >= from && *t < to)
            .map(|(_, m)| *m)
            .collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().map(round1)
    };
    let first = median_in(0.0, window);
    let reference = median_in(window, 2.0 * window);
    let last = median_in(run - window, f64::INFINITY);
    let max = samples
        .iter()
        .map(|(_, m)| *m)
        .max_by(f64::total_cmp)
        .map(round1);
    let limit = reference.map(|r| round1(r * RSS_FACTOR + RSS_SLACK_MIB));
    let flat = match (last, limit) {
        (Some(l), Some(lim)) => Some(l <= lim),
        _ => None,
    };
    Memory {
        window: round1(window),
        first,
        reference,
        last,
        max,
        limit,
        flat,
    }
}

/// The steady run in windows (a minute; a sixth of the run when it is shorter than six
/// minutes): journeys completed per second, their p50 and p99, each step's p50, and the
/// server's last RSS, WAL size, outbox backlog and MiB read per journey completed in each — where a server
/// that falls behind shows when, and in which step, it started to.
fn timeline(
    started: Instant,
    steady: &Tally,
    samples: &[Sample],
    seconds: u64,
) -> Vec<serde_json::Value> {
    let window = (seconds as f64 / 6.0).clamp(1.0, 60.0);
    let index =
        |at: &Instant| (at.saturating_duration_since(started).as_secs_f64() / window) as usize;
    let mut journeys: Vec<Vec<Duration>> = Vec::new();
    let mut steps: Vec<HashMap<Step, Vec<Duration>>> = Vec::new();
    for (at, latency) in &steady.finished {
        let i = index(at);
        if journeys.len() <= i {
            journeys.resize_with(i + 1, Vec::new);
        }
        journeys[i].push(*latency);
    }
    for (at, step, latency) in &steady.step_log {
        let i = index(at);
        if steps.len() <= i {
            steps.resize_with(i + 1, HashMap::new);
        }
        steps[i].entry(*step).or_default().push(*latency);
    }
    steps.resize_with(journeys.len().max(steps.len()), HashMap::new);
    journeys.resize_with(steps.len(), Vec::new);
    journeys
        .iter_mut()
        .zip(steps.iter_mut())
        .enumerate()
        .map(|(i, (l, by_step))| {
            l.sort();
            let (from, to) = (i as f64 * window, (i + 1) as f64 * window);
            // The last sample in the window, and the last one before it (or the first).
            let last = samples.iter().rfind(|s| s.at >= from && s.at < to);
            let before = samples
                .iter()
                .rfind(|s| s.at < from)
                .or_else(|| samples.first());
            let drain = from >= seconds as f64;
            // Not for the drain: its few journeys share what the server read for others.
            let read_per_journey = match (before.and_then(|s| s.read_bytes), last) {
                (
                    Some(a),
                    Some(Sample {
                        read_bytes: Some(b),
                        ..
                    }),
                ) if !l.is_empty() && !drain => {
                    Some(round1(b.saturating_sub(a) as f64 / MIB / l.len() as f64))
                }
                _ => None,
            };
            let step_p50: serde_json::Map<String, serde_json::Value> = Step::ALL
                .iter()
                .filter_map(|step| {
                    let v = by_step.get_mut(step)?;
                    v.sort();
                    Some((step.name().to_owned(), json!(pct(v, 0.50))))
                })
                .collect();
            json!({
                "from_s": round1(from),
                // Journeys that end after the offered period: the backlog draining.
                "drain": drain,
                "journeys_per_s": round2(l.len() as f64 / window),
                "p50_ms": pct(l, 0.50),
                "p99_ms": pct(l, 0.99),
                "rss_mib": last.map(|s| round1(s.rss_mib)),
                "wal_mib": last.and_then(|s| s.wal_bytes).map(|b| round1(b as f64 / MIB)),
                "read_mib_per_journey": read_per_journey,
                "outbox_backlog": last.and_then(|s| s.outbox),
                "step_p50_ms": step_p50,
            })
        })
        .collect()
}

fn pct(sorted: &[Duration], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    Some(round1(sorted[idx].as_secs_f64() * 1000.0))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wal_file_is_found_beside_a_sqlite_database_only() {
        assert_eq!(
            wal_file("sqlite:///tmp/x/settle.db?mode=rwc"),
            Some("/tmp/x/settle.db-wal".into())
        );
        assert_eq!(
            wal_file("sqlite://data/settle.db"),
            Some("data/settle.db-wal".into())
        );
        assert_eq!(wal_file("postgres://postgres@127.0.0.1/test"), None);
        assert_eq!(wal_file("sqlite::memory:"), None);
    }

    #[test]
    fn the_timeline_puts_each_journey_and_step_in_its_window() {
        let started = Instant::now();
        let at = |s: f64| started + Duration::from_secs_f64(s);
        let ms = Duration::from_millis;
        // A 60 s run has 10 s windows: two journeys in the first, one in the third, one
        // finishing after the run (the drain).
        let tally = Tally {
            finished: vec![
                (at(1.0), ms(10)),
                (at(9.0), ms(30)),
                (at(25.0), ms(50)),
                (at(61.0), ms(900)),
            ],
            step_log: vec![
                (at(2.0), Step::Overview, ms(4)),
                (at(26.0), Step::Invoice, ms(7)),
            ],
            ..Default::default()
        };
        let mib = 1024 * 1024;
        let sample = |at: f64, rss_mib: f64, read_mib: u64, wal_mib: u64| Sample {
            at,
            rss_mib,
            read_bytes: Some(read_mib * mib),
            wal_bytes: Some(wal_mib * mib),
            outbox: Some(wal_mib * 10),
        };
        let samples = [
            sample(5.0, 80.0, 100, 4),
            sample(9.5, 81.0, 110, 6),
            sample(21.0, 90.0, 150, 40),
        ];
        let t = timeline(started, &tally, &samples, 60);
        assert_eq!(t.len(), 7);
        assert_eq!(t[0]["journeys_per_s"], json!(0.2));
        assert_eq!(t[0]["p99_ms"], json!(30.0));
        assert_eq!(t[0]["rss_mib"], json!(81.0));
        assert_eq!(t[0]["wal_mib"], json!(6.0));
        // From the first sample to the window's last, over its two journeys.
        assert_eq!(t[0]["read_mib_per_journey"], json!(5.0));
        assert_eq!(t[0]["step_p50_ms"]["overview"], json!(4.0));
        assert_eq!(t[1]["journeys_per_s"], json!(0.0));
        assert_eq!(t[2]["step_p50_ms"]["invoice"], json!(7.0));
        assert_eq!(t[2]["rss_mib"], json!(90.0));
        // From the last sample before the window (9.5 s) to its own, over one journey.
        assert_eq!(t[2]["read_mib_per_journey"], json!(40.0));
        assert_eq!(t[2]["wal_mib"], json!(40.0));
        assert_eq!(t[2]["outbox_backlog"], json!(400));
        assert_eq!(t[5]["drain"], json!(false));
        assert_eq!(t[6]["drain"], json!(true));
        assert_eq!(t[6]["read_mib_per_journey"], json!(null));
        assert_eq!(t[6]["p50_ms"], json!(900.0));
    }
}
