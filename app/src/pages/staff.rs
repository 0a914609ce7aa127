//! Staff sign-in and the staff start page.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::dashboard::get_dashboard;
use crate::api::portal::SignOut;
use crate::api::staff::{ChangeStaffPassword, StaffSignIn, get_staff_me};
use crate::components::aging_chart::AgingChart;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::dashboard::{
    CEI_DAYS, DSO_DAYS, Dashboard, RECENT_DAYS, ReasonTotal, format_tenths,
};
use crate::model::disputes::reason_label;
use crate::model::portal::{format_day, format_money};

#[component]
pub fn StaffSignInPage() -> impl IntoView {
    let sign_in = ServerAction::<StaffSignIn>::new();
    let message = move || {
        sign_in
            .value()
            .get()
            .and_then(Result::err)
            .map(|err| match err {
                AppError::RateLimited => {
                    "Too many attempts from here. Wait a few minutes and try again.".to_owned()
                }
                AppError::Unauthorized => {
                    "That email and password do not match an active staff account.".to_owned()
                }
                other => other.to_string(),
            })
    };
    view! {
        <Title text="Staff sign-in" />
        <section class="panel narrow">
            <h1>"Staff sign-in"</h1>
            <ActionForm action=sign_in attr:class="stack">
                <label for="staff-email">"Email"</label>
                <input id="staff-email" type="email" name="email" autocomplete="username" required />
                <label for="staff-password">"Password"</label>
                <input id="staff-password" type="password" name="password" autocomplete="current-password" required />
                {move || message().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button class="button primary" type="submit" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn StaffHomePage() -> impl IntoView {
    let change = ServerAction::<ChangeStaffPassword>::new();
    let me = resource(|| (), |_| get_staff_me());
    let dashboard = resource(|| (), |_| get_dashboard());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <Title text="Staff" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => {
                        let dashboard = dashboard.await;
                        EitherOf3::A(view! {
                            <section class="account-head">
                                <div>
                                    <h1>"Staff"</h1>
                                    <p class="muted" data-testid="staff-me">"Signed in as " {me.name} " (" {me.role.to_string()} ")"</p>
                                </div>
                                <ActionForm action=sign_out attr:class="inline">
                                    <button class="button" type="submit">"Sign out"</button>
                                </ActionForm>
                            </section>
                            {match dashboard {
                                Ok(d) => view! { <DashboardPanel d=d /> }.into_any(),
                                Err(err) => view! {
                                    <section class="panel notice" role="alert" data-testid="dashboard-error">
                                        <p>"The dashboard could not be loaded: " {err.to_string()}</p>
                                    </section>
                                }
                                .into_any(),
                            }}
                            <nav class="panel narrow" aria-label="Staff">
                                <ul class="links">
                                    <li><a href="/staff/inbox">"Accounting inbox"</a></li>
                                    <li><a href="/staff/rules">"Reminder rules"</a></li>
                                    <li><a href="/staff/accounts">"Accounts"</a></li>
                                    <li><a href="/staff/disputes">"Disputes"</a></li>
                                    <li><a href="/staff/approvals">"Changes awaiting approval"</a></li>
                                    <li><a href="/staff/campaigns">"Profile update campaigns"</a></li>
                                    <li><a href="/supplier">"Our shared profile"</a></li>
                                    <li><a href="/staff/messages">"Customer messages"</a></li>
                                    <li><a href="/staff/letters">"Letters for accounts without email"</a></li>
                                    <li><a href="/staff/mail">"Undelivered mail"</a></li>
                                    <li><a href="/staff/templates">"Email templates"</a>" (admins)"</li>
                                    <li><a href="/staff/import">"Import from the ERP (CSV)"</a></li>
                                    <li><a href="/staff/api-keys">"API keys"</a>" (admins)"</li>
                                    <li><a href="/staff/webhooks">"Webhooks"</a>" (admins)"</li>
                                </ul>
                            </nav>
                            <section class="panel narrow">
                                <h2>"Change your password"</h2>
                                <ActionForm action=change attr:class="stack">
                                    <label for="current-password">"Current password"</label>
                                    <input id="current-password" type="password" name="current_password" autocomplete="current-password" required />
                                    <label for="new-password">"New password (12 characters or more)"</label>
                                    <input id="new-password" type="password" name="new_password" autocomplete="new-password" minlength="12" required />
                                    {move || change.value().get().map(|r| match r {
                                        Ok(()) => Either::Left(view! { <p class="ok" role="status">"Password changed. Your other sessions were signed out."</p> }),
                                        Err(err) => Either::Right(view! { <p class="field-error" role="alert">{error_text(err)}</p> }),
                                    })}
                                    <button class="button primary" type="submit">"Change password"</button>
                                </ActionForm>
                            </section>
                        })
                    }
                    Err(AppError::Unauthorized) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h1>"Staff"</h1>
                            <p><a href="/staff/sign-in">"Sign in"</a>" to continue."</p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! { <section class="panel narrow notice" role="alert"><p>{err.to_string()}</p></section> }),
                }
            })}
        </Transition>
    }
}

/// The dashboard: KPI tiles with their definitions, the aging chart and open disputes
/// by reason.
#[component]
fn DashboardPanel(d: Dashboard) -> AnyView {
    let currency = d.currency.clone();
    let money = move |minor: i64| format_money(minor, &currency);
    let percent = |tenths: Option<i64>| match tenths {
        Some(_) => format!("{}%", format_tenths(tenths)),
        None => "No data".to_owned(),
    };
    let dso = match d.dso_tenths {
        Some(_) => format!("{} days", format_tenths(d.dso_tenths)),
        None => "No data".to_owned(),
    };
    let tiles = vec![
        Tile {
            label: "Total AR",
            value: money(d.total_ar_minor),
            testid: "kpi-total-ar",
            note: format!(
                "Open balances of open invoices. Unapplied credits of {} (open credit memos and unapplied payments) are not netted off.",
                money(d.unapplied_credits_minor)
            ),
        },
        Tile {
            label: "DSO",
            value: dso,
            testid: "kpi-dso",
            note: format!(
                "DSO = total AR ÷ credit sales of the last {DSO_DAYS} days ({}) × {DSO_DAYS}.",
                money(d.credit_sales_90_minor)
            ),
        },
        Tile {
            label: "Collection effectiveness",
            value: percent(d.cei_tenths),
            testid: "kpi-cei",
            note: format!(
                "CEI over the last {CEI_DAYS} days = (beginning AR + credit sales − ending total AR) ÷ (beginning AR + credit sales − ending current AR) × 100; beginning AR {}, credit sales {}.",
                money(d.beginning_ar_minor),
                money(d.credit_sales_30_minor)
            ),
        },
        Tile {
            label: "Promises kept",
            value: percent(d.promises_kept_tenths),
            testid: "kpi-promises-kept",
            note: format!(
                "Kept ÷ resolved (kept, partially kept or broken) promises of the last {RECENT_DAYS} days: {} of {}.",
                d.promises_kept, d.promises_resolved
            ),
        },
        Tile {
            label: "Open promises",
            value: d.promises_open.to_string(),
            testid: "kpi-promises-open",
            note: "Promises to pay not yet kept or broken.".to_owned(),
        },
        Tile {
            label: "Open disputes",
            value: d.open_disputes.to_string(),
            testid: "kpi-disputes-open",
            note: format!(
                "Disputes awaiting a decision, disputing {}.",
                money(d.open_disputed_minor)
            ),
        },
        Tile {
            label: "Profile completeness",
            value: percent(d.complete_tenths),
            testid: "kpi-profiles-complete",
            note: format!(
                "Active customers with a usable email, a mailing address, a TIN and a verification within 12 months: {} of {}.",
                d.complete_profiles, d.active_customers
            ),
        },
        Tile {
            label: "Emails bounced",
            value: d.bounced_contacts.to_string(),
            testid: "kpi-bounced",
            note: "Contacts whose email address bounced.".to_owned(),
        },
        Tile {
            label: "Reported wrong person",
            value: d.reported_wrong_contacts.to_string(),
            testid: "kpi-reported-wrong",
            note: "Contacts who told us invoices should go to someone else.".to_owned(),
        },
        Tile {
            label: "Invoices to a bad address",
            value: percent(d.misdirected_tenths),
            testid: "kpi-misdirected",
            note: format!(
                "Invoices of the last {RECENT_DAYS} days whose account's billing contact bounced or was reported wrong: {} of {}. Industry figure: 10–12%.",
                d.misdirected_invoices, d.recent_invoices
            ),
        },
        Tile {
            label: "Tasks due",
            value: d.tasks_due.to_string(),
            testid: "kpi-tasks-due",
            note: "Open or in-progress inbox tasks due today or earlier.".to_owned(),
        },
    ];
    let aging = d.aging;
    let buckets = aging.buckets();
    let chart_currency = d.currency.clone();
    view! {
        <section class="panel" aria-labelledby="dashboard-title" data-testid="dashboard">
            <h2 id="dashboard-title">"Receivables at a glance"</h2>
            <p class="muted small">
                "As of " {format_day(d.as_of)} ". Amounts in " {d.currency.clone()}
                " (accounts are billed in one currency, ours)."
            </p>
            <div class="stats dashboard-tiles">
                {tiles.into_iter().map(tile).collect_view()}
            </div>

            <h3 id="dashboard-aging-title">"Aging by days past due"</h3>
            {if aging.total() == 0 {
                view! { <p class="empty">"No open invoices."</p> }.into_any()
            } else {
                view! { <AgingChart aging=aging currency=chart_currency /> }.into_any()
            }}
            <div class="table-wrap">
                <table class="aging-table" aria-labelledby="dashboard-aging-title" data-testid="dashboard-aging">
                    <thead>
                        <tr>{buckets.iter().map(|(label, _)| view! { <th scope="col">{*label}</th> }).collect_view()}</tr>
                    </thead>
                    <tbody>
                        <tr>{buckets.iter().map(|(label, v)| view! { <td class="num" data-label=*label>{money(*v)}</td> }).collect_view()}</tr>
                    </tbody>
                </table>
            </div>

            <h3 id="dashboard-disputes-title">"Open disputes by reason"</h3>
            {disputes_by_reason(d.disputes_by_reason, money)}
        </section>
    }
    .into_any()
}

/// One KPI: a big number and its definition.
struct Tile {
    label: &'static str,
    value: String,
    testid: &'static str,
    note: String,
}

fn tile(t: Tile) -> AnyView {
    view! {
        <div class="stat">
            <span class="stat-label">{t.label}</span>
            <span class="stat-value" data-testid=t.testid>{t.value}</span>
            <span class="muted small">{t.note}</span>
        </div>
    }
    .into_any()
}

fn disputes_by_reason(rows: Vec<ReasonTotal>, money: impl Fn(i64) -> String) -> AnyView {
    if rows.is_empty() {
        return view! { <p class="empty" data-testid="dashboard-disputes">"No open disputes."</p> }
            .into_any();
    }
    let rows = rows
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <td data-label="Reason">{reason_label(r.reason)}</td>
                    <td class="num" data-label="Disputes">{r.disputes}</td>
                    <td class="num" data-label="Lines">{r.lines}</td>
                    <td class="num" data-label="Amount">{money(r.amount_minor)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="invoices" aria-labelledby="dashboard-disputes-title" data-testid="dashboard-disputes">
                <thead>
                    <tr>
                        <th scope="col">"Reason"</th>
                        <th scope="col" class="num">"Disputes"</th>
                        <th scope="col" class="num">"Lines"</th>
                        <th scope="col" class="num">"Amount"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

fn error_text(err: AppError) -> String {
    match err {
        AppError::Validation { message, .. } => message,
        other => other.to_string(),
    }
}
