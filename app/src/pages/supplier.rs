//! The supplier's public profile (`/supplier`): what customers need to pay and to reach
//! receivables, a vCard for their address book, and for staff a form that emails it to
//! contacts.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::staff::get_staff_me;
use crate::api::supplier_profile::{ShareSupplierProfile, SupplierCard, get_supplier_card};
use crate::error::AppError;
use crate::model::enums::StaffRole;

/// How many contacts one share may reach (the server checks it too).
const MAX_CONTACTS: usize = 50;

#[component]
pub fn SupplierPage() -> impl IntoView {
    let card = Resource::new(|| (), |_| get_supplier_card());
    // Asked from the browser only: a visitor who is not staff must not turn this public
    // page's response into a 401.
    let me = LocalResource::new(get_staff_me);
    let staff_part = move || match me.get() {
        Some(Ok(me)) if me.role == StaffRole::Viewer => Some(Either::Left(view! {
            <p class="muted">"Collectors and admins can email this profile to customers."</p>
        })),
        Some(Ok(_)) => Some(Either::Right(view! { <ShareForm /> })),
        Some(Err(_)) | None => None,
    };
    view! {
        <Title text="Our billing details" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match card.await {
                    Ok(card) => EitherOf3::A(view! { <CardView card /> }),
                    Err(AppError::NotFound) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h1>"No profile yet"</h1>
                            <p>"The supplier's profile has not been set up."</p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! { <p class="field-error" role="alert">{err.to_string()}</p> }),
                }
            })}
        </Transition>
        {staff_part}
    }
}

#[component]
fn CardView(card: SupplierCard) -> impl IntoView {
    let tin = card.tin_text();
    let remit_lines: Vec<String> = card
        .remit_to
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let website = card.website.clone().map(|w| {
        if w.starts_with("https://") || w.starts_with("http://") {
            Either::Left(view! { <a href=w.clone() rel="external">{w.clone()}</a> })
        } else {
            Either::Right(w)
        }
    });
    let phone = card.phone.clone().map(|p| {
        let tel: String = p
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect();
        view! { <a href=format!("tel:{tel}")>{p}</a> }
    });
    let contacts = if card.ar_contacts.is_empty() {
        Either::Left(view! { <p class="muted">"Write to the email address above."</p> })
    } else {
        Either::Right(view! {
            <ul class="links" data-testid="ar-contacts">
                {card.ar_contacts.iter().map(|c| view! {
                    <li>{c.name.clone()} " — " <a href=format!("mailto:{}", c.email)>{c.email.clone()}</a></li>
                }).collect_view()}
            </ul>
        })
    };
    view! {
        <section class="panel" data-testid="supplier-card" aria-labelledby="supplier-name">
            <div class="panel-head">
                <div>
                    <h1 id="supplier-name">{card.name.clone()}</h1>
                    <p class="muted">{card.legal_name.clone()}</p>
                </div>
                <a class="button" href="/supplier.vcf" download="" rel="external" data-testid="vcard">"Download contact card (vCard)"</a>
            </div>
            <dl class="fields">
                <div><dt>"Email"</dt><dd><a href=format!("mailto:{}", card.email)>{card.email.clone()}</a></dd></div>
                {phone.map(|p| view! { <div><dt>"Phone"</dt><dd>{p}</dd></div> })}
                {website.map(|w| view! { <div><dt>"Website"</dt><dd>{w}</dd></div> })}
                <div>
                    <dt>"Send payments to"</dt>
                    <dd data-testid="remit-to">{remit_lines.into_iter().map(|l| view! { {l}<br /> }).collect_view()}</dd>
                </div>
                <div><dt>"Invoices in"</dt><dd>{card.currency.clone()}</dd></div>
                <div><dt>"Tax id"</dt><dd data-testid="tin">{tin}</dd></div>
            </dl>
            <h2 class="small">"Accounts receivable"</h2>
            {contacts}
        </section>
    }
}

/// Contact ids as typed: numbers separated by commas (spaces allowed).
fn parse_ids(text: &str) -> Result<Vec<i64>, String> {
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<i64>() {
            Ok(id) if id > 0 => ids.push(id),
            _ => {
                return Err(format!(
                    "“{part}” is not a contact id: use numbers like 12, 15"
                ));
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        Err("enter at least one contact id".to_owned())
    } else if ids.len() > MAX_CONTACTS {
        Err(format!(
            "share with at most {MAX_CONTACTS} contacts at a time"
        ))
    } else {
        Ok(ids)
    }
}

#[component]
fn ShareForm() -> impl IntoView {
    let share = ServerAction::<ShareSupplierProfile>::new();
    let text = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    Effect::new(move |_| {
        if matches!(share.value().get(), Some(Ok(_))) {
            text.set(String::new());
            tried.set(false);
        }
    });
    let field_error = move || {
        if tried.get()
            && let Err(message) = text.with(|t| parse_ids(t))
        {
            return Some(message);
        }
        match share.value().get() {
            Some(Err(AppError::Validation { field, message })) if field == "contacts" => {
                Some(message)
            }
            _ => None,
        }
    };
    let other_error = move || match share.value().get() {
        Some(Err(AppError::Validation { field, .. })) if field == "contacts" => None,
        Some(Err(AppError::Validation { message, .. })) => Some(message),
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended. Sign in as staff again.".to_owned())
        }
        Some(Err(AppError::Forbidden)) => {
            Some("Only collectors and admins can share the profile.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
        Some(Ok(_)) | None => None,
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        if share.pending().get_untracked() {
            return;
        }
        if let Ok(contact_ids) = text.with_untracked(|t| parse_ids(t)) {
            share.dispatch(ShareSupplierProfile { contact_ids });
        }
    };
    view! {
        <section class="panel" aria-labelledby="share-title">
            <h2 id="share-title">"Email this profile to contacts"</h2>
            <p class="muted" id="share-note">
                "Each contact with an email address gets the details above with links to this page and the vCard; "
                "contacts without one are skipped. Up to " {MAX_CONTACTS} " contacts at a time."
            </p>
            <form class="stack" novalidate=true on:submit=on_submit>
                <label for="share-contacts">"Contact ids (comma separated)"</label>
                <input
                    id="share-contacts"
                    name="contact_ids"
                    inputmode="numeric"
                    autocomplete="off"
                    placeholder="12, 15, 31"
                    aria-describedby="share-note share-contacts-error"
                    aria-invalid=move || if field_error().is_some() { "true" } else { "false" }
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                />
                <p id="share-contacts-error" class="field-error" role="alert">{field_error}</p>
                <button class="button primary" type="submit" disabled=move || share.pending().get()>
                    {move || if share.pending().get() { "Sharing…" } else { "Share" }}
                </button>
                <p class="field-error" role="alert">{other_error}</p>
                {move || match share.value().get() {
                    Some(Ok(n)) => Some(view! {
                        <p class="ok" role="status" data-testid="shared">
                            {format!("Sent to {n} {}", if n == 1 { "contact" } else { "contacts" })}
                        </p>
                    }),
                    _ => None,
                }}
            </form>
        </section>
    }
}
