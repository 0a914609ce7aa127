//! Staff accounts: the list (`/staff/accounts`, filters in the URL so it works before the
//! wasm arrives) and the account page (`/staff/accounts/:id`) where every field is edited
//! in place.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::accounts::{SaveField, get_account, list_accounts};
use crate::components::focus::focus_later;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::accounts::{
    AccountDetail, AccountField, AccountRow, ContactField, ContactRow, GAPS, Saved,
    check_account_field, check_contact_field, gap_label,
};
use crate::model::enums::{AccountStatus, ContactRole};

/// `/staff/accounts`.
#[component]
pub fn StaffAccountsPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read().get(key).unwrap_or_default();
    let list = resource(
        move || {
            (
                get("q"),
                get("status"),
                get("collector"),
                get("gap"),
                get("bounced"),
                get("sort"),
                get("page").parse::<u64>().unwrap_or(1),
            )
        },
        |(q, status, collector, gap, bounced, sort, page)| {
            list_accounts(
                Some(q),
                Some(status),
                Some(collector),
                Some(gap),
                Some(bounced),
                Some(sort),
                Some(page),
            )
        },
    );
    let selected = move |key: &'static str, value: &'static str| move || get(key) == value;
    view! {
        <Title text="Accounts · Staff" />
        <section class="account-head">
            <h1>"Accounts"</h1>
            <a class="button" href="/staff">"Staff home"</a>
        </section>
        <section class="panel">
            <form class="filters" method="get" action="/staff/accounts">
                <label>"Search" <input name="q" type="search" placeholder="Name or number" prop:value=move || get("q") /></label>
                <label>"Status"
                    <select name="status">
                        <option value="" selected=selected("status", "")>"Any"</option>
                        <option value="onboarding" selected=selected("status", "onboarding")>"Onboarding"</option>
                        <option value="active" selected=selected("status", "active")>"Active"</option>
                        <option value="on_hold" selected=selected("status", "on_hold")>"On hold"</option>
                    </select>
                </label>
                <label>"Missing"
                    <select name="gap">
                        <option value="" selected=selected("gap", "")>"Anything or nothing"</option>
                        {GAPS.iter().map(|(key, label)| {
                            let key = *key;
                            view! { <option value=key selected=move || get("gap") == key>{*label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label>"Sort"
                    <select name="sort">
                        <option value="name" selected=selected("sort", "name")>"Name"</option>
                        <option value="number" selected=selected("sort", "number")>"Number"</option>
                        <option value="updated" selected=selected("sort", "updated")>"Recently changed"</option>
                    </select>
                </label>
                <label class="check"><input type="checkbox" name="bounced" value="1" prop:checked=move || !get("bounced").is_empty() />" Has a bounced email"</label>
                <div class="filter-actions">
                    <button class="button primary" type="submit">"Apply"</button>
                    <a class="button" href="/staff/accounts">"Clear"</a>
                </div>
            </form>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) if list.rows.is_empty() => EitherOf3::A(view! {
                        <p class="empty" data-testid="no-accounts">"No account matches these filters."</p>
                    }),
                    Ok(list) => {
                        let page = list.page + 1;
                        let pages = list.pages.max(1);
                        let link = move |p: u64| {
                            let mut params: Vec<String> = ["q", "status", "collector", "gap", "bounced", "sort"]
                                .iter()
                                .filter_map(|k| {
                                    let v = get(k);
                                    (!v.is_empty()).then(|| format!("{k}={}", urlencode(&v)))
                                })
                                .collect();
                            params.push(format!("page={p}"));
                            format!("/staff/accounts?{}", params.join("&"))
                        };
                        EitherOf3::B(view! {
                            <section class="panel">
                                <p class="muted" data-testid="accounts-count">{format!("{} accounts · page {page} of {pages}", list.total)}</p>
                                <div class="table-wrap">
                                    <table class="invoices" data-testid="accounts">
                                        <thead><tr>
                                            <th scope="col">"Number"</th>
                                            <th scope="col">"Name"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col">"Collector"</th>
                                            <th scope="col">"Missing"</th>
                                        </tr></thead>
                                        <tbody>{list.rows.into_iter().map(account_row).collect_view()}</tbody>
                                    </table>
                                </div>
                                <nav class="pager" aria-label="Pages">
                                    {(page > 1).then(|| view! { <a class="button" href=link(page - 1)>"Previous"</a> })}
                                    <span>{format!("Page {page} of {pages}")}</span>
                                    {(page < pages).then(|| view! { <a class="button" href=link(page + 1)>"Next"</a> })}
                                </nav>
                            </section>
                        })
                    }
                    Err(err) => EitherOf3::C(view! {
                        <section class="panel narrow" role="alert">
                            <p>{err.to_string()}</p>
                            <p><a href="/staff/sign-in">"Sign in"</a></p>
                        </section>
                    }),
                }
            })}
        </Transition>
    }
}

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

fn status_text(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Onboarding => "onboarding",
        AccountStatus::Active => "active",
        AccountStatus::OnHold => "on hold",
    }
}

fn account_row(a: AccountRow) -> impl IntoView {
    let gaps = a
        .gaps
        .iter()
        .map(|g| gap_label(g))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <tr>
            <td data-label="Number">{a.number.clone()}</td>
            <td data-label="Name"><a href=format!("/staff/accounts/{}", a.id)>{a.name}</a></td>
            <td data-label="Status">{status_text(a.status)}</td>
            <td data-label="Collector">{a.collector.unwrap_or_default()}</td>
            <td data-label="Missing">
                {gaps}
                {a.has_bounced.then(|| view! { " " <span class="badge">"bounced email"</span> })}
            </td>
        </tr>
    }
}

/// `/staff/accounts/:id`.
#[component]
pub fn StaffAccountPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let account = resource(id, get_account);
    view! {
        <Title text="Account · Staff" />
        <Transition fallback=|| view! { <p class="muted">"Loading the account…"</p> }>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(detail) => Either::Left(view! { <AccountView detail /> }),
                    Err(err) => Either::Right(view! {
                        <section class="panel narrow" role="alert">
                            <p>{err.to_string()}</p>
                            <p><a href="/staff/accounts">"All accounts"</a></p>
                        </section>
                    }),
                }
            })}
        </Transition>
    }
}

#[component]
fn AccountView(detail: AccountDetail) -> impl IntoView {
    let version = RwSignal::new(detail.version);
    let name = detail
        .fields
        .iter()
        .find(|(f, _)| *f == AccountField::DisplayName)
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let can_edit = detail.can_edit;
    let id = detail.id;
    let gaps = detail.gaps.clone();
    view! {
        <section class="account-head">
            <div>
                <h1>{name}</h1>
                <p class="muted">"Account " {detail.number.clone()}
                    {detail.tin_masked.clone().map(|t| format!(" · TIN {t}"))}</p>
            </div>
            <a class="button" href=format!("/staff/accounts/{id}/history")>"Change history"</a>
            <a class="button" href=format!("/staff/accounts/{id}/activity")>"Activity"</a>
            <a class="button" href="/staff/accounts">"All accounts"</a>
        </section>
        {(!gaps.is_empty()).then(|| view! {
            <p class="notice-inline" data-testid="gaps">"Missing: " {gaps.iter().map(|g| gap_label(g)).collect::<Vec<_>>().join(", ")}</p>
        })}
        <section class="panel" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            {(!can_edit).then(|| view! { <p class="muted">"Your role can look but not change."</p> })}
            <dl class="fields">
                {detail.fields.into_iter().map(|(field, value)| {
                    let choices = (field == AccountField::Status).then(|| vec![
                        ("onboarding", "Onboarding"), ("active", "Active"), ("on_hold", "On hold"),
                    ]);
                    view! {
                        <InlineField record="account" id field=field.as_str() label=field.label()
                            initial=value version can_edit choices
                            check=Callback::new(move |text: String| check_account_field(field, &text)) />
                    }
                }).collect_view()}
            </dl>
        </section>
        <section class="panel" aria-labelledby="contacts-title">
            <h2 id="contacts-title">"Contacts"</h2>
            <div class="table-wrap">
                <table class="invoices contacts" data-testid="contacts">
                    <thead><tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Phone"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Email status"</th>
                    </tr></thead>
                    <tbody>
                        {detail.contacts.into_iter().map(|c| contact_row(c, can_edit)).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
        <p class="muted small">"Account id " {id}</p>
    }
}

fn contact_row(c: ContactRow, can_edit: bool) -> impl IntoView {
    let version = RwSignal::new(c.version);
    let id = c.id;
    let cell = move |field: ContactField, value: String| {
        let choices = (field == ContactField::Role).then(|| {
            vec![
                ("ap", "AP"),
                ("billing", "Billing"),
                ("primary", "Primary"),
                ("other", "Other"),
            ]
        });
        view! {
            <td data-label=field.label()>
                <InlineField record="contact" id field=field.as_str() label=field.label()
                    initial=value version can_edit choices
                    check=Callback::new(move |text: String| check_contact_field(field, &text)) />
            </td>
        }
    };
    let role = match c.role {
        ContactRole::Ap => "ap",
        ContactRole::Billing => "billing",
        ContactRole::Primary => "primary",
        ContactRole::Other => "other",
    };
    view! {
        <tr data-testid="contact-row">
            {cell(ContactField::Name, c.name.clone())}
            {cell(ContactField::Email, c.email.clone())}
            {cell(ContactField::Phone, c.phone.clone())}
            {cell(ContactField::Role, role.to_owned())}
            <td data-label="Email status">{c.email_status.as_str().replace('_', " ")}{c.is_primary_billing.then_some(" · primary billing")}</td>
        </tr>
    }
}

/// One field edited in place: click (or Enter) to edit, Enter or leaving the field saves,
/// Esc cancels. A spinner while saving, the message under the field on error, a brief
/// mark when saved; a stale save offers "use theirs" or "keep mine".
#[component]
fn InlineField(
    record: &'static str,
    id: i64,
    field: &'static str,
    label: &'static str,
    initial: String,
    version: RwSignal<i32>,
    can_edit: bool,
    /// Fixed choices (a select) instead of free text.
    choices: Option<Vec<(&'static str, &'static str)>>,
    check: Callback<String, Result<String, String>>,
) -> impl IntoView {
    let value = RwSignal::new(initial);
    let draft = RwSignal::new(String::new());
    let original = RwSignal::new(String::new());
    let editing = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let stale = RwSignal::new(None::<(i32, String)>);
    let saved_mark = RwSignal::new(false);
    let save = ServerAction::<SaveField>::new();
    let input_id = format!("{record}-{id}-{field}");
    let choices = StoredValue::new(choices);

    Effect::new(move |_| match save.value().get() {
        Some(Ok(Saved::Done {
            version: v,
            value: stored,
        })) => {
            version.set(v);
            value.set(stored);
            editing.set(false);
            stale.set(None);
            error.set(None);
            saved_mark.set(true);
            #[cfg(feature = "hydrate")]
            set_timeout(
                move || saved_mark.set(false),
                std::time::Duration::from_secs(2),
            );
        }
        Some(Ok(Saved::Stale {
            version: v,
            current,
        })) => {
            stale.set(Some((v, current)));
        }
        Some(Err(AppError::Validation { message, .. })) => error.set(Some(message)),
        Some(Err(AppError::Forbidden)) => {
            error.set(Some("your role cannot change this".to_owned()))
        }
        Some(Err(other)) => error.set(Some(other.to_string())),
        None => {}
    });

    let commit = move || {
        if !editing.get_untracked()
            || save.pending().get_untracked()
            || stale.with_untracked(Option::is_some)
        {
            return;
        }
        let text = draft.get_untracked();
        if text == value.get_untracked() {
            editing.set(false);
            error.set(None);
            return;
        }
        match check.run(text.clone()) {
            Err(message) => error.set(Some(message)),
            Ok(clean) => {
                error.set(None);
                save.dispatch(SaveField {
                    record: record.to_owned(),
                    id,
                    field: field.to_owned(),
                    value: clean,
                    version: version.get_untracked(),
                    original: original.get_untracked(),
                });
            }
        }
    };
    let cancel = move || {
        editing.set(false);
        error.set(None);
        stale.set(None);
    };
    let start = {
        let input_id = input_id.clone();
        move || {
            if !can_edit {
                return;
            }
            draft.set(value.get_untracked());
            original.set(value.get_untracked());
            error.set(None);
            stale.set(None);
            editing.set(true);
            focus_later(input_id.clone());
        }
    };
    let use_theirs = move |_| {
        if let Some((v, current)) = stale.get_untracked() {
            version.set(v);
            value.set(current);
        }
        cancel();
    };
    let keep_mine = move |_| {
        if let Some((v, current)) = stale.get_untracked() {
            version.set(v);
            original.set(current);
            stale.set(None);
            commit();
        }
    };
    let shown = move || {
        let v = value.get();
        let text = choices
            .with_value(|c| {
                c.as_ref().and_then(|c| {
                    c.iter()
                        .find(|(k, _)| *k == v)
                        .map(|(_, l)| (*l).to_owned())
                })
            })
            .unwrap_or(v);
        if text.is_empty() {
            "—".to_owned()
        } else {
            text
        }
    };
    let error_id = format!("{input_id}-error");
    let error_id_for_input = error_id.clone();
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" => {
            ev.prevent_default();
            commit();
        }
        "Escape" => cancel(),
        _ => {}
    };
    view! {
        <div class="inline-field" data-record=record data-field=field>
            <span class="inline-label">{label}</span>
            <Show
                when=move || editing.get()
                fallback=move || {
                    let start = start.clone();
                    view! {
                        <button type="button" class="inline-value" disabled=!can_edit
                            aria-label=format!("{label}: {}. Edit", shown())
                            on:click=move |_| start()>
                            {shown}
                        </button>
                        <Show when=move || saved_mark.get()>
                            <span class="saved-mark" role="status" aria-label="Saved">"✓ saved"</span>
                        </Show>
                    }
                }
            >
                {
                    let input_id = input_id.clone();
                    let error_id = error_id_for_input.clone();
                    match choices.get_value() {
                        Some(options) => Either::Left(view! {
                            <select id=input_id aria-label=label aria-describedby=error_id
                                on:change=move |ev| { draft.set(event_target_value(&ev)); commit(); }
                                on:keydown=on_key>
                                {options.into_iter().map(|(key, text)| view! {
                                    <option value=key selected=move || draft.get() == key>{text}</option>
                                }).collect_view()}
                            </select>
                        }),
                        None => Either::Right(view! {
                            <input id=input_id aria-label=label aria-describedby=error_id
                                aria-invalid=move || if error.get().is_some() { "true" } else { "false" }
                                prop:value=move || draft.get()
                                on:input=move |ev| {
                                    draft.set(event_target_value(&ev));
                                    error.set(None);
                                }
                                on:keydown=on_key
                                on:blur=move |_| commit() />
                        }),
                    }
                }
                <Show when=move || save.pending().get()>
                    <span class="spinner" role="status" aria-label="Saving"></span>
                </Show>
            </Show>
            <p id=error_id class="field-error" role="alert">{move || error.get()}</p>
            {move || stale.get().map(|(_, current)| view! {
                <div class="stale" role="alert" data-testid="stale">
                    <p>"Someone else changed this to " <strong>{if current.is_empty() { "—".to_owned() } else { current }}</strong> " while you were editing."</p>
                    <button type="button" class="button" on:click=use_theirs>"Use theirs"</button>
                    <button type="button" class="button primary" on:click=keep_mine>"Keep mine"</button>
                </div>
            })}
        </div>
    }
}
