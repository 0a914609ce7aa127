//! The customer's Documents page: every document of the account, filtered through the
//! URL's query (so it works before hydration and links can be shared), one page at a time.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::documents::list_documents;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::documents::{
    DocumentList, DocumentRow, KINDS, PAGE_SIZE, STATUSES, kind_label, status_label,
};
use crate::model::enums::DocumentKind;
use crate::model::portal::format_money;

/// The page's query parameters as they are in the URL; `page` is one-based.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Params {
    kind: String,
    status: String,
    from: String,
    to: String,
    q: String,
    page: u64,
}

impl Params {
    fn is_filtered(&self) -> bool {
        [&self.kind, &self.status, &self.from, &self.to, &self.q]
            .iter()
            .any(|v| !v.is_empty())
    }

    /// This page's URL with the same filters on page `page` (one-based).
    fn href(&self, page: u64) -> String {
        let mut parts = Vec::new();
        for (name, value) in [
            ("kind", &self.kind),
            ("status", &self.status),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
        ] {
            if !value.is_empty() {
                parts.push(format!("{name}={}", encode(value)));
            }
        }
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            "/portal/documents".to_owned()
        } else {
            format!("/portal/documents?{}", parts.join("&"))
        }
    }
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

#[component]
pub fn DocumentsPage() -> impl IntoView {
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| {
            let text = |name: &str| q.get(name).map(|v| v.trim().to_owned()).unwrap_or_default();
            Params {
                kind: text("kind"),
                status: text("status"),
                from: text("from"),
                to: text("to"),
                q: text("q"),
                page: q
                    .get("page")
                    .and_then(|p| p.trim().parse::<u64>().ok())
                    .unwrap_or(1)
                    .max(1),
            }
        })
    });
    let list = resource(
        move || params.get(),
        |p| {
            list_documents(
                none_if_empty(&p.kind),
                none_if_empty(&p.status),
                none_if_empty(&p.from),
                none_if_empty(&p.to),
                none_if_empty(&p.q),
                Some(p.page - 1),
            )
        },
    );
    view! {
        <Title text="Documents" />
        <section class="account-head">
            <div>
                <h1>"Documents"</h1>
                <p class="muted">"Invoices, credit memos, statements, purchase orders, bills of lading and your uploads."</p>
            </div>
            <p class="head-links">
                <a class="button" href="/portal">"Back to account"</a>
                " "
                <a class="button" href="/portal/statement.pdf" download="" rel="external">"Statement (last 90 days)"</a>
            </p>
        </section>
        {move || view! { <Filters params=params.get() /> }}
        <Transition fallback=|| view! { <p class="muted">"Loading documents…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(data) => EitherOf3::A(view! { <DocumentTable data params=params.get_untracked() /> }),
                    Err(AppError::Unauthorized) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h2>"Please sign in"</h2>
                            <p>"Open the link in the latest email or letter from us, or ask for a new link."</p>
                            <p><a class="button primary" href="/portal/sign-in">"Get a sign-in link"</a></p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! {
                        <section class="panel notice" role="alert">
                            <h2>"We could not list your documents"</h2>
                            <p>{err.to_string()}</p>
                            <p><a href="/portal/documents">"Show all documents"</a></p>
                        </section>
                    }),
                }
            })}
        </Transition>
    }
}

/// The filter form: a plain GET form, so it works without JavaScript.
#[component]
fn Filters(params: Params) -> impl IntoView {
    let kind = params.kind.clone();
    let status = params.status.clone();
    view! {
        <form class="panel filters" method="get" action="/portal/documents" role="search" aria-label="Filter documents">
            <label>
                "Kind"
                <select name="kind">
                    <option value="" selected=kind.is_empty()>"Any kind"</option>
                    {KINDS.iter().map(|(k, label)| {
                        let selected = kind == k.as_str();
                        view! { <option value=k.as_str() selected=selected>{*label}</option> }
                    }).collect_view()}
                </select>
            </label>
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
            <label>"Issued from" <input type="date" name="from" value=params.from.clone() /></label>
            <label>"Issued to" <input type="date" name="to" value=params.to.clone() /></label>
            <label>"Number or PO" <input type="search" name="q" value=params.q.clone() placeholder="INV-1001" /></label>
            <div class="filter-actions">
                <button class="button primary" type="submit">"Apply"</button>
                <a class="button" href="/portal/documents">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn DocumentTable(data: DocumentList, params: Params) -> impl IntoView {
    if data.rows.is_empty() {
        let message = if params.is_filtered() {
            "No documents match these filters."
        } else {
            "There are no documents on your account yet."
        };
        return Either::Left(view! {
            <section class="panel">
                <p class="empty" data-testid="empty-documents">{message}</p>
                {params.is_filtered().then(|| view! { <p><a href="/portal/documents">"Clear the filters"</a></p> })}
            </section>
        });
    }
    let page = data.page + 1;
    let first = data.page * PAGE_SIZE + 1;
    let last = first + data.rows.len() as u64 - 1;
    let prev = (page > 1).then(|| params.href(page - 1));
    let next = (page < data.pages).then(|| params.href(page + 1));
    Either::Right(view! {
        <section class="panel">
            <p class="muted" data-testid="documents-count">
                {format!("Showing {first}–{last} of {}", data.total)}
            </p>
            <div class="table-wrap">
                <table class="invoices documents" data-testid="documents">
                    <thead>
                        <tr>
                            <th scope="col">"Number"</th>
                            <th scope="col">"Kind"</th>
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
                        {data.rows.into_iter().map(document_row).collect_view()}
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

fn document_row(doc: DocumentRow) -> impl IntoView + use<> {
    let href = format!("/portal/documents/{}/pdf", doc.id);
    let label = format!("Download {} as PDF", doc.number);
    let ask = format!("/portal/messages?document={}", doc.id);
    let ask_label = format!("Ask us about {}", doc.number);
    view! {
        <tr>
            <td data-label="Number">
                {if doc.kind == DocumentKind::Invoice {
                    Either::Left(view! { <a href=format!("/portal/invoices/{}", doc.id)>{doc.number}</a> })
                } else {
                    Either::Right(doc.number)
                }}
            </td>
            <td data-label="Kind">{kind_label(doc.kind)}</td>
            <td data-label="PO">{doc.po_number.unwrap_or_default()}</td>
            <td data-label="Issued">{doc.issue_date.to_string()}</td>
            <td data-label="Due">{doc.due_date.map(|d| d.to_string()).unwrap_or_default()}</td>
            <td data-label="Total" class="num">{format_money(doc.total_minor, &doc.currency)}</td>
            <td data-label="Open" class="num">{format_money(doc.open_minor, &doc.currency)}</td>
            <td data-label="Status">{status_label(doc.status)}</td>
            <td data-label="File">
                <a href=href download="" rel="external" aria-label=label>"PDF"</a>
                " · "
                <a href=ask aria-label=ask_label>"Ask"</a>
            </td>
        </tr>
    }
}
