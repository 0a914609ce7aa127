//! Staff disputes pages: the queue (`/staff/disputes`) and one dispute
//! (`/staff/disputes/:id`).
//!
//! The queue's filters live in the URL's query (a plain GET form), so it works before
//! hydration and a filtered view can be shared. The dispute page shows the whole invoice
//! with the disputed lines marked, the per-line credits, the three ways to resolve, the
//! assignee and the thread.

use std::collections::HashMap;

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::staff_disputes::{
    AssignDispute, LineCredit, ReplyToDispute, ResolveDispute, STATUSES, StaffDispute, get_dispute,
    list_disputes, list_staff, status_label,
};
use crate::components::resource::resource;
use crate::components::staff_error::StaffError;
use crate::error::AppError;
use crate::model::disputes::{
    DisputeMessageView, DisputeView, DisputedLine, InvoiceLine, Queue, QueueRow, REASONS,
    format_quantity, reason_label,
};
use crate::model::enums::DisputeStatus;
use crate::model::portal::{format_day, format_money};
use crate::model::promises::amount_input;

/// The queue's query parameters as they are in the URL. A missing `status` means open
/// disputes; an empty one means any status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Params {
    status: String,
    reason: String,
    age: String,
    collector: String,
}

fn none_if_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// What to tell staff about a failed action.
fn message(err: AppError) -> String {
    match err {
        AppError::Validation { message, .. } => message,
        AppError::Conflict(message) => message,
        AppError::Unauthorized => "Your session has ended. Please sign in again.".to_owned(),
        other => other.to_string(),
    }
}

/// `/staff/disputes`: the disputes queue with its filters and per-reason totals.
#[component]
pub fn StaffDisputesPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| {
            let text = |name: &str| q.get(name).map(|v| v.trim().to_owned());
            Params {
                status: text("status").unwrap_or_else(|| DisputeStatus::Open.as_str().to_owned()),
                reason: text("reason").unwrap_or_default(),
                age: text("age").unwrap_or_default(),
                collector: text("collector").unwrap_or_default(),
            }
        })
    });
    let staff = resource(|| (), |_| list_staff());
    let queue = resource(
        move || params.get(),
        |p| {
            list_disputes(
                none_if_empty(&p.status),
                none_if_empty(&p.reason),
                p.age.parse::<i64>().ok(),
                p.collector.parse::<i64>().ok(),
            )
        },
    );
    view! {
        <Title text="Disputes · Staff" />
        <section class="account-head">
            <div>
                <h1>"Disputes"</h1>
                <p class="muted">"Invoice lines customers dispute, newest first."</p>
            </div>
            <a class="button" href="/staff">"Staff home"</a>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let params = params.get();
                Suspend::new(async move {
                    // Without the staff list the form still filters; only the collector
                    // choice is empty.
                    let staff = staff.await.unwrap_or_default();
                    view! { <Filters params staff /> }
                })
            }}
        </Transition>
        <Transition fallback=|| view! { <p class="muted">"Loading disputes…"</p> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(q) if q.rows.is_empty() => EitherOf3::A(view! {
                        <section class="panel">
                            <p class="empty" data-testid="no-disputes">"No disputes match."</p>
                            {(params.get_untracked() != Params::default()).then(|| view! {
                                <p><a href="/staff/disputes?status=">"Show every dispute"</a></p>
                            })}
                        </section>
                    }),
                    Ok(q) => EitherOf3::B(view! { <QueueTables queue=q /> }),
                    Err(err) => EitherOf3::C(view! { <StaffError err not_found="There is no such dispute." back=("/staff/disputes", "All disputes") /> }),
                }
            })}
        </Transition>
    }
}

/// The filter form: a plain GET form, so it works without JavaScript.
#[component]
fn Filters(params: Params, staff: Vec<(i64, String)>) -> impl IntoView {
    let Params {
        status,
        reason,
        age,
        collector,
    } = params;
    view! {
        <form class="panel filters" method="get" action="/staff/disputes" role="search" aria-label="Filter disputes">
            <label>
                "Status"
                <select name="status">
                    <option value="" selected=status.is_empty()>"Any status"</option>
                    {STATUSES.iter().map(|(s, label)| {
                        let selected = status == s.as_str();
                        view! { <option value=s.as_str() selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Reason"
                <select name="reason">
                    <option value="" selected=reason.is_empty()>"Any reason"</option>
                    {REASONS.iter().map(|(r, label)| {
                        let selected = reason == r.as_str();
                        view! { <option value=r.as_str() selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Open at least (days)"
                <input type="number" name="age" min="0" step="1" inputmode="numeric" value=age />
            </label>
            <label>
                "Collector"
                <select name="collector">
                    <option value="" selected=collector.is_empty()>"Any collector"</option>
                    {staff.into_iter().map(|(id, name)| {
                        let value = id.to_string();
                        let selected = collector == value;
                        view! { <option value=value selected=selected>{name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <div class="filter-actions">
                <button class="button primary" type="submit">"Apply"</button>
                <a class="button" href="/staff/disputes">"Clear"</a>
            </div>
        </form>
    }
}

/// The per-reason summary and the rows of a non-empty queue.
#[component]
fn QueueTables(queue: Queue) -> impl IntoView {
    // The totals span every matching dispute; they carry a currency symbol only when the
    // rows all share one.
    let currency = match queue.rows.first() {
        Some(first) if queue.rows.iter().all(|r| r.currency == first.currency) => {
            first.currency.clone()
        }
        _ => String::new(),
    };
    let shown = queue.rows.len();
    let count = if shown as u64 == queue.total {
        format!("{shown} disputes")
    } else {
        format!("Showing the newest {shown} of {} disputes", queue.total)
    };
    view! {
        <section class="panel" aria-labelledby="reasons-title">
            <h2 id="reasons-title">"By reason"</h2>
            <div class="table-wrap">
                <table class="invoices" data-testid="reason-totals">
                    <thead><tr>
                        <th scope="col">"Reason"</th>
                        <th scope="col" class="num">"Lines"</th>
                        <th scope="col" class="num">"Disputed"</th>
                    </tr></thead>
                    <tbody>
                        {queue.by_reason.into_iter().map(|t| view! {
                            <tr>
                                <td data-label="Reason">{reason_label(t.reason)}</td>
                                <td data-label="Lines" class="num">{t.lines}</td>
                                <td data-label="Disputed" class="num">{format_money(t.disputed_minor, &currency)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <section class="panel" aria-labelledby="queue-title">
            <h2 id="queue-title">"Disputes"</h2>
            <p class="muted" data-testid="disputes-count">{count}</p>
            <div class="table-wrap">
                <table class="invoices" data-testid="disputes-queue">
                    <thead><tr>
                        <th scope="col">"Dispute"</th>
                        <th scope="col">"Invoice"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Reasons"</th>
                        <th scope="col" class="num">"Disputed"</th>
                        <th scope="col" class="num">"Age (days)"</th>
                        <th scope="col">"Status"</th>
                    </tr></thead>
                    <tbody>{queue.rows.into_iter().map(queue_row).collect_view()}</tbody>
                </table>
            </div>
        </section>
    }
}

fn queue_row(row: QueueRow) -> impl IntoView + use<> {
    let href = format!("/staff/disputes/{}", row.id);
    let reasons = row
        .reasons
        .iter()
        .map(|r| reason_label(*r))
        .collect::<Vec<_>>()
        .join(", ");
    let late = row.status == DisputeStatus::Open && row.age_days > 30;
    view! {
        <tr class:late=late>
            <td data-label="Dispute"><a href=href>{format!("#{}", row.id)}</a></td>
            <td data-label="Invoice">{row.invoice}</td>
            <td data-label="Account">{row.account}</td>
            <td data-label="Reasons">{reasons}</td>
            <td data-label="Disputed" class="num">{format_money(row.disputed_minor, &row.currency)}</td>
            <td data-label="Age (days)" class="num">{row.age_days}</td>
            <td data-label="Status">{status_label(row.status)}</td>
        </tr>
    }
}

/// What the dispute page's forms hold; kept outside the rendered dispute so a refetch
/// (after any action, failed ones included) does not lose what was typed.
#[derive(Clone, Copy)]
struct Inputs {
    /// Credits as typed, by dispute line id; a line not here shows its disputed amount.
    credits: RwSignal<HashMap<i64, String>>,
    reject_reason: RwSignal<String>,
    reply: RwSignal<String>,
}

/// The page's server actions.
#[derive(Clone, Copy)]
struct Actions {
    assign: ServerAction<AssignDispute>,
    resolve: ServerAction<ResolveDispute>,
    reply: ServerAction<ReplyToDispute>,
}

/// `/staff/disputes/:id`: one dispute, resolving it, assigning it and its thread.
#[component]
pub fn StaffDisputePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let actions = Actions {
        assign: ServerAction::<AssignDispute>::new(),
        resolve: ServerAction::<ResolveDispute>::new(),
        reply: ServerAction::<ReplyToDispute>::new(),
    };
    let dispute = resource(
        move || {
            (
                id(),
                actions.assign.version().get(),
                actions.resolve.version().get(),
                actions.reply.version().get(),
            )
        },
        |(id, ..)| get_dispute(id),
    );
    let inputs = Inputs {
        credits: RwSignal::new(HashMap::new()),
        reject_reason: RwSignal::new(String::new()),
        reply: RwSignal::new(String::new()),
    };
    Effect::new(move |_| {
        if matches!(actions.reply.value().get(), Some(Ok(_))) {
            inputs.reply.set(String::new());
        }
    });
    view! {
        <Title text="Dispute · Staff" />
        <Transition fallback=|| view! { <p class="muted">"Loading the dispute…"</p> }>
            {move || Suspend::new(async move {
                match dispute.await {
                    Ok(data) => Either::Left(view! { <DisputeDetail data actions inputs /> }),
                    Err(err) => Either::Right(view! { <StaffError err not_found="There is no such dispute." back=("/staff/disputes", "All disputes") /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn DisputeDetail(data: StaffDispute, actions: Actions, inputs: Inputs) -> impl IntoView {
    let StaffDispute {
        dispute: d,
        lines,
        staff,
    } = data;
    let currency = d.currency.clone();
    let open = d.status == DisputeStatus::Open;
    let opened = format_day(d.opened_at);
    view! {
        <section class="account-head">
            <div>
                <h1>{format!("Invoice {} · {}", d.invoice, d.account)}</h1>
                <p class="muted">{format!("Dispute #{} · opened {opened}", d.id)}</p>
            </div>
            <p class="head-links">
                <a class="button" href="/staff/disputes">"All disputes"</a>
            </p>
        </section>
        <section class="stats" aria-label="Amounts">
            <div class="stat">
                <span class="stat-label">"Status"</span>
                <span class="stat-value" data-testid="dispute-status">{status_label(d.status)}</span>
            </div>
            <div class="stat">
                <span class="stat-label">"Disputed"</span>
                <span class="stat-value warn" data-testid="dispute-disputed">{format_money(d.disputed_minor, &currency)}</span>
            </div>
            <div class="stat">
                <span class="stat-label">"Credited"</span>
                <span class="stat-value" data-testid="dispute-credited">{format_money(d.credited_minor, &currency)}</span>
            </div>
        </section>
        {d.resolution_note.clone().map(|n| view! {
            <section class="panel"><p data-testid="resolution-note">"Reason given: " {n}</p></section>
        })}
        <AssignPanel d=d.clone() staff actions />
        <LinesPanel d=d.clone() lines actions inputs />
        <ResolvePanel d=d.clone() open actions inputs />
        <ThreadPanel d actions inputs />
    }
}

/// Who the dispute is assigned to, and the form to change it.
#[component]
fn AssignPanel(d: DisputeView, staff: Vec<(i64, String)>, actions: Actions) -> impl IntoView {
    let (id, version) = (d.id, d.version);
    let assign = actions.assign;
    let current = d
        .assignee
        .as_ref()
        .and_then(|name| staff.iter().find(|(_, n)| n == name))
        .map(|(sid, _)| sid.to_string())
        .unwrap_or_default();
    let chosen = RwSignal::new(current.clone());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if assign.pending().get_untracked() {
            return;
        }
        assign.dispatch(AssignDispute {
            id,
            version,
            assignee_id: chosen.get_untracked().parse::<i64>().ok(),
        });
    };
    let error = move || assign.value().get().and_then(Result::err).map(message);
    view! {
        <section class="panel" aria-labelledby="assign-title">
            <h2 id="assign-title">"Assignee"</h2>
            <p data-testid="dispute-assignee">{d.assignee.clone().unwrap_or_else(|| "Nobody".to_owned())}</p>
            <form class="filters" on:submit=on_submit>
                <label>
                    "Assign to"
                    <select name="assignee_id" data-testid="assignee-select"
                        on:change=move |ev| chosen.set(event_target_value(&ev))>
                        <option value="" selected=current.is_empty()>"Nobody"</option>
                        {staff.into_iter().map(|(sid, name)| {
                            let value = sid.to_string();
                            let selected = current == value;
                            view! { <option value=value selected=selected>{name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <div class="filter-actions">
                    <button class="button" type="submit" disabled=move || assign.pending().get()>"Assign"</button>
                </div>
            </form>
            <p class="field-error" role="alert" data-testid="assign-error">{error}</p>
        </section>
    }
}

/// Every line of the invoice, the disputed ones marked, with a credit field per disputed
/// line while the dispute is open.
#[component]
fn LinesPanel(
    d: DisputeView,
    lines: Vec<InvoiceLine>,
    actions: Actions,
    inputs: Inputs,
) -> impl IntoView {
    let open = d.status == DisputeStatus::Open;
    let currency = d.currency.clone();
    let rows = lines
        .into_iter()
        .map(|line| {
            let disputed = d.lines.iter().find(|l| l.line_id == line.id).cloned();
            line_row(line, disputed, open, currency.clone(), actions, inputs)
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="lines-title">
            <h2 id="lines-title">"Invoice lines"</h2>
            <div class="table-wrap">
                <table class="invoices lines" data-testid="dispute-lines">
                    <thead><tr>
                        <th scope="col">"Line"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col" class="num">"Qty"</th>
                        <th scope="col" class="num">"Amount"</th>
                        <th scope="col" class="num">"Tax"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col" class="num">"Disputed"</th>
                        <th scope="col" class="num">"Credit"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

fn line_row(
    line: InvoiceLine,
    disputed: Option<DisputedLine>,
    open: bool,
    currency: String,
    actions: Actions,
    inputs: Inputs,
) -> impl IntoView + use<> {
    let n = line.line_no;
    let is_disputed = disputed.is_some();
    let reason = disputed
        .as_ref()
        .map(|l| {
            let mut text = reason_label(l.reason).to_owned();
            if let Some(q) = l.quantity_milli {
                text.push_str(&format!(" ({} units)", format_quantity(q)));
            }
            text
        })
        .unwrap_or_default();
    let note = disputed.as_ref().and_then(|l| l.note.clone());
    let disputed_amount = disputed
        .as_ref()
        .map(|l| format_money(l.disputed_minor, &currency))
        .unwrap_or_default();
    let credit = disputed.map(|l| {
        if open {
            Either::Left(credit_input(n, &l, actions, inputs))
        } else {
            Either::Right(
                l.credited_minor
                    .map(|c| format_money(c, &currency))
                    .unwrap_or_default(),
            )
        }
    });
    view! {
        <tr class:disputed=is_disputed data-testid="dispute-line" data-line=n.to_string()>
            <td data-label="Line">{n}</td>
            <td data-label="Description">
                {line.description}
                {line.sku.map(|s| view! { <span class="muted small">" · " {s}</span> })}
            </td>
            <td data-label="Qty" class="num">{format_quantity(line.quantity_milli)}</td>
            <td data-label="Amount" class="num">{format_money(line.amount_minor, &currency)}</td>
            <td data-label="Tax" class="num">{format_money(line.tax_minor, &currency)}</td>
            <td data-label="Reason">
                {reason}
                {note.map(|text| view! { <span class="muted small">" — “" {text} "”"</span> })}
            </td>
            <td data-label="Disputed" class="num">{disputed_amount}</td>
            <td data-label="Credit" class="num">{credit}</td>
        </tr>
    }
}

/// The credit field of one disputed line, its error under it.
fn credit_input(
    n: i32,
    l: &DisputedLine,
    actions: Actions,
    inputs: Inputs,
) -> impl IntoView + use<> {
    let dl_id = l.dispute_line_id;
    let default = amount_input(l.disputed_minor);
    let field = format!("credit-{dl_id}");
    let err_id = format!("credit-{dl_id}-error");
    let error = move || match actions.resolve.value().get() {
        Some(Err(AppError::Validation { field: f, message })) if f == field => Some(message),
        _ => None,
    };
    let value = {
        let default = default.clone();
        move || {
            inputs
                .credits
                .with(|m| m.get(&dl_id).cloned())
                .unwrap_or_else(|| default.clone())
        }
    };
    let invalid = {
        let error = error.clone();
        move || if error().is_some() { "true" } else { "false" }
    };
    view! {
        <input class="amount" inputmode="decimal" autocomplete="off"
            aria-label=format!("Credit for line {n}")
            aria-describedby=err_id.clone()
            aria-invalid=invalid
            value=default
            prop:value=value
            on:input=move |ev| {
                let v = event_target_value(&ev);
                inputs.credits.update(|m| {
                    m.insert(dl_id, v);
                });
            } />
        <span id=err_id class="field-error" role="alert">{error}</span>
    }
}

/// Accept, credit what was entered, or reject with a reason; and what went wrong.
#[component]
fn ResolvePanel(d: DisputeView, open: bool, actions: Actions, inputs: Inputs) -> impl IntoView {
    let resolve = actions.resolve;
    let (id, version) = (d.id, d.version);
    let lines: Vec<(i64, String)> = d
        .lines
        .iter()
        .map(|l| (l.dispute_line_id, amount_input(l.disputed_minor)))
        .collect();
    let accept = move |_| {
        if resolve.pending().get_untracked() {
            return;
        }
        resolve.dispatch(ResolveDispute {
            id,
            version,
            decision: "accept".to_owned(),
            credits: Vec::new(),
            reason: None,
        });
    };
    let partial = move |_| {
        if resolve.pending().get_untracked() {
            return;
        }
        let credits = inputs.credits.with_untracked(|typed| {
            lines
                .iter()
                .map(|(dl_id, default)| LineCredit {
                    dispute_line_id: *dl_id,
                    amount: typed.get(dl_id).cloned().unwrap_or_else(|| default.clone()),
                })
                .collect::<Vec<_>>()
        });
        resolve.dispatch(ResolveDispute {
            id,
            version,
            decision: "partial".to_owned(),
            credits,
            reason: None,
        });
    };
    let reject = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if resolve.pending().get_untracked() {
            return;
        }
        resolve.dispatch(ResolveDispute {
            id,
            version,
            decision: "reject".to_owned(),
            credits: Vec::new(),
            reason: Some(inputs.reject_reason.get_untracked()),
        });
    };
    let error = move || resolve.value().get().and_then(Result::err).map(message);
    let busy = move || resolve.pending().get();
    view! {
        <section class="panel" aria-labelledby="resolve-title">
            <h2 id="resolve-title">"Resolve"</h2>
            {if open {
                Either::Left(view! {
                    <p class="muted">"Accepting credits every line in full; crediting the amounts entered above credits those (0 refuses a line). Either issues a credit memo applied to the invoice."</p>
                    <div class="actions">
                        <button class="button primary" type="button" data-testid="accept-all"
                            disabled=busy on:click=accept>"Accept all"</button>
                        <button class="button" type="button" data-testid="credit-entered"
                            disabled=busy on:click=partial>"Credit the amounts entered"</button>
                    </div>
                    <form class="stack" novalidate=true on:submit=reject>
                        <label for="reject-reason">"Reason for rejecting"</label>
                        <textarea id="reject-reason" name="reason" rows="3"
                            prop:value=move || inputs.reject_reason.get()
                            on:input=move |ev| inputs.reject_reason.set(event_target_value(&ev))></textarea>
                        <button class="button" type="submit" data-testid="reject" disabled=busy>"Reject"</button>
                    </form>
                })
            } else {
                Either::Right(view! {
                    <p class="muted" data-testid="resolved">
                        {format!("This dispute is {}.", status_label(d.status))}
                    </p>
                })
            }}
            <p class="field-error" role="alert" data-testid="resolve-error">{error}</p>
        </section>
    }
}

fn message_item(m: DisputeMessageView) -> impl IntoView + use<> {
    let when = m.sent_at.format("%b %-d, %Y %H:%M UTC").to_string();
    view! {
        <li class="message" class:from-staff=m.from_staff data-testid="dispute-message">
            <p class="message-meta">
                <strong>{m.author}</strong>
                " · " <time datetime=m.sent_at.to_rfc3339()>{when}</time>
            </p>
            {(!m.body.is_empty()).then(|| view! { <p class="message-body">{m.body.clone()}</p> })}
            {m.file.map(|(fid, name)| view! {
                <p><a href=format!("/files/{fid}") rel="external" data-testid="dispute-file">"📎 " {name}</a></p>
            })}
        </li>
    }
}

/// The dispute's thread and the reply form.
#[component]
fn ThreadPanel(d: DisputeView, actions: Actions, inputs: Inputs) -> impl IntoView {
    let reply = actions.reply;
    let id = d.id;
    let empty = d.messages.is_empty();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if reply.pending().get_untracked() {
            return;
        }
        reply.dispatch(ReplyToDispute {
            id,
            body: inputs.reply.get_untracked(),
        });
    };
    let error = move || reply.value().get().and_then(Result::err).map(message);
    view! {
        <section class="panel" aria-labelledby="thread-title">
            <h2 id="thread-title">"Conversation"</h2>
            {empty.then(|| view! { <p class="empty">"No messages yet."</p> })}
            <ol class="thread" data-testid="dispute-thread">
                {d.messages.into_iter().map(message_item).collect_view()}
            </ol>
            <form class="stack" novalidate=true on:submit=on_submit>
                <label for="dispute-reply">"Reply"</label>
                <textarea id="dispute-reply" name="body" rows="4"
                    prop:value=move || inputs.reply.get()
                    on:input=move |ev| inputs.reply.set(event_target_value(&ev))></textarea>
                <button class="button primary" type="submit" disabled=move || reply.pending().get()>
                    {move || if reply.pending().get() { "Sending…" } else { "Send reply" }}
                </button>
                <p class="field-error" role="alert" data-testid="reply-error">{error}</p>
                <Show when=move || matches!(reply.value().get(), Some(Ok(_)))>
                    <p class="ok" role="status" data-testid="reply-sent">"Sent. The customer sees it on the invoice's page."</p>
                </Show>
            </form>
        </section>
    }
}
