//! The customer's invoice page with Smart Disputes: the invoice's lines, annotation mode
//! (select lines, say what is wrong with each, watch the totals), attachments, submitting,
//! paying the undisputed remainder, and the thread of each dispute.
//!
//! Everything while annotating happens in the browser: the shared rules in
//! `model::disputes` mark a bad field the moment it is typed and keep the totals, and the
//! draft lives in the browser's local storage (saved on every change), so a reload finds
//! it. The server sees the annotations only when they are submitted, and checks them again.

use std::collections::HashMap;

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos::reactive::computed::Selector;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::disputes::{
    AddDisputeMessage, PayUndisputed, SubmitDispute, WithdrawDispute, get_invoice,
};
use crate::components::focus::focus_later;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::disputes::{
    Annotation, DisputeView, Draft, DraftFile, InvoiceLine, InvoicePage as Page, REASONS,
    check_annotation, counts_units, format_quantity, reason_label, totals,
};
use crate::model::enums::{DisputeReason, DisputeStatus};
use crate::model::portal::format_money;

/// `/portal/invoices/:id`.
#[component]
pub fn InvoicePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let refresh = RwSignal::new(0u32);
    let page = resource(move || (id(), refresh.get()), |(id, _)| get_invoice(id));
    view! {
        <Title text="Invoice" />
        <Transition fallback=|| view! { <p class="muted">"Loading the invoice…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => EitherOf3::A(view! { <InvoiceView page refresh /> }),
                    Err(AppError::Unauthorized) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h1>"Please sign in"</h1>
                            <p><a href="/portal/sign-in">"Get a sign-in link"</a>" to see this invoice."</p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! {
                        <section class="panel narrow notice" role="alert">
                            <h1>"We could not show this invoice"</h1>
                            <p>{err.to_string()}</p>
                            <p><a class="button" href="/portal">"Back to my account"</a></p>
                        </section>
                    }),
                }
            })}
        </Transition>
    }
}

fn draft_key(invoice_id: i64) -> String {
    format!("settle.dispute-draft.{invoice_id}")
}

/// The draft kept in the browser for `invoice_id`, if any.
fn load_draft(invoice_id: i64) -> Option<Draft> {
    #[cfg(feature = "hydrate")]
    {
        let storage = window().local_storage().ok().flatten()?;
        let text = storage.get_item(&draft_key(invoice_id)).ok().flatten()?;
        serde_json::from_str(&text).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = draft_key(invoice_id);
        None
    }
}

/// Keeps `draft` in the browser (an empty draft removes the entry).
fn save_draft(invoice_id: i64, draft: &Draft) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(storage)) = window().local_storage() {
        let key = draft_key(invoice_id);
        let saved = if draft.annotations.is_empty() && draft.files.is_empty() {
            storage.remove_item(&key)
        } else {
            match serde_json::to_string(draft) {
                Ok(text) => storage.set_item(&key, &text),
                Err(_) => Ok(()),
            }
        };
        if saved.is_err() {
            leptos::logging::warn!("the dispute draft could not be saved in this browser");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (invoice_id, draft);
}

/// Uploads one file to `/portal/uploads`.
#[cfg(feature = "hydrate")]
pub(crate) async fn upload(file: web_sys::File) -> Result<DraftFile, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let failed = |_| "the upload failed; check your connection and try again".to_owned();
    let form = web_sys::FormData::new().map_err(failed)?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(failed)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&form);
    let response = JsFuture::from(window().fetch_with_str_and_init("/portal/uploads", &init))
        .await
        .map_err(failed)?
        .dyn_into::<web_sys::Response>()
        .map_err(failed)?;
    let text = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?
        .as_string()
        .unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if response.status() == 201 {
        Ok(DraftFile {
            id: json["id"].as_i64().unwrap_or_default(),
            file_name: json["file_name"].as_str().unwrap_or("file").to_owned(),
        })
    } else {
        Err(json["error"]
            .as_str()
            .unwrap_or("the upload was refused")
            .to_owned())
    }
}

/// Sends the browser to a checkout page.
fn navigate_to(url: &str) {
    #[cfg(feature = "hydrate")]
    if window().location().set_href(url).is_err() {
        leptos::logging::error!("could not open the checkout");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

/// The annotation state shared by the rows, the editors and the totals bar.
///
/// A click or a keystroke changes one line, and only that line's row may do any work: on
/// a 200-line invoice, rows that each watched the whole draft or the open editor made every
/// change re-run 200 or 400 computations. So each row has its own annotation signal,
/// which one observer of the draft keeps up to date, and a [`Selector`] tells a row whether
/// its editor is the open one, notifying only the rows it opens and closes.
#[derive(Clone, Copy)]
struct Annotating {
    on: RwSignal<bool>,
    draft: RwSignal<Vec<Annotation>>,
    editor: RwSignal<Option<i64>>,
    lines: StoredValue<Vec<InvoiceLine>>,
    /// Each line's annotation in the draft, by line id.
    rows: StoredValue<HashMap<i64, RwSignal<Option<Annotation>>>>,
    /// Whether a line's editor is the open one.
    open_editor: StoredValue<Selector<Option<i64>>>,
}

impl Annotating {
    fn selected(self, line_id: i64) -> bool {
        self.draft.with(|d| d.iter().any(|a| a.line_id == line_id))
    }

    fn toggle(self, line_id: i64) {
        if self.selected(line_id) {
            self.draft.update(|d| d.retain(|a| a.line_id != line_id));
            if self.editor.get_untracked() == Some(line_id) {
                self.editor.set(None);
            }
        } else if let Some(line) = self
            .lines
            .with_value(|ls| ls.iter().find(|l| l.id == line_id).cloned())
        {
            self.draft.update(|d| d.push(Annotation::new(&line)));
            self.editor.set(Some(line_id));
        }
    }

    fn edit(self, line_id: i64, change: impl FnOnce(&mut Annotation)) {
        self.draft.update(|d| {
            if let Some(a) = d.iter_mut().find(|a| a.line_id == line_id) {
                change(a);
            }
        });
    }

    /// Opens a line's editor, selecting the line first when it is not yet.
    fn open(self, line_id: i64) {
        if !self.selected(line_id) {
            self.toggle(line_id);
        }
        self.editor.set(Some(line_id));
        focus_later(format!("reason-{line_id}"));
    }

    /// The row's own signal of its annotation (a fresh, empty one for a line not listed).
    fn row(self, line_id: i64) -> RwSignal<Option<Annotation>> {
        self.rows
            .with_value(|rows| rows.get(&line_id).copied())
            .unwrap_or_else(|| RwSignal::new(None))
    }

    /// Hands each row the annotation the draft now holds for it, notifying only the rows
    /// whose annotation changed.
    fn sync_rows(self, draft: &[Annotation]) {
        self.rows.with_value(|rows| {
            for (id, row) in rows {
                let now = draft.iter().find(|a| a.line_id == *id);
                if row.with_untracked(|was| was.as_ref() != now) {
                    row.set(now.cloned());
                }
            }
        });
    }

    fn annotation(self, line_id: i64) -> Option<Annotation> {
        self.draft
            .with(|d| d.iter().find(|a| a.line_id == line_id).cloned())
    }
}

#[component]
fn InvoiceView(page: Page, refresh: RwSignal<u32>) -> impl IntoView {
    let doc_id = page.id;
    let currency = StoredValue::new(page.currency.clone());
    // What may still be disputed: the open balance less what is already under dispute.
    let open_minor = page.open_minor - page.disputed_minor;
    let editor = RwSignal::new(None);
    let state = Annotating {
        on: RwSignal::new(false),
        draft: RwSignal::new(Vec::new()),
        editor,
        lines: StoredValue::new(page.lines.clone()),
        rows: StoredValue::new(
            page.lines
                .iter()
                .map(|l| (l.id, RwSignal::new(None)))
                .collect(),
        ),
        open_editor: StoredValue::new(Selector::new(move || editor.get())),
    };
    // The draft's one observer: whatever changed it (a click, typing, a restored or
    // discarded draft), the rows concerned hear of it.
    Effect::new(move |_| state.draft.with(|d| state.sync_rows(d)));
    let files = RwSignal::new(Vec::<DraftFile>::new());
    let loaded = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(saved) = load_draft(doc_id) {
            if !saved.annotations.is_empty() {
                state.on.set(true);
            }
            state.draft.set(saved.annotations);
            files.set(saved.files);
        }
        loaded.set(true);
    });
    Effect::new(move |_| {
        let draft = Draft {
            annotations: state.draft.get(),
            files: files.get(),
        };
        if loaded.get_untracked() {
            save_draft(doc_id, &draft);
        }
    });
    let sums = Memo::new(move |_| {
        state
            .draft
            .with(|d| state.lines.with_value(|ls| totals(d, ls, open_minor)))
    });

    let submit = ServerAction::<SubmitDispute>::new();
    Effect::new(move |_| {
        if matches!(submit.value().get(), Some(Ok(_))) {
            state.draft.set(Vec::new());
            files.set(Vec::new());
            state.on.set(false);
            state.editor.set(None);
            save_draft(doc_id, &Draft::default());
            refresh.update(|n| *n += 1);
        }
    });
    let on_submit = move |_| {
        if submit.pending().get_untracked() || sums.get_untracked().invalid_lines > 0 {
            return;
        }
        submit.dispatch(SubmitDispute {
            document_id: doc_id,
            annotations: state.draft.get_untracked(),
            file_ids: files.with_untracked(|f| f.iter().map(|f| f.id).collect()),
        });
    };
    let submit_error = move || match submit.value().get() {
        Some(Err(AppError::Validation { field, message })) => Some(
            field
                .strip_prefix("line-")
                .and_then(|rest| rest.split('-').next())
                .and_then(|id| id.parse::<i64>().ok())
                .and_then(|id| {
                    state
                        .lines
                        .with_value(|ls| ls.iter().find(|l| l.id == id).map(|l| l.line_no))
                })
                .map_or(message.clone(), |n| format!("Line {n}: {message}")),
        ),
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended. Please sign in again; your draft is kept.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
        _ => None,
    };

    let cannot_submit = move || {
        submit.pending().get() || state.draft.with(Vec::is_empty) || sums.get().invalid_lines != 0
    };
    let pay = ServerAction::<PayUndisputed>::new();
    Effect::new(move |_| {
        if let Some(Ok(url)) = pay.value().get() {
            navigate_to(&url);
        }
    });
    let undisputed_now = page.open_minor - page.disputed_minor;
    let disputable = page.lines.iter().any(|l| l.locked_by_dispute.is_none()) && open_minor > 0;

    let money = move |minor: i64| currency.with_value(|c| format_money(minor, c));
    let rows = page
        .lines
        .iter()
        .cloned()
        .map(|line| line_rows(line, state, currency))
        .collect_view();
    let disputes = page.disputes.clone();
    let has_disputes = !disputes.is_empty();

    view! {
        <section class="account-head">
            <div>
                <h1>"Invoice " {page.number.clone()}</h1>
                <p class="muted">
                    "Issued " {page.issue_date.to_string()}
                    {page.due_date.map(|d| format!(" · due {d}"))}
                    {page.po_number.clone().map(|p| format!(" · PO {p}"))}
                </p>
            </div>
            <a class="button" href=format!("/portal/documents/{doc_id}/pdf") download="" rel="external">"PDF"</a>
            <a class="button" href=format!("/portal/messages?document={doc_id}")>"Ask about it"</a>
            <a class="button" href="/portal">"My account"</a>
        </section>

        <section class="stats" aria-label="Amounts">
            <div class="stat"><span class="stat-label">"Total"</span><span class="stat-value">{money(page.total_minor)}</span></div>
            <div class="stat"><span class="stat-label">"Open"</span><span class="stat-value" data-testid="invoice-open">{money(page.open_minor)}</span></div>
            <div class="stat"><span class="stat-label">"Under dispute"</span><span class="stat-value warn" data-testid="invoice-disputed">{money(page.disputed_minor)}</span></div>
        </section>

        {(page.disputed_minor > 0 && undisputed_now > 0).then(|| view! {
            <section class="panel" aria-label="Pay the undisputed amount">
                <p>"While we look into the dispute, you can pay the rest now."</p>
                <button class="button primary" type="button" data-testid="pay-undisputed"
                    disabled=move || pay.pending().get()
                    on:click=move |_| { pay.dispatch(PayUndisputed { document_id: doc_id }); }>
                    {format!("Pay the undisputed {}", money(undisputed_now))}
                </button>
                <p class="field-error" role="alert">{move || pay.value().get().and_then(Result::err).map(|e| e.to_string())}</p>
            </section>
        })}

        <section class="panel" aria-labelledby="lines-title">
            <div class="panel-head">
                <h2 id="lines-title">"Lines"</h2>
                {disputable.then(|| view! {
                    <button class="button" type="button" data-testid="dispute-toggle"
                        aria-pressed=move || if state.on.get() { "true" } else { "false" }
                        on:click=move |_| {
                            state.on.update(|on| *on = !*on);
                            if state.on.get_untracked()
                                && let Some(first) = state.lines.with_value(|ls| ls.iter().find(|l| l.locked_by_dispute.is_none()).map(|l| l.id))
                            {
                                focus_later(format!("line-{first}"));
                            }
                        }>
                        {move || if state.on.get() { "Stop disputing" } else { "Dispute lines" }}
                    </button>
                })}
            </div>
            // Rendered always and hidden while not disputing, like the dispute bar below:
            // mounting either on the click that starts disputing made that click slow.
            <p class="muted small" id="keys-help" hidden=move || !state.on.get()>
                "Tab to a line, Space to select it, Enter to describe what is wrong, Esc to close the editor."
            </p>
            <div class="table-wrap">
                <table class="invoices lines" data-testid="invoice-lines" class:annotating=move || state.on.get()>
                    <thead><tr>
                        <th scope="col" aria-label="Select"></th>
                        <th scope="col">"#"</th>
                        <th scope="col">"SKU"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col" class="num">"Qty"</th>
                        <th scope="col" class="num">"Unit price"</th>
                        <th scope="col" class="num">"Tax"</th>
                        <th scope="col" class="num">"Amount"</th>
                        <th scope="col" class="num">"Disputed"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>

        <section class="panel dispute-bar" aria-label="Your dispute" data-testid="dispute-bar"
            hidden=move || !state.on.get() && state.draft.with(Vec::is_empty)>
            <div class="totals" aria-live="polite">
                <span>"Disputed " <strong data-testid="disputed-total">{move || money(sums.get().disputed_minor)}</strong></span>
                <span>"Undisputed " <strong data-testid="undisputed-total">{move || money(sums.get().undisputed_minor)}</strong></span>
                <span class="muted">{move || {
                    let n = state.draft.with(Vec::len);
                    if n == 1 { "1 line".to_owned() } else { format!("{n} lines") }
                }}</span>
            </div>
            {move || (sums.get().invalid_lines > 0).then(|| view! {
                <p class="field-error" role="alert" data-testid="invalid-lines">
                    {format!("{} line(s) need a correction before you can submit.", sums.get().invalid_lines)}
                </p>
            })}
            <Attachments files />
            <div class="actions">
                <button class="button primary" type="button" data-testid="submit-dispute"
                    disabled=cannot_submit
                    on:click=on_submit>
                    {move || if submit.pending().get() { "Submitting…" } else { "Submit dispute" }}
                </button>
                <button class="button" type="button" on:click=move |_| {
                    state.draft.set(Vec::new());
                    files.set(Vec::new());
                    state.editor.set(None);
                    state.on.set(false);
                }>"Discard draft"</button>
                <span class="muted small" data-testid="draft-state">{move || if state.draft.with(Vec::is_empty) { "" } else { "Draft saved in this browser" }}</span>
            </div>
            <p class="field-error" role="alert" data-testid="submit-error">{submit_error}</p>
        </section>

        {has_disputes.then(|| view! {
            <section class="panel" aria-labelledby="disputes-title">
                <h2 id="disputes-title">"Disputes on this invoice"</h2>
                {disputes.into_iter().map(|d| view! { <DisputeThread d refresh /> }).collect_view()}
            </section>
        })}
    }
}

/// A line's row and, while it is being described, its editor row.
fn line_rows(line: InvoiceLine, state: Annotating, currency: StoredValue<String>) -> impl IntoView {
    let id = line.id;
    let n = line.line_no;
    let locked = line.locked_by_dispute.is_some();
    let money = move |minor: i64| currency.with_value(|c| format_money(minor, c));
    // The row's own signals (see `Annotating`): typing in one line's editor re-renders only
    // that row's disputed amount — never the editor being typed in, nor other rows.
    let annotation = state.row(id);
    let selected = Memo::new(move |_| annotation.with(Option::is_some));
    let editing = Memo::new(move |_| {
        state
            .open_editor
            .with_value(|open| open.selected(&Some(id)))
            && selected.get()
    });
    let line_for_amount = line.clone();
    let disputed = move || {
        if locked {
            return "under dispute".to_owned();
        }
        annotation
            .get()
            .and_then(|a| check_annotation(&a, &line_for_amount).ok())
            .map(money)
            .unwrap_or_default()
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if !state.on.get_untracked() || locked {
            return;
        }
        match ev.key().as_str() {
            " " | "Spacebar" => {
                ev.prevent_default();
                state.toggle(id);
            }
            "Enter" => {
                ev.prevent_default();
                state.open(id);
            }
            "Escape" => state.editor.set(None),
            _ => {}
        }
    };
    let editor_line = line.clone();
    view! {
        <tr id=format!("line-{id}") data-testid="line" data-line=n.to_string()
            class:selected=selected class:locked=locked
            // Focusable from code (disputing moves focus to the first line); the Tab key
            // reaches each line through its checkbox, which is visible only while disputing.
            tabindex="-1"
            aria-selected=move || if selected.get() { "true" } else { "false" }
            on:keydown=on_key>
            // Always there, shown only while disputing (`table.lines.annotating`, CSS): turning
            // disputing on is then one class on the table, not 200 inputs made at once.
            <td data-label="Select" class="select">
                <input type="checkbox" aria-label=format!("Dispute line {n}") disabled=locked
                    prop:checked=selected
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        // Space is the checkbox's own (its change selects the line); Enter
                        // and Esc do what they do on the row. The row must not see them twice.
                        ev.stop_propagation();
                        match ev.key().as_str() {
                            "Enter" if !locked => {
                                ev.prevent_default();
                                state.open(id);
                            }
                            "Escape" => state.editor.set(None),
                            _ => {}
                        }
                    }
                    on:change=move |_| state.toggle(id) />
            </td>
            <td data-label="#">{n}</td>
            <td data-label="SKU">{line.sku.clone().unwrap_or_default()}</td>
            <td data-label="Description">{line.description.clone()}</td>
            <td data-label="Qty" class="num">{format_quantity(line.quantity_milli)}</td>
            <td data-label="Unit price" class="num">{money(line.unit_price_minor)}</td>
            <td data-label="Tax" class="num">{money(line.tax_minor)}</td>
            <td data-label="Amount" class="num">{money(line.amount_minor)}</td>
            <td data-label="Disputed" class="num" data-testid="line-disputed">{disputed}</td>
        </tr>
        {move || editing.get().then(|| {
            view! { <LineEditor line=editor_line.clone() state /> }
        })}
    }
}

/// The inline editor of one selected line: reason, quantity or amount, note. Fields are
/// checked with the shared rules as they are typed.
#[component]
fn LineEditor(line: InvoiceLine, state: Annotating) -> impl IntoView {
    let id = line.id;
    let n = line.line_no;
    let check_line = line.clone();
    let errors = Memo::new(move |_| {
        state
            .annotation(id)
            .and_then(|a| check_annotation(&a, &check_line).err())
            .unwrap_or_default()
    });
    let reason_memo = Memo::new(move |_| {
        state
            .annotation(id)
            .map_or(DisputeReason::Price, |a| a.reason)
    });
    let reason = move || reason_memo.get();
    let close = move || {
        state.editor.set(None);
        focus_later(format!("line-{id}"));
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        // Keys typed here belong to the fields, not to the line's row.
        ev.stop_propagation();
        if ev.key() == "Escape" {
            close();
        }
    };
    let qty_error_id = format!("quantity-{id}-error");
    let amount_error_id = format!("amount-{id}-error");
    let note_error_id = format!("note-{id}-error");
    view! {
        <tr class="editor" data-testid="line-editor">
            <td colspan="9">
                <div class="annotation" role="group" aria-label=format!("What is wrong with line {n}") on:keydown=on_key>
                    <label>
                        "Reason"
                        <select id=format!("reason-{id}") aria-label=format!("Reason for line {n}")
                            on:change=move |ev| {
                                let value = event_target_value(&ev);
                                if let Some((r, _)) = REASONS.iter().find(|(r, _)| r.as_str() == value) {
                                    let r = *r;
                                    state.edit(id, |a| a.reason = r);
                                }
                            }>
                            {REASONS.iter().map(|(r, label)| {
                                let r = *r;
                                view! { <option value=r.as_str() selected=move || reason() == r>{*label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    {move || if counts_units(reason()) {
                        let err_id = qty_error_id.clone();
                        Either::Left(view! {
                            <label>
                                {format!("Units disputed (of {})", format_quantity(line.quantity_milli))}
                                <input class="amount" inputmode="decimal" autocomplete="off"
                                    aria-label=format!("Units disputed on line {n}")
                                    aria-describedby=err_id.clone()
                                    aria-invalid=move || if errors.get().quantity.is_some() { "true" } else { "false" }
                                    prop:value=move || state.annotation(id).map(|a| a.quantity).unwrap_or_default()
                                    on:input=move |ev| { let v = event_target_value(&ev); state.edit(id, |a| a.quantity = v); } />
                                <span id=err_id class="field-error" role="alert">{move || errors.get().quantity}</span>
                            </label>
                        })
                    } else {
                        let err_id = amount_error_id.clone();
                        Either::Right(view! {
                            <label>
                                "Amount disputed"
                                <input class="amount" inputmode="decimal" autocomplete="off"
                                    aria-label=format!("Amount disputed on line {n}")
                                    aria-describedby=err_id.clone()
                                    aria-invalid=move || if errors.get().amount.is_some() { "true" } else { "false" }
                                    prop:value=move || state.annotation(id).map(|a| a.amount).unwrap_or_default()
                                    on:input=move |ev| { let v = event_target_value(&ev); state.edit(id, |a| a.amount = v); } />
                                <span id=err_id class="field-error" role="alert">{move || errors.get().amount}</span>
                            </label>
                        })
                    }}
                    <label class="grow">
                        {move || if reason() == DisputeReason::Other { "Note (tell us what is wrong)" } else { "Note (optional)" }}
                        <textarea rows="2" aria-label=format!("Note for line {n}") aria-describedby=note_error_id.clone()
                            prop:value=move || state.annotation(id).map(|a| a.note).unwrap_or_default()
                            on:input=move |ev| { let v = event_target_value(&ev); state.edit(id, |a| a.note = v); }></textarea>
                        <span id=note_error_id class="field-error" role="alert">{move || errors.get().note}</span>
                    </label>
                    <button class="button" type="button" on:click=move |_| close()>"Done"</button>
                </div>
            </td>
        </tr>
    }
}

/// The files attached to the draft, and the control to add one.
#[component]
fn Attachments(files: RwSignal<Vec<DraftFile>>) -> impl IntoView {
    let uploading = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|list| list.get(0)) else {
                return;
            };
            input.set_value("");
            uploading.set(true);
            error.set(None);
            leptos::task::spawn_local(async move {
                match upload(file).await {
                    Ok(saved) => files.update(|f| f.push(saved)),
                    Err(message) => error.set(Some(message)),
                }
                uploading.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, uploading, error);
    };
    view! {
        <div class="attachments">
            <label class="button">
                "Attach a photo or PDF"
                <input type="file" class="visually-hidden" data-testid="attach"
                    accept="application/pdf,image/*" on:change=on_change />
            </label>
            <Show when=move || uploading.get()>
                <span class="muted" role="status">"Uploading…"</span>
            </Show>
            <ul class="files" data-testid="attached-files">
                {move || files.get().into_iter().map(|f| {
                    let id = f.id;
                    view! {
                        <li>
                            <a href=format!("/files/{id}") rel="external">{f.file_name.clone()}</a>
                            " "
                            <button class="link" type="button" aria-label=format!("Remove {}", f.file_name)
                                on:click=move |_| files.update(|all| all.retain(|x| x.id != id))>"Remove"</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
            <p class="field-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

fn status_label(status: DisputeStatus) -> &'static str {
    match status {
        DisputeStatus::Draft => "draft",
        DisputeStatus::Open => "being reviewed",
        DisputeStatus::Credited => "accepted: credited",
        DisputeStatus::PartiallyCredited => "partly credited",
        DisputeStatus::Rejected => "not accepted",
        DisputeStatus::Withdrawn => "withdrawn",
    }
}

/// One dispute: its status, lines, thread, and (while open) a message form and withdraw.
#[component]
fn DisputeThread(d: DisputeView, refresh: RwSignal<u32>) -> impl IntoView {
    let id = d.id;
    let message = ServerAction::<AddDisputeMessage>::new();
    let withdraw = ServerAction::<WithdrawDispute>::new();
    let body = RwSignal::new(String::new());
    let attached = RwSignal::new(Vec::<DraftFile>::new());
    Effect::new(move |_| {
        if matches!(message.value().get(), Some(Ok(_)))
            || matches!(withdraw.value().get(), Some(Ok(_)))
        {
            body.set(String::new());
            attached.set(Vec::new());
            refresh.update(|n| *n += 1);
        }
    });
    let currency = d.currency.clone();
    let open = d.status == DisputeStatus::Open;
    let error = move || {
        message
            .value()
            .get()
            .and_then(Result::err)
            .or_else(|| withdraw.value().get().and_then(Result::err))
            .map(|e| match e {
                AppError::Validation { message, .. } => message,
                other => other.to_string(),
            })
    };
    view! {
        <article class="dispute" data-testid="dispute" data-status=d.status.as_str()>
            <h3>
                {format!("Dispute #{} · {}", d.id, format_money(d.disputed_minor, &currency))}
                " " <span class="badge" data-testid="dispute-status">{status_label(d.status)}</span>
            </h3>
            {(d.credited_minor > 0).then(|| view! { <p class="ok">{format!("Credited {}", format_money(d.credited_minor, &currency))}</p> })}
            {d.resolution_note.clone().map(|n| view! { <p>"Our note: " {n}</p> })}
            <ul class="dispute-lines">
                {d.lines.iter().map(|l| view! {
                    <li>
                        {format!("Line {} · {} · {}: {}", l.line_no, l.description, reason_label(l.reason), format_money(l.disputed_minor, &currency))}
                        {l.credited_minor.map(|c| format!(" · credited {}", format_money(c, &currency)))}
                        {l.note.clone().map(|n| format!(" — “{n}”"))}
                    </li>
                }).collect_view()}
            </ul>
            <ol class="thread">
                {d.messages.iter().cloned().map(|m| view! {
                    <li class="message" class:from-staff=m.from_staff>
                        <p class="message-meta"><strong>{m.author}</strong> " · " {m.sent_at.format("%b %-d, %H:%M").to_string()}</p>
                        {(!m.body.is_empty()).then(|| view! { <p class="message-body">{m.body.clone()}</p> })}
                        {m.file.map(|(fid, name)| view! { <p><a href=format!("/files/{fid}") rel="external">"📎 " {name}</a></p> })}
                    </li>
                }).collect_view()}
            </ol>
            {open.then(|| view! {
                <form class="stack" on:submit=move |ev| {
                    ev.prevent_default();
                    // One message carries the text and the first file; each further file its own.
                    let files = attached.get_untracked();
                    let mut ids = files.iter().map(|f| Some(f.id));
                    message.dispatch(AddDisputeMessage { id, body: body.get_untracked(), file_id: ids.next().flatten() });
                    for file_id in ids {
                        message.dispatch(AddDisputeMessage { id, body: String::new(), file_id });
                    }
                }>
                    <label for=format!("dispute-{id}-message")>"Add a message"</label>
                    <textarea id=format!("dispute-{id}-message") rows="2"
                        prop:value=move || body.get()
                        on:input=move |ev| body.set(event_target_value(&ev))></textarea>
                    <Attachments files=attached />
                    <div class="actions">
                        <button class="button" type="submit" disabled=move || message.pending().get()>"Send"</button>
                        <button class="button" type="button" data-testid="withdraw"
                            disabled=move || withdraw.pending().get()
                            on:click=move |_| { withdraw.dispatch(WithdrawDispute { id }); }>"Withdraw the dispute"</button>
                    </div>
                </form>
            })}
            <p class="field-error" role="alert">{error}</p>
        </article>
    }
}
