//! The customer portal: the account overview (with its Promise to Pay form), and the page
//! to ask for a sign-in link.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::links::{RedeemSignInCode, RequestSignInLink};
use crate::api::portal::{ReportWrongPerson, SignOut, get_overview};
use crate::api::promises::{RecordPromise, list_promises};
use crate::components::aging_chart::AgingChart;
use crate::components::resource::{Json, resource};
use crate::error::AppError;
use crate::model::enums::{DocumentStatus, PaymentStatus};
use crate::model::portal::{
    DisputeSummary, OpenInvoice, Overview, PaymentSummary, format_day, format_money,
};
use crate::model::promises::{
    NOTE_MAX_CHARS, PromiseView, amount_input, latest_date, validate_form,
};
use crate::pages::pay::PayPanel;

/// How the open-invoice table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortBy {
    DueDate,
    AmountDesc,
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let overview = resource(|| (), |_| get_overview());
    // Made here rather than in the promise form: a resource made inside the overview's
    // `Suspend` would be made (and fetched) again each time the server renders it.
    let record = ServerAction::<RecordPromise>::new();
    let promises = resource(move || record.version().get(), |_| list_promises());
    provide_context(Promises { record, promises });
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

/// The promise form's action and the account's open promises, made by the page.
#[derive(Clone, Copy)]
struct Promises {
    record: ServerAction<RecordPromise>,
    promises: Resource<Result<Vec<PromiseView>, AppError>, Json>,
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
    let forms_currency = currency.clone();
    let attempt = data.pay_attempt.clone();
    let today = data.as_of;

    // Promise to Pay: the chosen invoices and the form below the table.
    let selected = RwSignal::new(Vec::<i64>::new());
    let amount = RwSignal::new(String::new());
    let selected_total = move || {
        selected.with(|ids| {
            invoices.with_value(|all| {
                all.iter()
                    .filter(|i| ids.contains(&i.id))
                    .map(|i| i.open_minor)
                    .sum::<i64>()
            })
        })
    };
    // The Pay and Promise panels' code is fetched with the first invoice chosen (see
    // `overview_forms`); until then, and on the server, the panels are their empty states.
    // Set once: every `set` notifies, and rebuilding the panels would drop the amounts and
    // the promise note already typed into them.
    let forms_wanted = RwSignal::new(false);
    let toggle = Callback::new(move |(id, on): (i64, bool)| {
        if on && !forms_wanted.get_untracked() {
            forms_wanted.set(true);
        }
        selected.update(|ids| {
            ids.retain(|x| *x != id);
            if on {
                ids.push(id);
            }
        });
        let total = selected_total();
        amount.set(if total > 0 {
            amount_input(total)
        } else {
            String::new()
        });
    });

    view! {
        <section class="account-head">
            <div>
                <h1>{data.account_name.clone()}</h1>
                <p class="muted">"Account " {data.account_number.clone()} " · as of " {format_day(data.as_of)}</p>
            </div>
            <a class="button" href="/portal/documents">"Documents"</a>
            <a class="button" href="/portal/messages">"Send us a message"</a>
            <a class="button" href="/portal/profile">"Company profile"</a>
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
                                        <th scope="col" aria-label="Select"></th>
                                        <th scope="col">"Invoice"</th>
                                        <th scope="col">"PO"</th>
                                        <th scope="col">"Issued"</th>
                                        <th scope="col">"Due"</th>
                                        <th scope="col" class="num">"Total"</th>
                                        <th scope="col" class="num">"Open"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"File"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|inv| invoice_row(inv, &currency, selected, toggle)).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })
                }
            }}
        </section>

        <div class="two-up">
            {move || if forms_wanted.get() {
                let forms = Forms {
                    currency: forms_currency.clone(),
                    attempt: attempt.clone(),
                    today,
                    selected,
                    amount,
                    invoices,
                };
                Either::Right(view! {
                    <Suspense fallback=EmptyForms>
                        {Suspend::new(async move { overview_forms(forms).await })}
                    </Suspense>
                })
            } else {
                Either::Left(view! { <EmptyForms /> })
            }}
        </div>
        <OpenPromises />

        <RecentPayments payments=data.recent_payments.clone() currency=currency.clone() />
        <OpenDisputes
            disputes=data.open_disputes.clone()
            count=data.open_disputes_count
            total_minor=data.open_disputes_minor
            currency=currency.clone()
        />
    }
}

#[component]
fn RecentPayments(payments: Vec<PaymentSummary>, currency: String) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="payments-title">
            <h2 id="payments-title">"Recent payments"</h2>
            {if payments.is_empty() {
                Either::Left(view! { <p class="empty">"No payments yet."</p> })
            } else {
                Either::Right(view! {
                    <div class="table-wrap">
                        <table class="invoices" data-testid="recent-payments">
                            <thead><tr>
                                <th scope="col">"Date"</th>
                                <th scope="col" class="num">"Amount"</th>
                                <th scope="col">"Method"</th>
                                <th scope="col">"Invoices"</th>
                                <th scope="col">"Status"</th>
                            </tr></thead>
                            <tbody>
                                {payments.into_iter().map(|p| view! {
                                    <tr>
                                        <td data-label="Date">{p.received_on.to_string()}</td>
                                        <td data-label="Amount" class="num">{format_money(p.amount_minor, &currency)}</td>
                                        <td data-label="Method">{p.method.code()}</td>
                                        <td data-label="Invoices">{p.invoices.join(", ")}</td>
                                        <td data-label="Status">{if p.status == PaymentStatus::Pending { "clearing" } else { "received" }}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                })
            }}
        </section>
    }
}

#[component]
fn OpenDisputes(
    disputes: Vec<DisputeSummary>,
    count: i64,
    total_minor: i64,
    currency: String,
) -> impl IntoView {
    let shown = disputes.len();
    let more = (usize::try_from(count).unwrap_or(0) > shown).then(|| {
        view! {
            <p class="muted" data-testid="open-disputes-more">
                {format!(
                    "The {shown} newest of {count} open disputes; {} disputed in all.",
                    format_money(total_minor, &currency),
                )}
            </p>
        }
    });
    view! {
        <section class="panel" aria-labelledby="disputes-title">
            <h2 id="disputes-title">"Open disputes"</h2>
            {more}
            {if disputes.is_empty() {
                Either::Left(view! { <p class="empty">"No open disputes."</p> })
            } else {
                Either::Right(view! {
                    <div class="table-wrap">
                        <table class="invoices" data-testid="open-disputes">
                            <thead><tr>
                                <th scope="col">"Invoice"</th>
                                <th scope="col" class="num">"Disputed"</th>
                                <th scope="col">"Opened"</th>
                                <th scope="col">"Status"</th>
                            </tr></thead>
                            <tbody>
                                {disputes.into_iter().map(|d| view! {
                                    <tr>
                                        <td data-label="Invoice">{d.invoice}</td>
                                        <td data-label="Disputed" class="num">{format_money(d.disputed_minor, &currency)}</td>
                                        <td data-label="Opened">{d.opened_on.to_string()}</td>
                                        <td data-label="Status">{d.status.as_str().replace('_', " ")}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                })
            }}
        </section>
    }
}

/// What [`overview_forms`] needs from the overview.
struct Forms {
    currency: String,
    attempt: String,
    today: chrono::NaiveDate,
    selected: RwSignal<Vec<i64>>,
    amount: RwSignal<String>,
    invoices: StoredValue<Vec<OpenInvoice>>,
}

/// The Pay panel and the Promise to Pay form. Lazy: in the browser their code, with the
/// rules they check as you type, is a module of its own, fetched when the first invoice is
/// chosen. The first portal page does not carry it, and until then the panels are
/// [`EmptyForms`], which is all they would show without a chosen invoice anyway.
#[lazy]
fn overview_forms(f: Forms) -> AnyView {
    let Forms {
        currency,
        attempt,
        today,
        selected,
        amount,
        invoices,
    } = f;
    let total = Signal::derive(move || {
        selected.with(|ids| {
            invoices.with_value(|all| {
                all.iter()
                    .filter(|i| ids.contains(&i.id))
                    .map(|i| i.open_minor)
                    .sum::<i64>()
            })
        })
    });
    view! {
        <PayPanel currency=currency.clone() attempt selected invoices />
        <PromiseForm today currency selected amount total />
    }
    .into_any()
}

/// The Pay and Promise to Pay panels before any invoice is chosen (and while their code
/// loads): what each panel says then.
#[component]
fn EmptyForms() -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="pay-title" data-testid="pay-panel">
            <h2 id="pay-title">"Pay online"</h2>
            <p class="muted" data-testid="pay-empty">"Choose the invoices to pay in the table above."</p>
        </section>
        <section class="panel" aria-labelledby="promise-title" data-testid="promise-form">
            <h2 id="promise-title">"Promise to pay"</h2>
            <p data-testid="promise-selection">"Choose one or more open invoices in the table above."</p>
        </section>
    }
}

/// The "Promise to pay" form for the invoices chosen in the table. Fields are checked as
/// they are typed with the same rules the server applies.
#[component]
fn PromiseForm(
    today: chrono::NaiveDate,
    currency: String,
    selected: RwSignal<Vec<i64>>,
    amount: RwSignal<String>,
    total: Signal<i64>,
) -> impl IntoView {
    let date = RwSignal::new(String::new());
    let note = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let Promises { record, .. } = expect_context::<Promises>();
    let errors = Memo::new(move |_| {
        validate_form(
            selected.with(Vec::len),
            total.get(),
            &amount.get(),
            &date.get(),
            Some(&note.get()),
            today,
        )
    });
    Effect::new(move |_| {
        if matches!(record.value().get(), Some(Ok(_))) {
            selected.set(Vec::new());
            amount.set(String::new());
            date.set(String::new());
            note.set(String::new());
            tried.set(false);
        }
    });
    let server_error = move |field: &'static str| match record.value().get() {
        Some(Err(AppError::Validation { field: f, message })) if f == field => Some(message),
        _ => None,
    };
    let invoices_error = move || {
        errors
            .with(|e| e.invoices.clone())
            .filter(|_| tried.get())
            .or_else(|| server_error("document_ids"))
    };
    let amount_error = move || {
        errors
            .with(|e| e.amount.clone())
            .filter(|_| tried.get() || !amount.with(String::is_empty))
            .or_else(|| server_error("amount"))
    };
    let date_error = move || {
        errors
            .with(|e| e.date.clone())
            .filter(|_| tried.get() || !date.with(String::is_empty))
            .or_else(|| server_error("date"))
    };
    let note_error = move || {
        errors
            .with(|e| e.note.clone())
            .or_else(|| server_error("note"))
    };
    let other_error = move || match record.value().get() {
        Some(Err(AppError::Validation { .. })) | Some(Ok(_)) | None => None,
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended. Please sign in again.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
    };
    let done = move || matches!(record.value().get(), Some(Ok(_))) && selected.with(Vec::is_empty);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if !errors.with(|e| e.is_empty()) || record.pending().get_untracked() {
            return;
        }
        let text = note.get_untracked();
        record.dispatch(RecordPromise {
            document_ids: selected.get_untracked(),
            amount: amount.get_untracked(),
            date: date.get_untracked(),
            note: (!text.trim().is_empty()).then_some(text),
        });
    };
    let summary_currency = currency.clone();
    let summary = move || {
        let count = selected.with(Vec::len);
        match count {
            0 => "Choose one or more open invoices in the table above.".to_owned(),
            1 => format!(
                "1 invoice chosen, {} open.",
                format_money(total.get(), &summary_currency)
            ),
            n => format!(
                "{n} invoices chosen, {} open.",
                format_money(total.get(), &summary_currency)
            ),
        }
    };

    view! {
        <section class="panel" aria-labelledby="promise-title" data-testid="promise-form">
            <h2 id="promise-title">"Promise to pay"</h2>
            <form class="stack" novalidate=true on:submit=on_submit>
                <p data-testid="promise-selection">{summary}</p>
                <p id="promise-invoices-error" class="field-error" role="alert">{invoices_error}</p>
                <label for="promise-amount">"Amount"</label>
                <input id="promise-amount" name="amount" inputmode="decimal" autocomplete="off"
                    aria-describedby="promise-amount-error"
                    aria-invalid=move || if amount_error().is_some() { "true" } else { "false" }
                    prop:value=move || amount.get()
                    on:input=move |ev| amount.set(event_target_value(&ev)) />
                <p id="promise-amount-error" class="field-error" role="alert">{amount_error}</p>
                <label for="promise-date">"Pay by"</label>
                <input id="promise-date" name="date" type="date"
                    min=today.to_string() max=latest_date(today).to_string()
                    aria-describedby="promise-date-error"
                    aria-invalid=move || if date_error().is_some() { "true" } else { "false" }
                    prop:value=move || date.get()
                    on:input=move |ev| date.set(event_target_value(&ev))
                    on:change=move |ev| date.set(event_target_value(&ev)) />
                <p id="promise-date-error" class="field-error" role="alert">{date_error}</p>
                <label for="promise-note">"Note (optional)"</label>
                <textarea id="promise-note" name="note" rows="2" maxlength=NOTE_MAX_CHARS.to_string()
                    aria-describedby="promise-note-error"
                    prop:value=move || note.get()
                    on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                <p id="promise-note-error" class="field-error" role="alert">{note_error}{other_error}</p>
                <button class="button primary" type="submit" disabled=move || record.pending().get()>
                    {move || if record.pending().get() { "Sending…" } else { "Promise to pay" }}
                </button>
                <Show when=done>
                    <p role="status" data-testid="promise-recorded">"Thank you. We have noted your promise and emailed you a confirmation."</p>
                </Show>
            </form>
        </section>
    }
}

/// The account's open promises.
#[component]
fn OpenPromises() -> impl IntoView {
    let Promises { promises, .. } = expect_context::<Promises>();
    view! {
        <section class="panel" aria-labelledby="promises-title">
            <h2 id="promises-title">"Open promises"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading promises…"</p> }>
                {move || Suspend::new(async move {
                    match promises.await {
                        Ok(list) if list.is_empty() => EitherOf3::A(view! {
                            <p class="empty" data-testid="no-promises">"No open promises."</p>
                        }),
                        Ok(list) => EitherOf3::B(view! {
                            <div class="table-wrap">
                                <table class="invoices" data-testid="open-promises">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Invoices"</th>
                                            <th scope="col" class="num">"Amount"</th>
                                            <th scope="col">"Pay by"</th>
                                            <th scope="col">"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody>{list.into_iter().map(promise_row).collect_view()}</tbody>
                                </table>
                            </div>
                        }),
                        Err(err) => EitherOf3::C(view! { <p class="field-error">{err.to_string()}</p> }),
                    }
                })}
            </Transition>
        </section>
    }
}

fn promise_row(p: PromiseView) -> impl IntoView + use<> {
    view! {
        <tr>
            <td data-label="Invoices">{p.invoices.join(", ")}</td>
            <td data-label="Amount" class="num">{format_money(p.amount_minor, &p.currency)}</td>
            <td data-label="Pay by">{p.promised_date.to_string()}</td>
            <td data-label="Status">{p.status.as_str().replace('_', " ")}</td>
        </tr>
    }
}

fn invoice_row(
    inv: OpenInvoice,
    currency: &str,
    selected: RwSignal<Vec<i64>>,
    toggle: Callback<(i64, bool)>,
) -> impl IntoView + use<> {
    let status = if inv.status == DocumentStatus::PaymentPending {
        "Payment pending".to_owned()
    } else if inv.days_past_due > 0 {
        format!("{} days late", inv.days_past_due)
    } else {
        "Current".to_owned()
    };
    let late = inv.days_past_due > 0;
    let id = inv.id;
    let label = format!("Select invoice {}", inv.number);
    view! {
        <tr class:late=late>
            <td data-label="Select">
                <input type="checkbox" name="promise-invoice" value=id.to_string() aria-label=label
                    prop:checked=move || selected.with(|ids| ids.contains(&id))
                    on:change=move |ev| toggle.run((id, event_target_checked(&ev))) />
            </td>
            <td data-label="Invoice"><a href=format!("/portal/invoices/{}", inv.id)>{inv.number}</a></td>
            <td data-label="PO">{inv.po_number.unwrap_or_default()}</td>
            <td data-label="Issued">{inv.issue_date.to_string()}</td>
            <td data-label="Due">{inv.due_date.map(|d| d.to_string()).unwrap_or_default()}</td>
            <td data-label="Total" class="num">{format_money(inv.total_minor, currency)}</td>
            <td data-label="Open" class="num">{format_money(inv.open_minor, currency)}</td>
            <td data-label="Status">{status}</td>
            <td data-label="File"><a href=format!("/portal/documents/{}/pdf", inv.id) download="" rel="external">"PDF"</a></td>
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
