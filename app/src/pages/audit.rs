//! The staff's history of an account (`/staff/accounts/:id/history`): every recorded
//! change, filtered through the URL's query (so it works before the wasm arrives), one
//! page at a time, with the same selection as CSV.

use leptos::either::{Either, EitherOf4};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::audit::account_history;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::audit::{
    ACTORS, ENTITIES, HistoryPage, HistoryRow, PAGE_SIZE, channel_label, entity_label,
};

/// The page's query parameters as they are in the URL; `page` is one-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Params {
    entity: String,
    actor: String,
    field: String,
    from: String,
    to: String,
    page: u64,
}

impl Params {
    fn is_filtered(&self) -> bool {
        [&self.entity, &self.actor, &self.field, &self.from, &self.to]
            .iter()
            .any(|v| !v.is_empty())
    }

    /// The filters as a query string, without the page.
    fn query(&self) -> String {
        [
            ("entity", &self.entity),
            ("actor", &self.actor),
            ("field", &self.field),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The history of account `id` with the same filters on page `page` (one-based).
    fn href(&self, id: i64, page: u64) -> String {
        let mut query = self.query();
        if page > 1 {
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!("page={page}"));
        }
        if query.is_empty() {
            history_path(id)
        } else {
            format!("{}?{query}", history_path(id))
        }
    }
}

fn history_path(id: i64) -> String {
    format!("/staff/accounts/{id}/history")
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn none_if_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// `/staff/accounts/:id/history`.
#[component]
pub fn AccountHistoryPage() -> impl IntoView {
    let path = use_params_map();
    let id = Memo::new(move |_| {
        path.read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    });
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| {
            let text = |name: &str| q.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
            Params {
                entity: text("entity"),
                actor: text("actor"),
                field: text("field"),
                from: text("from"),
                to: text("to"),
                page: q
                    .get("page")
                    .and_then(|p| p.trim().parse::<u64>().ok())
                    .unwrap_or(1)
                    .max(1),
            }
        })
    });
    let history = resource(
        move || (id.get(), params.get()),
        |(id, p)| {
            account_history(
                id,
                none_if_empty(&p.entity),
                none_if_empty(&p.actor),
                none_if_empty(&p.field),
                none_if_empty(&p.from),
                none_if_empty(&p.to),
                Some(p.page - 1),
            )
        },
    );
    let csv = move || {
        format!(
            "/staff/accounts/{}/history.csv?{}",
            id.get(),
            params.read().query()
        )
    };
    view! {
        <Title text="History · Staff" />
        <section class="account-head">
            <div>
                <h1>"Change history"</h1>
                <p class="muted">"Every recorded change to this account, its contacts and its records, newest first."</p>
            </div>
            <p class="head-links">
                <a class="button" href=move || format!("/staff/accounts/{}", id.get())>"Back to the account"</a>
                " "
                <a class="button" href=csv download="" rel="external" data-testid="history-csv">"Download CSV"</a>
            </p>
        </section>
        {move || view! { <Filters id=id.get() params=params.get() /> }}
        <Transition fallback=|| view! { <p class="muted">"Loading the history…"</p> }>
            {move || Suspend::new(async move {
                match history.await {
                    Ok(data) => EitherOf4::A(view! {
                        <HistoryTable data id=id.get_untracked() params=params.get_untracked() />
                    }),
                    Err(AppError::Unauthorized) => EitherOf4::B(view! {
                        <section class="panel narrow" role="alert">
                            <p>"Please sign in as staff to see an account's history."</p>
                            <p><a class="button primary" href="/staff/sign-in">"Sign in"</a></p>
                        </section>
                    }),
                    Err(AppError::NotFound) => EitherOf4::C(view! {
                        <section class="panel narrow" role="alert">
                            <p>"There is no such account."</p>
                            <p><a href="/staff/accounts">"All accounts"</a></p>
                        </section>
                    }),
                    Err(err) => EitherOf4::D(view! {
                        <section class="panel notice" role="alert">
                            <h2>"We could not show the history"</h2>
                            <p>{err.to_string()}</p>
                            <p><a href=history_path(id.get_untracked())>"Show all changes"</a></p>
                        </section>
                    }),
                }
            })}
        </Transition>
    }
}

/// The filter form: a plain GET form, so it works without JavaScript.
#[component]
fn Filters(id: i64, params: Params) -> impl IntoView {
    let entity = params.entity.clone();
    let actor = params.actor.clone();
    view! {
        <form class="panel filters" method="get" action=history_path(id) role="search" aria-label="Filter the history">
            <label>
                "Record"
                <select name="entity">
                    <option value="" selected=entity.is_empty()>"Any record"</option>
                    {ENTITIES.iter().map(|(e, label)| {
                        let selected = entity == *e;
                        view! { <option value=*e selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>
                "Actor"
                <select name="actor">
                    <option value="" selected=actor.is_empty()>"Anyone"</option>
                    {ACTORS.iter().map(|(a, label)| {
                        let selected = actor == a.as_str();
                        view! { <option value=a.as_str() selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label>"Field" <input type="text" name="field" value=params.field.clone() placeholder="display_name" /></label>
            <label>"From" <input type="date" name="from" value=params.from.clone() /></label>
            <label>"To" <input type="date" name="to" value=params.to.clone() /></label>
            <div class="filter-actions">
                <button class="button primary" type="submit">"Apply"</button>
                <a class="button" href=history_path(id)>"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn HistoryTable(data: HistoryPage, id: i64, params: Params) -> impl IntoView {
    if data.rows.is_empty() {
        return Either::Left(view! {
            <section class="panel">
                <p class="empty" data-testid="no-history">"No changes match."</p>
                {params.is_filtered().then(|| view! { <p><a href=history_path(id)>"Clear the filters"</a></p> })}
            </section>
        });
    }
    let page = data.page + 1;
    let first = data.page * PAGE_SIZE + 1;
    let last = first + data.rows.len() as u64 - 1;
    let prev = (page > 1).then(|| params.href(id, page - 1));
    let next = (page < data.pages).then(|| params.href(id, page + 1));
    Either::Right(view! {
        <section class="panel">
            <p class="muted" data-testid="history-count">
                {format!("Showing {first}–{last} of {}", data.total)}
            </p>
            <div class="table-wrap">
                <table class="invoices" data-testid="history">
                    <thead>
                        <tr>
                            <th scope="col">"Time"</th>
                            <th scope="col">"Actor"</th>
                            <th scope="col">"Channel"</th>
                            <th scope="col">"What"</th>
                            <th scope="col">"Change"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {data.rows.into_iter().map(history_row).collect_view()}
                    </tbody>
                </table>
            </div>
            <nav class="pager" aria-label="Pages">
                {prev.map(|href| view! { <a class="button" href=href rel="prev">"Previous"</a> })}
                <span class="muted">{format!("Page {page} of {}", data.pages)}</span>
                {next.map(|href| view! { <a class="button" href=href rel="next">"Next"</a> })}
            </nav>
        </section>
    })
}

fn history_row(row: HistoryRow) -> impl IntoView + use<> {
    let what = match (row.entity_id, &row.field) {
        (Some(n), Some(field)) => format!("{} #{n} · {field}", entity_label(&row.entity)),
        (Some(n), None) => format!("{} #{n}", entity_label(&row.entity)),
        (None, Some(field)) => format!("{} · {field}", entity_label(&row.entity)),
        (None, None) => entity_label(&row.entity).to_owned(),
    };
    let value = |v: Option<String>| {
        v.filter(|v| !v.is_empty())
            .unwrap_or_else(|| "—".to_owned())
    };
    view! {
        <tr>
            <td data-label="Time">
                <time datetime=row.occurred_at.to_rfc3339()>
                    {row.occurred_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}
                </time>
            </td>
            <td data-label="Actor">{row.actor}</td>
            <td data-label="Channel">
                {channel_label(row.channel)}
                {row.client_ip.map(|ip| view! { <br /><span class="muted small">{ip}</span> })}
            </td>
            <td data-label="What">{what}</td>
            <td data-label="Change">
                <span class="old">{value(row.old_value)}</span>
                " → "
                <span class="new">{value(row.new_value)}</span>
            </td>
        </tr>
    }
}
