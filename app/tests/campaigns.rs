//! Onboarding campaigns: who a launch reaches, follow-ups on their days exactly once,
//! opened and completed targets, and the launch's validation.

use app::entities::{account, campaign, campaign_target, contact, outbox_email, staff_user};
use app::error::AppError;
use app::model::campaigns::parse_follow_ups;
use app::model::enums::*;
use app::services::campaigns::{self, DEFAULT_FOLLOW_UPS, TEMPLATE};
use app::testing::fixtures;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder,
};

const PUBLIC_URL: &str = "https://billing.example.com";

/// A refused launch: name, gap, account ids, follow-up days, and the field named.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Option<Vec<i64>>,
    Vec<i64>,
    &'a str,
);

fn now() -> DateTime<Utc> {
    fixtures::now()
}

fn day(n: i64) -> DateTime<Utc> {
    now() + Duration::days(n)
}

async fn staff(db: &impl ConnectionTrait) -> i64 {
    staff_user::ActiveModel {
        email: Set("cole@settle.test".to_owned()),
        name: Set("Cole".to_owned()),
        role: Set(StaffRole::Collector),
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
    .id
}

async fn other_contact(
    db: &impl ConnectionTrait,
    account_id: i64,
    name: &str,
    email: Option<&str>,
    status: EmailStatus,
) -> contact::Model {
    contact::ActiveModel {
        account_id: Set(account_id),
        name: Set(name.to_owned()),
        email: Set(email.map(str::to_owned)),
        role: Set(ContactRole::Other),
        is_primary_billing: Set(false),
        email_status: Set(status),
        version: Set(1),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert contact")
}

async fn mails(db: &DatabaseConnection) -> Vec<outbox_email::Model> {
    outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.template_key.eq(TEMPLATE))
        .order_by_asc(outbox_email::COLUMN.id)
        .all(db)
        .await
        .expect("mails")
}

async fn targets(db: &DatabaseConnection, campaign_id: i64) -> Vec<campaign_target::Model> {
    campaign_target::Entity::find()
        .filter(campaign_target::COLUMN.campaign_id.eq(campaign_id))
        .order_by_asc(campaign_target::COLUMN.account_id)
        .all(db)
        .await
        .expect("targets")
}

async fn status_of(db: &DatabaseConnection, campaign_id: i64) -> CampaignStatus {
    campaign::Entity::find_by_id(campaign_id)
        .one(db)
        .await
        .expect("campaign")
        .expect("exists")
        .status
}

fn field_of(err: AppError) -> String {
    match err {
        AppError::Validation { field, .. } => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn launch_emails_one_contact_per_account_and_counts_bounced_ones() {
    for test_db in app::testing::databases("campaigns_launch").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let staff_id = staff(db).await;
        let acme = fixtures::customer(db, "C-1", "Acme").await;
        other_contact(
            db,
            acme.id,
            "Olga",
            Some("olga@acme.test"),
            EmailStatus::Verified,
        )
        .await;
        let pat = fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let beta = fixtures::customer(db, "C-2", "Beta").await;
        other_contact(
            db,
            beta.id,
            "Ben",
            Some("ben@beta.test"),
            EmailStatus::Bounced,
        )
        .await;
        let bea = other_contact(
            db,
            beta.id,
            "Bea",
            Some("bea@beta.test"),
            EmailStatus::Unverified,
        )
        .await;
        let gone = fixtures::customer(db, "C-3", "Gone").await;
        let gus = other_contact(
            db,
            gone.id,
            "Gus",
            Some("gus@gone.test"),
            EmailStatus::Bounced,
        )
        .await;
        let silent = fixtures::customer(db, "C-4", "Silent").await;
        other_contact(db, silent.id, "Sil", None, EmailStatus::Unverified).await;
        let vendor = fixtures::customer(db, "V-1", "Vendor").await;
        account::ActiveModel {
            id: Set(vendor.id),
            kind: Set(AccountKind::Vendor),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("make vendor");
        fixtures::contact(db, vendor.id, "Val", "val@vendor.test").await;

        let view = campaigns::launch(
            db,
            PUBLIC_URL,
            staff_id,
            "  Profile check 2026  ",
            None,
            None,
            &DEFAULT_FOLLOW_UPS,
            now(),
        )
        .await
        .expect("launch");

        assert_eq!(view.name, "Profile check 2026", "{backend}");
        assert_eq!(view.status, CampaignStatus::Running, "{backend}");
        assert_eq!(
            (
                view.targets,
                view.sent,
                view.opened,
                view.completed,
                view.bounced,
                view.skipped
            ),
            (3, 2, 0, 0, 1, 1),
            "{backend}"
        );
        assert_eq!(
            view.follow_up_days,
            DEFAULT_FOLLOW_UPS.to_vec(),
            "{backend}"
        );
        let sent = mails(db).await;
        let mut to: Vec<&str> = sent.iter().map(|m| m.to_address.as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, ["bea@beta.test", "pat@acme.test"], "{backend}");
        assert!(
            sent.iter()
                .all(|m| m.body_text.contains(&format!("{PUBLIC_URL}/l/"))),
            "{backend}: every request carries a link"
        );
        assert!(
            sent.iter().all(|m| !m.subject.starts_with("Reminder")),
            "{backend}"
        );
        let rows = targets(db, view.id).await;
        let picked: Vec<(i64, Option<i64>, TargetStatus)> = rows
            .iter()
            .map(|t| (t.account_id, t.contact_id, t.status))
            .collect();
        assert_eq!(
            picked,
            [
                (acme.id, Some(pat.id), TargetStatus::Sent),
                (beta.id, Some(bea.id), TargetStatus::Sent),
                (gone.id, Some(gus.id), TargetStatus::Bounced),
            ],
            "{backend}"
        );
        assert!(
            rows.iter()
                .all(|t| t.last_sent_at == (t.status == TargetStatus::Sent).then_some(now())),
            "{backend}"
        );

        let listed = campaigns::list(db).await.expect("list");
        assert_eq!(listed, std::slice::from_ref(&view), "{backend}");
        assert_eq!(
            campaigns::view(db, view.id + 100).await,
            Err(AppError::NotFound),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_gap_filter_picks_only_the_accounts_lacking_it() {
    for test_db in app::testing::databases("campaigns_gap").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let staff_id = staff(db).await;
        let old = fixtures::customer(db, "C-1", "Old").await;
        fixtures::contact(db, old.id, "Olly", "olly@old.test").await;
        let fresh = fixtures::customer(db, "C-2", "Fresh").await;
        fixtures::contact(db, fresh.id, "Fran", "fran@fresh.test").await;
        account::ActiveModel {
            id: Set(fresh.id),
            verified_at: Set(Some(now() - Duration::days(30))),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("verify");

        let view = campaigns::launch(
            db,
            PUBLIC_URL,
            staff_id,
            "Unverified",
            Some("unverified"),
            None,
            &[5],
            now(),
        )
        .await
        .expect("launch");

        assert_eq!((view.targets, view.sent), (1, 1), "{backend}");
        assert_eq!(view.gap.as_deref(), Some("unverified"), "{backend}");
        let rows = targets(db, view.id).await;
        assert_eq!(rows[0].account_id, old.id, "{backend}");
    }
}

#[tokio::test]
async fn follow_ups_go_out_on_their_days_exactly_once() {
    for test_db in app::testing::databases("campaigns_follow_up").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let staff_id = staff(db).await;
        let acme = fixtures::customer(db, "C-1", "Acme").await;
        fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let view = campaigns::launch(
            db,
            PUBLIC_URL,
            staff_id,
            "Onboarding",
            None,
            None,
            &DEFAULT_FOLLOW_UPS,
            now(),
        )
        .await
        .expect("launch");

        let follow_up = |at| campaigns::follow_up(db, PUBLIC_URL, at);
        assert_eq!(follow_up(day(2)).await, Ok(0), "{backend}: day 2");
        assert_eq!(follow_up(day(3)).await, Ok(1), "{backend}: day 3");
        assert_eq!(follow_up(day(3)).await, Ok(0), "{backend}: day 3 again");
        assert_eq!(follow_up(day(6)).await, Ok(0), "{backend}: day 6");
        let (a, b) = tokio::join!(follow_up(day(7)), follow_up(day(7)));
        assert_eq!(
            a.expect("first") + b.expect("second"),
            1,
            "{backend}: day 7 twice at once"
        );
        assert_eq!(
            status_of(db, view.id).await,
            CampaignStatus::Running,
            "{backend}"
        );
        assert_eq!(follow_up(day(14)).await, Ok(1), "{backend}: day 14");
        assert_eq!(
            status_of(db, view.id).await,
            CampaignStatus::Done,
            "{backend}"
        );
        assert_eq!(follow_up(day(30)).await, Ok(0), "{backend}: day 30");

        let sent = mails(db).await;
        assert_eq!(sent.len(), 4, "{backend}: the request and three reminders");
        assert!(
            sent[1..].iter().all(|m| m.subject.starts_with("Reminder")),
            "{backend}"
        );
        let links: std::collections::HashSet<&str> = sent
            .iter()
            .filter_map(|m| m.body_text.split_whitespace().find(|w| w.contains("/l/")))
            .collect();
        assert!(links.len() >= 4, "{backend}: each email has a fresh link");
        let t = &targets(db, view.id).await[0];
        assert_eq!(
            (t.follow_ups, t.last_sent_at),
            (3, Some(day(14))),
            "{backend}"
        );
        let view = campaigns::view(db, view.id).await.expect("view");
        assert_eq!(view.follow_ups_sent, 3, "{backend}");
    }
}

#[tokio::test]
async fn opened_and_completed_targets_move_on_and_completed_ones_get_no_follow_ups() {
    for test_db in app::testing::databases("campaigns_marks").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let staff_id = staff(db).await;
        let acme = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let beta = fixtures::customer(db, "C-2", "Beta").await;
        fixtures::contact(db, beta.id, "Bo", "bo@beta.test").await;
        let view = campaigns::launch(
            db,
            PUBLIC_URL,
            staff_id,
            "Onboarding",
            None,
            None,
            &DEFAULT_FOLLOW_UPS,
            now(),
        )
        .await
        .expect("launch");

        assert_eq!(
            campaigns::mark_opened(db, pat.id, day(1)).await,
            Ok(1),
            "{backend}"
        );
        assert_eq!(
            campaigns::mark_opened(db, pat.id, day(1)).await,
            Ok(0),
            "{backend}"
        );
        let v = campaigns::view(db, view.id).await.expect("view");
        assert_eq!((v.sent, v.opened, v.completed), (2, 1, 0), "{backend}");

        assert_eq!(
            campaigns::follow_up(db, PUBLIC_URL, day(3)).await,
            Ok(2),
            "{backend}: opened but not completed is still reminded"
        );
        assert_eq!(
            campaigns::mark_completed(db, acme.id, day(4)).await,
            Ok(1),
            "{backend}"
        );
        let v = campaigns::view(db, view.id).await.expect("view");
        assert_eq!((v.sent, v.opened, v.completed), (2, 1, 1), "{backend}");

        assert_eq!(
            campaigns::follow_up(db, PUBLIC_URL, day(7)).await,
            Ok(1),
            "{backend}: only the open target"
        );
        assert_eq!(
            campaigns::mark_completed(db, beta.id, day(8)).await,
            Ok(1),
            "{backend}"
        );
        assert_eq!(
            campaigns::follow_up(db, PUBLIC_URL, day(14)).await,
            Ok(0),
            "{backend}"
        );
        assert_eq!(
            status_of(db, view.id).await,
            CampaignStatus::Done,
            "{backend}: nobody left to remind"
        );
        assert_eq!(mails(db).await.len(), 2 + 2 + 1, "{backend}");
        let rows = targets(db, view.id).await;
        assert!(
            rows.iter().all(|t| t.status == TargetStatus::Completed),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn bad_launches_are_refused_with_the_field_named() {
    for test_db in app::testing::databases("campaigns_validation").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let staff_id = staff(db).await;
        let acme = fixtures::customer(db, "C-1", "Acme").await;
        fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let lonely = fixtures::customer(db, "C-2", "Lonely").await;
        let long = "x".repeat(201);
        let cases: [Case; 9] = [
            ("  ", None, None, vec![3], "name"),
            (&long, None, None, vec![3], "name"),
            ("Ok", None, None, vec![7, 3], "follow_ups"),
            ("Ok", None, None, vec![3, 3], "follow_ups"),
            ("Ok", None, None, vec![0, 3], "follow_ups"),
            ("Ok", None, None, vec![91], "follow_ups"),
            ("Ok", Some("colour"), None, vec![3], "gap"),
            (
                "Ok",
                Some("tin"),
                Some(vec![acme.id + 1000]),
                vec![3],
                "accounts",
            ),
            ("Ok", None, Some(vec![lonely.id]), vec![3], "accounts"),
        ];
        for (name, gap, ids, days, field) in cases {
            let err = campaigns::launch(
                db,
                PUBLIC_URL,
                staff_id,
                name,
                gap,
                ids.as_deref(),
                &days,
                now(),
            )
            .await
            .expect_err("refused");
            assert_eq!(
                field_of(err),
                field,
                "{backend}: {name} {gap:?} {ids:?} {days:?}"
            );
        }
        assert!(
            campaigns::list(db).await.expect("list").is_empty(),
            "{backend}"
        );
        assert!(mails(db).await.is_empty(), "{backend}");

        let view = campaigns::launch(
            db,
            PUBLIC_URL,
            staff_id,
            &"y".repeat(200),
            None,
            Some(&[acme.id]),
            &[],
            now(),
        )
        .await
        .expect("200 characters and no follow-ups are fine");
        assert_eq!(view.targets, 1, "{backend}");
        assert_eq!(
            campaigns::follow_up(db, PUBLIC_URL, day(1)).await,
            Ok(0),
            "{backend}"
        );
        assert_eq!(
            status_of(db, view.id).await,
            CampaignStatus::Done,
            "{backend}"
        );
    }
}

#[test]
fn follow_up_days_are_read_from_text() {
    assert_eq!(parse_follow_ups("3, 7, 14"), Ok(vec![3, 7, 14]));
    assert_eq!(parse_follow_ups(" 2 5 "), Ok(vec![2, 5]));
    assert_eq!(parse_follow_ups(""), Ok(vec![]));
    assert!(parse_follow_ups("3, soon").is_err());
    assert!(parse_follow_ups("7, 3").is_err());
    assert!(parse_follow_ups("3, 95").is_err());
}

#[tokio::test]
async fn the_campaign_page_lists_its_accounts_by_name_and_filters_by_progress() {
    for test_db in app::testing::databases("campaigns_detail").await {
        let db = &test_db.conn;
        let backend = test_db.backend;
        let staff_id = staff(db).await;
        let zed = fixtures::customer(db, "C-1", "Zed Supply").await;
        fixtures::contact(db, zed.id, "Zoe", "zoe@zed.test").await;
        let acme = fixtures::customer(db, "C-2", "Acme").await;
        let pat = fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let other = fixtures::customer(db, "C-3", "Not In It").await;
        fixtures::contact(db, other.id, "Ned", "ned@other.test").await;
        let view = campaigns::launch(
            db,
            PUBLIC_URL,
            staff_id,
            "Two of three",
            None,
            Some(&[zed.id, acme.id]),
            &DEFAULT_FOLLOW_UPS,
            now(),
        )
        .await
        .expect("launch");
        campaigns::mark_opened(db, pat.id, day(1))
            .await
            .expect("open");

        let all = campaigns::detail(db, view.id, None).await.expect("detail");
        assert_eq!(all.matching, 2, "{backend}");
        let names: Vec<&str> = all.targets.iter().map(|t| t.company.as_str()).collect();
        assert_eq!(names, ["Acme", "Zed Supply"], "{backend}: by company name");
        assert_eq!(all.targets[0].contact, "Pat <pat@acme.test>");
        assert_eq!(all.targets[0].status, TargetStatus::Opened);
        assert!(all.targets[1].last_sent_at.is_some(), "{backend}");

        let opened = campaigns::detail(db, view.id, Some(TargetStatus::Opened))
            .await
            .expect("detail");
        assert_eq!(opened.matching, 1, "{backend}");
        assert_eq!(opened.targets.len(), 1);
        assert_eq!(opened.targets[0].account_id, acme.id);
        let completed = campaigns::detail(db, view.id, Some(TargetStatus::Completed))
            .await
            .expect("detail");
        assert!(completed.targets.is_empty(), "{backend}");
        assert_eq!(
            campaigns::detail(db, view.id + 1000, None).await,
            Err(AppError::NotFound),
            "{backend}"
        );
    }
}
