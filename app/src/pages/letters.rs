//! Direct mail (`/staff/letters`): pick one of the letter templates, choose which of the
//! accounts without an email address get it, and download one PDF to print.
//!
//! The download is a plain link to `/staff/letters.pdf`, so it also works before the
//! page hydrates (with every account chosen).

use std::collections::HashSet;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::letters::{LetterOverview, list_letters};
use crate::components::resource::resource;
use crate::components::staff_error::StaffError;

/// The direct-mail page for staff; downloading needs a collector or an admin.
#[component]
pub fn StaffLettersPage() -> impl IntoView {
    let overview = resource(|| (), |_| list_letters());
    view! {
        <Title text="Letters" />
        <section class="panel">
            <h1>"Direct mail"</h1>
            <p class="muted">
                "Letters for active customers with no email address on file. Each letter carries the account number and the registration address, and is followed by the account's statement for the last 90 days. Admins edit the wording under "
                <a href="/staff/templates">"templates"</a> "."
            </p>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => Either::Left(view! { <LetterPicker overview /> }),
                    Err(err) => Either::Right(view! { <StaffError err /> }),
                }
            })}
        </Transition>
    }
}

/// The template select, the accounts table with a checkbox each, and the download link.
#[component]
fn LetterPicker(overview: LetterOverview) -> impl IntoView {
    let LetterOverview {
        templates,
        accounts,
    } = overview;
    if templates.is_empty() {
        return Either::Left(view! {
            <section class="panel">
                <p class="empty" data-testid="no-letter-templates">"There are no letter templates yet. They are created when Settle starts."</p>
            </section>
        });
    }
    let template = RwSignal::new(templates[0].key.clone());
    let ids: Vec<i64> = accounts.iter().map(|a| a.id).collect();
    let total = ids.len();
    let chosen = RwSignal::new(ids.iter().copied().collect::<HashSet<i64>>());
    let ids = StoredValue::new(ids);
    let count = move || chosen.with(HashSet::len);
    let href = move || {
        let list = ids.with_value(|ids| {
            chosen.with(|chosen| {
                ids.iter()
                    .filter(|id| chosen.contains(id))
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            })
        });
        format!(
            "/staff/letters.pdf?template={}&accounts={list}",
            template.get()
        )
    };
    let toggle_all = move |ev| {
        let on = event_target_checked(&ev);
        chosen.set(if on {
            ids.with_value(|ids| ids.iter().copied().collect())
        } else {
            HashSet::new()
        });
    };

    let table = if accounts.is_empty() {
        Either::Left(view! {
            <p class="empty" data-testid="letter-accounts">"Every active customer has an email address. No letters to send."</p>
        })
    } else {
        Either::Right(view! {
            <div class="table-wrap">
                <table data-testid="letter-accounts">
                    <thead><tr>
                        <th scope="col">
                            <input type="checkbox" aria-label="Choose every account" checked=true
                                prop:checked=move || { count() == total } on:change=toggle_all />
                        </th>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Mailing address"</th>
                    </tr></thead>
                    <tbody>
                        {accounts.into_iter().map(|a| {
                            let id = a.id;
                            let checkbox_id = format!("letter-account-{id}");
                            let number = a.number.clone();
                            view! {
                                <tr data-account=number>
                                    <td data-label="Send">
                                        <input type="checkbox" id=checkbox_id.clone() value=id checked=true
                                            prop:checked=move || chosen.with(|c| c.contains(&id))
                                            on:change=move |ev| {
                                                let on = event_target_checked(&ev);
                                                chosen.update(|c| {
                                                    if on {
                                                        c.insert(id);
                                                    } else {
                                                        c.remove(&id);
                                                    }
                                                });
                                            } />
                                    </td>
                                    <td data-label="Account"><label for=checkbox_id>{a.number}</label></td>
                                    <td data-label="Name">{a.name}</td>
                                    <td data-label="Mailing address">
                                        {if a.has_mailing_address { "On file" } else { "Missing" }}
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })
    };

    Either::Right(view! {
        <section class="panel">
            <div class="filters">
                <label>
                    "Letter"
                    <select on:change=move |ev| template.set(event_target_value(&ev))>
                        {templates.into_iter().enumerate().map(|(i, t)| view! {
                            <option value=t.key selected={i == 0}>{t.name}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            <h2>"Accounts that will get a letter"</h2>
            {table}
            <p class="muted" role="status">{move || format!("{} of {total} accounts chosen.", count())}</p>
            <div class="actions">
                <Show
                    when=move || { count() > 0 }
                    fallback=|| view! { <p class="muted">"Choose at least one account to download letters."</p> }
                >
                    <a class="button primary" href=href download="" rel="external" data-testid="download-letters">
                        "Download letters (PDF)"
                    </a>
                </Show>
            </div>
        </section>
    })
}
