//! Reminder rules and the scheduler that follows them: each day, every open invoice in a
//! rule's scope that has reached a step gets that step once — an email to the account's
//! billing contact, a call task, or a letter task — with one email (or task) per account
//! and step listing all its invoices.
//!
//! Exactly once: a touch is a `reminder_touches` row, unique on (document, step). A run
//! inserts the touches of one account and step with `ON CONFLICT DO NOTHING ... RETURNING`
//! as the first statement of a transaction, then queues the email (outbox) or opens the
//! task in that same transaction for the invoices whose rows it actually inserted. Reruns,
//! restarts and several processes against one database therefore never touch an invoice
//! twice for a step; on SQLite the insert takes the write lock first, as a guarded write.
//!
//! Catch-up: when an invoice has reached several steps that have not fired (first run on
//! old data, or after a promise lapsed), only the latest reached one fires. The earlier
//! ones are recorded as `reminder_touches` rows too, in the same insert, so they never fire
//! late. A touch row therefore means "this step is done for this invoice"; what was
//! actually sent is in the outbox and the tasks (related to `("reminder_step", step id)`).
//!
//! Streaming: open invoices are read in pages of [`BATCH`] ordered by (account, id) with the
//! state and scope filters in SQL; a page always ends at an account boundary, so one
//! account's invoices are grouped together.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::sea_query::{ExprTrait as _, Query};
use sea_orm::{
    ActiveValue::Set, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait, TryInsertResult, prelude::*,
};
use serde_json::json;

use crate::entities::{
    account, contact, document, promise, promise_document, reminder_rule, reminder_step,
    reminder_touch, template,
};
use crate::error::AppError;
use crate::model::enums::{
    AccountStatus, ActorKind, Channel, DocumentKind, DocumentStatus, EmailStatus, PromiseStatus,
    StepAction, StepTrigger, TaskKind, TemplateChannel,
};
use crate::model::portal::format_money;
use crate::model::reminders::{
    DryRunReport, RuleScope, RuleView, SAMPLE_SIZE, SkipReason, StepView, TemplateChoice,
    TouchSample, check_name, check_scope, check_steps,
};
use crate::services::audit::{self, Change};
use crate::services::mail;
use crate::services::tasks::{self, NewTask};
use crate::services::templates::DefaultTemplate;

/// Open invoices read per page.
pub const BATCH: u64 = 1_000;
/// `tasks.related_kind` of the call and letter tasks a step opens; `related_id` is the step.
pub const TASK_RELATED_KIND: &str = "reminder_step";
/// Name of the rule seeded at first start.
pub const DEFAULT_RULE_NAME: &str = "Standard reminders";
/// Key of the first, friendly reminder (sent before the due date).
pub const COURTESY_TEMPLATE: &str = "reminder_courtesy";
/// Key of the first overdue reminder.
pub const OVERDUE_TEMPLATE: &str = "reminder_overdue";
/// Key of the second overdue reminder.
pub const SECOND_NOTICE_TEMPLATE: &str = "reminder_second_notice";
/// Rows per `INSERT` of touches (three parameters each).
const INSERT_CHUNK: usize = 500;
/// Ids per `IN (...)` list.
const IN_CHUNK: usize = 1_000;
/// Invoices listed by name in a task's title.
const TITLE_INVOICES: usize = 8;

/// The default rule's steps, following the seed's advice: first outreach when the invoice
/// is 14 days old, then a mix of emails and calls so every overdue invoice gets at least
/// four touches after its due date (five with the letter):
///
/// | step | when                 | action                                  |
/// |------|----------------------|-----------------------------------------|
/// | 1    | 14 days after issue  | email [`COURTESY_TEMPLATE`]             |
/// | 2    | 1 day past due       | email [`OVERDUE_TEMPLATE`]              |
/// | 3    | 10 days past due     | call                                    |
/// | 4    | 20 days past due     | email [`SECOND_NOTICE_TEMPLATE`]        |
/// | 5    | 30 days past due     | call                                    |
/// | 6    | 45 days past due     | letter (printed from `/staff/letters`)  |
pub const DEFAULT_STEPS: &[(StepTrigger, i32, StepAction, Option<&str>)] = &[
    (
        StepTrigger::InvoiceAge,
        14,
        StepAction::Email,
        Some(COURTESY_TEMPLATE),
    ),
    (
        StepTrigger::DaysPastDue,
        1,
        StepAction::Email,
        Some(OVERDUE_TEMPLATE),
    ),
    (StepTrigger::DaysPastDue, 10, StepAction::Call, None),
    (
        StepTrigger::DaysPastDue,
        20,
        StepAction::Email,
        Some(SECOND_NOTICE_TEMPLATE),
    ),
    (StepTrigger::DaysPastDue, 30, StepAction::Call, None),
    (StepTrigger::DaysPastDue, 45, StepAction::Letter, None),
];

/// The reminder emails (ctx: `contact_name`, `company`, `invoices` — each with `number`,
/// `amount`, `issue_date`, `due_date`, `days_past_due` — `count`, `total`, `portal_link`).
/// The amounts are the undisputed open amounts.
pub const TEMPLATES: &[DefaultTemplate] = &[
    DefaultTemplate {
        key: COURTESY_TEMPLATE,
        name: "Reminder: invoices coming due",
        subject: "{{ company }}: {{ count }} invoice{% if count != 1 %}s{% endif %} coming due ({{ total }})",
        text: "Hello {{ contact_name }},

A friendly note: these invoices for {{ company }} are open:
{% for i in invoices %}
- {{ i.number }}: {{ i.amount }}, due {{ i.due_date }}{% endfor %}

Total: {{ total }}

You can see them, download copies and pay online in the billing portal:
{{ portal_link }}

If the payment is already on its way, thank you, and please ignore this email.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>A friendly note: these invoices for {{ company }} are open:</p>
<table><tr><th align=\"left\">Invoice</th><th align=\"right\">Amount</th><th align=\"left\">Due</th></tr>
{% for i in invoices %}<tr><td>{{ i.number }}</td><td align=\"right\">{{ i.amount }}</td><td>{{ i.due_date }}</td></tr>
{% endfor %}</table>
<p>Total: <strong>{{ total }}</strong></p>
<p><a href=\"{{ portal_link }}\">See and pay them in the billing portal</a></p>
<p>If the payment is already on its way, thank you, and please ignore this email.</p>
",
    },
    DefaultTemplate {
        key: OVERDUE_TEMPLATE,
        name: "Reminder: invoices past due",
        subject: "Past due: {{ count }} invoice{% if count != 1 %}s{% endif %} for {{ company }} ({{ total }})",
        text: "Hello {{ contact_name }},

Our records show these invoices for {{ company }} as past due:
{% for i in invoices %}
- {{ i.number }}: {{ i.amount }}, due {{ i.due_date }} ({{ i.days_past_due }} day{% if i.days_past_due != 1 %}s{% endif %} ago){% endfor %}

Total past due: {{ total }}

Please pay online in the billing portal, or tell us there when you will pay or what is wrong with an invoice:
{{ portal_link }}

If the payment is already on its way, thank you, and please ignore this email.
",
        html: "<p>Hello {{ contact_name }},</p>
<p>Our records show these invoices for {{ company }} as past due:</p>
<table><tr><th align=\"left\">Invoice</th><th align=\"right\">Amount</th><th align=\"left\">Due</th><th align=\"right\">Days past due</th></tr>
{% for i in invoices %}<tr><td>{{ i.number }}</td><td align=\"right\">{{ i.amount }}</td><td>{{ i.due_date }}</td><td align=\"right\">{{ i.days_past_due }}</td></tr>
{% endfor %}</table>
<p>Total past due: <strong>{{ total }}</strong></p>
<p><a href=\"{{ portal_link }}\">Pay, promise a date or dispute an invoice in the billing portal</a></p>
<p>If the payment is already on its way, thank you, and please ignore this email.</p>
",
    },
    DefaultTemplate {
        key: SECOND_NOTICE_TEMPLATE,
        name: "Reminder: second notice",
        subject: "Second notice: {{ total }} past due for {{ company }}",
        text: "Hello {{ contact_name }},

We have not yet received payment for these invoices for {{ company }}:
{% for i in invoices %}
- {{ i.number }}: {{ i.amount }}, due {{ i.due_date }} ({{ i.days_past_due }} days past due){% endfor %}

Total past due: {{ total }}

Please pay now in the billing portal. If something keeps you from paying, let us know there: you can promise a date or dispute an invoice line.
{{ portal_link }}
",
        html: "<p>Hello {{ contact_name }},</p>
<p>We have not yet received payment for these invoices for {{ company }}:</p>
<table><tr><th align=\"left\">Invoice</th><th align=\"right\">Amount</th><th align=\"left\">Due</th><th align=\"right\">Days past due</th></tr>
{% for i in invoices %}<tr><td>{{ i.number }}</td><td align=\"right\">{{ i.amount }}</td><td>{{ i.due_date }}</td><td align=\"right\">{{ i.days_past_due }}</td></tr>
{% endfor %}</table>
<p>Total past due: <strong>{{ total }}</strong></p>
<p>Please pay now in the billing portal. If something keeps you from paying, let us know there: you can promise a date or dispute an invoice line.</p>
<p><a href=\"{{ portal_link }}\">Open the billing portal</a></p>
",
    },
];

/// Seeds the reminder email templates and the default rule ([`DEFAULT_STEPS`]) once.
///
/// The first template's insert (`ON CONFLICT DO NOTHING` on its unique key) is the guard:
/// only the process whose insert succeeds, in the same transaction, adds the other templates
/// and the rule. So several processes starting at once seed one rule, and a rule an admin
/// deleted or changed is never brought back. Returns whether it seeded.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn seed_default_rule(
    db: &(impl ConnectionTrait + TransactionTrait),
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let txn = crate::db::begin_write(db).await?;
    let mut ids = HashMap::new();
    for (i, t) in TEMPLATES.iter().enumerate() {
        let row = template::ActiveModel {
            key: Set(t.key.to_owned()),
            channel: Set(TemplateChannel::Email),
            name: Set(t.name.to_owned()),
            subject: Set(t.subject.to_owned()),
            body_text: Set(t.text.to_owned()),
            body_html: Set(Some(t.html.to_owned())),
            version: Set(1),
            updated_at: Set(now),
            ..Default::default()
        };
        let result = template::Entity::insert(row)
            .on_conflict_do_nothing_on([template::Column::Key])
            .exec(&txn)
            .await?;
        match result {
            TryInsertResult::Inserted(r) => {
                ids.insert(t.key, r.last_insert_id);
            }
            _ if i == 0 => {
                txn.commit().await?;
                return Ok(false);
            }
            _ => {}
        }
    }
    // A later template that already existed (seeded by hand) is still found by its key.
    for t in TEMPLATES {
        if !ids.contains_key(t.key)
            && let Some(found) = template::Entity::find()
                .filter(template::COLUMN.key.eq(t.key))
                .one(&txn)
                .await?
        {
            ids.insert(t.key, found.id);
        }
    }
    let rule = reminder_rule::ActiveModel {
        name: Set(DEFAULT_RULE_NAME.to_owned()),
        scope: Set(None),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let steps = DEFAULT_STEPS
        .iter()
        .zip(1..)
        .map(
            |((trigger, days, action, key), position)| reminder_step::ActiveModel {
                rule_id: Set(rule.id),
                position: Set(position),
                trigger: Set(*trigger),
                days: Set(*days),
                action: Set(*action),
                template_id: Set(key.and_then(|k| ids.get(k).copied())),
                ..Default::default()
            },
        );
    reminder_step::Entity::insert_many(steps).exec(&txn).await?;
    txn.commit().await?;
    Ok(true)
}

/// Every rule with its steps, by name.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn list_rules(db: &impl ConnectionTrait) -> Result<Vec<RuleView>, AppError> {
    let rules = reminder_rule::Entity::find()
        .order_by_asc(reminder_rule::COLUMN.name)
        .order_by_asc(reminder_rule::COLUMN.id)
        .all(db)
        .await?;
    let mut steps = steps_of(db, rules.iter().map(|r| r.id)).await?;
    Ok(rules
        .into_iter()
        .map(|r| {
            let s = steps.remove(&r.id).unwrap_or_default();
            view_of(r, &s)
        })
        .collect())
}

/// Rule `id` with its steps.
///
/// # Errors
/// `NotFound` for an unknown rule; database errors as `Internal`.
pub async fn get_rule(db: &impl ConnectionTrait, id: i64) -> Result<RuleView, AppError> {
    let rule = reminder_rule::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let steps = steps_of(db, [id]).await?.remove(&id).unwrap_or_default();
    Ok(view_of(rule, &steps))
}

/// The email templates a step may send, by name.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn email_templates(db: &impl ConnectionTrait) -> Result<Vec<TemplateChoice>, AppError> {
    Ok(template::Entity::find()
        .filter(template::COLUMN.channel.eq(TemplateChannel::Email))
        .order_by_asc(template::COLUMN.name)
        .all(db)
        .await?
        .into_iter()
        .map(|t| TemplateChoice {
            id: t.id,
            key: t.key,
            name: t.name,
        })
        .collect())
}

/// Creates (`rule.id` is `None`) or updates a rule and its steps, recording an audit event
/// (`entity = "reminder_rule"`) per changed field by staff user `staff_id`. An update must
/// carry the version the editor loaded; it bumps it.
///
/// Steps keep their ids (a step given with its id is updated in place), so the touches of a
/// step that stays are kept and it never fires again for the same invoice; a step left out
/// is deleted with its touches.
///
/// # Errors
/// `Validation` naming the field (`name`, `segment`, `balance_above_minor`, `collector_id`,
/// `steps`, `steps[i]`) for bad input, including an email template that does not exist or a
/// step id of another rule; `NotFound` for an unknown rule; `Conflict` when the rule changed
/// since `rule.version`; database errors as `Internal`.
pub async fn save_rule(
    db: &(impl ConnectionTrait + TransactionTrait),
    staff_id: i64,
    rule: RuleView,
    now: DateTime<Utc>,
) -> Result<RuleView, AppError> {
    let name = check_name(&rule.name).map_err(|m| AppError::validation("name", m))?;
    let mut scope = rule.scope.clone();
    scope.segment = scope.segment.map(|s| s.trim().to_owned());
    check_scope(&scope).map_err(|(field, m)| AppError::validation(field, m))?;
    check_steps(&rule.steps).map_err(|(i, m)| match i {
        Some(i) => AppError::validation(&format!("steps[{i}]"), m),
        None => AppError::validation("steps", m),
    })?;
    let keys = template_keys(db).await?;
    for (i, step) in rule.steps.iter().enumerate() {
        if step.action == StepAction::Email
            && !step.template_id.is_some_and(|t| keys.contains_key(&t))
        {
            return Err(AppError::validation(
                &format!("steps[{i}]"),
                "that email template does not exist",
            ));
        }
    }
    let steps: Vec<StepView> = rule
        .steps
        .into_iter()
        .map(|s| StepView {
            template_id: if s.action == StepAction::Email {
                s.template_id
            } else {
                None
            },
            ..s
        })
        .collect();
    let scope_json = scope_to_json(&scope);
    let new_summary = steps_summary(&steps, &keys);
    let actor =
        |field: Option<&'static str>, id: i64, old: Option<String>, new: Option<String>| Change {
            actor_kind: ActorKind::Staff,
            actor_id: Some(staff_id),
            channel: Channel::StaffUi,
            account_id: None,
            entity: "reminder_rule",
            entity_id: Some(id),
            field,
            old_value: old,
            new_value: new,
        };

    let Some(id) = rule.id else {
        let txn = crate::db::begin_write(db).await?;
        let created = reminder_rule::ActiveModel {
            name: Set(name.clone()),
            scope: Set(scope_json),
            active: Set(rule.active),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        insert_steps(&txn, created.id, &steps, 0).await?;
        audit::append(
            &txn,
            actor(
                None,
                created.id,
                None,
                Some(format!("{name}: {new_summary}")),
            ),
            now,
        )
        .await?;
        txn.commit().await?;
        return get_rule(db, created.id).await;
    };

    // Read before the transaction; it starts with its guarded write (SQLite).
    let old = get_rule(db, id).await?;
    let old_ids: HashSet<i64> = old.steps.iter().filter_map(|s| s.id).collect();
    if let Some(i) = steps
        .iter()
        .position(|s| s.id.is_some_and(|sid| !old_ids.contains(&sid)))
    {
        return Err(AppError::validation(
            &format!("steps[{i}]"),
            "that step is not one of this rule's; reload the rule",
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let updated = reminder_rule::Entity::update_many()
        .col_expr(reminder_rule::Column::Name, Expr::value(name.clone()))
        .col_expr(reminder_rule::Column::Scope, Expr::value(scope_json))
        .col_expr(reminder_rule::Column::Active, Expr::value(rule.active))
        .col_expr(
            reminder_rule::Column::Version,
            Expr::col(reminder_rule::Column::Version).add(1),
        )
        .col_expr(reminder_rule::Column::UpdatedAt, Expr::value(now))
        .filter(reminder_rule::COLUMN.id.eq(id))
        .filter(reminder_rule::COLUMN.version.eq(rule.version))
        .exec(&txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::Conflict(
            "someone else changed this rule since you opened it; reload it and make your change again"
                .to_owned(),
        ));
    }
    let kept: HashSet<i64> = steps.iter().filter_map(|s| s.id).collect();
    reminder_step::Entity::delete_many()
        .filter(reminder_step::COLUMN.rule_id.eq(id))
        .filter(reminder_step::COLUMN.id.is_not_in(kept.iter().copied()))
        .exec(&txn)
        .await?;
    // Positions are unique per rule: park the kept steps on negative positions first.
    for (i, step) in steps.iter().enumerate() {
        if let Some(step_id) = step.id {
            reminder_step::Entity::update_many()
                .col_expr(
                    reminder_step::Column::Position,
                    Expr::value(-position_of(i)),
                )
                .filter(reminder_step::COLUMN.id.eq(step_id))
                .exec(&txn)
                .await?;
        }
    }
    for (i, step) in steps.iter().enumerate() {
        match step.id {
            Some(step_id) => {
                reminder_step::Entity::update_many()
                    .col_expr(reminder_step::Column::Position, Expr::value(position_of(i)))
                    .col_expr(reminder_step::Column::Trigger, Expr::value(step.trigger))
                    .col_expr(reminder_step::Column::Days, Expr::value(step.days))
                    .col_expr(reminder_step::Column::Action, Expr::value(step.action))
                    .col_expr(
                        reminder_step::Column::TemplateId,
                        Expr::value(step.template_id),
                    )
                    .filter(reminder_step::COLUMN.id.eq(step_id))
                    .exec(&txn)
                    .await?;
            }
            None => {
                insert_steps(&txn, id, std::slice::from_ref(step), i).await?;
            }
        }
    }
    let old_summary = steps_summary(&old.steps, &keys);
    let changes = [
        ("name", old.name.clone(), name),
        ("active", old.active.to_string(), rule.active.to_string()),
        ("scope", scope_text(&old.scope), scope_text(&scope)),
        ("steps", old_summary, new_summary),
    ];
    for (field, before, after) in changes {
        if before != after {
            audit::append(&txn, actor(Some(field), id, Some(before), Some(after)), now).await?;
        }
    }
    txn.commit().await?;
    get_rule(db, id).await
}

/// What `rule` — as edited, saved or not, active or not — would do today (`now`), without
/// writing anything. Steps with an id count the touches they already made; new steps have
/// none.
///
/// # Errors
/// `Validation` like [`save_rule`] for a rule that could not be saved; database errors as
/// `Internal`.
pub async fn dry_run(
    db: &impl ConnectionTrait,
    rule: &RuleView,
    now: DateTime<Utc>,
) -> Result<DryRunReport, AppError> {
    check_scope(&rule.scope).map_err(|(field, m)| AppError::validation(field, m))?;
    check_steps(&rule.steps).map_err(|(i, m)| match i {
        Some(i) => AppError::validation(&format!("steps[{i}]"), m),
        None => AppError::validation("steps", m),
    })?;
    let keys = template_keys(db).await?;
    let rule = Rule::from_view(rule, &keys);
    let mut run = Run::new(Mode::Dry, now);
    run.rule(db, &rule).await?;
    Ok(run.finish())
}

/// What the active rules would do today (`now`), without writing anything.
///
/// # Errors
/// Database errors as `Internal`.
pub async fn dry_run_all(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> Result<DryRunReport, AppError> {
    let mut run = Run::new(Mode::Dry, now);
    for rule in active_rules(db).await? {
        run.rule(db, &rule).await?;
    }
    Ok(run.finish())
}

/// Runs the active rules for today (`now`): records the touches and, in the same
/// transactions, queues the emails (links to `public_url`) and opens the tasks. Safe to run
/// again the same day and from several processes at once: each (invoice, step) fires once.
///
/// # Errors
/// Database, template and mail errors; what was committed before the error stays done and
/// is not repeated by the next run.
pub async fn run(
    db: &(impl ConnectionTrait + TransactionTrait),
    public_url: &str,
    now: DateTime<Utc>,
) -> Result<DryRunReport, AppError> {
    let mut run = Run::new(Mode::Live { public_url }, now);
    for rule in active_rules(db).await? {
        run.rule_live(db, &rule).await?;
    }
    Ok(run.finish())
}

fn position_of(index: usize) -> i32 {
    i32::try_from(index + 1).unwrap_or(i32::MAX)
}

async fn insert_steps(
    db: &impl ConnectionTrait,
    rule_id: i64,
    steps: &[StepView],
    first_index: usize,
) -> Result<(), AppError> {
    let rows = steps
        .iter()
        .enumerate()
        .map(|(i, s)| reminder_step::ActiveModel {
            rule_id: Set(rule_id),
            position: Set(position_of(first_index + i)),
            trigger: Set(s.trigger),
            days: Set(s.days),
            action: Set(s.action),
            template_id: Set(s.template_id),
            ..Default::default()
        });
    reminder_step::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

fn scope_to_json(scope: &RuleScope) -> Option<String> {
    if scope.is_everyone() {
        None
    } else {
        serde_json::to_string(scope).ok()
    }
}

fn scope_of(rule: &reminder_rule::Model) -> Result<RuleScope, serde_json::Error> {
    match rule.scope.as_deref() {
        None | Some("") => Ok(RuleScope::default()),
        Some(text) => serde_json::from_str(text),
    }
}

fn scope_text(scope: &RuleScope) -> String {
    scope_to_json(scope).unwrap_or_else(|| "all accounts".to_owned())
}

fn steps_summary(steps: &[StepView], keys: &HashMap<i64, String>) -> String {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let what = match (s.action, s.template_id) {
                (StepAction::Email, Some(t)) => format!(
                    "email {}",
                    keys.get(&t).map_or_else(|| format!("#{t}"), Clone::clone)
                ),
                (action, _) => action.to_string(),
            };
            format!("{}. {}: {what}", i + 1, s.when())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn view_of(rule: reminder_rule::Model, steps: &[reminder_step::Model]) -> RuleView {
    let scope = scope_of(&rule).unwrap_or_else(|err| {
        tracing::warn!(rule = rule.id, %err, "unreadable reminder rule scope");
        RuleScope::default()
    });
    RuleView {
        id: Some(rule.id),
        name: rule.name,
        active: rule.active,
        scope,
        steps: steps
            .iter()
            .map(|s| StepView {
                id: Some(s.id),
                trigger: s.trigger,
                days: s.days,
                action: s.action,
                template_id: s.template_id,
            })
            .collect(),
        version: rule.version,
        updated_at: rule.updated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

async fn steps_of(
    db: &impl ConnectionTrait,
    rule_ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, Vec<reminder_step::Model>>, AppError> {
    let mut out: HashMap<i64, Vec<reminder_step::Model>> = HashMap::new();
    for step in reminder_step::Entity::find()
        .filter(reminder_step::COLUMN.rule_id.is_in(rule_ids))
        .order_by_asc(reminder_step::COLUMN.rule_id)
        .order_by_asc(reminder_step::COLUMN.position)
        .all(db)
        .await?
    {
        out.entry(step.rule_id).or_default().push(step);
    }
    Ok(out)
}

/// Email template keys by id.
async fn template_keys(db: &impl ConnectionTrait) -> Result<HashMap<i64, String>, AppError> {
    Ok(template::Entity::find()
        .filter(template::COLUMN.channel.eq(TemplateChannel::Email))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.key))
        .collect())
}

/// A rule as the scheduler follows it.
#[derive(Debug, Clone)]
struct Rule {
    name: String,
    scope: RuleScope,
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
struct Step {
    /// `None` for an unsaved step (dry runs of an edited rule).
    id: Option<i64>,
    /// 1-based.
    position: u32,
    trigger: StepTrigger,
    days: i64,
    action: StepAction,
    /// The email template's key; `None` for an email step whose template is gone (it
    /// becomes a call).
    template_key: Option<String>,
    when: String,
}

impl Step {
    /// The day this step is due for `doc`; `None` when it never is (no due date).
    fn date_for(&self, doc: &document::Model) -> Option<NaiveDate> {
        match self.trigger {
            StepTrigger::InvoiceAge => Some(doc.issue_date + Duration::days(self.days)),
            StepTrigger::DaysPastDue => doc.due_date.map(|d| d + Duration::days(self.days)),
        }
    }
}

impl Rule {
    fn from_view(view: &RuleView, keys: &HashMap<i64, String>) -> Rule {
        Rule {
            name: view.name.trim().to_owned(),
            scope: view.scope.clone(),
            steps: view
                .steps
                .iter()
                .zip(1..)
                .map(|(s, position)| Step {
                    id: s.id,
                    position,
                    trigger: s.trigger,
                    days: i64::from(s.days),
                    action: s.action,
                    template_key: s.template_id.and_then(|t| keys.get(&t).cloned()),
                    when: s.when(),
                })
                .collect(),
        }
    }
}

async fn active_rules(db: &impl ConnectionTrait) -> Result<Vec<Rule>, AppError> {
    let keys = template_keys(db).await?;
    let mut out = Vec::new();
    for view in list_rules(db).await? {
        if !view.active {
            continue;
        }
        // `view_of` reads an unreadable scope as "everyone": never remind on a guess.
        let Some(id) = view.id else { continue };
        if let Some(model) = reminder_rule::Entity::find_by_id(id).one(db).await?
            && let Err(err) = scope_of(&model)
        {
            tracing::warn!(rule = id, %err, "skipping a reminder rule whose scope cannot be read");
            continue;
        }
        out.push(Rule::from_view(&view, &keys));
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy)]
enum Mode<'a> {
    Dry,
    Live { public_url: &'a str },
}

/// An invoice due for a step today.
#[derive(Debug, Clone)]
struct Due {
    doc: document::Model,
    /// Open minus disputed.
    amount_minor: i64,
    /// Earlier reached steps that never fired: recorded as passed.
    passed: Vec<i64>,
}

/// The invoices of one account due for one step.
#[derive(Debug)]
struct Group<'r> {
    account: account::Model,
    step: &'r Step,
    invoices: Vec<Due>,
}

/// How a group is reached.
#[derive(Debug, Clone)]
enum Reach {
    Email {
        contact_id: i64,
        key: String,
    },
    /// A call task; `why` says why an email step became a call.
    Call {
        why: Option<&'static str>,
    },
    Letter,
}

/// One run over one or more rules, accumulating its report.
struct Run<'a> {
    mode: Mode<'a>,
    now: DateTime<Utc>,
    today: NaiveDate,
    report: DryRunReport,
    accounts_emailed: HashSet<i64>,
}

impl<'a> Run<'a> {
    fn new(mode: Mode<'a>, now: DateTime<Utc>) -> Self {
        let today = now.date_naive();
        Run {
            mode,
            now,
            today,
            report: DryRunReport {
                day: today.to_string(),
                dry_run: matches!(mode, Mode::Dry),
                ..DryRunReport::default()
            },
            accounts_emailed: HashSet::new(),
        }
    }

    fn finish(mut self) -> DryRunReport {
        self.report.accounts_emailed = self.accounts_emailed.len() as u64;
        self.report
    }

    /// A dry pass over `rule` (nothing written).
    async fn rule(&mut self, db: &impl ConnectionTrait, rule: &Rule) -> Result<(), AppError> {
        self.report.rules += 1;
        let mut pages = Pages::new(db, rule, self.today).await?;
        while let Some(page) = pages.next(db).await? {
            for group in self.decide(db, rule, page).await? {
                let reach = reach_of(db, &group).await?;
                let fired: Vec<&Due> = group.invoices.iter().collect();
                let passed = group.invoices.iter().map(|d| d.passed.len() as u64).sum();
                self.count(&group, &reach, &fired, passed, rule);
            }
        }
        Ok(())
    }

    /// A pass over `rule` that records touches and acts on them.
    async fn rule_live(
        &mut self,
        db: &(impl ConnectionTrait + TransactionTrait),
        rule: &Rule,
    ) -> Result<(), AppError> {
        let Mode::Live { public_url } = self.mode else {
            return self.rule(db, rule).await;
        };
        self.report.rules += 1;
        let mut pages = Pages::new(db, rule, self.today).await?;
        while let Some(page) = pages.next(db).await? {
            for group in self.decide(db, rule, page).await? {
                let Some(step_id) = group.step.id else {
                    continue;
                };
                // Reads first; the transaction starts with its guarded write.
                let reach = reach_of(db, &group).await?;
                let txn = crate::db::begin_write(db).await?;
                let mut rows: Vec<(i64, i64)> = group
                    .invoices
                    .iter()
                    .flat_map(|d| {
                        std::iter::once((d.doc.id, step_id))
                            .chain(d.passed.iter().map(|p| (d.doc.id, *p)))
                    })
                    .collect();
                rows.sort_unstable();
                let inserted = insert_touches(&txn, &rows, self.now).await?;
                let fired: Vec<&Due> = group
                    .invoices
                    .iter()
                    .filter(|d| inserted.contains(&(d.doc.id, step_id)))
                    .collect();
                let passed = inserted.iter().filter(|(_, s)| *s != step_id).count() as u64;
                if !fired.is_empty() {
                    act(&txn, public_url, &group, &reach, &fired, self.now).await?;
                }
                txn.commit().await?;
                self.count(&group, &reach, &fired, passed, rule);
            }
        }
        Ok(())
    }

    fn count(
        &mut self,
        group: &Group<'_>,
        reach: &Reach,
        fired: &[&Due],
        passed: u64,
        rule: &Rule,
    ) {
        self.report.steps_passed += passed;
        if fired.is_empty() {
            return;
        }
        let n = fired.len() as u64;
        let action = match reach {
            Reach::Email { .. } => {
                self.report.emailed_invoices += n;
                self.report.emails += 1;
                self.accounts_emailed.insert(group.account.id);
                StepAction::Email
            }
            Reach::Call { why } => {
                self.report.called_invoices += n;
                self.report.tasks += 1;
                if why.is_some() {
                    self.report.email_became_call += n;
                }
                StepAction::Call
            }
            Reach::Letter => {
                self.report.lettered_invoices += n;
                self.report.tasks += 1;
                StepAction::Letter
            }
        };
        for due in fired {
            if self.report.sample.len() >= SAMPLE_SIZE {
                break;
            }
            self.report.sample.push(TouchSample {
                account_number: group.account.account_number.clone(),
                account_name: group.account.display_name.clone(),
                invoice_number: due.doc.number.clone(),
                rule: rule.name.clone(),
                step: group.step.position,
                when: group.step.when.clone(),
                action,
                amount_minor: due.amount_minor,
                currency: due.doc.currency.clone(),
            });
        }
    }

    /// Applies the skips and the catch-up to a page and groups what is due by account and
    /// step, in (account, position) order.
    async fn decide<'r>(
        &mut self,
        db: &impl ConnectionTrait,
        rule: &'r Rule,
        page: Vec<document::Model>,
    ) -> Result<Vec<Group<'r>>, AppError> {
        self.report.invoices_examined += page.len() as u64;
        let doc_ids: Vec<i64> = page.iter().map(|d| d.id).collect();
        let account_ids: Vec<i64> = {
            let mut ids: Vec<i64> = page.iter().map(|d| d.account_id).collect();
            ids.dedup();
            ids
        };
        let mut accounts: HashMap<i64, account::Model> = HashMap::new();
        for chunk in account_ids.chunks(IN_CHUNK) {
            for a in account::Entity::find()
                .filter(account::COLUMN.id.is_in(chunk.iter().copied()))
                .all(db)
                .await?
            {
                accounts.insert(a.id, a);
            }
        }
        let step_ids: Vec<i64> = rule.steps.iter().filter_map(|s| s.id).collect();
        let mut touched: HashSet<(i64, i64)> = HashSet::new();
        if !step_ids.is_empty() {
            for chunk in doc_ids.chunks(IN_CHUNK) {
                // By document only, so the (document, step) index is the one used; touches
                // of other rules' steps are dropped here.
                let rows: Vec<(i64, i64)> = reminder_touch::Entity::find()
                    .select_only()
                    .column(reminder_touch::Column::DocumentId)
                    .column(reminder_touch::Column::StepId)
                    .filter(
                        reminder_touch::COLUMN
                            .document_id
                            .is_in(chunk.iter().copied()),
                    )
                    .into_tuple()
                    .all(db)
                    .await?;
                touched.extend(rows.into_iter().filter(|(_, s)| step_ids.contains(s)));
            }
        }
        let mut promised: HashSet<i64> = HashSet::new();
        for chunk in doc_ids.chunks(IN_CHUNK) {
            let open_promises = Query::select()
                .column(promise::Column::Id)
                .from(promise::Entity)
                .and_where(promise::Column::Status.eq(PromiseStatus::Open))
                .and_where(promise::Column::PromisedDate.gte(self.today))
                .to_owned();
            let rows: Vec<i64> = promise_document::Entity::find()
                .select_only()
                .column(promise_document::Column::DocumentId)
                .filter(
                    promise_document::COLUMN
                        .document_id
                        .is_in(chunk.iter().copied()),
                )
                .filter(promise_document::Column::PromiseId.in_subquery(open_promises))
                .into_tuple()
                .all(db)
                .await?;
            promised.extend(rows);
        }

        let mut groups: BTreeMap<(i64, u32), Vec<Due>> = BTreeMap::new();
        for doc in page {
            let Some(account) = accounts.get(&doc.account_id) else {
                continue;
            };
            let amount_minor = doc.open_minor - std::cmp::max(doc.disputed_minor, 0);
            let skip = if doc.status == DocumentStatus::PaymentPending {
                Some(SkipReason::PaymentPending)
            } else if account.status == AccountStatus::OnHold {
                Some(SkipReason::OnHold)
            } else if amount_minor <= 0 {
                Some(SkipReason::FullyDisputed)
            } else if promised.contains(&doc.id) {
                Some(SkipReason::Promised)
            } else {
                None
            };
            if let Some(reason) = skip {
                self.report.skip(reason, 1);
                continue;
            }
            let reached: Vec<(NaiveDate, &Step)> = rule
                .steps
                .iter()
                .filter_map(|s| s.date_for(&doc).map(|d| (d, s)))
                .filter(|(d, _)| *d <= self.today)
                .collect();
            let Some(&(_, latest)) = reached.iter().max_by_key(|(d, s)| (*d, s.position)) else {
                continue;
            };
            let is_touched = |s: &Step| s.id.is_some_and(|id| touched.contains(&(doc.id, id)));
            if is_touched(latest) {
                self.report.already_touched += 1;
                continue;
            }
            let passed = reached
                .iter()
                .filter(|(_, s)| s.position != latest.position && !is_touched(s))
                .filter_map(|(_, s)| s.id)
                .collect();
            groups
                .entry((doc.account_id, latest.position))
                .or_default()
                .push(Due {
                    doc,
                    amount_minor,
                    passed,
                });
        }
        Ok(groups
            .into_iter()
            .filter_map(|((account_id, position), invoices)| {
                let account = accounts.get(&account_id)?.clone();
                let step = rule.steps.iter().find(|s| s.position == position)?;
                Some(Group {
                    account,
                    step,
                    invoices,
                })
            })
            .collect())
    }
}

/// Pages of the open invoices in a rule's scope that reached at least one of its steps,
/// by (account, id), each ending at an account boundary.
struct Pages<'r> {
    rule: &'r Rule,
    /// Accounts over the rule's balance threshold, when it has one.
    over_balance: Option<HashSet<i64>>,
    age_cut: Option<NaiveDate>,
    dpd_cut: Option<NaiveDate>,
    after_account: i64,
    done: bool,
}

impl<'r> Pages<'r> {
    async fn new(
        db: &impl ConnectionTrait,
        rule: &'r Rule,
        today: NaiveDate,
    ) -> Result<Pages<'r>, AppError> {
        let cut = |trigger: StepTrigger| {
            rule.steps
                .iter()
                .filter(|s| s.trigger == trigger)
                .map(|s| s.days)
                .min()
                .map(|days| today - Duration::days(days))
        };
        let over_balance = match rule.scope.balance_above_minor {
            None => None,
            Some(limit) => Some(
                open_invoices()
                    .select_only()
                    .column(document::Column::AccountId)
                    .group_by(document::Column::AccountId)
                    .having(document::Column::OpenMinor.sum().gt(limit))
                    .into_tuple::<i64>()
                    .all(db)
                    .await?
                    .into_iter()
                    .collect(),
            ),
        };
        Ok(Pages {
            rule,
            over_balance,
            age_cut: cut(StepTrigger::InvoiceAge),
            dpd_cut: cut(StepTrigger::DaysPastDue),
            after_account: 0,
            done: rule.steps.is_empty(),
        })
    }

    fn query(&self) -> Select<document::Entity> {
        let mut reached = Condition::any();
        if let Some(cut) = self.age_cut {
            reached = reached.add(document::COLUMN.issue_date.lte(cut));
        }
        if let Some(cut) = self.dpd_cut {
            reached = reached.add(document::COLUMN.due_date.lte(cut));
        }
        let mut q = open_invoices().filter(reached);
        let scope = &self.rule.scope;
        if scope.segment.is_some() || scope.collector_id.is_some() {
            let mut accounts = Query::select()
                .column(account::Column::Id)
                .from(account::Entity)
                .to_owned();
            if let Some(segment) = &scope.segment {
                accounts.and_where(account::Column::Segment.eq(segment.clone()));
            }
            if let Some(collector) = scope.collector_id {
                accounts.and_where(account::Column::CollectorId.eq(collector));
            }
            q = q.filter(document::Column::AccountId.in_subquery(accounts));
        }
        q
    }

    async fn next(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<Vec<document::Model>>, AppError> {
        loop {
            if self.done {
                return Ok(None);
            }
            let mut page = self
                .query()
                .filter(document::COLUMN.account_id.gt(self.after_account))
                .order_by_asc(document::COLUMN.account_id)
                .order_by_asc(document::COLUMN.id)
                .limit(BATCH)
                .all(db)
                .await?;
            let Some(last) = page.last().cloned() else {
                self.done = true;
                return Ok(None);
            };
            if (page.len() as u64) < BATCH {
                self.done = true;
            } else {
                // Finish the last account so its invoices are grouped together.
                let mut after_id = last.id;
                loop {
                    let rest = self
                        .query()
                        .filter(document::COLUMN.account_id.eq(last.account_id))
                        .filter(document::COLUMN.id.gt(after_id))
                        .order_by_asc(document::COLUMN.id)
                        .limit(BATCH)
                        .all(db)
                        .await?;
                    let full = rest.len() as u64 == BATCH;
                    if let Some(r) = rest.last() {
                        after_id = r.id;
                    }
                    page.extend(rest);
                    if !full {
                        break;
                    }
                }
            }
            self.after_account = last.account_id;
            if let Some(over) = &self.over_balance {
                page.retain(|d| over.contains(&d.account_id));
            }
            if !page.is_empty() {
                return Ok(Some(page));
            }
        }
    }
}

/// Invoices with something left to pay.
fn open_invoices() -> Select<document::Entity> {
    document::Entity::find()
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(
            document::COLUMN
                .status
                .is_in([DocumentStatus::Open, DocumentStatus::PaymentPending]),
        )
        .filter(document::COLUMN.open_minor.gt(0))
}

/// How a group is reached: an email step goes to the primary billing contact with a usable
/// address, else another contact with one; none usable turns it into a call.
async fn reach_of(db: &impl ConnectionTrait, group: &Group<'_>) -> Result<Reach, AppError> {
    match group.step.action {
        StepAction::Call => Ok(Reach::Call { why: None }),
        StepAction::Letter => Ok(Reach::Letter),
        StepAction::Email => {
            let Some(key) = group.step.template_key.clone() else {
                return Ok(Reach::Call {
                    why: Some("its email template is missing"),
                });
            };
            let contacts = contact::Entity::find()
                .filter(contact::COLUMN.account_id.eq(group.account.id))
                .filter(contact::COLUMN.email.is_not_null())
                .order_by_desc(contact::COLUMN.is_primary_billing)
                .order_by_asc(contact::COLUMN.id)
                .all(db)
                .await?;
            let with_address: Vec<&contact::Model> = contacts
                .iter()
                .filter(|c| c.email.as_deref().is_some_and(|e| !e.trim().is_empty()))
                .collect();
            let usable = with_address.iter().find(|c| {
                !matches!(
                    c.email_status,
                    EmailStatus::Bounced | EmailStatus::ReportedWrong
                )
            });
            Ok(match usable {
                Some(c) => Reach::Email {
                    contact_id: c.id,
                    key,
                },
                None if with_address.is_empty() => Reach::Call {
                    why: Some("no contact has an email address"),
                },
                None => Reach::Call {
                    why: Some("the contacts' email bounced or was reported wrong"),
                },
            })
        }
    }
}

/// Inserts touches, skipping those that exist, and returns the ones this call inserted.
async fn insert_touches(
    db: &impl ConnectionTrait,
    rows: &[(i64, i64)],
    now: DateTime<Utc>,
) -> Result<HashSet<(i64, i64)>, AppError> {
    let mut inserted = HashSet::new();
    for chunk in rows.chunks(INSERT_CHUNK) {
        let models = chunk.iter().map(|(doc, step)| reminder_touch::ActiveModel {
            document_id: Set(*doc),
            step_id: Set(*step),
            fired_at: Set(now),
            ..Default::default()
        });
        let result = reminder_touch::Entity::insert_many(models)
            .on_conflict_do_nothing_on([
                reminder_touch::Column::DocumentId,
                reminder_touch::Column::StepId,
            ])
            .exec_with_returning_many(db)
            .await?;
        if let TryInsertResult::Inserted(models) = result {
            inserted.extend(models.into_iter().map(|t| (t.document_id, t.step_id)));
        }
    }
    Ok(inserted)
}

/// Queues the email or opens the task for the invoices of `group` that fired.
async fn act(
    db: &impl ConnectionTrait,
    public_url: &str,
    group: &Group<'_>,
    reach: &Reach,
    fired: &[&Due],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let today = now.date_naive();
    let account = &group.account;
    let total = total_of(fired);
    match reach {
        Reach::Email { contact_id, key } => {
            let base = public_url.trim_end_matches('/');
            let invoices: Vec<serde_json::Value> = fired
                .iter()
                .map(|d| {
                    json!({
                        "number": d.doc.number,
                        "amount": format_money(d.amount_minor, &d.doc.currency),
                        "issue_date": long_date(d.doc.issue_date),
                        "due_date": d.doc.due_date.map_or_else(|| "on receipt".to_owned(), long_date),
                        "days_past_due": d.doc.due_date.map_or(0, |due| (today - due).num_days()),
                    })
                })
                .collect();
            mail::send_to_contact(
                db,
                base,
                *contact_id,
                key,
                json!({
                    "invoices": invoices,
                    "count": fired.len(),
                    "total": total,
                    "portal_link": format!("{base}/portal"),
                }),
                now,
            )
            .await?;
        }
        Reach::Call { why } => {
            let mut title = format!(
                "Call {} about {} ({total}): {}",
                account.display_name,
                plural(fired.len(), "invoice"),
                listing(fired, today)
            );
            if let Some(why) = why {
                title.push_str(&format!(
                    " — reminder email not sent: {why}; {}",
                    group.step.when
                ));
            }
            tasks::open(
                db,
                NewTask {
                    account_id: Some(account.id),
                    kind: TaskKind::Call,
                    title,
                    related: group.step.id.map(|id| (TASK_RELATED_KIND, id)),
                    due_date: today,
                    priority: 2,
                    assignee_id: account.collector_id,
                },
                now,
            )
            .await?;
        }
        Reach::Letter => {
            tasks::open(
                db,
                NewTask {
                    account_id: Some(account.id),
                    kind: TaskKind::Letter,
                    title: format!(
                        "Mail a reminder letter to {} for {} ({total}): {} — print it from /staff/letters",
                        account.display_name,
                        plural(fired.len(), "invoice"),
                        listing(fired, today)
                    ),
                    related: group.step.id.map(|id| (TASK_RELATED_KIND, id)),
                    due_date: today,
                    priority: 3,
                    assignee_id: account.collector_id,
                },
                now,
            )
            .await?;
        }
    }
    Ok(())
}

fn long_date(d: NaiveDate) -> String {
    d.format("%B %-d, %Y").to_string()
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The undisputed open total, per currency when they differ.
fn total_of(fired: &[&Due]) -> String {
    let mut by_currency: BTreeMap<&str, i64> = BTreeMap::new();
    for d in fired {
        *by_currency.entry(d.doc.currency.as_str()).or_default() += d.amount_minor;
    }
    by_currency
        .into_iter()
        .map(|(currency, minor)| format_money(minor, currency))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// "INV-1 $10.00 (12 days past due), …" for a task title, at most [`TITLE_INVOICES`] named.
fn listing(fired: &[&Due], today: NaiveDate) -> String {
    let mut parts: Vec<String> = fired
        .iter()
        .take(TITLE_INVOICES)
        .map(|d| {
            let late = d
                .doc
                .due_date
                .map(|due| (today - due).num_days())
                .filter(|n| *n > 0)
                .map_or_else(String::new, |n| format!(", {n} days past due"));
            format!(
                "{} {}{late}",
                d.doc.number,
                format_money(d.amount_minor, &d.doc.currency)
            )
        })
        .collect();
    if fired.len() > TITLE_INVOICES {
        parts.push(format!("and {} more", fired.len() - TITLE_INVOICES));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::templates::check;

    #[test]
    fn reminder_templates_compile() {
        for t in TEMPLATES {
            assert_eq!(check(t.subject, t.text, Some(t.html)), Ok(()), "{}", t.key);
        }
    }

    #[test]
    fn the_default_rule_is_valid_and_touches_overdue_invoices_four_times() {
        let steps: Vec<StepView> = DEFAULT_STEPS
            .iter()
            .map(|(trigger, days, action, key)| StepView {
                id: None,
                trigger: *trigger,
                days: *days,
                action: *action,
                template_id: key.map(|_| 1),
            })
            .collect();
        assert_eq!(check_steps(&steps), Ok(()));
        let after_due = steps
            .iter()
            .filter(|s| s.trigger == StepTrigger::DaysPastDue)
            .count();
        assert!(after_due >= 4);
        assert_eq!(steps[0].trigger, StepTrigger::InvoiceAge);
        assert_eq!(steps[0].days, 14);
    }
}
