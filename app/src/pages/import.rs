//! The staff import page (`/staff/import`): upload an ERP export (a dry run first, by
//! default), follow the server's progress (rows processed of the total), read the report
//! (counts, rejected rows, the whole report as CSV), then apply the same file after a clean
//! check. Below, the recent runs; `?run=ID` shows one of them.
//!
//! The file goes to `POST /staff/import` with `fetch` and `FormData` (it can be hundreds of
//! megabytes; it is streamed to disk, never held by a server function). The run goes on in
//! the background on the server and the page polls `get_import_run` while it runs.

use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::import::{get_import_run, list_import_runs};
use crate::api::staff::get_staff_me;
use crate::components::focus::focus_later;
use crate::components::resource::{Json, resource};
use crate::components::staff_error::StaffError;
use crate::error::AppError;
use crate::model::enums::{ImportKind, ImportStatus, StaffRole};
use crate::model::import::ImportRunView;

/// How often the page asks for the progress of a running import.
const POLL_MS: u64 = 500;

/// The file the staff user chose, kept in the page so a clean dry run can be applied.
/// A browser `File` lives on the browser's one thread; on the server the page never holds
/// one, and its placeholder must be `Send` (the server renders on many threads).
#[cfg(feature = "hydrate")]
type Chosen = web_sys::File;
#[cfg(feature = "hydrate")]
type ChosenStorage = LocalStorage;
#[cfg(not(feature = "hydrate"))]
type Chosen = ();
#[cfg(not(feature = "hydrate"))]
type ChosenStorage = SyncStorage;

const KINDS: [ImportKind; 5] = [
    ImportKind::Accounts,
    ImportKind::Contacts,
    ImportKind::Invoices,
    ImportKind::Payments,
    ImportKind::Documents,
];

fn kind_label(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Accounts => "Accounts",
        ImportKind::Contacts => "Contacts",
        ImportKind::Invoices => "Invoices with lines",
        ImportKind::Payments => "Payments",
        ImportKind::Documents => "Document files (zip of PDFs)",
    }
}

fn accepted_files(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Documents => ".zip,application/zip",
        _ => ".csv,text/csv",
    }
}

fn status_label(run: &ImportRunView) -> &'static str {
    match (run.status, run.dry_run) {
        (ImportStatus::Running, true) => "Checking",
        (ImportStatus::Running, false) => "Applying",
        (ImportStatus::Checked, _) => "Checked",
        (ImportStatus::Applied, _) => "Applied",
        (ImportStatus::Failed, _) => "Stopped",
    }
}

/// `1234567` as "1,234,567".
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn rows_word(n: i64) -> &'static str {
    if n == 1 { "row" } else { "rows" }
}

/// A dry run that found nothing wrong: the file may be applied as it is.
fn is_clean_check(run: &ImportRunView) -> bool {
    run.dry_run && run.status == ImportStatus::Checked && run.rejected == 0
}

fn is_running(run: &ImportRunView) -> bool {
    run.status == ImportStatus::Running
}

/// What a screen reader hears when run's status changes.
fn announce(run: &ImportRunView) -> String {
    let id = run.id;
    match run.status {
        ImportStatus::Running if run.dry_run => format!("Import {id}: checking the file."),
        ImportStatus::Running => format!("Import {id}: applying the file."),
        ImportStatus::Checked => format!(
            "Import {id} checked: {} rejected {}.",
            grouped(run.rejected),
            rows_word(run.rejected)
        ),
        ImportStatus::Applied => format!(
            "Import {id} applied: {} rejected {}.",
            grouped(run.rejected),
            rows_word(run.rejected)
        ),
        ImportStatus::Failed => format!("Import {id} stopped."),
    }
}

fn error_text(err: &AppError) -> String {
    match err {
        AppError::Unauthorized => "Please sign in as staff.".to_owned(),
        AppError::Forbidden => "Your role cannot see imports.".to_owned(),
        AppError::NotFound => "There is no such import.".to_owned(),
        other => other.to_string(),
    }
}

/// Sends `file` to `POST /staff/import`; the new run's id.
#[cfg(feature = "hydrate")]
async fn start_run(file: &web_sys::File, kind: ImportKind, dry_run: bool) -> Result<i64, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let failed = |_| "the upload failed; check your connection and try again".to_owned();
    let form = web_sys::FormData::new().map_err(failed)?;
    form.append_with_str("kind", kind.as_str())
        .map_err(failed)?;
    form.append_with_str("dry_run", if dry_run { "true" } else { "false" })
        .map_err(failed)?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(failed)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&form);
    let response = JsFuture::from(window().fetch_with_str_and_init("/staff/import", &init))
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
    match (response.status(), json["run_id"].as_i64()) {
        (202, Some(id)) => Ok(id),
        (413, _) => Err(json["error"]
            .as_str()
            .unwrap_or("the file is too big to import")
            .to_owned()),
        _ => Err(json["error"]
            .as_str()
            .unwrap_or("the upload was refused")
            .to_owned()),
    }
}

/// `/staff/import`.
#[component]
pub fn StaffImportPage() -> impl IntoView {
    let me = resource(|| (), |_| get_staff_me());
    // Made here, not in `ImportScreen`: a resource made inside the `Suspend` below would be
    // made, and fetched, again each time the server renders it.
    let list_version = RwSignal::new(0u32);
    let runs = resource(move || list_version.get(), |_| list_import_runs());
    view! {
        <Title text="Import from the ERP" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => Either::Left(view! { <ImportScreen role=me.role list_version runs /> }),
                    Err(err) => Either::Right(view! { <StaffError err /> }),
                }
            })}
        </Transition>
    }
}

/// What the upload form holds, and the run it started.
#[derive(Clone, Copy)]
struct Upload {
    kind: RwSignal<ImportKind>,
    dry_run: RwSignal<bool>,
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    chosen: StoredValue<Option<Chosen>, ChosenStorage>,
    /// The dry run the chosen file started: its clean report offers to apply the file.
    checked_run: RwSignal<Option<i64>>,
    busy: RwSignal<bool>,
    error: RwSignal<Option<String>>,
}

#[component]
fn ImportScreen(
    role: StaffRole,
    /// Bumped to fetch `runs` again.
    list_version: RwSignal<u32>,
    runs: Resource<Result<Vec<ImportRunView>, AppError>, Json>,
) -> impl IntoView {
    let can_import = role != StaffRole::Viewer;
    let query = use_query_map();
    let watched = Memo::new(move |_| query.read().get("run").and_then(|v| v.parse::<i64>().ok()));
    let current = RwSignal::new(None::<ImportRunView>);
    let poll_error = RwSignal::new(None::<String>);
    let tick = RwSignal::new(0u32);
    // Each (re)start of the polling takes a new generation; a timer of an older one does nothing.
    let generation = StoredValue::new(0u32);
    // The run just started from this page: its panel takes the focus when it first shows, and
    // the list is fetched again when it ends (the list showed it running).
    let just_started = StoredValue::new(None::<i64>);
    let focus_pending = StoredValue::new(false);
    Effect::new(move |_| {
        tick.track();
        let Some(id) = watched.get() else {
            current.set(None);
            return;
        };
        let this = generation.get_value().wrapping_add(1);
        generation.set_value(this);
        leptos::task::spawn_local(async move {
            let result = get_import_run(id).await;
            if generation.try_get_value() != Some(this) {
                return;
            }
            match result {
                Ok(run) => {
                    let was_running = current.with_untracked(|c| {
                        c.as_ref().is_some_and(|c| c.id == id && is_running(c))
                    });
                    let running = is_running(&run);
                    current.set(Some(run));
                    poll_error.set(None);
                    if focus_pending.get_value() {
                        focus_pending.set_value(false);
                        focus_later("import-run".to_owned());
                    }
                    if running {
                        set_timeout(
                            move || {
                                if generation.try_get_value() == Some(this) {
                                    tick.try_update(|t| *t = t.wrapping_add(1));
                                }
                            },
                            std::time::Duration::from_millis(POLL_MS),
                        );
                    } else if was_running || just_started.get_value() == Some(id) {
                        just_started.set_value(None);
                        list_version.update(|v| *v = v.wrapping_add(1));
                    }
                }
                Err(err) => {
                    current.set(None);
                    poll_error.set(Some(error_text(&err)));
                }
            }
        });
    });
    let upload = Upload {
        kind: RwSignal::new(ImportKind::Accounts),
        dry_run: RwSignal::new(true),
        chosen: StoredValue::new_with_storage(None),
        checked_run: RwSignal::new(None),
        busy: RwSignal::new(false),
        error: RwSignal::new(None),
    };
    let navigate = use_navigate();
    let started = Callback::new(move |(id, dry_run): (i64, bool)| {
        upload.checked_run.set(dry_run.then_some(id));
        just_started.set_value(Some(id));
        focus_pending.set_value(true);
        list_version.update(|v| *v = v.wrapping_add(1));
        if watched.get_untracked() == Some(id) {
            // A failed run resumed under its own id: the address stays, so poll again.
            tick.update(|t| *t = t.wrapping_add(1));
        } else {
            navigate(&format!("/staff/import?run={id}"), Default::default());
        }
    });
    let form = if can_import {
        Either::Left(view! { <UploadForm upload started /> })
    } else {
        Either::Right(view! {
            <p class="muted" data-testid="import-viewer">"Your role can see imports and their reports but not start one; collectors and admins can."</p>
        })
    };
    // Said once per change of status, not at every poll (the bar's numbers are not announced).
    let announcement = Memo::new(move |_| current.with(|c| c.as_ref().map(announce)));
    let run_view = move || {
        if let Some(message) = poll_error.get() {
            return EitherOf3::A(view! {
                <section class="panel notice" role="alert" data-testid="import-run-error">
                    <p>{message}</p>
                </section>
            });
        }
        match current.get() {
            Some(run) => EitherOf3::B(view! { <RunPanel run upload started can_import /> }),
            None => EitherOf3::C(()),
        }
    };
    view! {
        <section class="panel" aria-labelledby="import-title">
            <h1 id="import-title">"Import from the ERP"</h1>
            <p class="muted">
                "Upload an export from your ERP as CSV (UTF-8, comma or semicolon). Check it first: a dry run reads every row and reports what it would create, update or leave alone, and every row it cannot take, without changing anything. Importing the same file twice changes nothing the second time."
            </p>
            {form}
        </section>
        <p class="visually-hidden" role="status" data-testid="import-announcement">{announcement}</p>
        {run_view}
        <section class="panel" aria-labelledby="runs-title">
            <h2 id="runs-title">"Recent imports"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match runs.await {
                        Ok(list) => Either::Left(view! { <RunList list watched /> }),
                        Err(err) => Either::Right(view! {
                            <p class="field-error" role="alert">{error_text(&err)}</p>
                        }),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Sends the chosen file (a dry run unless told otherwise) and reports the new run's id.
fn send(upload: Upload, kind: ImportKind, dry_run: bool, started: Callback<(i64, bool)>) {
    if upload.busy.get_untracked() {
        return;
    }
    #[cfg(feature = "hydrate")]
    {
        let Some(file) = upload.chosen.with_value(Clone::clone) else {
            upload
                .error
                .set(Some("Choose a file to import.".to_owned()));
            focus_later("import-file".to_owned());
            return;
        };
        upload.busy.set(true);
        upload.error.set(None);
        leptos::task::spawn_local(async move {
            match start_run(&file, kind, dry_run).await {
                Ok(id) => started.run((id, dry_run)),
                Err(message) => upload.error.set(Some(capitalized(&message))),
            }
            upload.busy.set(false);
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (kind, dry_run, started);
}

#[cfg(feature = "hydrate")]
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[component]
fn UploadForm(upload: Upload, started: Callback<(i64, bool)>) -> impl IntoView {
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let file = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|input| input.files())
                .and_then(|list| list.get(0));
            upload.chosen.set_value(file);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
        upload.checked_run.set(None);
        upload.error.set(None);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send(
            upload,
            upload.kind.get_untracked(),
            upload.dry_run.get_untracked(),
            started,
        );
    };
    let has_error = move || upload.error.get().is_some().then_some("true");
    view! {
        // Without the page's script the browser posts the form itself and is sent back here.
        <form class="stack" method="post" action="/staff/import" enctype="multipart/form-data"
            on:submit=on_submit data-testid="import-form">
            <label for="import-kind">"What the file holds"</label>
            <select id="import-kind" name="kind" data-testid="import-kind"
                on:change=move |ev| {
                    if let Some(kind) = ImportKind::parse(&event_target_value(&ev)) {
                        upload.kind.set(kind);
                    }
                }>
                {KINDS.into_iter().map(|k| view! {
                    <option value=k.as_str() selected=move || upload.kind.get() == k>{kind_label(k)}</option>
                }).collect_view()}
            </select>
            <label for="import-file">"File"</label>
            <input id="import-file" type="file" name="file" required data-testid="import-file"
                accept=move || accepted_files(upload.kind.get())
                aria-invalid=has_error aria-describedby="import-error"
                on:change=on_file />
            <label class="check">
                <input type="checkbox" name="dry_run" value="true" data-testid="import-dry-run"
                    prop:checked=move || upload.dry_run.get()
                    on:change=move |ev| upload.dry_run.set(event_target_checked(&ev)) />
                "Check only (dry run): change nothing, report what would happen"
            </label>
            <button class="button primary" type="submit" data-testid="import-upload"
                disabled=move || upload.busy.get()>
                {move || if upload.busy.get() { "Uploading…" } else { "Upload" }}
            </button>
            <p id="import-error" class="field-error" role="alert" data-testid="import-error">{move || upload.error.get()}</p>
        </form>
    }
}

#[component]
fn RunPanel(
    run: ImportRunView,
    upload: Upload,
    started: Callback<(i64, bool)>,
    can_import: bool,
) -> impl IntoView {
    let title = format!(
        "{} · {} · {}",
        kind_label(run.kind),
        run.file_name,
        if run.dry_run { "check" } else { "apply" }
    );
    let body = if is_running(&run) {
        Either::Left(view! { <Progress run=run.clone() /> })
    } else {
        Either::Right(view! { <Report run=run.clone() upload started can_import /> })
    };
    view! {
        <section class="panel" aria-labelledby="import-run" data-testid="import-run"
            data-status=run.status.as_str()>
            <h2 id="import-run" tabindex="-1">{format!("Import #{}", run.id)}</h2>
            <p class="muted">{title}</p>
            {body}
        </section>
    }
}

#[component]
fn Progress(run: ImportRunView) -> impl IntoView {
    let verb = if run.dry_run { "Checking" } else { "Applying" };
    let (bar, text) = if run.total_rows > 0 {
        (
            Either::Left(view! {
                <progress class="import-progress" max=run.total_rows value=run.processed_rows
                    aria-labelledby="import-progress-text" data-testid="import-progress"></progress>
            }),
            format!(
                "{verb}: {} of {} {}",
                grouped(run.processed_rows),
                grouped(run.total_rows),
                rows_word(run.total_rows)
            ),
        )
    } else {
        (
            Either::Right(view! {
                <progress class="import-progress" aria-labelledby="import-progress-text"
                    data-testid="import-progress"></progress>
            }),
            "Counting the rows…".to_owned(),
        )
    };
    view! {
        <div>
            {bar}
            <p id="import-progress-text" data-testid="import-progress-text">{text}</p>
        </div>
    }
}

#[component]
fn Report(
    run: ImportRunView,
    upload: Upload,
    started: Callback<(i64, bool)>,
    can_import: bool,
) -> impl IntoView {
    let id = run.id;
    let (created, updated, unchanged) = if run.dry_run {
        ("Would be created", "Would be updated", "Would be unchanged")
    } else {
        ("Created", "Updated", "Unchanged")
    };
    let outcome = match (run.status, run.dry_run) {
        (ImportStatus::Failed, dry_run) => {
            let error = run
                .error
                .clone()
                .unwrap_or_else(|| "the import stopped".to_owned());
            let again = if dry_run {
                "Fix the file and check it again."
            } else {
                "Nothing is half done: every committed batch holds whole invoices. Upload the same file again (without the dry run) to go on from the last committed row."
            };
            EitherOf4::A(view! {
                <div class="notice" role="alert" data-testid="import-failed">
                    <p><strong>"The import stopped: "</strong>{error}</p>
                    <p>{again}</p>
                </div>
            })
        }
        (_, true) if run.rejected == 0 => EitherOf4::B(view! {
            <p class="ok" data-testid="import-outcome">{format!("All {} {} can be imported. Nothing was changed yet.", grouped(run.total_rows), rows_word(run.total_rows))}</p>
        }),
        (_, true) => EitherOf4::C(view! {
            <p class="field-error" data-testid="import-outcome">{format!("{} of {} {} cannot be imported. Nothing was changed: correct them in the ERP, export again and check the new file.", grouped(run.rejected), grouped(run.total_rows), rows_word(run.total_rows))}</p>
        }),
        (_, false) => EitherOf4::D(view! {
            <p class="ok" data-testid="import-outcome">{format!("Applied {} of {} {}.", grouped(run.processed_rows - run.rejected), grouped(run.total_rows), rows_word(run.total_rows))}</p>
        }),
    };
    let stat = |label: &'static str, value: i64, warn: bool, testid: &'static str| {
        view! {
            <div class="stat">
                <span class="stat-label">{label}</span>
                <span class=if warn { "stat-value warn" } else { "stat-value" } data-testid=testid>{grouped(value)}</span>
            </div>
        }
    };
    let shown = i64::try_from(run.rejects.len()).unwrap_or(i64::MAX);
    let more = (run.rejected > shown).then(|| {
        view! {
            <p class="muted">{format!("The first {} of {} rejected rows are listed; the report has them all.", grouped(shown), grouped(run.rejected))}</p>
        }
    });
    let rejects = if run.rejects.is_empty() {
        Either::Left(
            view! { <p class="empty" data-testid="import-no-rejects">"No rejected rows."</p> },
        )
    } else {
        Either::Right(view! {
            <div class="table-wrap">
                <table class="invoices" data-testid="import-rejects">
                    <caption class="visually-hidden">"Rejected rows"</caption>
                    <thead>
                        <tr>
                            <th scope="col" class="num">"Line"</th>
                            <th scope="col">"Column"</th>
                            <th scope="col">"Reason"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {run.rejects.iter().map(|r| view! {
                            <tr>
                                <td data-label="Line" class="num">{r.line}</td>
                                <td data-label="Column">{r.column.clone()}</td>
                                <td data-label="Reason">{r.reason.clone()}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })
    };
    let kind = run.kind;
    let apply = if can_import && is_clean_check(&run) {
        let ready = move || upload.checked_run.get() == Some(id);
        Some(view! {
            <Show when=ready fallback=|| view! {
                <p class="muted" data-testid="import-apply-hint">"To apply this file, choose it again above, untick “Check only” and upload it."</p>
            }>
                <button class="button primary" type="button" data-testid="import-apply"
                    disabled=move || upload.busy.get()
                    on:click=move |_| send(upload, kind, false, started)>
                    {move || if upload.busy.get() { "Uploading…" } else { "Apply this file" }}
                </button>
            </Show>
        })
    } else {
        None
    };
    view! {
        <div id="import-report" data-testid="import-report">
            {outcome}
            <div class="stats">
                {stat(created, run.created, false, "import-created")}
                {stat(updated, run.updated, false, "import-updated")}
                {stat(unchanged, run.unchanged, false, "import-unchanged")}
                {stat("Rejected", run.rejected, run.rejected > 0, "import-rejected")}
            </div>
            <h3>"Rejected rows"</h3>
            {rejects}
            {more}
            <p class="actions">
                <a class="button" href=format!("/staff/import/{id}/report.csv") rel="external" download
                    data-testid="import-report-csv">"Download the report (CSV)"</a>
                {apply}
            </p>
        </div>
    }
}

#[component]
fn RunList(list: Vec<ImportRunView>, watched: Memo<Option<i64>>) -> impl IntoView {
    if list.is_empty() {
        return Either::Left(view! {
            <p class="empty" data-testid="import-no-runs">"No import yet."</p>
        });
    }
    Either::Right(view! {
        <div class="table-wrap">
            <table class="invoices" data-testid="import-runs">
                <thead>
                    <tr>
                        <th scope="col">"Import"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"File"</th>
                        <th scope="col">"What"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Rows"</th>
                        <th scope="col" class="num">"Created"</th>
                        <th scope="col" class="num">"Updated"</th>
                        <th scope="col" class="num">"Unchanged"</th>
                        <th scope="col" class="num">"Rejected"</th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|run| {
                        let id = run.id;
                        let current = move || (watched.get() == Some(id)).then_some("true");
                        let mode = if run.dry_run { "check" } else { "apply" };
                        view! {
                            <tr data-testid=format!("import-run-{id}")>
                                <td data-label="Import">
                                    <a href=format!("/staff/import?run={id}") aria-current=current>{format!("#{id}")}</a>
                                </td>
                                <td data-label="Started">{run.started_at.format("%b %-d, %Y %H:%M UTC").to_string()}</td>
                                <td data-label="File">{run.file_name.clone()}</td>
                                <td data-label="What">{format!("{} ({mode})", kind_label(run.kind))}</td>
                                <td data-label="Status">{status_label(&run)}</td>
                                <td data-label="Rows" class="num">{format!("{} / {}", grouped(run.processed_rows), grouped(run.total_rows))}</td>
                                <td data-label="Created" class="num">{grouped(run.created)}</td>
                                <td data-label="Updated" class="num">{grouped(run.updated)}</td>
                                <td data-label="Unchanged" class="num">{grouped(run.unchanged)}</td>
                                <td data-label="Rejected" class="num">{grouped(run.rejected)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1_000_000), "1,000,000");
        assert_eq!(grouped(-12_345), "-12,345");
    }
}
