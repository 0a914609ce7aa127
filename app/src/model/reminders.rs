//! Reminder rules as staff see and edit them, the checks the rules editor and the server
//! share, and the report of a (dry) run of the scheduler.

use serde::{Deserialize, Serialize};

use super::enums::{StepAction, StepTrigger};

/// The most steps one rule may have.
pub const MAX_STEPS: usize = 12;
/// The latest day a step may fire at, counted from the issue or the due date.
pub const MAX_STEP_DAYS: i32 = 365;
/// The longest rule name, in characters.
pub const MAX_NAME_CHARS: usize = 120;
/// The longest customer segment in a scope, in characters.
pub const MAX_SEGMENT_CHARS: usize = 80;
/// How many would-be touches a dry run lists.
pub const SAMPLE_SIZE: usize = 50;

/// Which accounts a rule reminds. Every condition that is set must hold; none set means
/// every account. Stored as JSON in `reminder_rules.scope` (NULL for every account).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleScope {
    /// `accounts.segment` equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The account's open invoices add up to more than this, in minor units.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balance_above_minor: Option<i64>,
    /// `accounts.collector_id` is this staff user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collector_id: Option<i64>,
}

impl RuleScope {
    /// True when the rule reminds every account.
    pub fn is_everyone(&self) -> bool {
        self.segment.is_none() && self.balance_above_minor.is_none() && self.collector_id.is_none()
    }
}

/// One step of a rule: when it fires for an invoice and what it does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepView {
    /// `None` for a step added in the editor and not saved yet.
    pub id: Option<i64>,
    pub trigger: StepTrigger,
    /// Days since the issue date (`invoice_age`) or the due date (`days_past_due`).
    pub days: i32,
    pub action: StepAction,
    /// The email template of an `email` step (ignored for calls and letters).
    pub template_id: Option<i64>,
}

impl StepView {
    /// "14 days after issue" / "1 day past due".
    pub fn when(&self) -> String {
        let unit = if self.days == 1 { "day" } else { "days" };
        match self.trigger {
            StepTrigger::InvoiceAge => format!("{} {unit} after issue", self.days),
            StepTrigger::DaysPastDue => format!("{} {unit} past due", self.days),
        }
    }
}

/// A rule with its steps in order. As input to a save, `id: None` creates a rule and
/// `version` must be the version the editor loaded (ignored on create).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    pub id: Option<i64>,
    pub name: String,
    pub active: bool,
    pub scope: RuleScope,
    pub steps: Vec<StepView>,
    pub version: i32,
    /// "YYYY-MM-DD HH:MM UTC"; empty for an unsaved rule.
    pub updated_at: String,
}

/// An email template a step may send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateChoice {
    pub id: i64,
    pub key: String,
    pub name: String,
}

/// Why an examined invoice got no touch today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A payment is clearing (`payment_pending`).
    PaymentPending,
    /// Disputed in full: nothing undisputed to ask for.
    FullyDisputed,
    /// An open Promise to Pay covers it and its date has not passed.
    Promised,
    /// The account is on hold.
    OnHold,
}

impl SkipReason {
    pub fn label(self) -> &'static str {
        match self {
            SkipReason::PaymentPending => "payment pending",
            SkipReason::FullyDisputed => "fully disputed",
            SkipReason::Promised => "promised to pay",
            SkipReason::OnHold => "account on hold",
        }
    }
}

/// One invoice a run touched (or a dry run would touch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouchSample {
    pub account_number: String,
    pub account_name: String,
    pub invoice_number: String,
    /// The rule's name and the step's position (1-based) and `when`.
    pub rule: String,
    pub step: u32,
    pub when: String,
    /// What happens: an email step whose contact cannot be emailed becomes a call.
    pub action: StepAction,
    /// Undisputed open amount asked for, in minor units.
    pub amount_minor: i64,
    pub currency: String,
}

/// What a run of the reminder rules did (or, dry, would do) for one day. Counts are
/// `u64`, never `usize` (the browser is 32-bit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunReport {
    /// The day evaluated, "YYYY-MM-DD".
    pub day: String,
    pub dry_run: bool,
    pub rules: u64,
    /// Open invoices in a rule's scope that had reached at least one step (counted once
    /// per rule that looked at them).
    pub invoices_examined: u64,
    /// Invoices touched, by what the touch was.
    pub emailed_invoices: u64,
    pub called_invoices: u64,
    pub lettered_invoices: u64,
    /// Of the called invoices, those whose step was an email, turned into a call because
    /// no contact could be emailed (bounced, reported wrong, or no address).
    pub email_became_call: u64,
    /// Emails queued (one per account and step, listing its invoices).
    pub emails: u64,
    /// Tasks opened (calls and letters, one per account and step).
    pub tasks: u64,
    /// Distinct accounts that got an email.
    pub accounts_emailed: u64,
    /// Earlier steps an invoice had reached but not fired, marked passed because a later
    /// one fired (catch-up: they never fire late).
    pub steps_passed: u64,
    /// Invoices whose latest reached step had already fired: nothing new today.
    pub already_touched: u64,
    /// Skipped invoices by reason, sorted by reason.
    pub skipped: Vec<(SkipReason, u64)>,
    /// Up to [`SAMPLE_SIZE`] of the touches, in the order they were decided.
    pub sample: Vec<TouchSample>,
}

impl DryRunReport {
    /// Invoices touched by any action.
    pub fn touched(&self) -> u64 {
        self.emailed_invoices + self.called_invoices + self.lettered_invoices
    }

    /// How many invoices were skipped for `reason`.
    pub fn skipped_for(&self, reason: SkipReason) -> u64 {
        self.skipped
            .iter()
            .find(|(r, _)| *r == reason)
            .map_or(0, |(_, n)| *n)
    }

    /// Adds `n` invoices skipped for `reason`.
    pub fn skip(&mut self, reason: SkipReason, n: u64) {
        match self.skipped.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, count)) => *count += n,
            None => {
                self.skipped.push((reason, n));
                self.skipped.sort();
            }
        }
    }
}

/// Checks a rule name and returns it trimmed.
///
/// # Errors
/// A message for the `name` field.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("give the rule a name".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("at most {MAX_NAME_CHARS} characters"));
    }
    Ok(name.to_owned())
}

/// Checks a scope: a segment that is not blank or too long, a balance that is not negative,
/// a collector id that is positive.
///
/// # Errors
/// The field (`segment`, `balance_above_minor`, `collector_id`) and its message.
pub fn check_scope(scope: &RuleScope) -> Result<(), (&'static str, String)> {
    if let Some(segment) = &scope.segment {
        if segment.trim().is_empty() {
            return Err(("segment", "leave it unset for every segment".to_owned()));
        }
        if segment.chars().count() > MAX_SEGMENT_CHARS {
            return Err(("segment", format!("at most {MAX_SEGMENT_CHARS} characters")));
        }
    }
    if scope.balance_above_minor.is_some_and(|b| b < 0) {
        return Err(("balance_above_minor", "cannot be negative".to_owned()));
    }
    if scope.collector_id.is_some_and(|c| c <= 0) {
        return Err(("collector_id", "choose a collector".to_owned()));
    }
    Ok(())
}

/// Checks a rule's steps: 1 to [`MAX_STEPS`]; days 0 to [`MAX_STEP_DAYS`]; an email step
/// names a template; steps of the same trigger come in increasing days (so "later in the
/// list" means "later in time" for each kind of step); no step repeats another's trigger
/// and days.
///
/// # Errors
/// The index of the offending step (`None` for the list as a whole) and the message.
pub fn check_steps(steps: &[StepView]) -> Result<(), (Option<usize>, String)> {
    if steps.is_empty() {
        return Err((None, "a rule needs at least one step".to_owned()));
    }
    if steps.len() > MAX_STEPS {
        return Err((None, format!("at most {MAX_STEPS} steps")));
    }
    for (i, step) in steps.iter().enumerate() {
        if !(0..=MAX_STEP_DAYS).contains(&step.days) {
            return Err((Some(i), format!("days must be from 0 to {MAX_STEP_DAYS}")));
        }
        if step.action == StepAction::Email && step.template_id.is_none() {
            return Err((Some(i), "choose the email template to send".to_owned()));
        }
        if let Some(earlier) = steps[..i].iter().rev().find(|s| s.trigger == step.trigger) {
            if earlier.days == step.days {
                return Err((
                    Some(i),
                    format!("another step already fires {}", step.when()),
                ));
            }
            if earlier.days > step.days {
                return Err((
                    Some(i),
                    format!("must come after {} (steps go in order)", earlier.when()),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(trigger: StepTrigger, days: i32, action: StepAction) -> StepView {
        StepView {
            id: None,
            trigger,
            days,
            action,
            template_id: (action == StepAction::Email).then_some(1),
        }
    }

    #[test]
    fn steps_of_one_trigger_must_increase() {
        use StepAction::*;
        use StepTrigger::*;
        assert_eq!(
            check_steps(&[step(InvoiceAge, 14, Email), step(DaysPastDue, 1, Email)]),
            Ok(())
        );
        assert!(matches!(
            check_steps(&[step(DaysPastDue, 10, Call), step(DaysPastDue, 5, Email)]),
            Err((Some(1), _))
        ));
        assert!(matches!(
            check_steps(&[step(DaysPastDue, 10, Call), step(DaysPastDue, 10, Email)]),
            Err((Some(1), _))
        ));
        assert!(matches!(check_steps(&[]), Err((None, _))));
        let mut no_template = step(DaysPastDue, 1, Email);
        no_template.template_id = None;
        assert!(matches!(check_steps(&[no_template]), Err((Some(0), _))));
        assert!(matches!(
            check_steps(&[step(InvoiceAge, 400, Call)]),
            Err((Some(0), _))
        ));
    }

    #[test]
    fn scope_round_trips_as_compact_json() {
        let scope = RuleScope {
            segment: Some("wholesale".to_owned()),
            ..RuleScope::default()
        };
        let json = serde_json::to_string(&scope).expect("json");
        assert_eq!(json, r#"{"segment":"wholesale"}"#);
        assert_eq!(serde_json::from_str::<RuleScope>(&json).ok(), Some(scope));
        assert!(RuleScope::default().is_everyone());
        assert!(
            check_scope(&RuleScope {
                balance_above_minor: Some(-1),
                ..RuleScope::default()
            })
            .is_err()
        );
    }

    #[test]
    fn skips_are_counted_by_reason() {
        let mut report = DryRunReport::default();
        report.skip(SkipReason::Promised, 2);
        report.skip(SkipReason::PaymentPending, 1);
        report.skip(SkipReason::Promised, 1);
        assert_eq!(report.skipped_for(SkipReason::Promised), 3);
        assert_eq!(report.skipped[0].0, SkipReason::PaymentPending);
    }
}
