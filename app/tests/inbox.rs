//! The accounting inbox: filters and pages, claiming (and the claimed-meanwhile refusal),
//! assigning one task or every task matching a filter, status changes, logging a call with
//! a promise taken on the phone, per-collector progress, and the account timeline.

use app::entities::{
    audit_event, campaign, campaign_target, dispute, outbox_email, payment, promise,
    promise_document, staff_user, task,
};
use app::error::AppError;
use app::model::enums::*;
use app::model::inbox::{
    ActivityKind, AssigneeFilter, CallOutcome, DueFilter, InboxFilter, StatusFilter,
    parse_call_outcome,
};
use app::services::inbox::{self, Actor, CallInput, PromiseInput};
use app::services::tasks::{self, NewTask};
use app::services::{activity, audit};
use app::testing::fixtures;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

fn now() -> DateTime<Utc> {
    fixtures::now()
}

fn today() -> NaiveDate {
    now().date_naive()
}

async fn staff(db: &impl ConnectionTrait, name: &str, role: StaffRole) -> Actor {
    let id = staff_user::ActiveModel {
        email: Set(format!("{}@settle.test", name.to_lowercase())),
        name: Set(name.to_owned()),
        role: Set(role),
        password_hash: Set("x".to_owned()),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert staff")
    .id;
    Actor { staff_id: id, role }
}

/// The staff of every test: an admin, two collectors and a viewer.
struct Team {
    ada: Actor,
    cole: Actor,
    cid: Actor,
    val: Actor,
}

async fn team(db: &impl ConnectionTrait) -> Team {
    Team {
        ada: staff(db, "Ada", StaffRole::Admin).await,
        cole: staff(db, "Cole", StaffRole::Collector).await,
        cid: staff(db, "Cid", StaffRole::Collector).await,
        val: staff(db, "Val", StaffRole::Viewer).await,
    }
}

async fn open_task(
    db: &impl ConnectionTrait,
    account_id: i64,
    kind: TaskKind,
    title: &str,
    due_in_days: i64,
    priority: i32,
    assignee: Option<i64>,
) -> i64 {
    tasks::open(
        db,
        NewTask {
            account_id: Some(account_id),
            kind,
            title: title.to_owned(),
            related: None,
            due_date: today() + Duration::days(due_in_days),
            priority,
            assignee_id: assignee,
        },
        now(),
    )
    .await
    .expect("open task")
}

async fn get(db: &impl ConnectionTrait, id: i64) -> task::Model {
    task::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read task")
        .expect("task exists")
}

fn titles(list: &app::model::inbox::InboxList) -> Vec<&str> {
    list.rows.iter().map(|r| r.title.as_str()).collect()
}

fn filter(f: impl FnOnce(&mut InboxFilter)) -> InboxFilter {
    let mut out = InboxFilter::default();
    f(&mut out);
    out
}

#[tokio::test]
async fn filters_sort_and_pages() {
    for t in app::testing::databases("inbox_filters").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let beta = fixtures::customer(db, "B-2", "Beta Foods").await;
        open_task(
            db,
            acme.id,
            TaskKind::Call,
            "call acme late",
            -3,
            2,
            Some(who.cole.staff_id),
        )
        .await;
        open_task(
            db,
            acme.id,
            TaskKind::Review,
            "review acme today",
            0,
            3,
            None,
        )
        .await;
        open_task(
            db,
            beta.id,
            TaskKind::Call,
            "call beta today urgent",
            0,
            1,
            Some(who.cid.staff_id),
        )
        .await;
        open_task(
            db,
            beta.id,
            TaskKind::Dispute,
            "dispute beta sunday",
            6,
            3,
            None,
        )
        .await;
        open_task(
            db,
            beta.id,
            TaskKind::Message,
            "message beta next week",
            7,
            3,
            None,
        )
        .await;
        let done = open_task(db, acme.id, TaskKind::Call, "call acme done", -1, 1, None).await;
        inbox::set_status(db, done, TaskStatus::Done, None, who.cole, now())
            .await
            .expect("done");

        let list = |f: InboxFilter| {
            let actor = who.cole;
            async move { inbox::list(db, &f, actor, 0, today()).await.expect("list") }
        };
        let all = list(InboxFilter::default()).await;
        assert_eq!(
            titles(&all),
            vec![
                "call acme late",
                "call beta today urgent",
                "review acme today",
                "dispute beta sunday",
                "message beta next week"
            ],
            "{}: open and in progress, by due date then priority",
            t.backend
        );
        assert_eq!(all.total, 5);
        assert!(all.rows[0].overdue && !all.rows[1].overdue, "{}", t.backend);
        assert_eq!(all.rows[0].account.as_deref(), Some("Acme Tools (A-1)"));
        assert_eq!(all.rows[0].assignee.as_deref(), Some("Cole"));
        assert_eq!(
            (all.me, all.role),
            (who.cole.staff_id, StaffRole::Collector)
        );
        assert_eq!(all.staff.len(), 4);

        let calls = list(filter(|f| f.kind = Some(TaskKind::Call))).await;
        assert_eq!(
            titles(&calls),
            vec!["call acme late", "call beta today urgent"]
        );
        let any = list(filter(|f| {
            f.kind = Some(TaskKind::Call);
            f.status = StatusFilter::Any;
        }))
        .await;
        assert_eq!(any.total, 3, "{}", t.backend);
        let done_only = list(filter(|f| f.status = StatusFilter::Only(TaskStatus::Done))).await;
        assert_eq!(titles(&done_only), vec!["call acme done"]);
        let mine = list(filter(|f| f.assignee = AssigneeFilter::Me)).await;
        assert_eq!(titles(&mine), vec!["call acme late"]);
        let nobody = list(filter(|f| f.assignee = AssigneeFilter::Unassigned)).await;
        assert_eq!(nobody.total, 3);
        let cids = list(filter(|f| {
            f.assignee = AssigneeFilter::Staff(who.cid.staff_id)
        }))
        .await;
        assert_eq!(titles(&cids), vec!["call beta today urgent"]);
        let overdue = list(filter(|f| f.due = DueFilter::Overdue)).await;
        assert_eq!(titles(&overdue), vec!["call acme late"]);
        let due_today = list(filter(|f| f.due = DueFilter::Today)).await;
        assert_eq!(
            titles(&due_today),
            vec!["call beta today urgent", "review acme today"]
        );
        // Monday 2026-11-23: the week runs through Sunday the 29th.
        let week = list(filter(|f| f.due = DueFilter::Week)).await;
        assert_eq!(
            titles(&week),
            vec![
                "call beta today urgent",
                "review acme today",
                "dispute beta sunday"
            ],
            "{}",
            t.backend
        );
        let acme_only = list(filter(|f| f.q = Some("ACME".to_owned()))).await;
        assert_eq!(
            titles(&acme_only),
            vec!["call acme late", "review acme today"]
        );
        let by_number = list(filter(|f| f.q = Some("b-2".to_owned()))).await;
        assert_eq!(by_number.total, 3);
        let no_match = list(filter(|f| f.q = Some("100%".to_owned()))).await;
        assert!(no_match.rows.is_empty());

        for i in 0..25 {
            open_task(
                db,
                acme.id,
                TaskKind::Review,
                &format!("bulk {i:02}"),
                10 + i,
                3,
                None,
            )
            .await;
        }
        let first = inbox::list(db, &InboxFilter::default(), who.cole, 0, today())
            .await
            .expect("p1");
        let second = inbox::list(db, &InboxFilter::default(), who.cole, 1, today())
            .await
            .expect("p2");
        let past = inbox::list(db, &InboxFilter::default(), who.cole, 9, today())
            .await
            .expect("p9");
        assert_eq!((first.total, first.pages, first.rows.len()), (30, 2, 25));
        assert_eq!((second.page, second.rows.len()), (1, 5));
        assert_eq!(titles(&second).last(), Some(&"bulk 24"));
        assert_eq!(
            past.page, 1,
            "{}: past the end gives the last page",
            t.backend
        );
    }
}

#[tokio::test]
async fn claiming_takes_a_free_task_and_refuses_one_claimed_meanwhile() {
    for t in app::testing::databases("inbox_claim").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let id = open_task(db, acme.id, TaskKind::Call, "call", 0, 2, None).await;

        inbox::claim(db, id, who.cole, now())
            .await
            .expect("cole claims");
        assert_eq!(get(db, id).await.assignee_id, Some(who.cole.staff_id));
        inbox::claim(db, id, who.cole, now())
            .await
            .expect("claiming one's own again is fine");

        let err = inbox::claim(db, id, who.cid, now())
            .await
            .expect_err("taken");
        match err {
            AppError::Conflict(m) => assert!(m.contains("Cole"), "{}: {m}", t.backend),
            other => panic!("{}: {other:?}", t.backend),
        }
        assert_eq!(
            get(db, id).await.assignee_id,
            Some(who.cole.staff_id),
            "no overwrite"
        );

        inbox::set_status(db, id, TaskStatus::Done, None, who.cole, now())
            .await
            .expect("done");
        let other = open_task(db, acme.id, TaskKind::Call, "other", 0, 2, None).await;
        assert!(matches!(
            inbox::claim(db, id, who.cid, now()).await,
            Err(AppError::Conflict(_))
        ));
        assert_eq!(
            inbox::claim(db, 9999, who.cid, now()).await,
            Err(AppError::NotFound)
        );
        assert_eq!(
            inbox::claim(db, other, who.val, now()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(get(db, other).await.assignee_id, None);
    }
}

#[tokio::test]
async fn admins_assign_any_task_to_active_staff_and_collectors_cannot() {
    for t in app::testing::databases("inbox_assign").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let id = open_task(
            db,
            acme.id,
            TaskKind::Review,
            "review",
            0,
            2,
            Some(who.cole.staff_id),
        )
        .await;

        inbox::assign(db, id, Some(who.cid.staff_id), who.ada, now())
            .await
            .expect("assign");
        assert_eq!(get(db, id).await.assignee_id, Some(who.cid.staff_id));
        inbox::assign(db, id, None, who.ada, now())
            .await
            .expect("unassign");
        assert_eq!(get(db, id).await.assignee_id, None);

        assert_eq!(
            inbox::assign(db, id, Some(who.cole.staff_id), who.cole, now()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            inbox::assign(db, id, Some(who.cole.staff_id), who.val, now()).await,
            Err(AppError::Forbidden)
        );
        staff_user::ActiveModel {
            id: Set(who.cid.staff_id),
            active: Set(false),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("deactivate");
        assert!(matches!(
            inbox::assign(db, id, Some(who.cid.staff_id), who.ada, now()).await,
            Err(AppError::Validation { field, .. }) if field == "assignee_id"
        ));
        assert_eq!(
            inbox::assign(db, 9999, Some(who.cole.staff_id), who.ada, now()).await,
            Err(AppError::NotFound)
        );
        assert_eq!(get(db, id).await.assignee_id, None, "{}", t.backend);
    }
}

#[tokio::test]
async fn bulk_assign_moves_exactly_the_tasks_matching_the_filter() {
    for t in app::testing::databases("inbox_bulk").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let beta = fixtures::customer(db, "B-2", "Beta Foods").await;
        let a1 = open_task(db, acme.id, TaskKind::Call, "a1", -2, 2, None).await;
        let a2 = open_task(
            db,
            acme.id,
            TaskKind::Call,
            "a2",
            0,
            2,
            Some(who.cid.staff_id),
        )
        .await;
        let a3 = open_task(db, acme.id, TaskKind::Review, "a3", -2, 2, None).await;
        let b1 = open_task(db, beta.id, TaskKind::Call, "b1", -2, 2, None).await;
        let a4 = open_task(db, acme.id, TaskKind::Call, "a4 done", -2, 2, None).await;
        inbox::set_status(db, a4, TaskStatus::Done, None, who.ada, now())
            .await
            .expect("done");

        let calls_for_acme = filter(|f| {
            f.kind = Some(TaskKind::Call);
            f.q = Some("acme".to_owned());
        });
        let n = inbox::bulk_assign(db, &calls_for_acme, who.cole.staff_id, who.ada, now())
            .await
            .expect("bulk");
        assert_eq!(n, 2, "{}: a1 and a2 (open calls of Acme)", t.backend);
        assert_eq!(get(db, a1).await.assignee_id, Some(who.cole.staff_id));
        assert_eq!(get(db, a2).await.assignee_id, Some(who.cole.staff_id));
        assert_eq!(get(db, a3).await.assignee_id, None);
        assert_eq!(get(db, b1).await.assignee_id, None);
        assert_eq!(get(db, a4).await.assignee_id, Some(who.ada.staff_id));

        let overdue_unassigned = filter(|f| {
            f.due = DueFilter::Overdue;
            f.assignee = AssigneeFilter::Unassigned;
        });
        let n = inbox::bulk_assign(db, &overdue_unassigned, who.cid.staff_id, who.ada, now())
            .await
            .expect("bulk");
        assert_eq!(n, 2, "{}: a3 and b1", t.backend);
        assert_eq!(get(db, a3).await.assignee_id, Some(who.cid.staff_id));
        assert_eq!(get(db, b1).await.assignee_id, Some(who.cid.staff_id));

        assert_eq!(
            inbox::bulk_assign(
                db,
                &InboxFilter::default(),
                who.cole.staff_id,
                who.cole,
                now()
            )
            .await,
            Err(AppError::Forbidden)
        );
        assert_eq!(get(db, a3).await.assignee_id, Some(who.cid.staff_id));
    }
}

#[tokio::test]
async fn viewers_see_the_inbox_but_cannot_change_it() {
    for t in app::testing::databases("inbox_viewer").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        fixtures::invoice(db, acme.id, "INV-1", 50_000).await;
        let id = open_task(db, acme.id, TaskKind::Call, "call", 0, 2, None).await;

        let seen = inbox::list(db, &InboxFilter::default(), who.val, 0, today())
            .await
            .expect("list");
        assert_eq!(seen.total, 1);
        assert_eq!(
            inbox::claim(db, id, who.val, now()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            inbox::set_status(db, id, TaskStatus::Done, None, who.val, now()).await,
            Err(AppError::Forbidden)
        );
        assert_eq!(
            inbox::bulk_assign(
                db,
                &InboxFilter::default(),
                who.val.staff_id,
                who.val,
                now()
            )
            .await,
            Err(AppError::Forbidden)
        );
        let call = CallInput {
            outcome: CallOutcome::Reached,
            note: None,
            promise: None,
        };
        assert_eq!(
            inbox::log_call(db, id, call, who.val, now()).await,
            Err(AppError::Forbidden)
        );
        let row = get(db, id).await;
        assert_eq!(
            (row.status, row.assignee_id),
            (TaskStatus::Open, None),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn status_changes_move_tasks_along_and_stamp_completion() {
    for t in app::testing::databases("inbox_status").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let id = open_task(db, acme.id, TaskKind::Review, "review", 0, 2, None).await;

        inbox::set_status(db, id, TaskStatus::InProgress, None, who.cole, now())
            .await
            .expect("start");
        let row = get(db, id).await;
        assert_eq!(
            (row.status, row.assignee_id),
            (TaskStatus::InProgress, Some(who.cole.staff_id))
        );
        assert_eq!(row.completed_at, None);

        assert!(matches!(
            inbox::set_status(db, id, TaskStatus::Done, None, who.cid, now()).await,
            Err(AppError::Conflict(m)) if m.contains("Cole")
        ));
        let later = now() + Duration::hours(2);
        inbox::set_status(
            db,
            id,
            TaskStatus::Done,
            Some("  checked the terms "),
            who.cole,
            later,
        )
        .await
        .expect("done");
        let row = get(db, id).await;
        assert_eq!(row.status, TaskStatus::Done);
        assert_eq!(row.completed_at, Some(later), "{}", t.backend);
        assert_eq!(row.outcome.as_deref(), Some("checked the terms"));
        assert!(matches!(
            inbox::set_status(db, id, TaskStatus::Open, None, who.cole, now()).await,
            Err(AppError::Conflict(_))
        ));

        let skip = open_task(
            db,
            acme.id,
            TaskKind::Bounce,
            "bounce",
            0,
            2,
            Some(who.cid.staff_id),
        )
        .await;
        inbox::set_status(
            db,
            skip,
            TaskStatus::Skipped,
            Some("duplicate"),
            who.ada,
            later,
        )
        .await
        .expect("an admin may close anyone's task");
        let row = get(db, skip).await;
        assert_eq!(
            (row.status, row.completed_at),
            (TaskStatus::Skipped, Some(later))
        );
        assert_eq!(
            row.assignee_id,
            Some(who.cid.staff_id),
            "stays the collector's"
        );
        assert!(matches!(
            inbox::set_status(db, skip, TaskStatus::Done, Some(&"x".repeat(1001)), who.ada, later).await,
            Err(AppError::Validation { field, .. }) if field == "note"
        ));
    }
}

async fn count<E>(db: &DatabaseConnection) -> u64
where
    E: EntityTrait,
    E::Model: sea_orm::FromQueryResult + Send + Sync,
{
    E::find().count(db).await.expect("count")
}

#[tokio::test]
async fn a_call_with_a_promise_closes_the_task_records_the_promise_and_audits() {
    for t in app::testing::databases("inbox_call_promise").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let inv1 = fixtures::invoice(db, acme.id, "INV-1", 30_000).await;
        let inv2 = fixtures::invoice(db, acme.id, "INV-2", 20_000).await;
        let id = open_task(db, acme.id, TaskKind::Call, "Call Acme", -1, 2, None).await;
        inbox::claim(db, id, who.cole, now()).await.expect("claim");

        let form = inbox::call_form(db, id, today()).await.expect("form");
        assert_eq!(
            form.invoices
                .iter()
                .map(|i| i.number.as_str())
                .collect::<Vec<_>>(),
            vec!["INV-1", "INV-2"]
        );
        let date = today() + Duration::days(7);
        let logged = inbox::log_call(
            db,
            id,
            CallInput {
                outcome: CallOutcome::Promised,
                note: Some("AP clerk Jo, pays by check".to_owned()),
                promise: Some(PromiseInput {
                    document_ids: vec![inv1.id, inv2.id],
                    amount_minor: 40_000,
                    date,
                }),
            },
            who.cole,
            now(),
        )
        .await
        .expect("log call");

        assert_eq!(logged.task_id, id);
        let row = get(db, id).await;
        assert_eq!(
            (row.status, row.completed_at),
            (TaskStatus::Done, Some(now()))
        );
        let (outcome, note) =
            parse_call_outcome(row.outcome.as_deref().unwrap_or_default()).expect("a call outcome");
        assert_eq!(outcome, CallOutcome::Promised);
        assert_eq!(note.as_deref(), Some("AP clerk Jo, pays by check"));

        let promise_id = logged.promise_id.expect("a promise");
        let p = promise::Entity::find_by_id(promise_id)
            .one(db)
            .await
            .expect("read")
            .expect("promise");
        assert_eq!(
            (p.account_id, p.contact_id),
            (acme.id, None),
            "{}",
            t.backend
        );
        assert_eq!(
            (p.amount_minor, p.promised_date, p.status),
            (40_000, date, PromiseStatus::Open)
        );
        let parts = promise_document::Entity::find()
            .filter(promise_document::COLUMN.promise_id.eq(promise_id))
            .all(db)
            .await
            .expect("parts");
        assert_eq!(parts.iter().map(|pd| pd.amount_minor).sum::<i64>(), 40_000);

        let events = audit_event::Entity::find()
            .filter(audit_event::COLUMN.account_id.eq(acme.id))
            .all(db)
            .await
            .expect("events");
        let call = events
            .iter()
            .find(|e| e.entity == "task")
            .expect("call audited");
        assert_eq!(
            (call.actor_kind, call.channel),
            (ActorKind::Staff, Channel::StaffUi)
        );
        assert_eq!(call.actor_id, Some(who.cole.staff_id));
        assert!(
            call.new_value
                .as_deref()
                .unwrap_or_default()
                .contains(&format!("#{promise_id}"))
        );
        let made = events
            .iter()
            .find(|e| e.entity == "promise")
            .expect("promise audited");
        assert_eq!(made.actor_kind, ActorKind::Staff);
        assert_eq!(
            count::<outbox_email::Entity>(db).await,
            0,
            "no email to send"
        );
        audit::verify(db).await.expect("the chain holds");

        // A call logged from a task of another kind adds a done call task beside it.
        let review = open_task(db, acme.id, TaskKind::Review, "Check terms", 0, 3, None).await;
        let logged = inbox::log_call(
            db,
            review,
            CallInput {
                outcome: CallOutcome::LeftVoicemail,
                note: None,
                promise: None,
            },
            who.cole,
            now(),
        )
        .await
        .expect("log call");
        assert_ne!(logged.task_id, review);
        assert_eq!(get(db, review).await.status, TaskStatus::Open);
        let call = get(db, logged.task_id).await;
        assert_eq!((call.kind, call.status), (TaskKind::Call, TaskStatus::Done));
        assert_eq!(call.outcome.as_deref(), Some("left_voicemail"));
    }
}

#[tokio::test]
async fn a_call_with_an_invalid_promise_changes_nothing() {
    for t in app::testing::databases("inbox_call_invalid").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let beta = fixtures::customer(db, "B-2", "Beta Foods").await;
        let inv = fixtures::invoice(db, acme.id, "INV-1", 30_000).await;
        let theirs = fixtures::invoice(db, beta.id, "INV-9", 30_000).await;
        let id = open_task(
            db,
            acme.id,
            TaskKind::Call,
            "Call Acme",
            0,
            2,
            Some(who.cole.staff_id),
        )
        .await;
        let events_before = count::<audit_event::Entity>(db).await;

        let attempt = |document_ids: Vec<i64>, amount_minor: i64, date: NaiveDate| CallInput {
            outcome: CallOutcome::Promised,
            note: Some("promised".to_owned()),
            promise: Some(PromiseInput {
                document_ids,
                amount_minor,
                date,
            }),
        };
        let next_week = today() + Duration::days(7);
        for (input, field) in [
            (attempt(vec![inv.id], 0, next_week), "amount"),
            (attempt(vec![inv.id], 30_001, next_week), "amount"),
            (
                attempt(vec![inv.id], 10_000, today() - Duration::days(1)),
                "date",
            ),
            (
                attempt(vec![inv.id, theirs.id], 10_000, next_week),
                "document_ids",
            ),
            (attempt(vec![], 10_000, next_week), "document_ids"),
        ] {
            let err = inbox::log_call(db, id, input, who.cole, now())
                .await
                .expect_err("invalid");
            assert!(
                matches!(&err, AppError::Validation { field: f, .. } if f == field),
                "{}: {field}: {err:?}",
                t.backend
            );
        }
        let without = CallInput {
            outcome: CallOutcome::Promised,
            note: None,
            promise: None,
        };
        assert!(matches!(
            inbox::log_call(db, id, without, who.cole, now()).await,
            Err(AppError::Validation { field, .. }) if field == "outcome"
        ));

        let row = get(db, id).await;
        assert_eq!(
            (row.status, row.completed_at, row.outcome),
            (TaskStatus::Open, None, None)
        );
        assert_eq!(count::<promise::Entity>(db).await, 0, "{}", t.backend);
        assert_eq!(count::<promise_document::Entity>(db).await, 0);
        assert_eq!(count::<audit_event::Entity>(db).await, events_before);

        // The same call with a valid promise still goes through afterwards.
        inbox::log_call(
            db,
            id,
            attempt(vec![inv.id], 30_000, next_week),
            who.cole,
            now(),
        )
        .await
        .expect("valid");
        assert_eq!(count::<promise::Entity>(db).await, 1);
    }
}

#[tokio::test]
async fn progress_counts_open_and_done_today_and_this_week_per_collector() {
    for t in app::testing::databases("inbox_progress").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        // The clock: Wednesday 2026-11-25 15:00 UTC; the week began Monday the 23rd.
        let wednesday = now() + Duration::days(2) + Duration::hours(6);
        let mut cole = Vec::new();
        for i in 0..6 {
            cole.push(
                open_task(
                    db,
                    acme.id,
                    TaskKind::Call,
                    &format!("c{i}"),
                    0,
                    2,
                    Some(who.cole.staff_id),
                )
                .await,
            );
        }
        let cid = open_task(
            db,
            acme.id,
            TaskKind::Call,
            "cid",
            0,
            2,
            Some(who.cid.staff_id),
        )
        .await;
        open_task(db, acme.id, TaskKind::Call, "free", 0, 2, None).await;
        let done_at = |id: i64, at: DateTime<Utc>| async move {
            inbox::set_status(
                db,
                id,
                TaskStatus::Done,
                None,
                Actor {
                    staff_id: 0,
                    role: StaffRole::Admin,
                },
                at,
            )
            .await
            .expect("done")
        };
        done_at(cole[0], wednesday - Duration::hours(1)).await; // today
        done_at(cole[1], wednesday - Duration::hours(16)).await; // Tuesday 23:00
        done_at(cole[2], wednesday - Duration::days(3)).await; // last week's Sunday
        inbox::set_status(db, cole[3], TaskStatus::Skipped, None, who.cole, wednesday)
            .await
            .expect("skip");
        inbox::set_status(
            db,
            cole[4],
            TaskStatus::InProgress,
            None,
            who.cole,
            wednesday,
        )
        .await
        .expect("start");
        done_at(cid, wednesday - Duration::minutes(5)).await;

        let progress = inbox::progress(db, wednesday).await.expect("progress");
        let rows: Vec<(&str, u64, u64, u64)> = progress
            .iter()
            .map(|p| (p.name.as_str(), p.open, p.done_today, p.done_week))
            .collect();
        assert_eq!(
            rows,
            vec![("Ada", 0, 0, 0), ("Cid", 0, 1, 1), ("Cole", 2, 1, 2)],
            "{}: viewers are not listed; skipped is not done",
            t.backend
        );
    }
}

#[tokio::test]
async fn the_timeline_merges_every_source_newest_first_for_one_account_only() {
    for t in app::testing::databases("inbox_timeline").await {
        let db = &t.conn;
        let who = team(db).await;
        let acme = fixtures::customer(db, "A-1", "Acme Tools").await;
        let beta = fixtures::customer(db, "B-2", "Beta Foods").await;
        let at = |hours: i64| now() - Duration::days(10) + Duration::hours(hours);
        for (account_id, base) in [(beta.id, 0), (acme.id, 100)] {
            let jo =
                fixtures::contact(db, account_id, "Jo", &format!("jo{account_id}@example.com"))
                    .await;
            let inv = fixtures::invoice(db, account_id, &format!("INV-{account_id}"), 50_000).await;
            outbox_email::ActiveModel {
                message_id: Set(format!("<m{account_id}@settle.test>")),
                to_address: Set(jo.email.clone().unwrap_or_default()),
                to_contact_id: Set(Some(jo.id)),
                subject: Set(format!("Statement {account_id}")),
                body_text: Set("hi".to_owned()),
                status: Set(OutboxStatus::Dead),
                attempts: Set(5),
                next_attempt_at: Set(at(base + 1)),
                created_at: Set(at(base + 1)),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("email");
            let letters = campaign::ActiveModel {
                name: Set(format!("Letters {account_id}")),
                kind: Set(CampaignKind::DirectMail),
                status: Set(CampaignStatus::Running),
                created_at: Set(at(base + 2)),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("campaign");
            campaign_target::ActiveModel {
                campaign_id: Set(letters.id),
                account_id: Set(account_id),
                status: Set(TargetStatus::Sent),
                follow_ups: Set(0),
                last_sent_at: Set(Some(at(base + 2))),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("target");
            let call = open_task(db, account_id, TaskKind::Call, "Call", 0, 2, None).await;
            inbox::log_call(
                db,
                call,
                CallInput {
                    outcome: CallOutcome::Reached,
                    note: Some("will pay".to_owned()),
                    promise: None,
                },
                who.cole,
                at(base + 3),
            )
            .await
            .expect("call");
            payment::ActiveModel {
                account_id: Set(account_id),
                provider: Set(PaymentProvider::Manual),
                method: Set(PaymentChannel::Check),
                amount_minor: Set(12_345),
                unapplied_minor: Set(0),
                currency: Set("USD".to_owned()),
                status: Set(PaymentStatus::Succeeded),
                received_at: Set(at(base + 4)),
                created_at: Set(at(base + 4)),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("payment");
            promise::ActiveModel {
                account_id: Set(account_id),
                contact_id: Set(Some(jo.id)),
                amount_minor: Set(10_000),
                currency: Set("USD".to_owned()),
                promised_date: Set(today()),
                status: Set(PromiseStatus::Kept),
                created_at: Set(at(base + 5)),
                resolved_at: Set(Some(at(base + 7))),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("promise");
            dispute::ActiveModel {
                account_id: Set(account_id),
                document_id: Set(inv.id),
                contact_id: Set(Some(jo.id)),
                status: Set(DisputeStatus::Open),
                disputed_minor: Set(1_000),
                credited_minor: Set(0),
                version: Set(1),
                created_at: Set(at(base + 6)),
                updated_at: Set(at(base + 6)),
                ..Default::default()
            }
            .insert(db)
            .await
            .expect("dispute");
            audit::append(
                db,
                audit::Change {
                    actor_kind: ActorKind::Staff,
                    actor_id: Some(who.ada.staff_id),
                    channel: Channel::StaffUi,
                    account_id: Some(account_id),
                    entity: "account",
                    entity_id: Some(account_id),
                    field: Some("phone"),
                    old_value: None,
                    new_value: Some("555-0100".to_owned()),
                },
                at(base + 8),
            )
            .await
            .expect("audit");
        }

        let timeline = activity::timeline(db, acme.id, None, 50)
            .await
            .expect("timeline");
        let kinds: Vec<ActivityKind> = timeline.entries.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ActivityKind::Profile,
                ActivityKind::Promise, // kept
                ActivityKind::Dispute,
                ActivityKind::Promise, // made
                ActivityKind::Payment,
                ActivityKind::Call,
                ActivityKind::Letter,
                ActivityKind::Email,
            ],
            "{}: {:#?}",
            t.backend,
            timeline.entries
        );
        assert!(timeline.entries.windows(2).all(|w| w[0].at >= w[1].at));
        assert!(
            timeline.entries.iter().all(|e| e.at >= at(100)),
            "only Acme's"
        );
        let email = timeline.entries.last().expect("email");
        assert_eq!(email.title, format!("Statement {}", acme.id));
        assert_eq!(email.status.as_deref(), Some("dead"));
        let call = &timeline.entries[5];
        assert_eq!(call.title, "Call: Reached");
        assert!(
            call.detail
                .as_deref()
                .unwrap_or_default()
                .contains("will pay")
        );
        assert_eq!(timeline.entries[1].status.as_deref(), Some("kept"));

        let calls = activity::timeline(db, acme.id, Some(ActivityKind::Call), 50)
            .await
            .expect("calls");
        assert_eq!(calls.entries.len(), 1);
        let two = activity::timeline(db, acme.id, None, 2)
            .await
            .expect("limited");
        assert_eq!(
            two.entries.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![ActivityKind::Profile, ActivityKind::Promise]
        );
        assert_eq!(
            activity::timeline(db, 9999, None, 50)
                .await
                .map(|a| a.entries.len()),
            Err(AppError::NotFound)
        );
    }
}
