//! The customer's profile (`/portal/profile`) and the staff review of sensitive changes
//! (`/staff/approvals`).

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::profile::{
    AddProfileContact, ConfirmChange, DecideChange, RemoveProfileContact, RequestSensitiveChange,
    SupplyDocument, UpdateCompany, UpdateMailingAddress, UpdateProfileContact, VerifyProfile,
    get_profile, list_approvals,
};
use crate::components::focus::focus_later;
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::enums::{AddressKind, ChangeStatus};
use crate::model::portal::format_day;
use crate::model::profile::{
    AddressInput, ChangeView, Profile, ProfileContact, SuppliedDocument, check_routing, check_tin,
};

fn field_error(
    value: Option<Result<impl Clone + 'static, AppError>>,
    field: &str,
) -> Option<String> {
    match value {
        Some(Err(AppError::Validation { field: f, message })) if f == field => Some(message),
        _ => None,
    }
}

fn other_error<T>(value: Option<Result<T, AppError>>, fields: &[&str]) -> Option<String> {
    match value {
        Some(Err(AppError::Validation { field, message })) if !fields.contains(&field.as_str()) => {
            Some(message)
        }
        Some(Err(AppError::Validation { .. })) | Some(Ok(_)) | None => None,
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended. Open the link from our email again.".to_owned())
        }
        Some(Err(other)) => Some(other.to_string()),
    }
}

fn status_text(status: ChangeStatus) -> &'static str {
    match status {
        ChangeStatus::AwaitingCode => "waiting for your code",
        ChangeStatus::PendingReview => "awaiting review",
        ChangeStatus::Approved => "approved",
        ChangeStatus::Rejected => "not approved",
        ChangeStatus::Expired => "expired",
    }
}

/// `/portal/profile`.
#[component]
pub fn ProfilePage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let profile = resource(move || refresh.get(), |_| get_profile());
    view! {
        <Title text="Company profile" />
        <Transition fallback=|| view! { <p class="muted">"Loading your profile…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => EitherOf3::A(view! { <ProfileView p refresh /> }),
                    Err(AppError::Unauthorized) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h1>"Please sign in"</h1>
                            <p>"Open the link in our latest email, or "<a href="/portal/sign-in">"get a sign-in link"</a>"."</p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! { <p class="field-error" role="alert">{err.to_string()}</p> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn ProfileView(p: Profile, refresh: RwSignal<u32>) -> impl IntoView {
    let company = ServerAction::<UpdateCompany>::new();
    let verify = ServerAction::<VerifyProfile>::new();
    Effect::new(move |_| {
        if matches!(verify.value().get(), Some(Ok(())))
            || matches!(company.value().get(), Some(Ok(())))
        {
            refresh.update(|n| *n += 1);
        }
    });
    let verified = p.verified_at.map(|at| {
        format!(
            "Last confirmed {} by {}",
            format_day(at),
            p.verified_by.clone().unwrap_or_default()
        )
    });
    let banks = p.bank_accounts.clone();
    let remit = p
        .addresses
        .iter()
        .find(|a| a.kind == AddressKind::RemitTo)
        .map(|a| a.text.clone());
    let mailing = p
        .addresses
        .iter()
        .find(|a| matches!(a.kind, AddressKind::Mailing | AddressKind::Billing))
        .map(|a| a.text.clone());
    let mailing_fields = p
        .addresses
        .iter()
        .find(|a| a.kind == AddressKind::Mailing)
        .map(|a| a.fields.clone())
        .unwrap_or_default();
    let billing_email = p
        .contacts
        .iter()
        .find(|c| c.is_primary_billing)
        .map(|c| c.email.clone());
    // "Make billing contact" on a contact's row fills in and opens the billing email change.
    let billing_pick = RwSignal::new(None::<String>);
    view! {
        <section class="account-head">
            <div>
                <h1>{p.display_name.clone()}</h1>
                <p class="muted" data-testid="verified">{verified.unwrap_or_else(|| "Never confirmed".to_owned())}</p>
            </div>
            <ActionForm action=verify attr:class="inline">
                <button class="button primary" type="submit" data-testid="verify">"Everything here is correct"</button>
            </ActionForm>
            <a class="button" href="/portal">"My account"</a>
        </section>

        <section class="panel" aria-labelledby="company-title">
            <h2 id="company-title">"Company"</h2>
            <ActionForm action=company attr:class="stack">
                <label for="legal-name">"Legal name"</label>
                <input id="legal-name" name="legal_name" value=p.legal_name.clone() required />
                <p class="field-error" role="alert">{move || field_error(company.value().get(), "legal_name")}</p>
                <label for="display-name">"Doing business as"</label>
                <input id="display-name" name="display_name" value=p.display_name.clone() required />
                <p class="field-error" role="alert">{move || field_error(company.value().get(), "display_name")}</p>
                <label for="website">"Website"</label>
                <input id="website" name="website" value=p.website.clone() />
                <p class="field-error" role="alert">{move || field_error(company.value().get(), "website")}{move || other_error(company.value().get(), &["legal_name", "display_name", "website"])}</p>
                <button class="button" type="submit" disabled=move || company.pending().get()>"Save"</button>
                <Show when=move || matches!(company.value().get(), Some(Ok(())))>
                    <p class="ok" role="status">"Saved."</p>
                </Show>
            </ActionForm>
            <p class="muted" data-testid="mailing-address">"Mailing address: " {mailing.unwrap_or_else(|| "none on file".to_owned())}</p>
            <MailingForm current=mailing_fields refresh />
        </section>

        <ContactsPanel contacts=p.contacts.clone() refresh billing_pick />

        <section class="panel" aria-labelledby="sensitive-title">
            <h2 id="sensitive-title">"Payment and tax details"</h2>
            <p class="muted">"Changes here are checked twice: we email you a code to confirm it is you, then our team reviews the change before it takes effect."</p>
            <dl class="fields">
                <div><dt>"Bank accounts"</dt><dd data-testid="bank-accounts">{if banks.is_empty() { "none on file".to_owned() } else { banks.join(", ") }}</dd></div>
                <div><dt>"Remit-to address"</dt><dd>{remit.unwrap_or_else(|| "none on file".to_owned())}</dd></div>
                <div><dt>"TIN"</dt><dd data-testid="tin">{p.tin_masked.clone().unwrap_or_else(|| "none on file".to_owned())}</dd></div>
                <div><dt>"Billing email"</dt><dd>{billing_email.unwrap_or_default()}</dd></div>
            </dl>
            <SensitiveForm kind="bank_account" title="Change bank details" refresh preset=None
                fields=vec![("holder", "Account holder"), ("routing", "Routing number"), ("account", "Account number")] />
            <SensitiveForm kind="tin" title="Change the TIN" refresh preset=None fields=vec![("tin", "EIN or SSN")] />
            <SensitiveForm kind="remit_to" title="Change the remit-to address" refresh preset=None
                fields=vec![("line1", "Street"), ("line2", "Suite (optional)"), ("city", "City"), ("region", "State"), ("postal_code", "ZIP code")] />
            <SensitiveForm kind="billing_email" title="Change the billing email" refresh preset=Some(billing_pick) fields=vec![("email", "New billing email")] />
        </section>

        <section class="panel" aria-labelledby="documents-title">
            <h2 id="documents-title">"Documents we ask for"</h2>
            <ul class="links" data-testid="supplied-documents">
                {p.documents.clone().into_iter().map(|d| view! { <SupplyRow d refresh /> }).collect_view()}
            </ul>
        </section>

        <section class="panel" aria-labelledby="changes-title">
            <h2 id="changes-title">"Your changes"</h2>
            {if p.changes.is_empty() {
                Either::Left(view! { <p class="empty">"No changes yet."</p> })
            } else {
                Either::Right(view! {
                    <ul class="links" data-testid="changes">
                        {p.changes.iter().map(|c| view! {
                            <li>{c.summary.clone()} " — " <strong>{status_text(c.status)}</strong>
                                {c.decision_note.clone().map(|n| format!(" ({n})"))}</li>
                        }).collect_view()}
                    </ul>
                })
            }}
        </section>
    }
}

/// The mailing address: not sensitive, saved at once.
#[component]
fn MailingForm(current: AddressInput, refresh: RwSignal<u32>) -> impl IntoView {
    let save = ServerAction::<UpdateMailingAddress>::new();
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            refresh.update(|n| *n += 1);
        }
    });
    let fields = [
        ("line1", "Street", current.line1),
        ("line2", "Suite (optional)", current.line2),
        ("city", "City", current.city),
        ("region", "State", current.region),
        ("postal_code", "ZIP code", current.postal_code),
    ];
    let names = ["line1", "line2", "city", "region", "postal_code"];
    view! {
        <details class="sensitive">
            <summary>"Change the mailing address"</summary>
            <ActionForm action=save attr:class="stack">
                {fields.into_iter().map(|(name, label, value)| {
                    let id = format!("mailing-{name}");
                    view! {
                        <label for=id.clone()>{label}</label>
                        <input id=id name=name value=value autocomplete="off" />
                        <p class="field-error" role="alert">{move || field_error(save.value().get(), name)}</p>
                    }
                }).collect_view()}
                <p class="field-error" role="alert">{move || other_error(save.value().get(), &names)}</p>
                <button class="button" type="submit" disabled=move || save.pending().get()>"Save the address"</button>
            </ActionForm>
        </details>
    }
}

/// One sensitive change: its fields, then the code step. `preset`, when set, opens the form
/// with its first field filled in.
#[component]
fn SensitiveForm(
    kind: &'static str,
    title: &'static str,
    fields: Vec<(&'static str, &'static str)>,
    refresh: RwSignal<u32>,
    preset: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    let preset_value = move || preset.and_then(|p| p.get());
    let request = ServerAction::<RequestSensitiveChange>::new();
    let confirm = ServerAction::<ConfirmChange>::new();
    let names: Vec<&'static str> = fields.iter().map(|(n, _)| *n).collect();
    let names = StoredValue::new(names);
    Effect::new(move |_| {
        if matches!(confirm.value().get(), Some(Ok(_))) {
            refresh.update(|n| *n += 1);
        }
    });
    // Checked as typed with the server's own rules, where a field has one.
    let typed = RwSignal::new(std::collections::HashMap::<&'static str, String>::new());
    let live_error = move |name: &'static str| {
        let value = typed.with(|t| t.get(name).cloned()).unwrap_or_default();
        if value.is_empty() {
            return None;
        }
        match name {
            "tin" => check_tin(&value).err(),
            "routing" => check_routing(&value).err(),
            _ => None,
        }
    };
    let change_id = move || request.value().get().and_then(Result::ok);
    view! {
        <details class="sensitive" prop:open=move || preset_value().is_some()>
            <summary>{title}</summary>
            <Show
                when=move || change_id().is_some()
                fallback=move || {
                    let fields = fields.clone();
                    view! {
                        <ActionForm action=request attr:class="stack">
                            <input type="hidden" name="kind" value=kind />
                            {fields.into_iter().enumerate().map(|(i, (name, label))| {
                                let id = format!("{kind}-{name}");
                                let preset_here = move || if i == 0 { preset_value() } else { None };
                                view! {
                                    <label for=id.clone()>{label}</label>
                                    <input id=id name=name autocomplete="off" prop:value=move || preset_here().unwrap_or_default()
                                        on:input=move |ev| { let v = event_target_value(&ev); typed.update(|t| { t.insert(name, v); }); } />
                                    <p class="field-error" role="alert">{move || live_error(name).or_else(|| field_error(request.value().get(), name))}</p>
                                }
                            }).collect_view()}
                            <p class="field-error" role="alert">{move || names.with_value(|n| other_error(request.value().get(), n))}</p>
                            <button class="button" type="submit" disabled=move || request.pending().get()>"Continue"</button>
                        </ActionForm>
                    }
                }
            >
                <Show
                    when=move || !matches!(confirm.value().get(), Some(Ok(_)))
                    fallback=|| view! { <p class="ok" role="status" data-testid="awaiting-review">"Thank you. The change is awaiting review by our team; we will email you the outcome."</p> }
                >
                    <ActionForm action=confirm attr:class="stack">
                        <p role="status">"We emailed a 6-digit code to your address. It works for 10 minutes."</p>
                        <input type="hidden" name="id" value=move || change_id().unwrap_or_default().to_string() />
                        <label for=format!("{kind}-code")>"Code from the email"</label>
                        <input id=format!("{kind}-code") name="code" inputmode="numeric" autocomplete="one-time-code" required />
                        <p class="field-error" role="alert">{move || field_error(confirm.value().get(), "code").or_else(|| other_error(confirm.value().get(), &["code"]))}</p>
                        <button class="button primary" type="submit" disabled=move || confirm.pending().get()>"Confirm the change"</button>
                    </ActionForm>
                </Show>
            </Show>
        </details>
    }
}

/// `/staff/approvals`.
#[component]
pub fn StaffApprovalsPage() -> impl IntoView {
    let decide = ServerAction::<DecideChange>::new();
    let list = resource(move || decide.version().get(), |_| list_approvals());
    view! {
        <Title text="Approvals · Staff" />
        <section class="account-head">
            <h1>"Changes awaiting approval"</h1>
            <a class="button" href="/staff">"Staff home"</a>
        </section>
        <p class="field-error" role="alert">{move || decide.value().get().and_then(Result::err).map(|e| match e {
            AppError::Validation { message, .. } => message,
            other => other.to_string(),
        })}</p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(items) if items.is_empty() => EitherOf3::A(view! { <p class="empty" data-testid="no-approvals">"Nothing is waiting."</p> }),
                    Ok(items) => EitherOf3::B(view! {
                        <section class="panel">
                            <ul class="approvals" data-testid="approvals">
                                {items.into_iter().map(|c| approval(c, decide)).collect_view()}
                            </ul>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! {
                        <section class="panel narrow" role="alert"><p>{err.to_string()}</p><p><a href="/staff/sign-in">"Sign in"</a></p></section>
                    }),
                }
            })}
        </Transition>
    }
}

fn approval(c: ChangeView, decide: ServerAction<DecideChange>) -> impl IntoView {
    let id = c.id;
    let note = RwSignal::new(String::new());
    view! {
        <li class="approval" data-testid="approval">
            <p><strong>{c.account.clone()}</strong> ": " {c.summary.clone()}</p>
            <p class="muted">"Asked by " {c.requested_by.clone()} " on " {c.created_at.format("%b %-d, %H:%M").to_string()}</p>
            <div class="actions">
                <button class="button primary" type="button"
                    on:click=move |_| { decide.dispatch(DecideChange { id, approve: true, note: String::new() }); }>"Approve"</button>
                <input aria-label=format!("Reason for rejecting change {id}") placeholder="Reason for rejecting"
                    prop:value=move || note.get() on:input=move |ev| note.set(event_target_value(&ev)) />
                <button class="button" type="button"
                    on:click=move |_| { decide.dispatch(DecideChange { id, approve: false, note: note.get_untracked() }); }>"Reject"</button>
            </div>
        </li>
    }
}

const ROLES: [(&str, &str); 4] = [
    ("ap", "Accounts payable"),
    ("billing", "Billing"),
    ("primary", "Primary"),
    ("other", "Other"),
];

fn role_options(current: &'static str) -> impl IntoView {
    ROLES
        .iter()
        .map(|(key, label)| view! { <option value=*key selected=*key == current>{*label}</option> })
        .collect_view()
}

/// The account's contacts: add, rename, change phone or role, remove.
#[component]
fn ContactsPanel(
    contacts: Vec<ProfileContact>,
    refresh: RwSignal<u32>,
    billing_pick: RwSignal<Option<String>>,
) -> impl IntoView {
    let add = ServerAction::<AddProfileContact>::new();
    let update = ServerAction::<UpdateProfileContact>::new();
    let remove = ServerAction::<RemoveProfileContact>::new();
    Effect::new(move |_| {
        if matches!(add.value().get(), Some(Ok(_)))
            || matches!(update.value().get(), Some(Ok(())))
            || matches!(remove.value().get(), Some(Ok(())))
        {
            refresh.update(|n| *n += 1);
        }
    });
    let remove_error = move || {
        other_error(remove.value().get(), &[])
            .or_else(|| field_error(remove.value().get(), "contact"))
    };
    let update_error = move || {
        ["name", "phone", "role"]
            .iter()
            .find_map(|f| field_error(update.value().get(), f))
            .or_else(|| other_error(update.value().get(), &["name", "phone", "role"]))
    };
    view! {
        <section class="panel" aria-labelledby="contacts-title">
            <h2 id="contacts-title">"Contacts"</h2>
            <div class="table-wrap">
                <table class="invoices" data-testid="profile-contacts">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Email"</th><th scope="col">"Phone"</th><th scope="col">"Role"</th><th scope="col">"Change"</th></tr></thead>
                    <tbody>
                        {contacts.into_iter().map(|c| {
                            let id = c.id;
                            let name = c.name.clone();
                            let remove_label = format!("Remove {}", c.name);
                            let phone = c.phone.clone();
                            let role: &'static str = ROLES.iter().find(|(k, _)| *k == c.role.as_str()).map_or("other", |(k, _)| *k);
                            view! {
                                <tr>
                                    <td data-label="Name">{c.name.clone()}{c.is_primary_billing.then_some(" (billing)")}</td>
                                    <td data-label="Email">{c.email.clone()}</td>
                                    <td data-label="Phone">{c.phone.clone()}</td>
                                    <td data-label="Role">{c.role.as_str()}</td>
                                    <td data-label="Change">
                                        <details>
                                            <summary>{format!("Edit {}", c.name)}</summary>
                                            <ActionForm action=update attr:class="stack">
                                                <input type="hidden" name="id" value=id.to_string() />
                                                <label>"Name" <input name="name" value=name required /></label>
                                                <label>"Phone" <input name="phone" value=phone /></label>
                                                <label>"Role" <select name="role">{role_options(role)}</select></label>
                                                <button class="button" type="submit">"Save"</button>
                                            </ActionForm>
                                        </details>
                                        {(!c.is_primary_billing && !c.email.is_empty()).then(|| {
                                            let email = c.email.clone();
                                            let label = format!("Make {} the billing contact", c.name);
                                            let pick = move |_| {
                                                billing_pick.set(Some(email.clone()));
                                                focus_later("billing_email-email".to_owned());
                                            };
                                            view! {
                                                <button class="link" type="button" aria-label=label on:click=pick>"Make billing contact"</button>
                                            }
                                        })}
                                        {(!c.is_primary_billing).then(|| view! {
                                            <ActionForm action=remove attr:class="inline">
                                                <input type="hidden" name="id" value=id.to_string() />
                                                <button class="link" type="submit" aria-label=remove_label>"Remove"</button>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <p class="field-error" role="alert">{update_error}{remove_error}</p>
            <details class="sensitive">
                <summary>"Add a contact"</summary>
                <ActionForm action=add attr:class="stack">
                    <label for="new-contact-name">"Name"</label>
                    <input id="new-contact-name" name="name" required />
                    <p class="field-error" role="alert">{move || field_error(add.value().get(), "name")}</p>
                    <label for="new-contact-email">"Email"</label>
                    <input id="new-contact-email" name="email" type="email" required />
                    <p class="field-error" role="alert">{move || field_error(add.value().get(), "email")}</p>
                    <label for="new-contact-phone">"Phone (optional)"</label>
                    <input id="new-contact-phone" name="phone" type="tel" />
                    <p class="field-error" role="alert">{move || field_error(add.value().get(), "phone")}</p>
                    <label for="new-contact-role">"Role"</label>
                    <select id="new-contact-role" name="role">{role_options("ap")}</select>
                    <p class="field-error" role="alert">{move || other_error(add.value().get(), &["name", "email", "phone"])}</p>
                    <button class="button" type="submit" disabled=move || add.pending().get()>"Add the contact"</button>
                    <Show when=move || matches!(add.value().get(), Some(Ok(_)))>
                        <p class="ok" role="status" data-testid="contact-added">"Added."</p>
                    </Show>
                </ActionForm>
            </details>
        </section>
    }
}

/// One requested document: its status and a control to upload it.
#[component]
fn SupplyRow(d: SuppliedDocument, refresh: RwSignal<u32>) -> impl IntoView {
    let supply = ServerAction::<SupplyDocument>::new();
    let error = RwSignal::new(None::<String>);
    let uploading = RwSignal::new(false);
    Effect::new(move |_| match supply.value().get() {
        Some(Ok(_)) => refresh.update(|n| *n += 1),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let kind = d.kind.clone();
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
            let kind = kind.clone();
            leptos::task::spawn_local(async move {
                match crate::pages::invoice::upload(file).await {
                    Ok(saved) => {
                        supply.dispatch(SupplyDocument {
                            kind,
                            file_id: saved.id,
                        });
                    }
                    Err(message) => error.set(Some(message)),
                }
                uploading.set(false);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, &kind, uploading, error);
    };
    let status = match &d.latest {
        None => "missing".to_owned(),
        Some((_, _, on)) => format!("received {on}"),
    };
    view! {
        <li data-kind=d.kind.clone()>
            <strong>{d.label.clone()}</strong> " — " <span data-testid="supplied-status">{status}</span>
            " "
            <label class="button">
                {if d.latest.is_some() { "Upload a newer one" } else { "Upload" }}
                <input type="file" class="visually-hidden" accept="application/pdf,image/*"
                    aria-label=format!("Upload the {}", d.label) on:change=on_change />
            </label>
            <Show when=move || uploading.get() || supply.pending().get()>
                <span class="muted" role="status">"Uploading…"</span>
            </Show>
            <span class="field-error" role="alert">{move || error.get()}</span>
        </li>
    }
}
