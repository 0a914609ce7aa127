//! The API keys page (`/staff/api-keys`, admins): every key with its scope and when it was
//! last used, a form that creates one and shows it once, and revocation after a confirmation.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::api_keys::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::api_keys::{ApiKeyView, CreatedApiKey, MAX_NAME_CHARS, scope_label};

fn error_text(err: AppError) -> String {
    match err {
        AppError::Unauthorized => "Please sign in as staff.".to_owned(),
        AppError::Forbidden => "Only admins manage API keys.".to_owned(),
        AppError::Validation { message, .. } => message,
        other => other.to_string(),
    }
}

#[component]
pub fn StaffApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = resource(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    view! {
        <Title text="API keys" />
        <section class="panel">
            <h1>"API keys"</h1>
            <p class="muted">
                "Keys let your ERP or another system use Settle's REST API at "
                <code>"/api/v1"</code> " (described in " <a href="/api/v1/openapi.json">"openapi.json"</a>
                "). Send a key as " <code>"Authorization: Bearer KEY"</code>
                ". Each key may make 600 requests a minute."
            </p>
        </section>
        <section class="panel">
            <h2>"New key"</h2>
            <ActionForm action=create attr:class="stack">
                <label for="api-key-name">"Name"</label>
                <input id="api-key-name" name="name" required maxlength=MAX_NAME_CHARS.to_string() placeholder="NetSuite connector" autocomplete="off" />
                <label for="api-key-scope">"Scope"</label>
                <select id="api-key-scope" name="scope">
                    <option value="read">"Read only: lists, records and the change feed"</option>
                    <option value="read_write">"Read and write: also creates invoices and payments"</option>
                </select>
                <div class="actions">
                    <button class="button primary" type="submit">"Create key"</button>
                </div>
            </ActionForm>
            {move || create.value().get().map(|r| match r {
                Ok(created) => Either::Left(view! { <NewKey created /> }),
                Err(err) => Either::Right(view! { <p class="field-error" role="alert">{error_text(err)}</p> }),
            })}
        </section>
        <section class="panel">
            <h2>"Keys"</h2>
            {move || revoke.value().get().and_then(|r| r.err()).map(|err| view! {
                <p class="field-error" role="alert">{error_text(err)}</p>
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(rows) if rows.is_empty() => EitherOf3::A(view! {
                            <p class="empty" data-testid="no-api-keys">"No API keys yet. Create one above for each system that connects to Settle."</p>
                        }),
                        Ok(rows) => EitherOf3::B(view! { <KeyTable rows revoke /> }),
                        Err(err) => EitherOf3::C(view! {
                            <div class="notice" role="alert">
                                <p>{error_text(err)}</p>
                                <p><a href="/staff/sign-in">"Staff sign-in"</a></p>
                            </div>
                        }),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The key just created, shown this once.
#[component]
fn NewKey(created: CreatedApiKey) -> impl IntoView {
    view! {
        <div class="notice" role="status" data-testid="new-api-key">
            <p>
                <strong>{format!("Key “{}” created. ", created.key.name)}</strong>
                "Copy it now: Settle keeps only a fingerprint and cannot show it again."
            </p>
            <label for="new-api-key-value">"The key (select it and copy)"</label>
            <input id="new-api-key-value" class="mono" readonly value=created.secret size="60" />
        </div>
    }
}

#[component]
fn KeyTable(rows: Vec<ApiKeyView>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="api-keys">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Scope"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|k| view! { <KeyRow key=k revoke /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyRow(key: ApiKeyView, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let created = match &key.created_by {
        Some(by) => format!("{} by {by}", key.created_at),
        None => key.created_at.clone(),
    };
    let status = match &key.revoked_at {
        Some(at) => format!("Revoked {at}"),
        None => "Active".to_owned(),
    };
    let revoked = key.revoked_at.is_some();
    let id = key.id;
    let question = format!("Revoke “{}”? Systems using it stop at once. ", key.name);
    view! {
        <tr>
            <td data-label="Name">{key.name.clone()}</td>
            <td data-label="Key"><code>{format!("{}…", key.prefix)}</code></td>
            <td data-label="Scope">{scope_label(key.scope)}</td>
            <td data-label="Created">{created}</td>
            <td data-label="Last used">{key.last_used_at.clone().unwrap_or_else(|| "Never".to_owned())}</td>
            <td data-label="Status">{status}</td>
            <td>
                {(!revoked).then(|| view! {
                    {move || if confirming.get() {
                        let question = question.clone();
                        Either::Left(view! {
                            <ActionForm action=revoke attr:class="inline">
                                <input type="hidden" name="id" value=id />
                                <span>{question}</span>
                                <button class="button danger" type="submit">"Yes, revoke"</button>
                                " "
                                <button class="button" type="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                            </ActionForm>
                        })
                    } else {
                        Either::Right(view! {
                            <button class="button" type="button" on:click=move |_| confirming.set(true)>"Revoke…"</button>
                        })
                    }}
                })}
            </td>
        </tr>
    }
}
