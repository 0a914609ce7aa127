//! Staff administration pages: undeliverable mail, and the template editor with preview.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::admin::{PreviewTemplate, RetryMail, SaveTemplate, list_dead_mail, list_templates};
use crate::components::resource::resource;
use crate::components::staff_error::StaffError;
use crate::error::AppError;
use crate::model::staff::TemplateDraft;

#[component]
pub fn DeadMailPage() -> impl IntoView {
    let retry = ServerAction::<RetryMail>::new();
    let dead = resource(move || retry.version().get(), |_| list_dead_mail());
    view! {
        <Title text="Undelivered mail" />
        <section class="panel">
            <h1>"Undelivered mail"</h1>
            <p class="muted">"Emails Settle stopped trying to send. Fix the address or the mail server, then retry."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match dead.await {
                        Ok(rows) if rows.is_empty() => Either::Left(view! { <p class="empty" data-testid="no-dead-mail">"Every email went out. Nothing to retry."</p> }.into_any()),
                        Ok(rows) => Either::Left(view! {
                            <div class="table-wrap">
                                <table>
                                    <thead><tr><th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Tries"</th><th scope="col">"Last error"</th><th scope="col">"Queued"</th><th scope="col"></th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|m| view! {
                                            <tr>
                                                <td data-label="To">{m.to}</td>
                                                <td data-label="Subject">{m.subject}</td>
                                                <td data-label="Tries" class="num">{m.attempts}</td>
                                                <td data-label="Last error">{m.last_error.unwrap_or_default()}</td>
                                                <td data-label="Queued">{m.created_at}</td>
                                                <td>
                                                    <ActionForm action=retry attr:class="inline">
                                                        <input type="hidden" name="id" value=m.id />
                                                        <button class="button" type="submit">"Retry"</button>
                                                    </ActionForm>
                                                </td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()),
                        Err(err) => Either::Right(view! { <StaffError err /> }),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn TemplatesPage() -> impl IntoView {
    let templates = resource(|| (), |_| list_templates());
    view! {
        <Title text="Templates" />
        <section class="panel">
            <h1>"Email templates"</h1>
            <p class="muted">
                "Placeholders in double braces, like " <code>"{{ contact_name }}"</code>
                ", are filled in when mail is sent. Every customer email gets the “Not the right person?” footer."
            </p>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Ok(list) => Either::Left(list.into_iter().map(|t| view! { <TemplateEditor draft=t /> }).collect_view()),
                    Err(err) => Either::Right(view! { <StaffError err /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn TemplateEditor(draft: TemplateDraft) -> impl IntoView {
    let preview = ServerAction::<PreviewTemplate>::new();
    let save = ServerAction::<SaveTemplate>::new();
    let subject = RwSignal::new(draft.subject.clone());
    let text = RwSignal::new(draft.body_text.clone());
    let html = RwSignal::new(draft.body_html.clone().unwrap_or_default());
    let version = RwSignal::new(draft.version);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            version.update(|v| *v += 1);
        }
    });
    let id = format!("tpl-{}", draft.key);
    let (subject_id, text_id, html_id) = (
        format!("{id}-subject"),
        format!("{id}-text"),
        format!("{id}-html"),
    );
    let show_preview = move |_| {
        preview.dispatch(PreviewTemplate {
            subject: subject.get(),
            body_text: text.get(),
            body_html: Some(html.get()),
        });
    };
    let status = move || match save.value().get() {
        Some(Ok(())) => Some(Either::Left(
            view! { <p class="ok" role="status">"Saved."</p> },
        )),
        Some(Err(err)) => Some(Either::Right(
            view! { <p class="field-error" role="alert">{message(err)}</p> },
        )),
        None => None,
    };
    view! {
        <section class="panel" data-testid=id>
            <h2>{draft.name.clone()} " " <code class="small">{draft.key.clone()}</code></h2>
            <ActionForm action=save attr:class="stack">
                <input type="hidden" name="key" value=draft.key.clone() />
                <input type="hidden" name="version" prop:value=move || version.get().to_string() />
                <label for=subject_id.clone()>"Subject"</label>
                <input id=subject_id name="subject" prop:value=move || subject.get() on:input=move |ev| subject.set(event_target_value(&ev)) />
                <label for=text_id.clone()>"Text part"</label>
                <textarea id=text_id name="body_text" rows="8" prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                <label for=html_id.clone()>"HTML part (optional; values are escaped)"</label>
                <textarea id=html_id name="body_html" rows="6" prop:value=move || html.get() on:input=move |ev| html.set(event_target_value(&ev))></textarea>
                {status}
                <div class="actions">
                    <button class="button" type="button" on:click=show_preview>"Preview"</button>
                    <button class="button primary" type="submit">"Save"</button>
                </div>
            </ActionForm>
            {move || preview.value().get().map(|r| match r {
                Ok(p) => Either::Left(view! {
                    <div class="preview" data-testid="preview">
                        <p><strong>"Subject: "</strong>{p.subject}</p>
                        <pre>{p.text}</pre>
                    </div>
                }),
                Err(err) => Either::Right(view! { <p class="field-error" role="alert">{message(err)}</p> }),
            })}
        </section>
    }
}

fn message(err: AppError) -> String {
    match err {
        AppError::Validation { message, .. } => message,
        AppError::Conflict(message) => message,
        other => other.to_string(),
    }
}
