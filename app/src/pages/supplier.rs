//! The supplier's public profile (`/supplier`): what customers need to pay and to reach
//! receivables, a vCard for their address book, and for staff a form that emails it to
//! contacts.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::staff::get_staff_me;
use crate::api::supplier_profile::{
    ContactChoice, ShareSupplierProfile, SupplierCard, find_share_contacts, get_supplier_card,
};
use crate::components::focus::focus_later;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::enums::StaffRole;

/// How many contacts one share may reach (the server checks it too).
const MAX_CONTACTS: usize = 50;

#[component]
pub fn SupplierPage() -> impl IntoView {
    let card = resource(|| (), |_| get_supplier_card());
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

#[component]
fn ShareForm() -> impl IntoView {
    let share = ServerAction::<ShareSupplierProfile>::new();
    let query = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<ContactChoice>::new());
    let tried = RwSignal::new(false);
    // Asked once at least two characters are typed; stale answers are dropped by the
    // resource itself.
    let found = LocalResource::new(move || {
        let q = query.get();
        async move {
            if q.trim().chars().count() < 2 {
                Ok(Vec::new())
            } else {
                find_share_contacts(q).await
            }
        }
    });
    Effect::new(move |_| {
        if matches!(share.value().get(), Some(Ok(_))) {
            chosen.set(Vec::new());
            query.set(String::new());
            tried.set(false);
        }
    });
    let field_error = move || {
        let count = chosen.with(Vec::len);
        if tried.get() && count == 0 {
            return Some("pick at least one contact".to_owned());
        }
        if count > MAX_CONTACTS {
            return Some(format!(
                "share with at most {MAX_CONTACTS} contacts at a time"
            ));
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
        if share.pending().get_untracked() || field_error().is_some() {
            return;
        }
        let contact_ids = chosen.with_untracked(|c| c.iter().map(|c| c.id).collect());
        share.dispatch(ShareSupplierProfile { contact_ids });
    };
    let pick = move |c: ContactChoice| {
        chosen.update(|list| {
            if !list.iter().any(|x| x.id == c.id) {
                list.push(c);
            }
        });
        focus_later("share-search".to_owned());
    };
    let results = move || {
        let found = found.get().and_then(Result::ok).unwrap_or_default();
        let typed = query.with(|q| q.trim().chars().count() >= 2);
        if !typed {
            return Either::Left(None);
        }
        if found.is_empty() {
            return Either::Left(Some(
                view! { <p class="muted" data-testid="no-contacts-found">"No contact matches."</p> },
            ));
        }
        Either::Right(view! {
            <ul class="links" data-testid="contact-results">
                {found.into_iter().map(|c| {
                    let label = format!("Add {} <{}>, {}", c.name, c.email, c.company);
                    let text = format!("{} <{}> — {}", c.name, c.email, c.company);
                    let already = chosen.with_untracked(|l| l.iter().any(|x| x.id == c.id));
                    view! {
                        <li>
                            <button class="link" type="button" aria-label=label disabled=already
                                on:click=move |_| pick(c.clone())>{text}</button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })
    };
    view! {
        <section class="panel" aria-labelledby="share-title">
            <h2 id="share-title">"Email this profile to contacts"</h2>
            <p class="muted" id="share-note">
                "Each contact you pick gets the details above with links to this page and the vCard. Up to "
                {MAX_CONTACTS} " contacts at a time."
            </p>
            <form class="stack" novalidate=true on:submit=on_submit>
                <label for="share-search">"Find contacts by name, email or company"</label>
                <input
                    id="share-search"
                    type="search"
                    autocomplete="off"
                    aria-describedby="share-note share-contacts-error"
                    aria-controls="share-results"
                    prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev))
                />
                <div id="share-results" aria-live="polite">{results}</div>
                <h3 class="small">"Sending to"</h3>
                {move || {
                    let list = chosen.get();
                    if list.is_empty() {
                        Either::Left(view! { <p class="muted" data-testid="no-contacts-chosen">"Nobody yet."</p> })
                    } else {
                        Either::Right(view! {
                            <ul class="links" data-testid="chosen-contacts">
                                {list.into_iter().map(|c| {
                                    let id = c.id;
                                    let label = format!("Remove {}", c.name);
                                    view! {
                                        <li>{format!("{} <{}> — {}", c.name, c.email, c.company)} " "
                                            <button class="link" type="button" aria-label=label
                                                on:click=move |_| chosen.update(|l| l.retain(|x| x.id != id))>"Remove"</button>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        })
                    }
                }}
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
