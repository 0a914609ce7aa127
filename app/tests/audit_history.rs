//! An account's history for staff: scoped to the account, newest first, narrowed by each
//! filter, paged by fifty, actors named, and walked whole (past one read of a thousand)
//! for the CSV export, whose cells never start a formula.

use app::entities::staff_user;
use app::error::AppError;
use app::model::audit::HistoryRow;
use app::model::enums::{ActorKind, Channel, StaffRole};
use app::services::audit::{self, Change};
use app::services::audit_history::{self, HistoryFilter};
use app::testing::{databases, fixtures};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};

fn at(day: u32, hour: u32, min: u32, sec: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, min, sec)
        .single()
        .expect("valid time")
}

fn date(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, day).expect("valid date")
}

async fn staff(db: &impl ConnectionTrait, name: &str, email: &str) -> staff_user::Model {
    staff_user::ActiveModel {
        email: Set(email.to_owned()),
        name: Set(name.to_owned()),
        role: Set(StaffRole::Viewer),
        password_hash: Set("x".to_owned()),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert staff")
}

#[allow(clippy::too_many_arguments)]
async fn event(
    db: &impl ConnectionTrait,
    account_id: i64,
    (actor_kind, actor_id, channel): (ActorKind, Option<i64>, Channel),
    entity: &str,
    entity_id: i64,
    field: &str,
    (old, new): (&str, &str),
    when: DateTime<Utc>,
) {
    audit::append(
        db,
        Change {
            actor_kind,
            actor_id,
            channel,
            account_id: Some(account_id),
            entity,
            entity_id: Some(entity_id),
            field: Some(field),
            old_value: Some(old.to_owned()),
            new_value: Some(new.to_owned()),
        },
        when,
    )
    .await
    .expect("append");
}

/// Two accounts: four events on the first over three days, two on the second.
/// Returns the first account's id and the second's.
async fn two_accounts(db: &impl ConnectionTrait) -> (i64, i64) {
    let a = fixtures::customer(db, "C-1", "Acme").await;
    let b = fixtures::customer(db, "C-2", "Bolt").await;
    let rita = staff(db, "Rita Reviewer", "rita@supplier.test").await;
    let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
    let quinn = fixtures::contact(db, b.id, "Quinn", "quinn@bolt.test").await;
    let by_rita = (ActorKind::Staff, Some(rita.id), Channel::StaffUi);
    let by_pat = (ActorKind::Contact, Some(pat.id), Channel::Portal);
    let by_quinn = (ActorKind::Contact, Some(quinn.id), Channel::Portal);
    let by_system = (ActorKind::System, None, Channel::System);

    let n = "display_name";
    event(
        db,
        a.id,
        by_rita,
        "account",
        a.id,
        n,
        ("Acme", "Acme Hardware"),
        at(20, 10, 0, 0),
    )
    .await;
    event(
        db,
        b.id,
        by_rita,
        "account",
        b.id,
        n,
        ("Bolt", "Bolt Co"),
        at(21, 8, 0, 0),
    )
    .await;
    event(
        db,
        a.id,
        by_pat,
        "contact",
        pat.id,
        "phone",
        ("555-0100", "555-0199"),
        at(21, 23, 59, 59),
    )
    .await;
    event(
        db,
        a.id,
        by_system,
        "promise",
        7,
        "status",
        ("open", "broken"),
        at(22, 0, 0, 0),
    )
    .await;
    event(
        db,
        b.id,
        by_quinn,
        "contact",
        quinn.id,
        "phone",
        ("1", "2"),
        at(22, 12, 0, 0),
    )
    .await;
    event(
        db,
        a.id,
        by_rita,
        "contact",
        pat.id,
        "email",
        ("p•••@acme.test", "pat@acme.test"),
        at(23, 9, 0, 0),
    )
    .await;
    (a.id, b.id)
}

fn summary(rows: &[HistoryRow]) -> Vec<(String, String, Option<String>)> {
    rows.iter()
        .map(|r| (r.actor.clone(), r.entity.clone(), r.field.clone()))
        .collect()
}

fn row(actor: &str, entity: &str, field: &str) -> (String, String, Option<String>) {
    (actor.to_owned(), entity.to_owned(), Some(field.to_owned()))
}

#[tokio::test]
async fn audit_history_page_is_scoped_to_its_account_newest_first_with_actors_named() {
    for t in databases("audit_history_scoped").await {
        let db = &t.conn;
        let (a, b) = two_accounts(db).await;

        let page = audit_history::page(db, a, &HistoryFilter::default(), 0)
            .await
            .expect("page");

        assert_eq!(
            (page.total, page.page, page.pages),
            (4, 0, 1),
            "{}",
            t.backend
        );
        assert_eq!(
            summary(&page.rows),
            vec![
                row("Staff · Rita Reviewer", "contact", "email"),
                row("System", "promise", "status"),
                row("Contact · Pat", "contact", "phone"),
                row("Staff · Rita Reviewer", "account", "display_name"),
            ],
            "{}",
            t.backend
        );
        let first = &page.rows[0];
        assert_eq!(first.occurred_at, at(23, 9, 0, 0), "{}", t.backend);
        assert_eq!(first.channel, Channel::StaffUi, "{}", t.backend);
        assert_eq!(
            first.old_value.as_deref(),
            Some("p•••@acme.test"),
            "{}",
            t.backend
        );
        assert_eq!(
            first.new_value.as_deref(),
            Some("pat@acme.test"),
            "{}",
            t.backend
        );

        let other = audit_history::page(db, b, &HistoryFilter::default(), 0)
            .await
            .expect("page");
        assert_eq!(
            summary(&other.rows),
            vec![
                row("Contact · Quinn", "contact", "phone"),
                row("Staff · Rita Reviewer", "account", "display_name"),
            ],
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn audit_history_each_filter_narrows_the_page() {
    for t in databases("audit_history_filters").await {
        let db = &t.conn;
        let (a, _) = two_accounts(db).await;
        let fields = |filter: HistoryFilter| async move {
            audit_history::page(db, a, &filter, 0)
                .await
                .expect("page")
                .rows
                .into_iter()
                .map(|r| r.field.unwrap_or_default())
                .collect::<Vec<_>>()
        };

        let by_entity = HistoryFilter {
            entity: Some("contact".to_owned()),
            ..Default::default()
        };
        assert_eq!(fields(by_entity).await, ["email", "phone"], "{}", t.backend);
        let by_actor = HistoryFilter {
            actor_kind: Some(ActorKind::Staff),
            ..Default::default()
        };
        assert_eq!(
            fields(by_actor).await,
            ["email", "display_name"],
            "{}",
            t.backend
        );
        let by_field = HistoryFilter {
            field: Some("status".to_owned()),
            ..Default::default()
        };
        assert_eq!(fields(by_field).await, ["status"], "{}", t.backend);
        let one_day = HistoryFilter {
            from: Some(date(21)),
            to: Some(date(21)),
            ..Default::default()
        };
        assert_eq!(
            fields(one_day).await,
            ["phone"],
            "{}: 23:59:59 is in, midnight after is out",
            t.backend
        );
        let since = HistoryFilter {
            from: Some(date(22)),
            ..Default::default()
        };
        assert_eq!(fields(since).await, ["email", "status"], "{}", t.backend);
        let until = HistoryFilter {
            to: Some(date(20)),
            ..Default::default()
        };
        assert_eq!(fields(until).await, ["display_name"], "{}", t.backend);
        let combined = HistoryFilter {
            entity: Some("contact".to_owned()),
            actor_kind: Some(ActorKind::Contact),
            ..Default::default()
        };
        assert_eq!(fields(combined).await, ["phone"], "{}", t.backend);
        let nothing = HistoryFilter {
            entity: Some("dispute".to_owned()),
            ..Default::default()
        };
        let empty = audit_history::page(db, a, &nothing, 0).await.expect("page");
        assert_eq!(
            (empty.rows.len(), empty.total, empty.page),
            (0, 0, 0),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn audit_history_pages_hold_fifty_and_a_page_past_the_end_gives_the_last() {
    for t in databases("audit_history_paging").await {
        let db = &t.conn;
        let acct = fixtures::customer(db, "C-1", "Acme").await;
        let system = (ActorKind::System, None, Channel::System);
        for i in 0..120_i64 {
            let when = fixtures::now() + chrono::Duration::minutes(i);
            event(
                db,
                acct.id,
                system,
                "account",
                i,
                "segment",
                ("a", "b"),
                when,
            )
            .await;
        }

        let mut seen = Vec::new();
        for page in 0..3 {
            let p = audit_history::page(db, acct.id, &HistoryFilter::default(), page)
                .await
                .expect("page");
            assert_eq!((p.total, p.pages, p.page), (120, 3, page), "{}", t.backend);
            seen.extend(p.rows.iter().filter_map(|r| r.entity_id));
        }
        let newest_first: Vec<i64> = (0..120).rev().collect();
        assert_eq!(seen, newest_first, "{}", t.backend);

        let past = audit_history::page(db, acct.id, &HistoryFilter::default(), 9)
            .await
            .expect("page");
        assert_eq!((past.page, past.rows.len()), (2, 20), "{}", t.backend);
    }
}

#[tokio::test]
async fn audit_history_for_each_row_visits_every_matching_row_once_in_order() {
    for t in databases("audit_history_walk").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let b = fixtures::customer(db, "C-2", "Bolt").await;
        let rita = staff(db, "Rita Reviewer", "rita@supplier.test").await;
        let by_rita = (ActorKind::Staff, Some(rita.id), Channel::StaffUi);
        let system = (ActorKind::System, None, Channel::System);
        for i in 0..1_210_i64 {
            let when = fixtures::now() + chrono::Duration::seconds(i);
            let (account, actor) = match i % 10 {
                0 => (b.id, by_rita),
                1 => (a.id, system),
                _ => (a.id, by_rita),
            };
            event(db, account, actor, "account", i, "phone", ("1", "2"), when).await;
        }

        let mut visited = Vec::new();
        let count = audit_history::for_each_row(db, a.id, &HistoryFilter::default(), |row| {
            visited.push((row.entity_id.unwrap_or(-1), row.actor.clone()));
        })
        .await
        .expect("walk");

        let expected: Vec<i64> = (0..1_210).filter(|i| i % 10 != 0).collect();
        assert_eq!(count, 1_089, "{}", t.backend);
        assert_eq!(
            visited.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            expected,
            "{}",
            t.backend
        );
        assert!(
            visited.iter().all(|(id, actor)| actor
                == if id % 10 == 1 {
                    "System"
                } else {
                    "Staff · Rita Reviewer"
                }),
            "{}",
            t.backend
        );

        let staff_only = HistoryFilter {
            actor_kind: Some(ActorKind::Staff),
            ..Default::default()
        };
        let mut staff_rows = 0;
        let count = audit_history::for_each_row(db, a.id, &staff_only, |_| staff_rows += 1)
            .await
            .expect("walk");
        assert_eq!((count, staff_rows), (968, 968), "{}", t.backend);
    }
}

#[tokio::test]
async fn audit_history_of_an_unknown_account_is_not_found() {
    for t in databases("audit_history_unknown").await {
        let db = &t.conn;
        let result = audit_history::page(db, 4_242, &HistoryFilter::default(), 0).await;
        assert_eq!(result, Err(AppError::NotFound), "{}", t.backend);
        assert_eq!(
            audit_history::account_number(db, 4_242).await,
            Err(AppError::NotFound),
            "{}",
            t.backend
        );
    }
}

#[test]
fn audit_history_filters_parse_blank_as_any_and_refuse_bad_values() {
    let any = audit_history::parse_filter(Some(" "), Some(""), None, Some(""), None)
        .expect("blank filters");
    assert_eq!(any, HistoryFilter::default());

    let all = audit_history::parse_filter(
        Some("contact"),
        Some("staff"),
        Some(" email "),
        Some("2026-11-01"),
        Some("2026-11-30"),
    )
    .expect("filters");
    assert_eq!(
        all,
        HistoryFilter {
            entity: Some("contact".to_owned()),
            actor_kind: Some(ActorKind::Staff),
            field: Some("email".to_owned()),
            from: Some(date(1)),
            to: Some(date(30)),
        }
    );

    let field_of = |result: Result<HistoryFilter, AppError>| match result {
        Err(AppError::Validation { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    };
    let parse = audit_history::parse_filter;
    assert_eq!(
        field_of(parse(None, Some("robot"), None, None, None)),
        "actor"
    );
    assert_eq!(
        field_of(parse(None, None, None, Some("23/11/2026"), None)),
        "from"
    );
    assert_eq!(
        field_of(parse(None, None, None, None, Some("2026-13-01"))),
        "to"
    );
    assert_eq!(
        field_of(parse(
            None,
            None,
            None,
            Some("2026-11-02"),
            Some("2026-11-01")
        )),
        "from"
    );
}

#[test]
fn audit_history_csv_cells_never_start_a_formula() {
    let row = HistoryRow {
        occurred_at: at(23, 9, 0, 0),
        actor: "Contact · Pat".to_owned(),
        channel: Channel::MagicLink,
        entity: "contact".to_owned(),
        entity_id: Some(12),
        field: Some("name".to_owned()),
        old_value: Some("=HYPERLINK(\"http://evil.test\")".to_owned()),
        new_value: Some("-2+3".to_owned()),
        client_ip: None,
    };

    let cells = audit_history::csv_record(&row);

    assert_eq!(cells.len(), audit_history::CSV_HEADER.len());
    assert_eq!(
        cells,
        [
            "2026-11-23T09:00:00Z",
            "Contact · Pat",
            "magic_link",
            "contact",
            "12",
            "name",
            "'=HYPERLINK(\"http://evil.test\")",
            "'-2+3",
            "",
        ]
    );
    for text in ["+1", "@SUM(A1)", "\tx", "\r=1"] {
        assert_eq!(audit_history::spreadsheet_safe(text), format!("'{text}"));
    }
    assert_eq!(audit_history::spreadsheet_safe("Acme"), "Acme");
}
