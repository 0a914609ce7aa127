//! The page a magic link opens. It only describes the link: email scanners fetch links
//! before people do, so only the button's POST consumes it.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::links::{OpenLink, describe_link};
use crate::components::resource::resource;
use crate::model::enums::LinkPurpose;

#[component]
pub fn LinkPage() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let preview = resource(token, describe_link);
    let open = ServerAction::<OpenLink>::new();
    // The token is in this page's address: never send it on in a Referer.
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.insert_header(
            http::header::REFERRER_POLICY,
            http::HeaderValue::from_static("no-referrer"),
        );
    }

    view! {
        <Title text="Your link" />
        <section class="panel narrow">
            <Suspense fallback=|| view! { <p class="muted">"Checking your link…"</p> }>
                {move || Suspend::new(async move {
                    match preview.await {
                        Ok(Some(link)) => Either::Left(view! {
                            <h1>{purpose_title(link.purpose)}</h1>
                            <p>"For " <strong>{link.company}</strong> " — sent to " {link.masked_email} "."</p>
                            <ActionForm action=open>
                                <input type="hidden" name="token" value=token() />
                                <button class="button primary" type="submit">
                                    {if link.purpose == LinkPurpose::Pay { "Continue to payment" } else { "Continue to your account" }}
                                </button>
                            </ActionForm>
                            <p class="muted small">"The button signs you in on this device. The link works once."</p>
                        }),
                        _ => Either::Right(view! { <UnusableLink /> }),
                    }
                })}
            </Suspense>
            {move || open.value().get().and_then(Result::err).map(|_| view! { <UnusableLink /> })}
        </section>
    }
}

fn purpose_title(purpose: LinkPurpose) -> &'static str {
    match purpose {
        LinkPurpose::Portal => "Sign in to your account",
        LinkPurpose::Profile => "Update your company profile",
        LinkPurpose::Pay => "Pay your invoice",
        LinkPurpose::WrongPerson => "Tell us who should receive these",
        LinkPurpose::VerifyContact => "Confirm your email address",
    }
}

#[component]
fn UnusableLink() -> impl IntoView {
    view! {
        <div class="notice" role="alert">
            <h1>"This link can no longer be used"</h1>
            <p>"Links work once and expire after a while. You can ask for a fresh one."</p>
            <p><a class="button" href="/portal/sign-in">"Get a new link"</a></p>
        </div>
    }
}
