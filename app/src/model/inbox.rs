//! The accounting inbox and the account activity timeline: the filters as the page's URL
//! carries them, the rows the server returns, and the call outcomes staff log.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{StaffRole, TaskKind, TaskStatus};

/// Tasks per inbox page.
pub const PAGE_SIZE: u64 = 25;
/// The most entries one timeline request returns.
pub const MAX_ACTIVITY: u64 = 200;
/// Entries a timeline shows when the request names no limit.
pub const DEFAULT_ACTIVITY: u64 = 50;
/// The longest outcome note, in characters.
pub const NOTE_MAX_CHARS: usize = 1000;

/// Task kinds the inbox filters by, with their labels.
pub const KINDS: [(TaskKind, &str); 8] = [
    (TaskKind::Call, "Call"),
    (TaskKind::Review, "Review"),
    (TaskKind::Approval, "Approval"),
    (TaskKind::Dispute, "Dispute"),
    (TaskKind::Message, "Message"),
    (TaskKind::Bounce, "Bounced email"),
    (TaskKind::WrongPerson, "Wrong person"),
    (TaskKind::BrokenPromise, "Broken promise"),
];

/// Task statuses with their labels.
pub const STATUSES: [(TaskStatus, &str); 4] = [
    (TaskStatus::Open, "Open"),
    (TaskStatus::InProgress, "In progress"),
    (TaskStatus::Done, "Done"),
    (TaskStatus::Skipped, "Skipped"),
];

/// How a task kind reads on the page.
pub fn kind_label(kind: TaskKind) -> String {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or_else(|| capitalised(kind.as_str()), |(_, l)| (*l).to_owned())
}

/// How a task status reads on the page.
pub fn status_label(status: TaskStatus) -> &'static str {
    STATUSES
        .iter()
        .find(|(s, _)| *s == status)
        .map_or("", |(_, l)| l)
}

fn capitalised(key: &str) -> String {
    let text = key.replace('_', " ");
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Which statuses the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StatusFilter {
    /// Open and in progress (the default).
    Active,
    Any,
    Only(TaskStatus),
}

/// Whose tasks the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AssigneeFilter {
    Anyone,
    Me,
    Unassigned,
    Staff(i64),
}

/// Which due dates the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DueFilter {
    Any,
    /// Due before today.
    Overdue,
    Today,
    /// Due from today through Sunday of this week.
    Week,
}

/// The inbox filter, parsed from the URL's query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxFilter {
    pub kind: Option<TaskKind>,
    pub status: StatusFilter,
    pub assignee: AssigneeFilter,
    pub due: DueFilter,
    /// Part of the account's name or number.
    pub q: Option<String>,
}

impl Default for InboxFilter {
    fn default() -> Self {
        InboxFilter {
            kind: None,
            status: StatusFilter::Active,
            assignee: AssigneeFilter::Anyone,
            due: DueFilter::Any,
            q: None,
        }
    }
}

impl InboxFilter {
    /// Reads the filter from the query's texts: `kind` a task kind or empty; `status`
    /// empty (open and in progress), `any` or a status; `assignee` empty (anyone), `me`,
    /// `none` or a staff id; `due` empty, `overdue`, `today` or `week`; `q` any text.
    ///
    /// # Errors
    /// `(field, message)` for a value the list does not know.
    pub fn parse(
        kind: &str,
        status: &str,
        assignee: &str,
        due: &str,
        q: &str,
    ) -> Result<Self, (&'static str, String)> {
        let kind = match kind.trim() {
            "" => None,
            k => Some(
                parse_kind(k).ok_or_else(|| ("kind", format!("there is no task kind “{k}”")))?,
            ),
        };
        let status = match status.trim() {
            "" | "active" => StatusFilter::Active,
            "any" => StatusFilter::Any,
            s => StatusFilter::Only(
                parse_status(s).ok_or_else(|| ("status", format!("there is no status “{s}”")))?,
            ),
        };
        let assignee = match assignee.trim() {
            "" | "anyone" => AssigneeFilter::Anyone,
            "me" => AssigneeFilter::Me,
            "none" => AssigneeFilter::Unassigned,
            id => AssigneeFilter::Staff(
                id.parse()
                    .map_err(|_| ("assignee", "choose someone from the list".to_owned()))?,
            ),
        };
        let due = match due.trim() {
            "" | "any" => DueFilter::Any,
            "overdue" => DueFilter::Overdue,
            "today" => DueFilter::Today,
            "week" => DueFilter::Week,
            _ => return Err(("due", "choose overdue, today or this week".to_owned())),
        };
        let q = Some(q.trim().to_owned()).filter(|q| !q.is_empty());
        Ok(InboxFilter {
            kind,
            status,
            assignee,
            due,
            q,
        })
    }
}

/// A task kind from its stored name.
pub fn parse_kind(text: &str) -> Option<TaskKind> {
    KINDS.iter().map(|(k, _)| *k).find(|k| k.as_str() == text)
}

/// A task status from its stored name.
pub fn parse_status(text: &str) -> Option<TaskStatus> {
    STATUSES
        .iter()
        .map(|(s, _)| *s)
        .find(|s| s.as_str() == text)
}

/// The last day (Sunday) of the week `today` lies in.
pub fn end_of_week(today: NaiveDate) -> NaiveDate {
    today + Duration::days(6 - i64::from(today.weekday().num_days_from_monday()))
}

/// Midnight UTC on Monday of the week `now` lies in.
pub fn start_of_week(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    monday.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc()
}

/// What a call came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallOutcome {
    Reached,
    LeftVoicemail,
    Promised,
    Disputed,
    WrongNumber,
}

/// Every call outcome with its label, in the order the form offers them.
pub const CALL_OUTCOMES: [(CallOutcome, &str); 5] = [
    (CallOutcome::Reached, "Reached"),
    (CallOutcome::LeftVoicemail, "Left voicemail"),
    (CallOutcome::Promised, "Promised to pay"),
    (CallOutcome::Disputed, "Disputed"),
    (CallOutcome::WrongNumber, "Wrong number"),
];

impl CallOutcome {
    /// The stored name, the prefix of a call task's `outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Reached => "reached",
            CallOutcome::LeftVoicemail => "left_voicemail",
            CallOutcome::Promised => "promised",
            CallOutcome::Disputed => "disputed",
            CallOutcome::WrongNumber => "wrong_number",
        }
    }

    /// How it reads on the page.
    pub fn label(self) -> &'static str {
        CALL_OUTCOMES
            .iter()
            .find(|(o, _)| *o == self)
            .map_or("", |(_, l)| l)
    }

    /// From its stored name.
    pub fn parse(text: &str) -> Option<Self> {
        CALL_OUTCOMES
            .iter()
            .map(|(o, _)| *o)
            .find(|o| o.as_str() == text.trim())
    }
}

/// A call task's `outcome` column: the outcome's name, then `": "` and the note if any.
pub fn format_call_outcome(outcome: CallOutcome, note: Option<&str>) -> String {
    match note {
        Some(n) if !n.is_empty() => format!("{}: {n}", outcome.as_str()),
        _ => outcome.as_str().to_owned(),
    }
}

/// Reads back what [`format_call_outcome`] stored; `None` when the text is a plain note.
pub fn parse_call_outcome(text: &str) -> Option<(CallOutcome, Option<String>)> {
    let (head, note) = match text.split_once(": ") {
        Some((h, n)) => (h, Some(n.to_owned())),
        None => (text, None),
    };
    CallOutcome::parse(head).map(|o| (o, note.filter(|n| !n.is_empty())))
}

/// The note as stored: trimmed, `None` when blank.
///
/// # Errors
/// A message when it is longer than [`NOTE_MAX_CHARS`].
pub fn check_note(note: Option<&str>) -> Result<Option<String>, String> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
        return Err(format!("use at most {NOTE_MAX_CHARS} characters"));
    }
    Ok(note.map(str::to_owned))
}

/// One inbox row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRow {
    pub id: i64,
    pub account_id: Option<i64>,
    /// The account's display name and number.
    pub account: Option<String>,
    pub kind: TaskKind,
    pub title: String,
    pub due_date: Option<NaiveDate>,
    /// Due before today and not done.
    pub overdue: bool,
    pub priority: i32,
    pub assignee_id: Option<i64>,
    pub assignee: Option<String>,
    pub status: TaskStatus,
    pub outcome: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A staff user tasks may be assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffOption {
    pub id: i64,
    pub name: String,
    pub role: StaffRole,
}

/// One page of the inbox, with what the page needs to offer the right controls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxList {
    pub rows: Vec<TaskRow>,
    /// Tasks matching the filter on every page.
    pub total: u64,
    /// Zero-based.
    pub page: u64,
    pub pages: u64,
    /// The caller.
    pub me: i64,
    pub role: StaffRole,
    /// Active staff users, by name.
    pub staff: Vec<StaffOption>,
}

/// One collector's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorProgress {
    pub staff_id: i64,
    pub name: String,
    /// Open and in progress.
    pub open: u64,
    pub done_today: u64,
    pub done_week: u64,
}

/// An open invoice a promise taken on the phone may cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenInvoice {
    pub id: i64,
    pub number: String,
    pub due_date: Option<NaiveDate>,
    pub open_minor: i64,
    pub currency: String,
}

/// What the call form needs: the task and the account's open invoices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallForm {
    pub task: TaskRow,
    pub invoices: Vec<OpenInvoice>,
    /// The promise's date limits, from the server's clock.
    pub today: NaiveDate,
    pub latest: NaiveDate,
}

/// A logged call: the call task now done, and the promise taken if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLogged {
    pub task_id: i64,
    pub promise_id: Option<i64>,
}

/// The sources of the activity timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Email,
    Letter,
    Call,
    Payment,
    Promise,
    Dispute,
    Profile,
}

/// Every timeline source with its label.
pub const ACTIVITY_KINDS: [(ActivityKind, &str); 7] = [
    (ActivityKind::Email, "Email"),
    (ActivityKind::Letter, "Letter"),
    (ActivityKind::Call, "Call"),
    (ActivityKind::Payment, "Payment"),
    (ActivityKind::Promise, "Promise"),
    (ActivityKind::Dispute, "Dispute"),
    (ActivityKind::Profile, "Profile change"),
];

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Email => "email",
            ActivityKind::Letter => "letter",
            ActivityKind::Call => "call",
            ActivityKind::Payment => "payment",
            ActivityKind::Promise => "promise",
            ActivityKind::Dispute => "dispute",
            ActivityKind::Profile => "profile",
        }
    }

    pub fn label(self) -> &'static str {
        ACTIVITY_KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, l)| l)
    }

    pub fn parse(text: &str) -> Option<Self> {
        ACTIVITY_KINDS
            .iter()
            .map(|(k, _)| *k)
            .find(|k| k.as_str() == text.trim())
    }
}

/// One entry of an account's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub at: DateTime<Utc>,
    pub kind: ActivityKind,
    /// What happened, in a line.
    pub title: String,
    pub detail: Option<String>,
    /// The state, where the source has one (`sent`, `pending`, `dead`, `kept`, ...).
    pub status: Option<String>,
}

/// An account's timeline, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountActivity {
    pub account_id: i64,
    pub account: String,
    pub number: String,
    pub entries: Vec<ActivityEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_from_the_query() {
        assert_eq!(
            InboxFilter::parse("", "", "", "", " "),
            Ok(InboxFilter::default())
        );
        let f = InboxFilter::parse("call", "done", "me", "week", " acme ").unwrap_or_default();
        assert_eq!(f.kind, Some(TaskKind::Call));
        assert_eq!(f.status, StatusFilter::Only(TaskStatus::Done));
        assert_eq!(f.assignee, AssigneeFilter::Me);
        assert_eq!(f.due, DueFilter::Week);
        assert_eq!(f.q.as_deref(), Some("acme"));
        assert_eq!(
            InboxFilter::parse("", "any", "7", "", "").map(|f| (f.status, f.assignee)),
            Ok((StatusFilter::Any, AssigneeFilter::Staff(7)))
        );
        assert_eq!(
            InboxFilter::parse("x", "", "", "", "").map_err(|e| e.0),
            Err("kind")
        );
        assert_eq!(
            InboxFilter::parse("", "x", "", "", "").map_err(|e| e.0),
            Err("status")
        );
        assert_eq!(
            InboxFilter::parse("", "", "x", "", "").map_err(|e| e.0),
            Err("assignee")
        );
        assert_eq!(
            InboxFilter::parse("", "", "", "x", "").map_err(|e| e.0),
            Err("due")
        );
    }

    #[test]
    fn call_outcomes_round_trip_through_the_outcome_column() {
        let stored = format_call_outcome(CallOutcome::LeftVoicemail, Some("call back: Monday"));
        assert_eq!(stored, "left_voicemail: call back: Monday");
        assert_eq!(
            parse_call_outcome(&stored),
            Some((
                CallOutcome::LeftVoicemail,
                Some("call back: Monday".to_owned())
            ))
        );
        assert_eq!(
            parse_call_outcome(&format_call_outcome(CallOutcome::Reached, None)),
            Some((CallOutcome::Reached, None))
        );
        assert_eq!(parse_call_outcome("spoke to them"), None);
    }

    #[test]
    fn weeks_run_monday_to_sunday() {
        let thursday = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap_or_default();
        assert_eq!(end_of_week(thursday).to_string(), "2026-11-29");
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap_or_default();
        assert_eq!(end_of_week(sunday), sunday);
        let now = thursday.and_hms_opt(15, 0, 0).unwrap_or_default().and_utc();
        assert_eq!(start_of_week(now).to_rfc3339(), "2026-11-23T00:00:00+00:00");
    }
}
