//! The registration page named in our letters: the account number and a second fact from
//! the letter, then the billing contact who should get our mail from now on.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::registration::Register;
use crate::error::AppError;
use crate::model::registration::{FACT_MAX_CHARS, NAME_MAX_CHARS, PHONE_MAX_CHARS};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<Register>::new();
    let error_for = move |field: &'static str| {
        move || match register.value().get() {
            Some(Err(AppError::Validation { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let other_error = move || match register.value().get() {
        Some(Err(AppError::Validation { .. })) | Some(Ok(())) | None => None,
        Some(Err(other)) => Some(other.to_string()),
    };
    let query = use_query_map();
    // A letter may link here with its account number filled in.
    let account = StoredValue::new(query.read_untracked().get("account").unwrap_or_default());
    let done = move || {
        query.read().get("done").is_some() || matches!(register.value().get(), Some(Ok(())))
    };
    view! {
        <Title text="Register for online billing" />
        <section class="panel narrow">
            <Show
                when=done
                fallback=move || view! {
                    <h1>"Register for online billing"</h1>
                    <p>"Use the account number from our letter and one more detail we both know. "
                        "Then tell us who should receive our invoices and statements by email."</p>
                    <ActionForm action=register attr:class="stack">
                        <label for="reg-account">"Account number"</label>
                        <input id="reg-account" name="account_number" autocomplete="off" required
                            maxlength=FACT_MAX_CHARS.to_string() value=account.get_value()
                            aria-describedby="reg-account-error" />
                        <p id="reg-account-error" class="field-error" role="alert">{error_for("account_number")}</p>
                        <label for="reg-fact">"Billing ZIP code, or the amount of one open invoice"</label>
                        <p id="reg-fact-hint" class="muted">"For example 60601, or 1,234.56 from the statement in the letter."</p>
                        <input id="reg-fact" name="second_fact" autocomplete="off" required
                            maxlength=FACT_MAX_CHARS.to_string()
                            aria-describedby="reg-fact-hint reg-fact-error" />
                        <p id="reg-fact-error" class="field-error" role="alert">{error_for("second_fact")}</p>
                        <h2>"Billing contact"</h2>
                        <label for="reg-name">"Name"</label>
                        <input id="reg-name" name="name" autocomplete="name" required
                            maxlength=NAME_MAX_CHARS.to_string() aria-describedby="reg-name-error" />
                        <p id="reg-name-error" class="field-error" role="alert">{error_for("name")}</p>
                        <label for="reg-email">"Email"</label>
                        <input id="reg-email" type="email" name="email" autocomplete="email" required
                            aria-describedby="reg-email-error" />
                        <p id="reg-email-error" class="field-error" role="alert">{error_for("email")}</p>
                        <label for="reg-phone">"Phone (optional)"</label>
                        <input id="reg-phone" type="tel" name="phone" autocomplete="tel"
                            maxlength=PHONE_MAX_CHARS.to_string() aria-describedby="reg-phone-error" />
                        <p id="reg-phone-error" class="field-error" role="alert">{error_for("phone")}{other_error}</p>
                        <button class="button primary" type="submit" disabled=move || register.pending().get()>
                            {move || if register.pending().get() { "Checking…" } else { "Register" }}
                        </button>
                    </ActionForm>
                }
            >
                <h1>"Check your email"</h1>
                <p role="status" data-testid="registered">
                    "Thank you. We have emailed a confirmation link to the address you gave. "
                    "Open it to confirm the address and see your account online."
                </p>
            </Show>
        </section>
    }
}
