//! The customer portal: the account overview, and the page to ask for a sign-in link.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::links::{RedeemSignInCode, RequestSignInLink};
use crate::api::portal::{ReportWrongPerson, SignOut, get_overview};
use crate::components::aging_chart::AgingChart;
use crate::error::AppError;
use crate::model::portal::{OpenInvoice, Overview, format_money};

/// How the open-invoice table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    DueDate,
    AmountDesc,
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="My account" />
        <Transition fallback=|| view! { <p class="muted">"Loading your account…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(data) => EitherOf3::A(view! { <OverviewView data /> }),
                    Err(AppError::Unauthorized) => EitherOf3::B(view! { <SignedOut /> }),
                    Err(err) => EitherOf3::C(view! {
                        <section class="panel narrow notice" role="alert">
                            <h1>"We could not load your account"</h1>
                            <p>{err.to_string()}</p>
                        </section>
                    }),
                }
            })}
        </Transition>
    }
}

#[component]
fn SignedOut() -> impl IntoView {
    view! {
        <section class="panel narrow">
            <h1>"Please sign in"</h1>
            <p>"Open the link in the latest email or letter from us, or ask for a new link."</p>
            <p><a class="button primary" href="/portal/sign-in">"Get a sign-in link"</a></p>
        </section>
    }
}

#[component]
fn OverviewView(data: Overview) -> impl IntoView {
    let overdue_only = RwSignal::new(false);
    let sort_by = RwSignal::new(SortBy::DueDate);
    let sign_out = ServerAction::<SignOut>::new();
    let currency = data.currency.clone();
    let invoices = StoredValue::new(data.open_invoices.clone());
    let overdue_count = data
        .open_invoices
        .iter()
        .filter(|i| i.days_past_due > 0)
        .count();
    let total_count = data.open_invoices.len();

    let visible = move || {
        let mut rows: Vec<OpenInvoice> = invoices.with_value(|all| {
            all.iter()
                .filter(|i| !overdue_only.get() || i.days_past_due > 0)
                .cloned()
                .collect()
        });
        if sort_by.get() == SortBy::AmountDesc {
            rows.sort_by(|a, b| b.open_minor.cmp(&a.open_minor).then(a.id.cmp(&b.id)));
        }
        rows
    };
    let row_currency = currency.clone();

    view! {
        <section class="account-head">
            <div>
                <h1>{data.account_name.clone()}</h1>
                <p class="muted">"Account " {data.account_number.clone()} " · as of " {data.as_of.format("%b %-d, %Y").to_string()}</p>
            </div>
            <ActionForm action=sign_out attr:class="inline">
                <button class="button" type="submit">"Sign out"</button>
            </ActionForm>
        </section>

        <section class="stats" aria-label="Balance">
            <div class="stat">
                <span class="stat-label">"Balance due"</span>
                <span class="stat-value" data-testid="balance">{format_money(data.balance_minor, &currency)}</span>
            </div>
            <div class="stat">
                <span class="stat-label">"Past due"</span>
                <span class="stat-value warn">{format_money(data.aging.total() - data.aging.current, &currency)}</span>
            </div>
            <div class="stat">
                <span class="stat-label">"Credits"</span>
                <span class="stat-value">{format_money(data.credits_minor, &currency)}</span>
            </div>
        </section>

        <section class="panel" aria-labelledby="aging-title">
            <h2 id="aging-title">"Aging"</h2>
            <AgingChart aging=data.aging currency=currency.clone() />
            <table class="aging-table">
                <thead>
                    <tr>{data.aging.buckets().into_iter().map(|(label, _)| view! { <th scope="col">{label}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    <tr>{data.aging.buckets().into_iter().map(|(_, v)| view! { <td class="num">{format_money(v, &currency)}</td> }).collect_view()}</tr>
                </tbody>
            </table>
        </section>

        <section class="panel" aria-labelledby="open-title">
            <div class="panel-head">
                <h2 id="open-title">"Open invoices"</h2>
                <div class="controls">
                    <label class="check">
                        <input
                            type="checkbox"
                            name="overdue-only"
                            prop:checked=move || overdue_only.get()
                            on:change=move |ev| overdue_only.set(event_target_checked(&ev))
                        />
                        {format!(" Overdue only ({overdue_count})")}
                    </label>
                    <label>
                        "Sort by "
                        <select
                            name="sort"
                            on:change=move |ev| {
                                sort_by.set(if event_target_value(&ev) == "amount" { SortBy::AmountDesc } else { SortBy::DueDate })
                            }
                        >
                            <option value="due" selected=true>"Due date"</option>
                            <option value="amount">"Amount open"</option>
                        </select>
                    </label>
                </div>
            </div>
            {move || {
                let rows = visible();
                if rows.is_empty() {
                    Either::Left(view! {
                        <p class="empty" data-testid="empty-invoices">
                            {if total_count == 0 { "Nothing is open. Thank you!" } else { "No invoice is overdue." }}
                        </p>
                    })
                } else {
                    let currency = row_currency.clone();
                    Either::Right(view! {
                        <div class="table-wrap">
                            <table class="invoices" data-testid="open-invoices">
                                <thead>
                                    <tr>
                                        <th scope="col">"Invoice"</th>
                                        <th scope="col">"PO"</th>
                                        <th scope="col">"Issued"</th>
                                        <th scope="col">"Due"</th>
                                        <th scope="col" class="num">"Total"</th>
                                        <th scope="col" class="num">"Open"</th>
                                        <th scope="col">"Status"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|inv| invoice_row(inv, &currency)).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })
                }
            }}
        </section>
    }
}

fn invoice_row(inv: OpenInvoice, currency: &str) -> impl IntoView + use<> {
    let status = if inv.days_past_due > 0 {
        format!("{} days late", inv.days_past_due)
    } else {
        "Current".to_owned()
    };
    let late = inv.days_past_due > 0;
    view! {
        <tr class:late=late>
            <td data-label="Invoice">{inv.number}</td>
            <td data-label="PO">{inv.po_number.unwrap_or_default()}</td>
            <td data-label="Issued">{inv.issue_date.to_string()}</td>
            <td data-label="Due">{inv.due_date.map(|d| d.to_string()).unwrap_or_default()}</td>
            <td data-label="Total" class="num">{format_money(inv.total_minor, currency)}</td>
            <td data-label="Open" class="num">{format_money(inv.open_minor, currency)}</td>
            <td data-label="Status">{status}</td>
        </tr>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let request = ServerAction::<RequestSignInLink>::new();
    let redeem = ServerAction::<RedeemSignInCode>::new();
    let query = use_query_map();
    let sent =
        move || query.read().get("sent").is_some() || matches!(request.value().get(), Some(Ok(())));
    let typed_email = move || request.input().get().map(|i| i.email).unwrap_or_default();
    let request_error = move || {
        request.value().get().and_then(Result::err).map(|err| match err {
        AppError::RateLimited => "You asked for several links in a short time. Please wait an hour, or use the newest email.".to_owned(),
        AppError::Validation { message, .. } => message,
        other => other.to_string(),
    })
    };
    let redeem_error = move || {
        redeem
            .value()
            .get()
            .and_then(Result::err)
            .map(|err| match err {
                AppError::RateLimited => "Too many tries. Please wait a few minutes.".to_owned(),
                _ => "That code did not work. Check it, or ask for a new email.".to_owned(),
            })
    };
    view! {
        <Title text="Sign in" />
        <section class="panel narrow">
            <h1>"Sign in to your account"</h1>
            <p>"No password: we email you a link that signs you in. It works once, for 15 minutes."</p>
            <ActionForm action=request attr:class="stack">
                <label for="sign-in-email">"Your email address"</label>
                <input id="sign-in-email" type="email" name="email" autocomplete="email" required
                    aria-describedby="sign-in-email-error" />
                <p id="sign-in-email-error" class="field-error" role="alert">{request_error}</p>
                <button class="button primary" type="submit" disabled=move || request.pending().get()>
                    {move || if request.pending().get() { "Sending…" } else { "Email me a link" }}
                </button>
            </ActionForm>
        </section>
        <Show when=sent>
            <section class="panel narrow" data-testid="link-sent">
                <h2>"Check your email"</h2>
                <p role="status">"If that address belongs to one of our customers, a sign-in link is on its way. "
                    "It also holds a code, if you would rather type it here:"</p>
                <ActionForm action=redeem attr:class="stack">
                    <label for="code-email">"Email address"</label>
                    <input id="code-email" type="email" name="email" autocomplete="email" required prop:value=typed_email />
                    <label for="code">"Code from the email"</label>
                    <input id="code" name="code" autocomplete="one-time-code" inputmode="text" placeholder="ABCD-EFGH" required
                        aria-describedby="code-error" />
                    <p id="code-error" class="field-error" role="alert">{redeem_error}</p>
                    <button class="button" type="submit">"Sign in with the code"</button>
                </ActionForm>
            </section>
        </Show>
    }
}

#[component]
pub fn WrongPersonPage() -> impl IntoView {
    let report = ServerAction::<ReportWrongPerson>::new();
    let error_for = move |field: &'static str| {
        move || match report.value().get() {
            Some(Err(AppError::Validation { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let other_error = move || match report.value().get() {
        Some(Err(AppError::Unauthorized)) => {
            Some("This page needs the link from our email. Please open it again.".to_owned())
        }
        Some(Err(AppError::Validation { .. })) | Some(Ok(())) | None => None,
        Some(Err(other)) => Some(other.to_string()),
    };
    let query = use_query_map();
    let done =
        move || query.read().get("done").is_some() || matches!(report.value().get(), Some(Ok(())));
    view! {
        <Title text="Tell us who should get these" />
        <section class="panel narrow">
            <Show
                when=done
                fallback=move || view! {
                    <h1>"Who should receive these?"</h1>
                    <p>"Thanks for telling us. Who at your company should get our invoices and statements?"</p>
                    <ActionForm action=report attr:class="stack">
                        <label for="wp-name">"Name"</label>
                        <input id="wp-name" name="name" autocomplete="off" required maxlength="200" />
                        <p class="field-error" role="alert">{error_for("name")}</p>
                        <label for="wp-email">"Email"</label>
                        <input id="wp-email" type="email" name="email" autocomplete="off" required />
                        <p class="field-error" role="alert">{error_for("email")}</p>
                        <label for="wp-role">"Their role"</label>
                        <select id="wp-role" name="role">
                            <option value="ap" selected=true>"Accounts payable"</option>
                            <option value="billing">"Billing"</option>
                            <option value="primary">"Primary contact"</option>
                            <option value="other">"Other"</option>
                        </select>
                        <label for="wp-note">"Note (optional)"</label>
                        <textarea id="wp-note" name="note" rows="3" maxlength="2000"></textarea>
                        <p class="field-error" role="alert">{error_for("note")}{other_error}</p>
                        <button class="button primary" type="submit" disabled=move || report.pending().get()>"Send"</button>
                    </ActionForm>
                }
            >
                <h1>"Thank you"</h1>
                <p role="status" data-testid="wrong-person-done">
                    "We have asked them to confirm their address, and our team will update our records."
                </p>
            </Show>
        </section>
    }
}
