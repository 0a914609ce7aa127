//! Easy Pay in the portal: the "Pay online" panel of the overview, the page a Pay link
//! opens (one invoice, nothing else of the account), and the receipt the provider sends the
//! customer back to.

use std::collections::HashMap;

use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::pay::{PayLinkCheckout, StartPayment, get_pay_link_invoice, get_receipt};
use crate::components::resource::resource;
use crate::error::AppError;
use crate::model::enums::{DocumentStatus, PaymentChannel, PaymentLinkStatus};
use crate::model::payments::{METHODS, PayItem, PayLinkInvoice, Receipt, check_item_amount};
use crate::model::portal::{OpenInvoice, format_day, format_money};
use crate::model::promises::amount_input;

/// Sends the browser to a checkout page (the provider's, possibly on another site).
fn navigate_to(url: &str) {
    #[cfg(feature = "hydrate")]
    if let Err(err) = window().location().set_href(url) {
        leptos::logging::error!("could not open the checkout: {err:?}");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = url;
}

fn method_choice(method: RwSignal<PaymentChannel>, name: &'static str) -> impl IntoView {
    view! {
        <fieldset class="methods">
            <legend>"How to pay"</legend>
            {METHODS
                .iter()
                .map(|(m, label)| {
                    let m = *m;
                    view! {
                        <label class="check">
                            <input type="radio" name=name value=m.as_str()
                                prop:checked=move || method.get() == m
                                on:change=move |_| method.set(m) />
                            " " {*label}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// The "Pay online" panel for the invoices chosen in the overview's table. Each amount may
/// be lowered for a partial payment and is checked as it is typed with the rules the
/// server applies again.
#[component]
pub fn PayPanel(
    currency: String,
    attempt: String,
    selected: RwSignal<Vec<i64>>,
    invoices: StoredValue<Vec<OpenInvoice>>,
) -> impl IntoView {
    let amounts = RwSignal::new(HashMap::<i64, String>::new());
    let method = RwSignal::new(PaymentChannel::Card);
    let start = ServerAction::<StartPayment>::new();
    let chosen = move || -> Vec<OpenInvoice> {
        selected.with(|ids| {
            invoices.with_value(|all| {
                all.iter()
                    .filter(|i| ids.contains(&i.id))
                    .cloned()
                    .collect()
            })
        })
    };
    let amount_of = move |inv: &OpenInvoice| {
        amounts
            .with(|a| a.get(&inv.id).cloned())
            .unwrap_or_else(|| amount_input(inv.open_minor))
    };
    let cur = StoredValue::new(currency);
    let error_of = move |inv: &OpenInvoice| -> Option<String> {
        if inv.status == DocumentStatus::PaymentPending {
            return Some("a payment is already on its way".to_owned());
        }
        let server = match start.value().get() {
            Some(Err(AppError::Validation { field, message }))
                if field == format!("amount-{}", inv.id) =>
            {
                Some(message)
            }
            _ => None,
        };
        cur.with_value(|c| check_item_amount(&amount_of(inv), inv.open_minor, c))
            .err()
            .or(server)
    };
    let total = move || {
        chosen()
            .iter()
            .map(|inv| {
                cur.with_value(|c| check_item_amount(&amount_of(inv), inv.open_minor, c))
                    .unwrap_or(0)
            })
            .sum::<i64>()
    };
    let valid = move || {
        let list = chosen();
        !list.is_empty() && list.iter().all(|inv| error_of(inv).is_none())
    };
    Effect::new(move |_| {
        if let Some(Ok(url)) = start.value().get() {
            navigate_to(&url);
        }
    });
    let other_error = move || match start.value().get() {
        Some(Err(AppError::Validation { field, message })) if !field.starts_with("amount-") => {
            Some(message)
        }
        Some(Err(AppError::Unauthorized)) => {
            Some("Your session has ended. Please sign in again.".to_owned())
        }
        Some(Err(AppError::Validation { .. })) | Some(Ok(_)) | None => None,
        Some(Err(other)) => Some(other.to_string()),
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if !valid() || start.pending().get_untracked() {
            return;
        }
        let items = chosen()
            .iter()
            .map(|inv| PayItem {
                document_id: inv.id,
                amount: amount_of(inv),
            })
            .collect();
        start.dispatch(StartPayment {
            items,
            method: method.get_untracked(),
            attempt: attempt.clone(),
        });
    };
    view! {
        <section class="panel" aria-labelledby="pay-title" data-testid="pay-panel">
            <h2 id="pay-title">"Pay online"</h2>
            <form class="stack" novalidate=true on:submit=on_submit>
                {move || {
                    let list = chosen();
                    if list.is_empty() {
                        Either::Left(view! {
                            <p class="muted" data-testid="pay-empty">"Choose the invoices to pay in the table above."</p>
                        })
                    } else {
                        let currency = cur.get_value();
                        Either::Right(view! {
                            <div class="table-wrap">
                                <table class="invoices pay-lines">
                                    <thead><tr>
                                        <th scope="col">"Invoice"</th>
                                        <th scope="col" class="num">"Open"</th>
                                        <th scope="col" class="num">"Pay"</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|inv| {
                                            let id = inv.id;
                                            let input_id = format!("pay-amount-{id}");
                                            let error_id = format!("pay-amount-{id}-error");
                                            let label = format!("Amount to pay on {}", inv.number);
                                            let value = amount_of(&inv);
                                            let err = error_of(&inv);
                                            let invalid = if err.is_some() { "true" } else { "false" };
                                            view! {
                                                <tr>
                                                    <td data-label="Invoice">{inv.number.clone()}</td>
                                                    <td data-label="Open" class="num">{format_money(inv.open_minor, &currency)}</td>
                                                    <td data-label="Pay" class="num">
                                                        <input id=input_id class="amount" inputmode="decimal" autocomplete="off"
                                                            aria-label=label aria-describedby=error_id.clone() aria-invalid=invalid
                                                            prop:value=value
                                                            on:change=move |ev| {
                                                                let text = event_target_value(&ev);
                                                                amounts.update(|a| { a.insert(id, text); });
                                                            } />
                                                        <span id=error_id class="field-error" role="alert">{err}</span>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        })
                    }
                }}
                {method_choice(method, "pay-method")}
                <p class="muted small">"You finish on the payment provider's secure page; we never see card or bank numbers."</p>
                <p class="field-error" role="alert">{other_error}</p>
                <button class="button primary" type="submit" data-testid="pay-submit"
                    disabled=move || !valid() || start.pending().get()>
                    {move || if start.pending().get() {
                        "Opening checkout…".to_owned()
                    } else {
                        format!("Pay {}", cur.with_value(|c| format_money(total(), c)))
                    }}
                </button>
            </form>
        </section>
    }
}

/// `/portal/pay`: the invoice a Pay link opens, with one "Pay now" button. The checkout is
/// created only by that POST, so link scanners opening the email's link create nothing.
#[component]
pub fn PayLinkPage() -> impl IntoView {
    let invoice = resource(|| (), |_| get_pay_link_invoice());
    view! {
        <Title text="Pay your invoice" />
        <section class="panel narrow">
            <Suspense fallback=|| view! { <p class="muted">"Loading your invoice…"</p> }>
                {move || Suspend::new(async move {
                    match invoice.await {
                        Ok(inv) if inv.payable => EitherOf4::A(view! { <PayLinkForm inv /> }),
                        Ok(inv) => EitherOf4::B(view! {
                            <h1>"Invoice " {inv.number}</h1>
                            <p role="status" data-testid="pay-link-settled">"Nothing is due on this invoice now: it is paid or a payment is on its way. Thank you."</p>
                        }),
                        Err(AppError::Unauthorized) => EitherOf4::C(view! {
                            <h1>"Pay an invoice"</h1>
                            <p>"Open the payment link in our email again, or "<a href="/portal">"go to your account"</a>" to choose invoices to pay."</p>
                        }),
                        Err(err) => EitherOf4::D(view! { <p class="field-error" role="alert">{err.to_string()}</p> }),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn PayLinkForm(inv: PayLinkInvoice) -> impl IntoView {
    let method = RwSignal::new(PaymentChannel::Card);
    let pay = ServerAction::<PayLinkCheckout>::new();
    Effect::new(move |_| {
        if let Some(Ok(url)) = pay.value().get() {
            navigate_to(&url);
        }
    });
    let error = move || {
        pay.value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let amount = format_money(inv.open_minor, &inv.currency);
    view! {
        <p class="muted">{inv.company}</p>
        <h1>"Invoice " {inv.number}</h1>
        <p>{inv.due_date.map(|d| format!("Due {}", format_day(d))).unwrap_or_default()}</p>
        <p class="stat-value" data-testid="pay-link-amount">{amount.clone()}</p>
        <ActionForm action=pay attr:class="stack">
            {method_choice(method, "method")}
            <p class="field-error" role="alert">{error}</p>
            <button class="button primary" type="submit" disabled=move || pay.pending().get()>
                {move || if pay.pending().get() { "Opening checkout…".to_owned() } else { format!("Pay {amount} now") }}
            </button>
        </ActionForm>
        <p class="muted small">"This link lets you pay this invoice only. To see your whole account, ask for a sign-in link."</p>
    }
}

/// `/portal/receipt/:session`: where the provider sends the customer back. Until the
/// provider's webhook has confirmed the payment the page says so and looks again.
#[component]
pub fn ReceiptPage() -> impl IntoView {
    let params = use_params_map();
    let session = move || params.read().get("session").unwrap_or_default();
    let tick = RwSignal::new(0u32);
    let receipt = resource(move || (session(), tick.get()), |(s, _)| get_receipt(s));
    view! {
        <Title text="Payment receipt" />
        <section class="panel narrow" data-testid="receipt">
            <Suspense fallback=|| view! { <p class="muted">"Loading your receipt…"</p> }>
                {move || Suspend::new(async move {
                    match receipt.await {
                        Ok(r) => {
                            if r.status == PaymentLinkStatus::Created {
                                poll_again(tick);
                            }
                            EitherOf3::A(view! { <ReceiptView r /> })
                        }
                        Err(AppError::Unauthorized) => EitherOf3::B(view! {
                            <h1>"Please sign in"</h1>
                            <p>"Your payment is safe. Sign in to see its receipt: "<a href="/portal/sign-in">"get a sign-in link"</a>"."</p>
                        }),
                        Err(err) => EitherOf3::C(view! { <p class="field-error" role="alert">{err.to_string()}</p> }),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// Looks again in two seconds (in the browser only).
fn poll_again(tick: RwSignal<u32>) {
    #[cfg(feature = "hydrate")]
    set_timeout(
        move || tick.update(|t| *t += 1),
        std::time::Duration::from_secs(2),
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = tick;
}

#[component]
fn ReceiptView(r: Receipt) -> impl IntoView {
    let (title, note) = match r.status {
        PaymentLinkStatus::Completed => (
            "Thank you — payment received",
            "A receipt is on its way to your email.",
        ),
        PaymentLinkStatus::Pending => (
            "Bank payment submitted",
            "Your bank debit is clearing, which takes a few business days. The invoices show \"payment pending\" until then; we email the receipt once the money arrives.",
        ),
        PaymentLinkStatus::Failed => (
            "The bank returned the payment",
            "Nothing was charged and the invoices are open again. Please pay another way.",
        ),
        PaymentLinkStatus::Expired => (
            "This checkout expired",
            "Nothing was charged. Start a new payment from your account.",
        ),
        PaymentLinkStatus::Created => (
            "Waiting for confirmation…",
            "The payment service has not confirmed the payment yet. This page updates by itself.",
        ),
    };
    let currency = r.currency.clone();
    view! {
        <h1 data-testid="receipt-status" data-status=r.status.as_str()>{title}</h1>
        <p role="status">{note}</p>
        <p class="stat-value">{format_money(r.amount_minor, &r.currency)}</p>
        <p class="muted">"Reference " {r.reference.clone()}
            {r.method.map(|m| format!(" · {}", METHODS.iter().find(|(x, _)| *x == m).map_or("", |(_, l)| *l)))}
        </p>
        <div class="table-wrap">
            <table class="invoices" data-testid="receipt-lines">
                <thead><tr>
                    <th scope="col">"Invoice"</th>
                    <th scope="col" class="num">"This payment"</th>
                    <th scope="col" class="num">"Still open"</th>
                </tr></thead>
                <tbody>
                    {r.lines.into_iter().map(|l| view! {
                        <tr>
                            <td data-label="Invoice">{l.number}</td>
                            <td data-label="This payment" class="num">{format_money(l.amount_minor, &currency)}</td>
                            <td data-label="Still open" class="num">{format_money(l.open_minor, &currency)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {(r.unapplied_minor > 0).then(|| view! {
            <p>{format_money(r.unapplied_minor, &r.currency)} " more than the invoices' balances is kept as a credit on your account."</p>
        })}
        <p><a class="button" href="/portal">"Back to my account"</a></p>
    }
}
