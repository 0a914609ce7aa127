//! Reminder rules: which open invoices the seeded default rule touches on a day and how
//! (email, call, letter), every skip, the combined email per account, catch-up, reruns,
//! scopes, inactive rules, dry runs that write nothing, and saving rules with versions.

use std::collections::BTreeMap;

use app::entities::{
    account, audit_event, contact, document, outbox_email, promise, promise_document,
    reminder_rule, reminder_step, reminder_touch, task,
};
use app::error::AppError;
use app::model::enums::*;
use app::model::reminders::{DryRunReport, RuleScope, RuleView, SkipReason, StepView};
use app::services::reminders::{self, OVERDUE_TEMPLATE, SECOND_NOTICE_TEMPLATE};
use app::testing::fixtures;
use chrono::{Duration, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder,
};

const PUBLIC_URL: &str = "https://billing.example.com";

fn today() -> NaiveDate {
    fixtures::now().date_naive()
}

/// An open USD invoice `days_past_due` days past its due date (negative: not due yet) on
/// 30-day terms.
async fn invoice(
    db: &impl ConnectionTrait,
    account_id: i64,
    number: &str,
    days_past_due: i64,
    open: i64,
    disputed: i64,
    status: DocumentStatus,
) -> document::Model {
    let due = today() - Duration::days(days_past_due);
    document::ActiveModel {
        account_id: Set(account_id),
        kind: Set(DocumentKind::Invoice),
        number: Set(number.to_owned()),
        issue_date: Set(due - Duration::days(30)),
        due_date: Set(Some(due)),
        currency: Set("USD".to_owned()),
        total_minor: Set(10_000),
        tax_minor: Set(0),
        open_minor: Set(open),
        disputed_minor: Set(disputed),
        status: Set(status),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert invoice")
}

async fn open_invoice(db: &impl ConnectionTrait, account_id: i64, number: &str, dpd: i64) {
    invoice(db, account_id, number, dpd, 10_000, 0, DocumentStatus::Open).await;
}

/// A customer with a verified billing contact.
async fn customer(db: &impl ConnectionTrait, number: &str) -> account::Model {
    let a = fixtures::customer(db, number, &format!("{number} Co")).await;
    fixtures::contact(
        db,
        a.id,
        "Pat Payables",
        &format!("ap@{}.test", number.to_ascii_lowercase()),
    )
    .await;
    a
}

async fn promise_on(db: &impl ConnectionTrait, account_id: i64, doc_id: i64, date: NaiveDate) {
    let p = promise::ActiveModel {
        account_id: Set(account_id),
        contact_id: Set(None),
        amount_minor: Set(10_000),
        currency: Set("USD".to_owned()),
        promised_date: Set(date),
        note: Set(None),
        status: Set(PromiseStatus::Open),
        created_at: Set(fixtures::now() - Duration::days(5)),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("promise");
    promise_document::ActiveModel {
        promise_id: Set(p.id),
        document_id: Set(doc_id),
        amount_minor: Set(10_000),
    }
    .insert(db)
    .await
    .expect("promise document");
}

/// Position of each step touched per invoice number, sorted.
async fn touches(db: &DatabaseConnection) -> BTreeMap<String, Vec<i32>> {
    let steps: BTreeMap<i64, i32> = reminder_step::Entity::find()
        .all(db)
        .await
        .expect("steps")
        .into_iter()
        .map(|s| (s.id, s.position))
        .collect();
    let docs: BTreeMap<i64, String> = document::Entity::find()
        .all(db)
        .await
        .expect("docs")
        .into_iter()
        .map(|d| (d.id, d.number))
        .collect();
    let mut out: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for t in reminder_touch::Entity::find()
        .all(db)
        .await
        .expect("touches")
    {
        out.entry(docs[&t.document_id].clone())
            .or_default()
            .push(steps[&t.step_id]);
    }
    for v in out.values_mut() {
        v.sort_unstable();
    }
    out
}

async fn emails_to(db: &DatabaseConnection, address: &str) -> Vec<outbox_email::Model> {
    outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.to_address.eq(address))
        .all(db)
        .await
        .expect("outbox")
}

async fn tasks_of(db: &DatabaseConnection, account_id: i64) -> Vec<task::Model> {
    task::Entity::find()
        .filter(task::COLUMN.account_id.eq(account_id))
        .order_by_asc(task::COLUMN.id)
        .all(db)
        .await
        .expect("tasks")
}

async fn counts(db: &DatabaseConnection) -> (u64, u64, u64) {
    (
        reminder_touch::Entity::find().count(db).await.expect("n"),
        outbox_email::Entity::find().count(db).await.expect("n"),
        task::Entity::find().count(db).await.expect("n"),
    )
}

async fn default_rule(db: &DatabaseConnection) -> RuleView {
    reminders::list_rules(db)
        .await
        .expect("rules")
        .into_iter()
        .find(|r| r.name == reminders::DEFAULT_RULE_NAME)
        .expect("the default rule is seeded")
}

#[tokio::test]
async fn the_default_rule_touches_each_invoice_by_its_age_and_state() {
    for t in app::testing::databases("reminders_table").await {
        let db = &t.conn;
        let b = t.backend;

        let paid = customer(db, "PAID").await;
        invoice(db, paid.id, "PAID-1", 20, 0, 0, DocumentStatus::Paid).await;
        let young = customer(db, "YOUNG").await;
        open_invoice(db, young.id, "YOUNG-1", -20).await; // 10 days old
        let fresh = customer(db, "FRESH").await;
        open_invoice(db, fresh.id, "FRESH-1", -16).await; // 14 days old
        let disputed = customer(db, "DISP").await;
        invoice(
            db,
            disputed.id,
            "DISP-1",
            3,
            10_000,
            10_000,
            DocumentStatus::Open,
        )
        .await;
        let partly = customer(db, "PART").await;
        invoice(
            db,
            partly.id,
            "PART-1",
            3,
            10_000,
            4_000,
            DocumentStatus::Open,
        )
        .await;
        let promised = customer(db, "PROM").await;
        let doc = invoice(
            db,
            promised.id,
            "PROM-1",
            3,
            10_000,
            0,
            DocumentStatus::Open,
        )
        .await;
        promise_on(db, promised.id, doc.id, today() + Duration::days(5)).await;
        let lapsed = customer(db, "LAPSE").await;
        let doc = invoice(db, lapsed.id, "LAPSE-1", 3, 10_000, 0, DocumentStatus::Open).await;
        promise_on(db, lapsed.id, doc.id, today() - Duration::days(1)).await;
        let held = customer(db, "HOLD").await;
        account::ActiveModel {
            id: Set(held.id),
            status: Set(AccountStatus::OnHold),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("hold");
        open_invoice(db, held.id, "HOLD-1", 3).await;
        let bounced = customer(db, "BOUNCE").await;
        contact::Entity::update_many()
            .col_expr(
                contact::Column::EmailStatus,
                sea_orm::sea_query::Expr::value(EmailStatus::Bounced),
            )
            .filter(contact::COLUMN.account_id.eq(bounced.id))
            .exec(db)
            .await
            .expect("bounce");
        open_invoice(db, bounced.id, "BOUNCE-1", 3).await;
        let silent = fixtures::customer(db, "SILENT", "SILENT Co").await;
        open_invoice(db, silent.id, "SILENT-1", 3).await;
        let many = customer(db, "MANY").await;
        for (n, dpd) in [(1, 2), (2, 3), (3, 5)] {
            open_invoice(db, many.id, &format!("MANY-{n}"), dpd).await;
        }
        let old = customer(db, "OLD").await;
        open_invoice(db, old.id, "OLD-1", 25).await;
        let ancient = customer(db, "ANCIENT").await;
        open_invoice(db, ancient.id, "ANCIENT-1", 50).await;
        let pending = customer(db, "PEND").await;
        invoice(
            db,
            pending.id,
            "PEND-1",
            3,
            10_000,
            0,
            DocumentStatus::PaymentPending,
        )
        .await;

        // A dry run says what the run will do and writes nothing.
        let before = counts(db).await;
        let dry = reminders::dry_run_all(db, fixtures::now())
            .await
            .expect("dry run");
        assert_eq!(counts(db).await, before, "{b}: a dry run writes nothing");
        assert!(dry.dry_run);

        let report = reminders::run(db, PUBLIC_URL, fixtures::now())
            .await
            .expect("run");
        assert!(!report.dry_run);
        assert_eq!(
            DryRunReport {
                dry_run: true,
                ..report.clone()
            },
            dry,
            "{b}: the dry run predicted the run"
        );

        let touched = touches(db).await;
        let expect: BTreeMap<String, Vec<i32>> = [
            ("FRESH-1", vec![1]),
            ("PART-1", vec![1, 2]),
            ("LAPSE-1", vec![1, 2]),
            ("BOUNCE-1", vec![1, 2]),
            ("SILENT-1", vec![1, 2]),
            ("MANY-1", vec![1, 2]),
            ("MANY-2", vec![1, 2]),
            ("MANY-3", vec![1, 2]),
            // Catch-up: only step 4 fired; 1 to 3 are recorded as passed.
            ("OLD-1", vec![1, 2, 3, 4]),
            ("ANCIENT-1", vec![1, 2, 3, 4, 5, 6]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        assert_eq!(touched, expect, "{b}");

        assert_eq!(report.skipped_for(SkipReason::FullyDisputed), 1, "{b}");
        assert_eq!(report.skipped_for(SkipReason::Promised), 1, "{b}");
        assert_eq!(report.skipped_for(SkipReason::OnHold), 1, "{b}");
        assert_eq!(report.skipped_for(SkipReason::PaymentPending), 1, "{b}");
        assert_eq!(
            report.emailed_invoices, 7,
            "{b}: FRESH, PART, LAPSE, MANY×3, OLD"
        );
        assert_eq!(report.emails, 5, "{b}: one email for MANY's three invoices");
        assert_eq!(report.accounts_emailed, 5, "{b}");
        assert_eq!(report.called_invoices, 2, "{b}: BOUNCE and SILENT");
        assert_eq!(report.email_became_call, 2, "{b}");
        assert_eq!(report.lettered_invoices, 1, "{b}");
        assert_eq!(
            report.steps_passed,
            7 + 3 + 5,
            "{b}: step 1 for seven invoices, 1-3 for OLD, 1-5 for ANCIENT"
        );

        let fresh_mail = emails_to(db, "ap@fresh.test").await;
        assert_eq!(fresh_mail.len(), 1, "{b}");
        assert_eq!(
            fresh_mail[0].template_key.as_deref(),
            Some(reminders::COURTESY_TEMPLATE)
        );
        let part_mail = emails_to(db, "ap@part.test").await;
        assert_eq!(part_mail.len(), 1, "{b}");
        assert_eq!(part_mail[0].template_key.as_deref(), Some(OVERDUE_TEMPLATE));
        assert!(
            part_mail[0].body_text.contains("PART-1: $60.00"),
            "{b}: only the undisputed part is asked for: {}",
            part_mail[0].body_text
        );
        assert!(
            part_mail[0]
                .body_text
                .contains(&format!("{PUBLIC_URL}/portal"))
        );
        let many_mail = emails_to(db, "ap@many.test").await;
        assert_eq!(many_mail.len(), 1, "{b}: one email for the account");
        for n in ["MANY-1", "MANY-2", "MANY-3"] {
            assert!(many_mail[0].body_text.contains(n), "{b}: lists {n}");
        }
        assert!(many_mail[0].body_text.contains("$300.00"), "{b}: the total");
        let old_mail = emails_to(db, "ap@old.test").await;
        assert_eq!(old_mail.len(), 1, "{b}: no late emails for passed steps");
        assert_eq!(
            old_mail[0].template_key.as_deref(),
            Some(SECOND_NOTICE_TEMPLATE)
        );
        assert!(emails_to(db, "ap@bounce.test").await.is_empty(), "{b}");
        for skipped in [
            "ap@disp.test",
            "ap@prom.test",
            "ap@hold.test",
            "ap@pend.test",
        ] {
            assert!(emails_to(db, skipped).await.is_empty(), "{b}: {skipped}");
        }

        for acct in [&bounced, &silent] {
            let tasks = tasks_of(db, acct.id).await;
            assert_eq!(tasks.len(), 1, "{b}");
            assert_eq!(tasks[0].kind, TaskKind::Call);
            assert!(
                tasks[0].title.contains("reminder email not sent"),
                "{}",
                tasks[0].title
            );
            assert_eq!(
                tasks[0].related_kind.as_deref(),
                Some(reminders::TASK_RELATED_KIND)
            );
        }
        let letters = tasks_of(db, ancient.id).await;
        assert_eq!(letters.len(), 1, "{b}");
        assert_eq!(letters[0].kind, TaskKind::Letter);
        assert!(letters[0].title.contains("/staff/letters"));
        assert!(letters[0].title.contains("ANCIENT-1"));

        // Running again the same day does nothing new.
        let after = counts(db).await;
        let again = reminders::run(db, PUBLIC_URL, fixtures::now())
            .await
            .expect("rerun");
        assert_eq!(again.touched(), 0, "{b}");
        assert_eq!(again.already_touched, 10, "{b}");
        assert_eq!(counts(db).await, after, "{b}: nothing new");

        // Days later the next step fires for OLD-1 (step 5, a call), and nothing repeats.
        let later = fixtures::now() + Duration::days(5);
        let next = reminders::run(db, PUBLIC_URL, later)
            .await
            .expect("later run");
        let old_tasks = tasks_of(db, old.id).await;
        assert_eq!(old_tasks.len(), 1, "{b}");
        assert_eq!(old_tasks[0].kind, TaskKind::Call);
        assert!(next.called_invoices >= 1, "{b}");
        assert_eq!(touches(db).await["OLD-1"], vec![1, 2, 3, 4, 5], "{b}");
        assert_eq!(emails_to(db, "ap@old.test").await.len(), 1, "{b}");
    }
}

fn scoped(base: &RuleView, scope: RuleScope) -> RuleView {
    RuleView {
        id: None,
        name: "Scoped".to_owned(),
        scope,
        steps: base
            .steps
            .iter()
            .map(|s| StepView {
                id: None,
                ..s.clone()
            })
            .collect(),
        ..base.clone()
    }
}

#[tokio::test]
async fn scopes_pick_accounts_and_inactive_rules_do_nothing() {
    for t in app::testing::databases("reminders_scope").await {
        let db = &t.conn;
        let b = t.backend;
        let staff = app::services::staff::add(
            db,
            "admin@settle.test",
            "Ada Admin",
            StaffRole::Admin,
            "correct horse battery staple",
            fixtures::now(),
        )
        .await
        .expect("staff");
        let big = customer(db, "BIG").await;
        account::ActiveModel {
            id: Set(big.id),
            segment: Set(Some("wholesale".to_owned())),
            collector_id: Set(Some(staff.id)),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("segment");
        for n in 1..=3 {
            open_invoice(db, big.id, &format!("BIG-{n}"), 3).await;
        }
        let small = customer(db, "SMALL").await;
        open_invoice(db, small.id, "SMALL-1", 3).await;

        let base = default_rule(db).await;
        let dry = |scope: RuleScope| {
            let rule = scoped(&base, scope);
            async move {
                reminders::dry_run(db, &rule, fixtures::now())
                    .await
                    .expect("dry run")
            }
        };
        let everyone = dry(RuleScope::default()).await;
        assert_eq!(everyone.touched(), 4, "{b}");
        assert_eq!(everyone.sample.len(), 4, "{b}");
        let segment = dry(RuleScope {
            segment: Some("wholesale".to_owned()),
            ..RuleScope::default()
        })
        .await;
        assert_eq!(segment.touched(), 3, "{b}");
        assert!(segment.sample.iter().all(|s| s.account_number == "BIG"));
        let balance = dry(RuleScope {
            balance_above_minor: Some(20_000),
            ..RuleScope::default()
        })
        .await;
        assert_eq!(balance.touched(), 3, "{b}: BIG has $300 open, SMALL $100");
        let collector = dry(RuleScope {
            collector_id: Some(staff.id),
            ..RuleScope::default()
        })
        .await;
        assert_eq!(collector.touched(), 3, "{b}");
        let nobody = dry(RuleScope {
            segment: Some("retail".to_owned()),
            ..RuleScope::default()
        })
        .await;
        assert_eq!(nobody.touched(), 0, "{b}");
        assert_eq!(counts(db).await.0, 0, "{b}: dry runs write nothing");

        // Only the active, scoped rule runs.
        let mut off = base.clone();
        off.active = false;
        reminders::save_rule(db, staff.id, off, fixtures::now())
            .await
            .expect("deactivate");
        let report = reminders::run(db, PUBLIC_URL, fixtures::now())
            .await
            .expect("run");
        assert_eq!(report.rules, 0, "{b}");
        assert_eq!(
            counts(db).await,
            (0, 0, 0),
            "{b}: an inactive rule does nothing"
        );

        reminders::save_rule(
            db,
            staff.id,
            scoped(
                &base,
                RuleScope {
                    segment: Some("wholesale".to_owned()),
                    ..RuleScope::default()
                },
            ),
            fixtures::now(),
        )
        .await
        .expect("save scoped rule");
        let report = reminders::run(db, PUBLIC_URL, fixtures::now())
            .await
            .expect("run");
        assert_eq!(report.emails, 1, "{b}");
        assert_eq!(emails_to(db, "ap@big.test").await.len(), 1, "{b}");
        assert!(emails_to(db, "ap@small.test").await.is_empty(), "{b}");
    }
}

#[tokio::test]
async fn saving_checks_the_version_keeps_step_ids_and_audits() {
    for t in app::testing::databases("reminders_save").await {
        let db = &t.conn;
        let b = t.backend;
        let rule = default_rule(db).await;
        let ids: Vec<Option<i64>> = rule.steps.iter().map(|s| s.id).collect();

        // Move the second call from 30 to 35 days and drop the letter; add a call at 60.
        let mut edited = rule.clone();
        edited.name = "Standard reminders (edited)".to_owned();
        edited.steps[4].days = 35;
        edited.steps.pop();
        edited.steps.push(StepView {
            id: None,
            trigger: StepTrigger::DaysPastDue,
            days: 60,
            action: StepAction::Call,
            template_id: None,
        });
        let saved = reminders::save_rule(db, 7, edited.clone(), fixtures::now())
            .await
            .expect("save");
        assert_eq!(saved.version, rule.version + 1, "{b}");
        assert_eq!(saved.steps.len(), 6);
        assert_eq!(
            saved.steps[..5].iter().map(|s| s.id).collect::<Vec<_>>(),
            ids[..5].to_vec(),
            "{b}: kept steps keep their ids (and so their touches)"
        );
        assert_eq!(saved.steps[4].days, 35);
        assert_eq!(saved.steps[5].days, 60);
        assert_eq!(
            reminder_step::Entity::find().count(db).await.expect("n"),
            6,
            "{b}: the letter step is gone"
        );

        // The same edit again, from the version it was loaded at, is refused.
        let stale = reminders::save_rule(db, 7, edited, fixtures::now()).await;
        assert!(
            matches!(stale, Err(AppError::Conflict(_))),
            "{b}: {stale:?}"
        );

        let events = audit_event::Entity::find()
            .filter(audit_event::COLUMN.entity.eq("reminder_rule"))
            .order_by_asc(audit_event::COLUMN.id)
            .all(db)
            .await
            .expect("audit");
        let fields: Vec<Option<&str>> = events.iter().map(|e| e.field.as_deref()).collect();
        assert_eq!(fields, vec![Some("name"), Some("steps")], "{b}");
        assert!(events.iter().all(|e| e.actor_id == Some(7)
            && e.actor_kind == ActorKind::Staff
            && e.entity_id == rule.id));
        assert!(
            events[1]
                .new_value
                .as_deref()
                .is_some_and(|v| v.contains("35 days past due: call")),
            "{b}: {:?}",
            events[1].new_value
        );

        // Bad input is refused by field.
        let mut bad = saved.clone();
        bad.steps[1].days = 500;
        assert!(matches!(
            reminders::save_rule(db, 7, bad, fixtures::now()).await,
            Err(AppError::Validation { field, .. }) if field == "steps[1]"
        ));
        let mut bad = saved.clone();
        bad.name = "  ".to_owned();
        assert!(matches!(
            reminders::save_rule(db, 7, bad, fixtures::now()).await,
            Err(AppError::Validation { field, .. }) if field == "name"
        ));

        // Seeding again adds nothing.
        assert!(
            !reminders::seed_default_rule(db, fixtures::now())
                .await
                .expect("seed")
        );
        assert_eq!(reminder_rule::Entity::find().count(db).await.expect("n"), 1);
    }
}
