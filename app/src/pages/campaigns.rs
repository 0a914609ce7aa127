//! Onboarding campaigns for staff (`/staff/campaigns`): the launch form and every
//! campaign's progress.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::campaigns::{LaunchCampaign, list_campaigns};
use crate::error::AppError;
use crate::model::accounts::GAPS;
use crate::model::campaigns::CampaignView;
use crate::model::enums::CampaignStatus;

const FIELDS: [&str; 4] = ["name", "gap", "accounts", "follow_ups"];

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
    let campaigns = Resource::new(move || launch.version().get(), |_| list_campaigns());
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
                <p class="field-error" role="alert" id="campaign-gap-error">{move || field_error(launch.value().get(), &["gap", "accounts"])}</p>
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
                                <td data-label="Name">{c.name}<br /><span class="muted small">{c.created_at}</span></td>
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

#[component]
fn StaffError(err: AppError) -> impl IntoView {
    let text = match err {
        AppError::Unauthorized => "Please sign in as staff.".to_owned(),
        AppError::Forbidden => "Your role cannot see this page.".to_owned(),
        other => other.to_string(),
    };
    view! {
        <div class="notice" role="alert">
            <p>{text}</p>
            <p><a href="/staff/sign-in">"Staff sign-in"</a></p>
        </div>
    }
}
