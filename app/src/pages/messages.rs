//! Secure messages: the customer's thread with its "Send us a message" form, and the
//! staff inbox of threads with the reply form.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::messages::{Reply, SendMessage, get_thread, list_messages, list_threads};
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::messages::{MESSAGE_MAX_CHARS, MessageView, check_body};

fn message_item(m: MessageView) -> impl IntoView {
    let when = m.sent_at.format("%b %-d, %Y %H:%M UTC").to_string();
    view! {
        <li class="message" class:from-staff=m.from_staff data-testid="message">
            <p class="message-meta">
                <strong>{m.author}</strong>
                " · " <time datetime=m.sent_at.to_rfc3339()>{when}</time>
                {m.document.map(|d| format!(" · about {d}"))}
            </p>
            <p class="message-body">{m.body}</p>
        </li>
    }
}

fn thread_view(messages: Vec<MessageView>, empty: &'static str) -> impl IntoView {
    if messages.is_empty() {
        Either::Left(view! { <p class="empty" data-testid="no-messages">{empty}</p> })
    } else {
        Either::Right(view! {
            <ol class="thread" data-testid="thread">{messages.into_iter().map(message_item).collect_view()}</ol>
        })
    }
}

/// A textarea checked as it is typed with the rule the server applies.
#[component]
fn BodyField(
    body: RwSignal<String>,
    tried: RwSignal<bool>,
    server_error: Signal<Option<String>>,
) -> impl IntoView {
    let error = move || {
        body.with(|b| check_body(b).err())
            .filter(|_| tried.get())
            .or_else(|| server_error.get())
    };
    let count = move || body.with(|b| b.chars().count());
    view! {
        <label for="message-body">"Message"</label>
        <textarea id="message-body" name="body" rows="4" maxlength=MESSAGE_MAX_CHARS.to_string()
            aria-describedby="message-body-error"
            aria-invalid=move || if error().is_some() { "true" } else { "false" }
            prop:value=move || body.get()
            on:input=move |ev| body.set(event_target_value(&ev))></textarea>
        <p class="muted small">{move || format!("{} / {MESSAGE_MAX_CHARS}", count())}</p>
        <p id="message-body-error" class="field-error" role="alert">{error}</p>
    }
}

fn error_message(result: Option<Result<MessageView, AppError>>) -> Option<String> {
    match result {
        Some(Err(AppError::Validation { message, .. })) => Some(message),
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended. Please sign in again.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
        _ => None,
    }
}

/// `/portal/messages`: the account's thread and the form to write to us. `?document=ID`
/// makes the message about that document.
#[component]
pub fn PortalMessagesPage() -> impl IntoView {
    let send = ServerAction::<SendMessage>::new();
    let thread = resource(move || send.version().get(), |_| list_messages());
    let query = use_query_map();
    let document_id = move || {
        query
            .read()
            .get("document")
            .and_then(|d| d.parse::<i64>().ok())
    };
    let body = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(send.value().get(), Some(Ok(_))) {
            body.set(String::new());
            tried.set(false);
        }
    });
    let server_error = Signal::derive(move || error_message(send.value().get()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if body.with(|b| check_body(b).is_err()) || send.pending().get_untracked() {
            return;
        }
        send.dispatch(SendMessage {
            body: body.get_untracked(),
            document_id: document_id(),
        });
    };
    view! {
        <Title text="Messages" />
        <section class="account-head">
            <div>
                <h1>"Messages"</h1>
                <p class="muted">"Write to our accounts team. We answer here and by email."</p>
            </div>
            <a class="button" href="/portal">"My account"</a>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading messages…"</p> }>
            {move || Suspend::new(async move {
                match thread.await {
                    Ok(list) => EitherOf3::A(view! {
                        <section class="panel" aria-label="Conversation">{thread_view(list, "No messages yet.")}</section>
                    }),
                    Err(AppError::Unauthorized) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h2>"Please sign in"</h2>
                            <p><a href="/portal/sign-in">"Get a sign-in link"</a>" to write to us."</p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! { <p class="field-error" role="alert">{err.to_string()}</p> }),
                }
            })}
        </Transition>
        <section class="panel" aria-labelledby="write-title">
            <h2 id="write-title">"Send us a message"</h2>
            <form class="stack" novalidate=true on:submit=on_submit>
                {move || document_id().map(|_| view! { <p class="muted" data-testid="message-about">"About the document you came from."</p> })}
                <BodyField body tried server_error />
                <button class="button primary" type="submit" disabled=move || send.pending().get()>
                    {move || if send.pending().get() { "Sending…" } else { "Send" }}
                </button>
                <Show when=move || matches!(send.value().get(), Some(Ok(_)))>
                    <p class="ok" role="status" data-testid="message-sent">"Sent. We will reply here and by email."</p>
                </Show>
            </form>
        </section>
    }
}

/// `/staff/messages`: every thread, the ones awaiting a reply first.
#[component]
pub fn StaffMessagesPage() -> impl IntoView {
    let threads = resource(|| (), |_| list_threads());
    view! {
        <Title text="Messages · Staff" />
        <section class="account-head">
            <h1>"Customer messages"</h1>
            <a class="button" href="/staff">"Staff home"</a>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match threads.await {
                    Ok(list) if list.is_empty() => EitherOf3::A(view! { <p class="empty">"No messages yet."</p> }),
                    Ok(list) => EitherOf3::B(view! {
                        <section class="panel">
                            <table class="invoices" data-testid="threads">
                                <thead><tr>
                                    <th scope="col">"Account"</th>
                                    <th scope="col">"Last message"</th>
                                    <th scope="col">"When"</th>
                                    <th scope="col">"State"</th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|t| view! {
                                        <tr class:late=t.awaiting_reply>
                                            <td data-label="Account"><a href=format!("/staff/messages/{}", t.account_id)>{t.account_name} " (" {t.account_number} ")"</a></td>
                                            <td data-label="Last message">{t.last_body}</td>
                                            <td data-label="When">{t.last_at.format("%b %-d %H:%M").to_string()}</td>
                                            <td data-label="Status">{if t.awaiting_reply { "awaiting reply" } else { "answered" }}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </section>
                    }),
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

/// `/staff/messages/:account`: one thread and the reply form.
#[component]
pub fn StaffThreadPage() -> impl IntoView {
    let params = use_params_map();
    let account_id = move || {
        params
            .read()
            .get("account")
            .and_then(|a| a.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let reply = ServerAction::<Reply>::new();
    let thread = resource(
        move || (account_id(), reply.version().get()),
        |(id, _)| get_thread(id),
    );
    let body = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(reply.value().get(), Some(Ok(_))) {
            body.set(String::new());
            tried.set(false);
        }
    });
    let server_error = Signal::derive(move || error_message(reply.value().get()));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if body.with(|b| check_body(b).is_err()) || reply.pending().get_untracked() {
            return;
        }
        reply.dispatch(Reply {
            account_id: account_id(),
            body: body.get_untracked(),
        });
    };
    view! {
        <Title text="Conversation · Staff" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match thread.await {
                    Ok(t) => Either::Left(view! {
                        <section class="account-head">
                            <div>
                                <h1>{t.account_name}</h1>
                                <p class="muted">"Account " {t.account_number}</p>
                            </div>
                            <a class="button" href="/staff/messages">"All messages"</a>
                        </section>
                        <section class="panel" aria-label="Conversation">{thread_view(t.messages, "No messages on this account.")}</section>
                    }),
                    Err(err) => Either::Right(view! { <p class="field-error" role="alert">{err.to_string()}</p> }),
                }
            })}
        </Transition>
        <section class="panel" aria-labelledby="reply-title">
            <h2 id="reply-title">"Reply"</h2>
            <form class="stack" novalidate=true on:submit=on_submit>
                <BodyField body tried server_error />
                <button class="button primary" type="submit" disabled=move || reply.pending().get()>
                    {move || if reply.pending().get() { "Sending…" } else { "Send reply" }}
                </button>
                <Show when=move || matches!(reply.value().get(), Some(Ok(_)))>
                    <p class="ok" role="status" data-testid="reply-sent">"Sent, and emailed to the customer."</p>
                </Show>
            </form>
        </section>
    }
}
