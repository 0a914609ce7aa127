//! The accounting inbox (`/staff/inbox`) and an account's activity timeline
//! (`/staff/accounts/:id/activity`).
//!
//! The inbox's filters live in the URL's query (a plain GET form), so a filtered view
//! works before hydration and can be shared; claiming is a plain form too. Working a task
//! (status, assignment, logging a call) happens in a panel above the list; every action
//! refetches the list and the per-collector progress.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::inbox::{
    AssignTask, BulkAssignTasks, ClaimTask, LogCall, SetTaskStatus, get_account_activity,
    get_call_form, inbox_progress, list_tasks,
};
use crate::components::resource::resource;
use crate::components::staff_error::StaffError;
use crate::error::AppError;
use crate::model::enums::{StaffRole, TaskStatus};
use crate::model::inbox::{
    ACTIVITY_KINDS, AccountActivity, ActivityEntry, CALL_OUTCOMES, CallForm, CallOutcome,
    CollectorProgress, InboxList, KINDS, OpenInvoice, STATUSES, StaffOption, TaskRow, kind_label,
    status_label,
};
use crate::model::portal::{format_day, format_money};

/// The query parameters the inbox list keeps.
const PARAMS: [&str; 5] = ["kind", "status", "assignee", "due", "q"];

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What to tell staff about a failed action.
fn message(err: AppError) -> String {
    match err {
        AppError::Validation { message, .. } => message,
        AppError::Conflict(message) => message,
        AppError::Unauthorized => "Your session has ended. Please sign in again.".to_owned(),
        AppError::Forbidden => "Your role cannot change tasks.".to_owned(),
        other => other.to_string(),
    }
}

/// The page's server actions.
#[derive(Clone, Copy)]
struct Actions {
    claim: ServerAction<ClaimTask>,
    assign: ServerAction<AssignTask>,
    bulk: ServerAction<BulkAssignTasks>,
    status: ServerAction<SetTaskStatus>,
    call: ServerAction<LogCall>,
}

impl Actions {
    /// Changes whenever any action completes.
    fn version(self) -> (usize, usize, usize, usize, usize) {
        (
            self.claim.version().get(),
            self.assign.version().get(),
            self.bulk.version().get(),
            self.status.version().get(),
            self.call.version().get(),
        )
    }

    fn busy(self) -> bool {
        self.claim.pending().get()
            || self.assign.pending().get()
            || self.bulk.pending().get()
            || self.status.pending().get()
            || self.call.pending().get()
    }
}

/// What the work panel's fields hold; kept outside the list so a refetch keeps them.
#[derive(Clone, Copy)]
struct Inputs {
    /// The task being worked on.
    selected: RwSignal<Option<i64>>,
    note: RwSignal<String>,
    assignee: RwSignal<String>,
    outcome: RwSignal<String>,
    call_note: RwSignal<String>,
    invoices: RwSignal<Vec<i64>>,
    amount: RwSignal<String>,
    date: RwSignal<String>,
}

impl Inputs {
    fn new() -> Self {
        Inputs {
            selected: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            assignee: RwSignal::new(String::new()),
            outcome: RwSignal::new(CallOutcome::Reached.as_str().to_owned()),
            call_note: RwSignal::new(String::new()),
            invoices: RwSignal::new(Vec::new()),
            amount: RwSignal::new(String::new()),
            date: RwSignal::new(String::new()),
        }
    }

    fn select(self, id: Option<i64>) {
        self.selected.set(id);
        self.note.set(String::new());
        self.assignee.set(String::new());
        self.outcome.set(CallOutcome::Reached.as_str().to_owned());
        self.call_note.set(String::new());
        self.invoices.set(Vec::new());
        self.amount.set(String::new());
        self.date.set(String::new());
    }
}

/// `/staff/inbox`.
#[component]
pub fn StaffInboxPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read().get(key).unwrap_or_default();
    let actions = Actions {
        claim: ServerAction::<ClaimTask>::new(),
        assign: ServerAction::<AssignTask>::new(),
        bulk: ServerAction::<BulkAssignTasks>::new(),
        status: ServerAction::<SetTaskStatus>::new(),
        call: ServerAction::<LogCall>::new(),
    };
    let inputs = Inputs::new();
    let list = resource(
        move || {
            (
                PARAMS.map(get),
                get("page").parse::<u64>().unwrap_or(1),
                actions.version(),
            )
        },
        |([kind, status, assignee, due, q], page, _)| {
            list_tasks(kind, status, assignee, due, q, Some(page))
        },
    );
    let progress = resource(move || actions.version(), |_| inbox_progress());
    Effect::new(move |_| {
        if matches!(actions.call.value().get(), Some(Ok(_))) {
            inputs.select(None);
        }
    });
    Effect::new(move |_| {
        if matches!(actions.status.value().get(), Some(Ok(_))) {
            inputs.note.set(String::new());
        }
    });
    let done = move || {
        if let Some(Ok(logged)) = actions.call.value().get() {
            return Some(match logged.promise_id {
                Some(p) => format!("Call logged and promise #{p} recorded."),
                None => "Call logged.".to_owned(),
            });
        }
        if let Some(Ok(n)) = actions.bulk.value().get() {
            return Some(format!("Assigned {n} tasks."));
        }
        None
    };
    let failed = move || {
        [
            actions.claim.value().get().and_then(Result::err),
            actions.assign.value().get().and_then(Result::err),
            actions.bulk.value().get().and_then(Result::err),
            actions.status.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(message)
    };
    view! {
        <Title text="Inbox · Staff" />
        <section class="account-head">
            <div>
                <h1>"Inbox"</h1>
                <p class="muted">"Calls, reviews, approvals, disputes and messages to work, soonest due first."</p>
            </div>
            <p class="head-links">
                <Show when=move || actions.busy()>
                    <span class="spinner" role="status" aria-label="Working"></span>
                </Show>
                <a class="button" href="/staff">"Staff home"</a>
            </p>
        </section>
        <Filters get />
        <p class="field-error" role="alert" data-testid="inbox-error">{failed}</p>
        <p class="ok" role="status" data-testid="inbox-message">{done}</p>
        <Transition fallback=|| view! { <p class="muted">"Loading tasks…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => Either::Left(view! { <InboxBody list actions inputs get /> }),
                    Err(err) => Either::Right(view! { <StaffError err not_found="There is no such account." back=("/staff", "Staff home") /> }),
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                progress.await.ok().map(|rows| view! { <ProgressPanel rows /> })
            })}
        </Transition>
    }
}

/// The filter form: a plain GET form, so it works without JavaScript.
#[component]
fn Filters(get: impl Fn(&str) -> String + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <form class="panel filters" method="get" action="/staff/inbox" role="search"
            aria-label="Filter tasks" data-testid="inbox-filters">
            <label>
                "Kind"
                <select name="kind" data-testid="filter-kind">
                    <option value="" selected=move || get("kind").is_empty()>"Any kind"</option>
                    {KINDS.iter().map(|(k, label)| {
                        let key = k.as_str();
                        view! { <option value=key selected=move || get("kind") == key>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Status"
                <select name="status" data-testid="filter-status">
                    <option value="" selected=move || get("status").is_empty()>"Open or in progress"</option>
                    {STATUSES.iter().map(|(s, label)| {
                        let key = s.as_str();
                        view! { <option value=key selected=move || get("status") == key>{*label}</option> }
                    }).collect_view()}
                    <option value="any" selected=move || get("status") == "any">"Any status"</option>
                </select>
            </label>
            <label>
                "Assigned to"
                <select name="assignee" data-testid="filter-assignee">
                    <option value="" selected=move || get("assignee").is_empty()>"Anyone"</option>
                    <option value="me" selected=move || get("assignee") == "me">"Me"</option>
                    <option value="none" selected=move || get("assignee") == "none">"Nobody (unassigned)"</option>
                    <AssigneeOptions get />
                </select>
            </label>
            <label>
                "Due"
                <select name="due" data-testid="filter-due">
                    <option value="" selected=move || get("due").is_empty()>"Any time"</option>
                    <option value="overdue" selected=move || get("due") == "overdue">"Overdue"</option>
                    <option value="today" selected=move || get("due") == "today">"Today"</option>
                    <option value="week" selected=move || get("due") == "week">"This week"</option>
                </select>
            </label>
            <label>
                "Account"
                <input type="search" name="q" placeholder="Name or number" data-testid="filter-q"
                    prop:value=move || get("q") />
            </label>
            <div class="filter-actions">
                <button class="button primary" type="submit" data-testid="filter-apply">"Apply"</button>
                <a class="button" href="/staff/inbox">"Clear"</a>
            </div>
        </form>
    }
}

/// The named staff users in the assignee filter, from the staff list.
#[component]
fn AssigneeOptions(get: impl Fn(&str) -> String + Copy + Send + Sync + 'static) -> impl IntoView {
    let staff = resource(|| (), |_| crate::api::staff_disputes::list_staff());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                staff.await.unwrap_or_default().into_iter().map(|(id, name)| {
                    let value = id.to_string();
                    let selected = {
                        let value = value.clone();
                        move || get("assignee") == value
                    };
                    view! { <option value=value selected=selected>{name}</option> }
                }).collect_view()
            })}
        </Transition>
    }
}

/// The work panel, the bulk assignment and the task table of one page.
#[component]
fn InboxBody(
    list: InboxList,
    actions: Actions,
    inputs: Inputs,
    get: impl Fn(&str) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let InboxList {
        rows,
        total,
        page,
        pages,
        me,
        role,
        staff,
    } = list;
    let can_work = role != StaffRole::Viewer;
    let is_admin = role == StaffRole::Admin;
    let page = page + 1;
    let pages = pages.max(1);
    let link = move |p: u64| {
        let mut params: Vec<String> = PARAMS
            .iter()
            .filter_map(|k| {
                let v = get(k);
                (!v.is_empty()).then(|| format!("{k}={}", urlencode(&v)))
            })
            .collect();
        params.push(format!("page={p}"));
        format!("/staff/inbox?{}", params.join("&"))
    };
    let selected_row = {
        let rows = rows.clone();
        move || {
            inputs
                .selected
                .get()
                .and_then(|id| rows.iter().find(|r| r.id == id).cloned())
        }
    };
    let staff_for_panel = staff.clone();
    let work = move || {
        selected_row().map(|row| {
            view! { <WorkPanel row staff=staff_for_panel.clone() role actions inputs /> }
        })
    };
    let bulk = is_admin.then(|| view! { <BulkAssign total staff=staff.clone() actions get /> });
    if rows.is_empty() {
        return EitherOf3::A(view! {
            <section class="panel">
                <p class="empty" data-testid="inbox-empty">"Nothing to do."</p>
                <p class="muted">"No task matches these filters. " <a href="/staff/inbox">"Show every open task"</a></p>
            </section>
        });
    }
    let table = view! {
        <section class="panel" aria-labelledby="tasks-title">
            <h2 id="tasks-title">"Tasks"</h2>
            <p class="muted" data-testid="inbox-count">{format!("{total} tasks · page {page} of {pages}")}</p>
            <div class="table-wrap">
                <table data-testid="inbox-tasks">
                    <thead><tr>
                        <th scope="col">"Due"</th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Task"</th>
                        <th scope="col" class="num">"Priority"</th>
                        <th scope="col">"Assigned to"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Actions"</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| task_row(row, me, can_work, actions, inputs)).collect_view()}
                    </tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages">
                {(page > 1).then(|| view! { <a class="button" href=link(page - 1) data-testid="inbox-prev">"Previous"</a> })}
                <span>{format!("Page {page} of {pages}")}</span>
                {(page < pages).then(|| view! { <a class="button" href=link(page + 1) data-testid="inbox-next">"Next"</a> })}
            </nav>
        </section>
    };
    if can_work {
        EitherOf3::B(view! { {work} {bulk} {table} })
    } else {
        EitherOf3::C(view! {
            <p class="muted" data-testid="inbox-read-only">"Your role can see the inbox but not change it."</p>
            {table}
        })
    }
}

fn task_row(
    row: TaskRow,
    me: i64,
    can_work: bool,
    actions: Actions,
    inputs: Inputs,
) -> impl IntoView + use<> {
    let id = row.id;
    let active = matches!(row.status, TaskStatus::Open | TaskStatus::InProgress);
    let claimable = can_work && active && row.assignee_id.is_none();
    let due = row.due_date.map(format_day).unwrap_or_default();
    let account = match (row.account_id, row.account.clone()) {
        (Some(aid), Some(name)) => Either::Left(view! {
            <a href=format!("/staff/accounts/{aid}")>{name}</a>
        }),
        _ => Either::Right("—"),
    };
    let assignee = match (row.assignee_id, row.assignee.clone()) {
        (Some(a), Some(name)) if a == me => format!("{name} (me)"),
        (_, Some(name)) => name,
        _ => "Nobody".to_owned(),
    };
    let claim = actions.claim;
    let title = row.title.clone();
    view! {
        <tr class:late=row.overdue data-testid="task-row" data-task-id=id.to_string()
            data-kind=row.kind.as_str() data-status=row.status.as_str()>
            <td data-label="Due">
                {due}
                {row.overdue.then(|| view! { " " <span class="badge" data-testid="task-overdue">"Overdue"</span> })}
            </td>
            <td data-label="Account">{account}</td>
            <td data-label="Kind">{kind_label(row.kind)}</td>
            <td data-label="Task" data-testid="task-title">{row.title.clone()}</td>
            <td data-label="Priority" class="num">{row.priority}</td>
            <td data-label="Assigned to" data-testid="task-assignee">{assignee}</td>
            <td data-label="Status" data-testid="task-status">{status_label(row.status)}</td>
            <td data-label="Actions">
                <div class="actions">
                    {claimable.then(|| view! {
                        <ActionForm action=claim attr:class="inline">
                            <input type="hidden" name="id" value=id.to_string() />
                            <button class="button" type="submit" data-testid="claim-task"
                                aria-label=format!("Claim: {title}")
                                disabled=move || claim.pending().get()>"Claim"</button>
                        </ActionForm>
                    })}
                    {(can_work && active).then(|| view! {
                        <button class="button" type="button" data-testid="work-task"
                            aria-label=format!("Work on: {}", row.title)
                            on:click=move |_| inputs.select(Some(id))>"Work on it"</button>
                    })}
                </div>
            </td>
        </tr>
    }
}

/// The selected task: its status with a note, its assignee (admins), and the call log.
#[component]
fn WorkPanel(
    row: TaskRow,
    staff: Vec<StaffOption>,
    role: StaffRole,
    actions: Actions,
    inputs: Inputs,
) -> impl IntoView {
    let id = row.id;
    let status = actions.status;
    let set = move |to: TaskStatus| {
        move |_| {
            if status.pending().get_untracked() {
                return;
            }
            let note = inputs.note.get_untracked();
            status.dispatch(SetTaskStatus {
                id,
                status: to.as_str().to_owned(),
                note: Some(note).filter(|n| !n.trim().is_empty()),
            });
        }
    };
    let busy = move || status.pending().get();
    let open = row.status == TaskStatus::Open;
    let account_links = row.account_id.map(|aid| {
        view! {
            <p class="head-links">
                <a class="button" href=format!("/staff/accounts/{aid}")>"Account"</a>
                <a class="button" href=format!("/staff/accounts/{aid}/activity") data-testid="task-activity">"Activity"</a>
            </p>
        }
    });
    let assign = (role == StaffRole::Admin).then(|| {
        let current = row.assignee_id.map(|a| a.to_string()).unwrap_or_default();
        view! { <AssignForm id current staff actions inputs /> }
    });
    let call = row
        .account_id
        .is_some()
        .then(|| view! { <CallPanel id actions inputs /> });
    view! {
        <section class="panel" aria-labelledby="work-title" data-testid="work-panel" data-task-id=id.to_string()>
            <div class="panel-head">
                <h2 id="work-title">{format!("{}: {}", kind_label(row.kind), row.title)}</h2>
                <button class="button" type="button" data-testid="close-work"
                    on:click=move |_| inputs.select(None)>"Close"</button>
            </div>
            <p class="muted">
                {row.account.clone().unwrap_or_default()}
                {format!(" · {} · priority {}", status_label(row.status), row.priority)}
            </p>
            {account_links}
            <div class="stack">
                <label for="task-note">"Outcome note"</label>
                <textarea id="task-note" rows="2" data-testid="task-note"
                    prop:value=move || inputs.note.get()
                    on:input=move |ev| inputs.note.set(event_target_value(&ev))></textarea>
                <div class="actions">
                    {open.then(|| view! {
                        <button class="button" type="button" data-testid="start-task"
                            disabled=busy on:click=set(TaskStatus::InProgress)>"Start"</button>
                    })}
                    {(!open).then(|| view! {
                        <button class="button" type="button" data-testid="reopen-task"
                            disabled=busy on:click=set(TaskStatus::Open)>"Back to open"</button>
                    })}
                    <button class="button primary" type="button" data-testid="done-task"
                        disabled=busy on:click=set(TaskStatus::Done)>"Done"</button>
                    <button class="button" type="button" data-testid="skip-task"
                        disabled=busy on:click=set(TaskStatus::Skipped)>"Skip"</button>
                </div>
            </div>
            {assign}
            {call}
        </section>
    }
}

/// An admin's choice of assignee for one task.
#[component]
fn AssignForm(
    id: i64,
    current: String,
    staff: Vec<StaffOption>,
    actions: Actions,
    inputs: Inputs,
) -> impl IntoView {
    let assign = actions.assign;
    let initial = current.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if assign.pending().get_untracked() {
            return;
        }
        let chosen = inputs.assignee.get_untracked();
        let chosen = if chosen.is_empty() {
            initial.clone()
        } else {
            chosen
        };
        assign.dispatch(AssignTask {
            id,
            assignee_id: chosen.parse::<i64>().ok(),
        });
    };
    view! {
        <form class="filters" on:submit=on_submit data-testid="assign-form">
            <label>
                "Assign to"
                <select data-testid="assign-select"
                    on:change=move |ev| inputs.assignee.set(event_target_value(&ev))>
                    <option value="none" selected=current.is_empty()>"Nobody"</option>
                    {staff.into_iter().map(|s| {
                        let value = s.id.to_string();
                        let selected = current == value;
                        view! { <option value=value selected=selected>{s.name}</option> }
                    }).collect_view()}
                </select>
            </label>
            <div class="filter-actions">
                <button class="button" type="submit" data-testid="assign-task"
                    disabled=move || assign.pending().get()>"Assign"</button>
            </div>
        </form>
    }
}

/// An admin assigns every task matching the current filter to one collector.
#[component]
fn BulkAssign(
    total: u64,
    staff: Vec<StaffOption>,
    actions: Actions,
    get: impl Fn(&str) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let bulk = actions.bulk;
    let chosen = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if bulk.pending().get_untracked() {
            return;
        }
        let Ok(assignee_id) = chosen.get_untracked().parse::<i64>() else {
            error.set(Some("Choose who gets the tasks.".to_owned()));
            return;
        };
        error.set(None);
        let [kind, status, assignee, due, q] = PARAMS.map(get);
        bulk.dispatch(BulkAssignTasks {
            kind,
            status,
            assignee,
            due,
            q,
            assignee_id,
        });
    };
    view! {
        <section class="panel" aria-labelledby="bulk-title">
            <h2 id="bulk-title">"Divide the work"</h2>
            <form class="filters" on:submit=on_submit data-testid="bulk-assign">
                <label>
                    {format!("Assign all {total} matching tasks to")}
                    <select data-testid="bulk-assignee" on:change=move |ev| chosen.set(event_target_value(&ev))>
                        <option value="">"Choose…"</option>
                        {staff.into_iter().filter(|s| s.role != StaffRole::Viewer).map(|s| {
                            view! { <option value=s.id.to_string()>{s.name}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <div class="filter-actions">
                    <button class="button" type="submit" data-testid="bulk-assign-submit"
                        disabled=move || bulk.pending().get()>"Assign all"</button>
                </div>
            </form>
            <p class="field-error" role="alert">{move || error.get()}</p>
            <p class="ok" role="status" data-testid="bulk-assigned">
                {move || match bulk.value().get() {
                    Some(Ok(n)) => Some(format!("{n} tasks assigned.")),
                    _ => None,
                }}
            </p>
        </section>
    }
}

/// The call log for task `id`: outcome, note, and a promise taken on the phone.
#[component]
fn CallPanel(id: i64, actions: Actions, inputs: Inputs) -> impl IntoView {
    let form = resource(move || id, get_call_form);
    view! {
        <section class="dispute" aria-labelledby="call-title">
            <h3 id="call-title">"Log a call"</h3>
            <Transition fallback=|| view! { <p class="muted">"Loading the account's invoices…"</p> }>
                {move || Suspend::new(async move {
                    match form.await {
                        Ok(form) => Either::Left(view! { <CallFormView form actions inputs /> }),
                        Err(err) => Either::Right(view! { <p class="field-error" role="alert">{message(err)}</p> }),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CallFormView(form: CallForm, actions: Actions, inputs: Inputs) -> impl IntoView {
    let call = actions.call;
    let id = form.task.id;
    let field_error = move |fields: &'static [&'static str]| {
        move || match call.value().get() {
            Some(Err(AppError::Validation { field, message }))
                if fields.contains(&field.as_str()) =>
            {
                Some(message)
            }
            _ => None,
        }
    };
    let other_error = move || match call.value().get() {
        Some(Err(AppError::Validation { field, .. }))
            if ["outcome", "note", "amount", "date", "document_ids"].contains(&field.as_str()) =>
        {
            None
        }
        Some(Err(err)) => Some(message(err)),
        _ => None,
    };
    let promised = move || inputs.outcome.get() == CallOutcome::Promised.as_str();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if call.pending().get_untracked() {
            return;
        }
        let promise = inputs.outcome.get_untracked() == CallOutcome::Promised.as_str();
        let note = inputs.call_note.get_untracked();
        call.dispatch(LogCall {
            id,
            outcome: inputs.outcome.get_untracked(),
            note: Some(note).filter(|n| !n.trim().is_empty()),
            document_ids: if promise {
                inputs.invoices.get_untracked()
            } else {
                Vec::new()
            },
            amount: promise.then(|| inputs.amount.get_untracked()),
            date: promise.then(|| inputs.date.get_untracked()),
        });
    };
    let (today, latest) = (form.today.to_string(), form.latest.to_string());
    let no_invoices = form.invoices.is_empty();
    let open_invoices = StoredValue::new(form.invoices);
    let invoices = move || {
        open_invoices
            .get_value()
            .into_iter()
            .map(|inv| invoice_choice(inv, inputs))
            .collect_view()
    };
    view! {
        <form class="stack" novalidate=true on:submit=on_submit data-testid="call-form">
            <label for="call-outcome">"How did the call go?"</label>
            <select id="call-outcome" data-testid="call-outcome" aria-describedby="call-outcome-error"
                on:change=move |ev| inputs.outcome.set(event_target_value(&ev))>
                {CALL_OUTCOMES.iter().map(|(o, label)| {
                    let key = o.as_str();
                    view! { <option value=key selected=move || inputs.outcome.get() == key>{*label}</option> }
                }).collect_view()}
            </select>
            <p class="field-error" role="alert" id="call-outcome-error">{field_error(&["outcome"])}</p>
            <label for="call-note">"Note"</label>
            <textarea id="call-note" rows="3" data-testid="call-note" aria-describedby="call-note-error"
                prop:value=move || inputs.call_note.get()
                on:input=move |ev| inputs.call_note.set(event_target_value(&ev))></textarea>
            <p class="field-error" role="alert" id="call-note-error">{field_error(&["note"])}</p>
            <Show when=promised>
                <fieldset class="methods" data-testid="promise-fields">
                    <legend>"Promise to pay"</legend>
                    {no_invoices.then(|| view! { <p class="muted">"This account has no open invoice."</p> })}
                    {invoices}
                    <p class="field-error" role="alert" data-testid="promise-invoices-error">{field_error(&["document_ids"])}</p>
                </fieldset>
                <label for="promise-amount">"Amount promised"</label>
                <input id="promise-amount" class="amount" inputmode="decimal" autocomplete="off"
                    data-testid="promise-amount" aria-describedby="promise-amount-error"
                    prop:value=move || inputs.amount.get()
                    on:input=move |ev| inputs.amount.set(event_target_value(&ev)) />
                <p class="field-error" role="alert" id="promise-amount-error">{field_error(&["amount"])}</p>
                <label for="promise-date">"Pay by"</label>
                <input id="promise-date" type="date" min=today.clone() max=latest.clone()
                    data-testid="promise-date" aria-describedby="promise-date-error"
                    prop:value=move || inputs.date.get()
                    on:input=move |ev| inputs.date.set(event_target_value(&ev)) />
                <p class="field-error" role="alert" id="promise-date-error">{field_error(&["date"])}</p>
            </Show>
            <button class="button primary" type="submit" data-testid="log-call-submit"
                disabled=move || call.pending().get()>
                {move || if call.pending().get() { "Saving…" } else { "Log call" }}
            </button>
            <p class="field-error" role="alert" data-testid="call-error">{other_error}</p>
        </form>
    }
}

/// One open invoice the promise may cover, as a checkbox.
fn invoice_choice(inv: OpenInvoice, inputs: Inputs) -> impl IntoView + use<> {
    let iid = inv.id;
    let label = format!(
        "{} · {} open{}",
        inv.number,
        format_money(inv.open_minor, &inv.currency),
        inv.due_date
            .map(|d| format!(" · due {}", format_day(d)))
            .unwrap_or_default()
    );
    view! {
        <label class="check">
            <input type="checkbox" value=iid.to_string() data-testid="promise-invoice"
                data-number=inv.number.clone()
                prop:checked=move || inputs.invoices.with(|v| v.contains(&iid))
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    inputs.invoices.update(|v| {
                        v.retain(|x| *x != iid);
                        if on {
                            v.push(iid);
                        }
                    });
                } />
            {label}
        </label>
    }
}

/// Each collector's open tasks and what they finished today and this week.
#[component]
fn ProgressPanel(rows: Vec<CollectorProgress>) -> impl IntoView {
    let body = if rows.is_empty() {
        Either::Left(view! { <p class="empty">"No collectors yet."</p> })
    } else {
        Either::Right(view! {
            <div class="table-wrap">
                <table data-testid="collector-progress">
                    <thead><tr>
                        <th scope="col">"Collector"</th>
                        <th scope="col" class="num">"Open"</th>
                        <th scope="col" class="num">"Done today"</th>
                        <th scope="col" class="num">"Done this week"</th>
                        <th scope="col">"This week"</th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|p| {
                            let planned = p.open + p.done_week;
                            let label = format!("{}: {} of {} done this week", p.name, p.done_week, planned);
                            view! {
                                <tr data-testid="progress-row" data-staff-id=p.staff_id.to_string()>
                                    <td data-label="Collector">{p.name.clone()}</td>
                                    <td data-label="Open" class="num" data-testid="progress-open">{p.open}</td>
                                    <td data-label="Done today" class="num" data-testid="progress-today">{p.done_today}</td>
                                    <td data-label="Done this week" class="num" data-testid="progress-week">{p.done_week}</td>
                                    <td data-label="This week">
                                        <progress max=planned.max(1).to_string() value=p.done_week.to_string()
                                            aria-label=label.clone() title=label></progress>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })
    };
    view! {
        <section class="panel" aria-labelledby="progress-title">
            <h2 id="progress-title">"Progress by collector"</h2>
            {body}
        </section>
    }
}

/// `/staff/accounts/:id/activity`.
#[component]
pub fn AccountActivityPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let get = move |key: &str| query.read().get(key).unwrap_or_default();
    let activity = resource(
        move || (id(), get("kind"), get("limit").parse::<u64>().ok()),
        |(id, kind, limit)| get_account_activity(id, Some(kind), limit),
    );
    view! {
        <Title text="Activity · Staff" />
        <Transition fallback=|| view! { <p class="muted">"Loading the activity…"</p> }>
            {move || Suspend::new(async move {
                match activity.await {
                    Ok(a) => Either::Left(view! { <ActivityView a get /> }),
                    Err(err) => Either::Right(view! { <StaffError err not_found="There is no such account." back=("/staff", "Staff home") /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn ActivityView(
    a: AccountActivity,
    get: impl Fn(&str) -> String + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let action = format!("/staff/accounts/{}/activity", a.account_id);
    let empty = a.entries.is_empty();
    view! {
        <section class="account-head">
            <div>
                <h1>{format!("Activity · {}", a.account)}</h1>
                <p class="muted">{format!("Account {} · newest first", a.number)}</p>
            </div>
            <p class="head-links">
                <a class="button" href=format!("/staff/accounts/{}", a.account_id)>"Account"</a>
                <a class="button" href="/staff/inbox">"Inbox"</a>
            </p>
        </section>
        <form class="panel filters" method="get" action=action role="search" aria-label="Filter activity">
            <label>
                "Show"
                <select name="kind" data-testid="activity-kind">
                    <option value="" selected=move || get("kind").is_empty()>"Everything"</option>
                    {ACTIVITY_KINDS.iter().map(|(k, label)| {
                        let key = k.as_str();
                        view! { <option value=key selected=move || get("kind") == key>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "At most"
                <select name="limit" data-testid="activity-limit">
                    {["50", "100", "200"].into_iter().map(|n| {
                        view! { <option value=n selected=move || get("limit") == n>{n}</option> }
                    }).collect_view()}
                </select>
            </label>
            <div class="filter-actions">
                <button class="button primary" type="submit">"Apply"</button>
            </div>
        </form>
        <section class="panel" aria-labelledby="activity-title">
            <h2 id="activity-title" class="visually-hidden">"Activity"</h2>
            {if empty {
                Either::Left(view! { <p class="empty" data-testid="activity-empty">"Nothing has happened on this account yet."</p> })
            } else {
                Either::Right(view! {
                    <ol class="thread" data-testid="activity">
                        {a.entries.into_iter().map(activity_item).collect_view()}
                    </ol>
                })
            }}
        </section>
    }
}

fn activity_item(e: ActivityEntry) -> impl IntoView + use<> {
    let when = e.at.format("%b %-d, %Y %H:%M UTC").to_string();
    let detail = e.detail;
    view! {
        <li class="message" data-testid="activity-entry" data-kind=e.kind.as_str()>
            <p class="message-meta">
                <span class="badge">{e.kind.label()}</span>
                " · " <time datetime=e.at.to_rfc3339()>{when}</time>
                {e.status.map(|s| view! { " · " <span data-testid="activity-status">{s.replace('_', " ")}</span> })}
            </p>
            <p class="message-body"><strong>{e.title}</strong></p>
            {detail.map(|d| view! { <p class="message-body muted">{d}</p> })}
        </li>
    }
}
