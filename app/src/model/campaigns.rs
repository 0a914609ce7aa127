//! Onboarding campaigns as staff see them, and the follow-up schedule rule the launch
//! form and the server share.

use serde::{Deserialize, Serialize};

use super::enums::CampaignStatus;

/// The most follow-ups one campaign may schedule.
pub const MAX_FOLLOW_UPS: usize = 10;
/// The latest day after the first email a follow-up may go out.
pub const MAX_FOLLOW_UP_DAY: i64 = 90;

/// A campaign with its targets counted by how far they got.
///
/// The counts are a funnel: `sent` counts every target that was emailed (also those that
/// went on to open or complete), `opened` also counts the completed ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignView {
    pub id: i64,
    pub name: String,
    pub status: CampaignStatus,
    /// "YYYY-MM-DD HH:MM UTC".
    pub created_at: String,
    /// Key of `model::accounts::GAPS` the accounts were picked by, if any.
    pub gap: Option<String>,
    /// Days after the first email when follow-ups go out.
    pub follow_up_days: Vec<i64>,
    /// Matching accounts left out because no contact has an email address.
    pub skipped: u64,
    pub targets: u64,
    pub sent: u64,
    pub opened: u64,
    pub completed: u64,
    pub bounced: u64,
    pub follow_ups_sent: u64,
}

/// Reads follow-up days typed as "3, 7, 14" (commas or spaces); empty means none.
///
/// # Errors
/// A message for the `follow_ups` field when a day is not a whole number between 1 and
/// [`MAX_FOLLOW_UP_DAY`], the days do not strictly increase, or there are more than
/// [`MAX_FOLLOW_UPS`].
pub fn parse_follow_ups(input: &str) -> Result<Vec<i64>, String> {
    let days = input
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<i64>()
                .map_err(|_| format!("“{part}” is not a whole number of days"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_follow_ups(&days)?;
    Ok(days)
}

/// Checks a follow-up schedule: days 1 to [`MAX_FOLLOW_UP_DAY`], strictly increasing, at
/// most [`MAX_FOLLOW_UPS`] of them.
///
/// # Errors
/// A message for the `follow_ups` field saying what is wrong.
pub fn check_follow_ups(days: &[i64]) -> Result<(), String> {
    if days.len() > MAX_FOLLOW_UPS {
        return Err(format!("at most {MAX_FOLLOW_UPS} follow-ups"));
    }
    if let Some(day) = days.iter().find(|d| !(1..=MAX_FOLLOW_UP_DAY).contains(*d)) {
        return Err(format!(
            "{day} is not between 1 and {MAX_FOLLOW_UP_DAY} days"
        ));
    }
    if days.windows(2).any(|w| w[0] >= w[1]) {
        return Err("days must increase, like 3, 7, 14".to_owned());
    }
    Ok(())
}

/// One account a campaign reached, as the campaign page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignTarget {
    pub account_id: i64,
    pub account_number: String,
    pub company: String,
    /// "Name <address>", or empty when the contact was removed since.
    pub contact: String,
    pub status: super::enums::TargetStatus,
    pub follow_ups: i32,
    /// "YYYY-MM-DD HH:MM UTC" of the latest email, if one went out.
    pub last_sent_at: Option<String>,
}

/// A campaign with (a page of) the accounts it reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignDetail {
    pub campaign: CampaignView,
    pub targets: Vec<CampaignTarget>,
    /// Targets with the chosen status (all of them when none was chosen).
    pub matching: u64,
}

/// The most targets one campaign page lists.
pub const TARGETS_SHOWN: u64 = 200;
