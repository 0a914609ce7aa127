//! Onboarding campaigns for staff (`/staff/campaigns`): the launch form and every
//! campaign's progress.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::campaigns::{LaunchCampaign, get_campaign_detail, list_campaigns};
use crate::components::resource::resource;
use crate::components::staff_error::StaffError;
use crate::error::AppError;
use crate::model::accounts::GAPS;
use crate::model::campaigns::{CampaignDetail, CampaignTarget, CampaignView};
use crate::model::enums::{CampaignStatus, TargetStatus};

const FIELDS: [&str; 5] = ["name", "gap", "search", "accounts", "follow_ups"];

fn field_error(value: Option<Result<CampaignView, AppError>>, fields: &[&str]) -> Option<String> {
    match value {
        Some(Err(AppError::Validation { field, message })) if fields.contains(&field.as_str()) => {
            Some(message)
        }
        _ => None,
    }
}

fn other_error(value: Option<Result<CampaignView, AppError>>) -> Option<String> {
    match value {
        Some(Err(AppError::Validation { field, message })) if !FIELDS.contains(&field.as_str()) => {
            Some(message)
        }
        Some(Err(AppError::Validation { .. })) | Some(Ok(_)) | None => None,
        Some(Err(AppError::Unauthorized)) => Some("Please sign in as staff.".to_owned()),
        Some(Err(AppError::Forbidden)) => Some("Your role cannot launch campaigns.".to_owned()),
        Some(Err(other)) => Some(other.to_string()),
    }
}

fn status_text(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => "Draft",
        CampaignStatus::Running => "Running",
        CampaignStatus::Done => "Done",
    }
}

#[component]
pub fn StaffCampaignsPage() -> impl IntoView {
    let launch = ServerAction::<LaunchCampaign>::new();
    let campaigns = resource(move || launch.version().get(), |_| list_campaigns());
    let launched = move || match launch.value().get() {
        Some(Ok(c)) => Some(format!(
            "Launched “{}”: {} emails queued, {} bounced, {} skipped (no email address).",
            c.name, c.sent, c.bounced, c.skipped
        )),
        _ => None,
    };
    view! {
        <Title text="Campaigns" />
        <section class="panel" aria-labelledby="launch-title">
            <h1 id="launch-title">"Onboarding campaigns"</h1>
            <p class="muted">
                "Each account's billing contact gets an email asking to check and update the company's details, with a link valid for 14 days. Reminders follow on the days you set until the contact confirms or updates the profile."
            </p>
            <ActionForm action=launch attr:class="stack" attr:data-testid="launch-campaign">
                <label for="campaign-name">"Name"</label>
                <input id="campaign-name" name="name" maxlength="200" required aria-describedby="campaign-name-error" />
                <p class="field-error" role="alert" id="campaign-name-error">{move || field_error(launch.value().get(), &["name"])}</p>
                <label for="campaign-gap">"Accounts"</label>
                <select id="campaign-gap" name="gap" aria-describedby="campaign-gap-error">
                    {GAPS.iter().map(|(key, label)| view! { <option value=*key>{*label}</option> }).collect_view()}
                    <option value="">"Every customer"</option>
                </select>
                <p class="field-error" role="alert" id="campaign-gap-error">{move || field_error(launch.value().get(), &["gap"])}</p>
                <label for="campaign-search">"Only accounts whose name or number contains (optional)"</label>
                <input id="campaign-search" name="search" maxlength="100" aria-describedby="campaign-search-error" />
                <p class="field-error" role="alert" id="campaign-search-error">{move || field_error(launch.value().get(), &["search", "accounts"])}</p>
                <label for="campaign-follow-ups">"Follow-up days"</label>
                <input id="campaign-follow-ups" name="follow_ups" value="3, 7, 14" inputmode="numeric" aria-describedby="campaign-follow-ups-hint campaign-follow-ups-error" />
                <p class="muted small" id="campaign-follow-ups-hint">"Days after the first email, separated by commas. Leave empty for no reminders."</p>
                <p class="field-error" role="alert" id="campaign-follow-ups-error">{move || field_error(launch.value().get(), &["follow_ups"])}{move || other_error(launch.value().get())}</p>
                <div class="actions">
                    <button class="button primary" type="submit" disabled=move || launch.pending().get()>"Launch campaign"</button>
                </div>
                <p class="ok" role="status" data-testid="launched">{launched}</p>
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="campaigns-title">
            <h2 id="campaigns-title">"Campaigns"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match campaigns.await {
                        Ok(rows) if rows.is_empty() => Either::Left(view! { <p class="empty" data-testid="no-campaigns">"No campaign yet."</p> }.into_any()),
                        Ok(rows) => Either::Left(view! { <CampaignTable rows /> }.into_any()),
                        Err(err) => Either::Right(view! { <StaffError err /> }),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn CampaignTable(rows: Vec<CampaignView>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="campaigns">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Targets"</th>
                        <th scope="col">"Sent"</th>
                        <th scope="col">"Opened link"</th>
                        <th scope="col">"Completed"</th>
                        <th scope="col">"Bounced"</th>
                        <th scope="col">"Progress"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|c| {
                        let label = format!("{} of {} completed", c.completed, c.targets);
                        view! {
                            <tr data-testid=format!("campaign-{}", c.id)>
                                <td data-label="Name"><a href=format!("/staff/campaigns/{}", c.id)>{c.name}</a><br /><span class="muted small">{c.created_at}</span></td>
                                <td data-label="Status">{status_text(c.status)}</td>
                                <td data-label="Targets" class="num">{c.targets}</td>
                                <td data-label="Sent" class="num">{c.sent}</td>
                                <td data-label="Opened link" class="num">{c.opened}</td>
                                <td data-label="Completed" class="num">{c.completed}</td>
                                <td data-label="Bounced" class="num">{c.bounced}</td>
                                <td data-label="Progress">
                                    <progress max=c.targets.max(1).to_string() value=c.completed.to_string() aria-label=label.clone() title=label></progress>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn target_status_text(status: TargetStatus) -> &'static str {
    match status {
        TargetStatus::Pending => "Not sent yet",
        TargetStatus::Sent => "Emailed",
        TargetStatus::Opened => "Opened the link",
        TargetStatus::Completed => "Completed",
        TargetStatus::Bounced => "Bounced",
    }
}

const TARGET_FILTERS: [(&str, &str); 6] = [
    ("", "Every account"),
    ("sent", "Emailed, not opened"),
    ("opened", "Opened, not completed"),
    ("completed", "Completed"),
    ("bounced", "Bounced"),
    ("pending", "Not sent yet"),
];

/// `/staff/campaigns/:id`: the funnel and every account the campaign reached, filterable by
/// how far each got (the filter is a plain GET form, so it works without JavaScript).
#[component]
pub fn StaffCampaignPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or_default()
    };
    let status = move || query.read().get("status").unwrap_or_default();
    let detail = resource(
        move || (id(), status()),
        |(id, status)| get_campaign_detail(id, status),
    );
    view! {
        <Title text="Campaign" />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => Either::Left(view! { <CampaignDetailView d status=status() /> }),
                    Err(AppError::NotFound) => Either::Right(view! {
                        <div class="notice" role="alert">
                            <p>"There is no such campaign."</p>
                            <p><a href="/staff/campaigns">"Every campaign"</a></p>
                        </div>
                    }.into_any()),
                    Err(err) => Either::Right(view! { <StaffError err /> }.into_any()),
                }
            })}
        </Transition>
    }
}

#[component]
fn CampaignDetailView(d: CampaignDetail, status: String) -> impl IntoView {
    let c = d.campaign;
    let of_targets = |n: u64| {
        let label = format!("{n} of {}", c.targets);
        view! { <progress max=c.targets.max(1).to_string() value=n.to_string() aria-label=label.clone() title=label></progress> }
    };
    let schedule = if c.follow_up_days.is_empty() {
        "no follow-ups".to_owned()
    } else {
        let days: Vec<String> = c.follow_up_days.iter().map(ToString::to_string).collect();
        format!("follow-ups on days {}", days.join(", "))
    };
    let shown = d.targets.len();
    let matching = d.matching;
    view! {
        <section class="account-head">
            <div>
                <h1 data-testid="campaign-name">{c.name.clone()}</h1>
                <p class="muted">{status_text(c.status)} " · started " {c.created_at.clone()} " · " {schedule}
                    {(c.skipped > 0).then(|| format!(" · {} accounts left out (no email address)", c.skipped))}</p>
            </div>
            <a class="button" href="/staff/campaigns">"Every campaign"</a>
        </section>
        <section class="panel" aria-labelledby="funnel-title">
            <h2 id="funnel-title">"How far they got"</h2>
            <dl class="fields funnel" data-testid="campaign-funnel">
                <div><dt>"Accounts"</dt><dd data-testid="funnel-targets">{c.targets}</dd></div>
                <div><dt>"Emailed"</dt><dd><span data-testid="funnel-sent">{c.sent}</span> " " {of_targets(c.sent)}</dd></div>
                <div><dt>"Opened the link"</dt><dd><span data-testid="funnel-opened">{c.opened}</span> " " {of_targets(c.opened)}</dd></div>
                <div><dt>"Completed"</dt><dd><span data-testid="funnel-completed">{c.completed}</span> " " {of_targets(c.completed)}</dd></div>
                <div><dt>"Bounced"</dt><dd><span data-testid="funnel-bounced">{c.bounced}</span> " " {of_targets(c.bounced)}</dd></div>
                <div><dt>"Follow-ups sent"</dt><dd data-testid="funnel-follow-ups">{c.follow_ups_sent}</dd></div>
            </dl>
        </section>
        <section class="panel" aria-labelledby="targets-title">
            <h2 id="targets-title">"Accounts"</h2>
            <form class="filters" method="get" role="search" aria-label="Filter accounts">
                <label for="target-status">"Show"</label>
                <select id="target-status" name="status">
                    {TARGET_FILTERS.iter().map(|(key, label)| view! {
                        <option value=*key selected=*key == status>{*label}</option>
                    }).collect_view()}
                </select>
                <button class="button" type="submit">"Filter"</button>
            </form>
            {if d.targets.is_empty() {
                Either::Left(view! { <p class="empty" data-testid="no-targets">"No account matches."</p> })
            } else {
                Either::Right(view! { <TargetTable rows=d.targets /> })
            }}
            {(u64::try_from(shown).unwrap_or(u64::MAX) < matching).then(|| view! {
                <p class="muted small">{format!("Showing the first {shown} of {matching}.")}</p>
            })}
        </section>
    }
}

#[component]
fn TargetTable(rows: Vec<CampaignTarget>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table data-testid="campaign-targets">
                <thead>
                    <tr>
                        <th scope="col">"Account"</th>
                        <th scope="col">"Contact"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Follow-ups"</th>
                        <th scope="col">"Last email"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|t| view! {
                        <tr data-testid=format!("target-{}", t.account_number)>
                            <td data-label="Account"><a href=format!("/staff/accounts/{}", t.account_id)>{t.company}</a><br /><span class="muted small">{t.account_number.clone()}</span></td>
                            <td data-label="Contact">{t.contact}</td>
                            <td data-label="Status">{target_status_text(t.status)}</td>
                            <td data-label="Follow-ups" class="num">{t.follow_ups}</td>
                            <td data-label="Last email">{t.last_sent_at.unwrap_or_else(|| "—".to_owned())}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
