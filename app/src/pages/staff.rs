//! Staff sign-in and the staff start page.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::portal::SignOut;
use crate::api::staff::{ChangeStaffPassword, StaffSignIn, get_staff_me};
use crate::error::AppError;

#[component]
pub fn StaffSignInPage() -> impl IntoView {
    let sign_in = ServerAction::<StaffSignIn>::new();
    let message = move || {
        sign_in
            .value()
            .get()
            .and_then(Result::err)
            .map(|err| match err {
                AppError::RateLimited => {
                    "Too many attempts from here. Wait a few minutes and try again.".to_owned()
                }
                AppError::Unauthorized => {
                    "That email and password do not match an active staff account.".to_owned()
                }
                other => other.to_string(),
            })
    };
    view! {
        <Title text="Staff sign-in" />
        <section class="panel narrow">
            <h1>"Staff sign-in"</h1>
            <ActionForm action=sign_in attr:class="stack">
                <label for="staff-email">"Email"</label>
                <input id="staff-email" type="email" name="email" autocomplete="username" required />
                <label for="staff-password">"Password"</label>
                <input id="staff-password" type="password" name="password" autocomplete="current-password" required />
                {move || message().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
                <button class="button primary" type="submit" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn StaffHomePage() -> impl IntoView {
    let change = ServerAction::<ChangeStaffPassword>::new();
    let me = Resource::new(|| (), |_| get_staff_me());
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <Title text="Staff" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(me) => EitherOf3::A(view! {
                        <section class="account-head">
                            <div>
                                <h1>"Staff"</h1>
                                <p class="muted" data-testid="staff-me">"Signed in as " {me.name} " (" {me.role.to_string()} ")"</p>
                            </div>
                            <ActionForm action=sign_out attr:class="inline">
                                <button class="button" type="submit">"Sign out"</button>
                            </ActionForm>
                        </section>
                        <nav class="panel narrow" aria-label="Staff">
                            <ul class="links">
                                <li><a href="/staff/accounts">"Accounts"</a></li>
                                <li><a href="/staff/disputes">"Disputes"</a></li>
                                <li><a href="/staff/approvals">"Changes awaiting approval"</a></li>
                                <li><a href="/staff/campaigns">"Profile update campaigns"</a></li>
                                <li><a href="/supplier">"Our shared profile"</a></li>
                                <li><a href="/staff/messages">"Customer messages"</a></li>
                                <li><a href="/staff/letters">"Letters for accounts without email"</a></li>
                                <li><a href="/staff/mail">"Undelivered mail"</a></li>
                                <li><a href="/staff/templates">"Email templates"</a>" (admins)"</li>
                            </ul>
                        </nav>
                        <section class="panel narrow">
                            <h2>"Change your password"</h2>
                            <ActionForm action=change attr:class="stack">
                                <label for="current-password">"Current password"</label>
                                <input id="current-password" type="password" name="current_password" autocomplete="current-password" required />
                                <label for="new-password">"New password (12 characters or more)"</label>
                                <input id="new-password" type="password" name="new_password" autocomplete="new-password" minlength="12" required />
                                {move || change.value().get().map(|r| match r {
                                    Ok(()) => Either::Left(view! { <p class="ok" role="status">"Password changed. Your other sessions were signed out."</p> }),
                                    Err(err) => Either::Right(view! { <p class="field-error" role="alert">{error_text(err)}</p> }),
                                })}
                                <button class="button primary" type="submit">"Change password"</button>
                            </ActionForm>
                        </section>
                    }),
                    Err(AppError::Unauthorized) => EitherOf3::B(view! {
                        <section class="panel narrow">
                            <h1>"Staff"</h1>
                            <p><a href="/staff/sign-in">"Sign in"</a>" to continue."</p>
                        </section>
                    }),
                    Err(err) => EitherOf3::C(view! { <section class="panel narrow notice" role="alert"><p>{err.to_string()}</p></section> }),
                }
            })}
        </Transition>
    }
}

fn error_text(err: AppError) -> String {
    match err {
        AppError::Validation { message, .. } => message,
        other => other.to_string(),
    }
}
