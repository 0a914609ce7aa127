//! The webhooks page (`/staff/webhooks`, admins): register an endpoint and choose its
//! events, see its signing secret once, turn it on or off, and follow its recent deliveries
//! with the receiver's last answer; dead deliveries can be sent again. Every form is an
//! `ActionForm`, so it works before the wasm arrives.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::webhooks::{
    CreateWebhookEndpoint, DeleteWebhookEndpoint, RedeliverWebhook, RotateWebhookSecret,
    SetWebhookActive, SetWebhookEvents, list_webhooks,
};
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::enums::{DeliveryStatus, WebhookEventKind};
use crate::model::webhooks::{
    ALL_EVENTS, CreatedEndpoint, DeliveryView, EndpointWithDeliveries, check_url, event_label,
};

/// The form field of an event's checkbox.
fn field_name(event: WebhookEventKind) -> &'static str {
    match event {
        WebhookEventKind::ProfileChanged => "profile_changed",
        WebhookEventKind::PaymentReceived => "payment_received",
        WebhookEventKind::PromiseMade => "promise_made",
        WebhookEventKind::PromiseBroken => "promise_broken",
        WebhookEventKind::DisputeOpened => "dispute_opened",
        WebhookEventKind::DisputeResolved => "dispute_resolved",
    }
}

/// What to tell an admin about a failed action or load.
fn message(err: AppError) -> String {
    match err {
        AppError::Validation { message, .. } => message,
        AppError::Conflict(message) => message,
        AppError::Unauthorized => "Please sign in as staff.".to_owned(),
        AppError::Forbidden => "Only admins manage webhooks.".to_owned(),
        AppError::NotFound => "That endpoint or delivery is gone.".to_owned(),
        other => other.to_string(),
    }
}

fn status_label(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "Pending",
        DeliveryStatus::Delivered => "Delivered",
        DeliveryStatus::Dead => "Gave up",
    }
}

/// The page's server actions.
#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateWebhookEndpoint>,
    events: ServerAction<SetWebhookEvents>,
    active: ServerAction<SetWebhookActive>,
    rotate: ServerAction<RotateWebhookSecret>,
    delete: ServerAction<DeleteWebhookEndpoint>,
    redeliver: ServerAction<RedeliverWebhook>,
}

impl Actions {
    fn version(self) -> [usize; 6] {
        [
            self.create.version().get(),
            self.events.version().get(),
            self.active.version().get(),
            self.rotate.version().get(),
            self.delete.version().get(),
            self.redeliver.version().get(),
        ]
    }

    fn failed(self) -> Option<String> {
        [
            self.create.value().get().and_then(Result::err),
            self.events.value().get().and_then(Result::err),
            self.active.value().get().and_then(Result::err),
            self.rotate.value().get().and_then(Result::err),
            self.delete.value().get().and_then(Result::err),
            self.redeliver.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(message)
    }
}

/// `/staff/webhooks`.
#[component]
pub fn StaffWebhooksPage() -> impl IntoView {
    let actions = Actions {
        create: ServerAction::<CreateWebhookEndpoint>::new(),
        events: ServerAction::<SetWebhookEvents>::new(),
        active: ServerAction::<SetWebhookActive>::new(),
        rotate: ServerAction::<RotateWebhookSecret>::new(),
        delete: ServerAction::<DeleteWebhookEndpoint>::new(),
        redeliver: ServerAction::<RedeliverWebhook>::new(),
    };
    let list = resource(move || actions.version(), |_| list_webhooks());
    // The secret of the endpoint created or rotated last: shown once, never fetched again.
    let secret = move || {
        let created = actions.create.value().get().and_then(Result::ok);
        let rotated = actions.rotate.value().get().and_then(Result::ok);
        match (created, rotated) {
            (Some(c), Some(r)) => Some(if c.endpoint.id == r.endpoint.id { r } else { c }),
            (c, r) => c.or(r),
        }
    };
    view! {
        <Title text="Webhooks · Staff" />
        <section class="account-head">
            <div>
                <h1>"Webhooks"</h1>
                <p class="muted">
                    "Settle posts signed JSON to your endpoints when a profile changes, a payment arrives, "
                    "a promise is made or broken, or a dispute is opened or resolved. Failed deliveries "
                    "are retried with growing waits, up to 8 attempts. How to verify a signature: "
                    <code>"docs/webhooks.md"</code> " in Settle's repository."
                </p>
            </div>
            <p class="head-links">
                <a class="button" href="/staff">"Staff home"</a>
            </p>
        </section>
        <p class="field-error" role="alert" data-testid="webhooks-error">{move || actions.failed()}</p>
        {move || secret().map(|created| view! { <SecretOnce created /> })}
        <AddEndpoint action=actions.create />
        <Transition fallback=|| view! { <p class="muted">"Loading endpoints…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(endpoints) if endpoints.is_empty() => view! {
                        <p class="panel empty" data-testid="webhooks-empty">
                            "No endpoints yet. Add the URL your ERP connector listens on above."
                        </p>
                    }.into_any(),
                    Ok(endpoints) => endpoints.into_iter().map(|e| view! {
                        <EndpointPanel item=e actions />
                    }).collect_view().into_any(),
                    Err(err) => view! {
                        <section class="panel notice" role="alert" data-testid="webhooks-load-error">
                            <p>{message(err)}</p>
                            <p><a href="/staff/sign-in">"Staff sign-in"</a></p>
                        </section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The secret of an endpoint just created or rotated.
#[component]
fn SecretOnce(created: CreatedEndpoint) -> impl IntoView {
    view! {
        <section class="panel" role="status" data-testid="webhook-secret">
            <h2>"Signing secret for " {created.endpoint.url}</h2>
            <p>"Copy it now: Settle shows it only this once and keeps it sealed."</p>
            <p><code data-testid="webhook-secret-value">{created.secret}</code></p>
        </section>
    }
}

/// The event checkboxes, ticked as `chosen`.
#[component]
fn EventChoices(chosen: Vec<WebhookEventKind>, prefix: String) -> impl IntoView {
    view! {
        <fieldset class="methods">
            <legend>"Events"</legend>
            {ALL_EVENTS.into_iter().map(|event| {
                let id = format!("{prefix}-{}", field_name(event));
                view! {
                    <label class="check">
                        <input type="checkbox" id=id name=field_name(event) value="on"
                            checked=chosen.contains(&event)
                            data-testid=format!("event-{}", field_name(event)) />
                        " " {event_label(event)} " " <code>{event.as_str()}</code>
                    </label>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// The form that registers an endpoint, checking the URL as it is typed.
#[component]
fn AddEndpoint(action: ServerAction<CreateWebhookEndpoint>) -> impl IntoView {
    let url = RwSignal::new(String::new());
    let url_error = move || {
        let text = url.get();
        if text.trim().is_empty() {
            None
        } else {
            check_url(&text).err()
        }
    };
    view! {
        <ActionForm action attr:class="panel stack" attr:data-testid="add-endpoint">
            <h2>"Add an endpoint"</h2>
            <label>
                "URL"
                <input type="url" name="url" required placeholder="https://erp.example.com/settle-hooks"
                    data-testid="endpoint-url" aria-describedby="endpoint-url-error"
                    on:input=move |ev| url.set(event_target_value(&ev)) />
            </label>
            <p class="field-error" id="endpoint-url-error" data-testid="endpoint-url-error">{url_error}</p>
            <label>
                "Description (optional)"
                <input type="text" name="description" maxlength="200" data-testid="endpoint-description" />
            </label>
            <EventChoices chosen=ALL_EVENTS.to_vec() prefix="new".to_owned() />
            <p class="muted">"https:// is required; http:// only for localhost or 127.0.0.1."</p>
            <button class="button primary" type="submit" data-testid="add-endpoint-submit"
                disabled=move || action.pending().get()>"Add endpoint"</button>
        </ActionForm>
    }
}

/// One endpoint: its settings, its actions and its recent deliveries.
#[component]
fn EndpointPanel(item: EndpointWithDeliveries, actions: Actions) -> impl IntoView {
    let EndpointWithDeliveries {
        endpoint,
        deliveries,
    } = item;
    let id = endpoint.id;
    let prefix = format!("endpoint-{}", endpoint.id);
    let title_id = format!("{prefix}-title");
    let labelled_by = title_id.clone();
    let state = if endpoint.active { "Active" } else { "Off" };
    let toggle_to = if endpoint.active { "false" } else { "true" };
    let toggle_label = if endpoint.active {
        "Turn off"
    } else {
        "Turn on"
    };
    view! {
        <section class="panel" data-testid="webhook-endpoint" aria-labelledby=labelled_by>
            <div class="panel-head">
                <h2 id=title_id><code>{endpoint.url.clone()}</code></h2>
                <span class="badge" data-testid="endpoint-state">{state}</span>
            </div>
            {(!endpoint.description.is_empty()).then(|| view! { <p class="muted">{endpoint.description.clone()}</p> })}
            <ActionForm action=actions.events attr:class="stack">
                <input type="hidden" name="id" value=id.to_string() />
                <EventChoices chosen=endpoint.events.clone() prefix=prefix />
                <button class="button" type="submit" data-testid="save-events">"Save events"</button>
            </ActionForm>
            <div class="actions">
                <ActionForm action=actions.active attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string() />
                    <input type="hidden" name="active" value=toggle_to />
                    <button class="button" type="submit" data-testid="toggle-endpoint">{toggle_label}</button>
                </ActionForm>
                <ActionForm action=actions.rotate attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button class="button" type="submit" data-testid="rotate-secret">"New secret"</button>
                </ActionForm>
                <ActionForm action=actions.delete attr:class="inline">
                    <input type="hidden" name="id" value=id.to_string() />
                    <button class="button" type="submit" data-testid="delete-endpoint"
                        aria-label=format!("Delete the endpoint {}", endpoint.url)>"Delete"</button>
                </ActionForm>
            </div>
            <h3>"Recent deliveries"</h3>
            {if deliveries.is_empty() {
                Either::Left(view! {
                    <p class="muted empty" data-testid="deliveries-empty">"Nothing sent yet."</p>
                })
            } else {
                Either::Right(view! { <Deliveries rows=deliveries redeliver=actions.redeliver /> })
            }}
        </section>
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M:%S UTC").to_string()
}

/// What the "next attempt" cell says.
fn next_attempt(row: &DeliveryView) -> String {
    match row.status {
        DeliveryStatus::Pending => when(row.next_attempt_at),
        DeliveryStatus::Delivered => row
            .delivered_at
            .map(|at| format!("delivered {}", when(at)))
            .unwrap_or_default(),
        DeliveryStatus::Dead => "none".to_owned(),
    }
}

/// An endpoint's deliveries, newest first.
#[component]
fn Deliveries(rows: Vec<DeliveryView>, redeliver: ServerAction<RedeliverWebhook>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="deliveries">
                <thead>
                    <tr>
                        <th scope="col">"Event"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Attempts"</th>
                        <th scope="col" class="num">"Last code"</th>
                        <th scope="col">"Last answer"</th>
                        <th scope="col">"Next attempt"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let next = next_attempt(&row);
                        let answer = match (&row.last_response, &row.last_error) {
                            (Some(body), Some(err)) if !body.is_empty() => format!("{err}: {body}"),
                            (Some(body), _) if !body.is_empty() => body.clone(),
                            (_, Some(err)) => err.clone(),
                            _ => String::new(),
                        };
                        let dead = row.status == DeliveryStatus::Dead;
                        view! {
                            <tr data-testid="delivery">
                                <td data-label="Event"><code>{row.event.as_str()}</code><br /><span class="muted">{row.event_id.clone()}</span></td>
                                <td data-label="Status" data-testid="delivery-status">{status_label(row.status)}</td>
                                <td data-label="Attempts" class="num">{row.attempts}</td>
                                <td data-label="Last code" class="num" data-testid="delivery-code">
                                    {row.last_status_code.map(|c| c.to_string()).unwrap_or_else(|| "—".to_owned())}
                                </td>
                                <td data-label="Last answer"><code class="excerpt">{answer}</code></td>
                                <td data-label="Next attempt">{next}</td>
                                <td>
                                    {dead.then(|| view! {
                                        <ActionForm action=redeliver attr:class="inline">
                                            <input type="hidden" name="id" value=row.id.to_string() />
                                            <button class="button" type="submit" data-testid="redeliver">"Redeliver"</button>
                                        </ActionForm>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
