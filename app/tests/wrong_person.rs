//! "Not the right person for these? Tell us who is." — the report and the verification it starts.

use app::entities::{audit_event, contact, outbox_email, task};
use app::error::AppError;
use app::model::enums::*;
use app::model::portal::WrongPersonReport;
use app::services::{contacts, demo, magic_links, sessions};
use chrono::{DateTime, TimeZone, Utc};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

const PUBLIC_URL: &str = "https://billing.example.com";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn report(email: &str) -> WrongPersonReport {
    WrongPersonReport {
        name: "Robin Right".to_owned(),
        email: email.to_owned(),
        role: ContactRole::Ap,
        note: Some("I left AP in May.".to_owned()),
    }
}

async fn reporter(db: &DatabaseConnection) -> contact::Model {
    contact::Entity::find()
        .filter(contact::COLUMN.email.eq(demo::DEMO_CONTACT_EMAIL))
        .one(db)
        .await
        .ok()
        .flatten()
        .expect("demo contact")
}

#[tokio::test]
async fn a_report_adds_the_right_person_and_tells_everyone_once() {
    for test_db in app::testing::databases("wrong_person_report").await {
        let db = &test_db.conn;
        demo::load(db, now()).await.expect("demo");
        let me = reporter(db).await;
        let audit_before = audit_event::Entity::find().count(db).await.expect("count");

        let done = contacts::report_wrong_person(
            db,
            PUBLIC_URL,
            me.id,
            &report(" Robin@Example.com "),
            now(),
        )
        .await
        .expect("report");
        assert!(done.first_time);
        let robin = contact::Entity::find_by_id(done.new_contact_id)
            .one(db)
            .await
            .expect("q")
            .expect("robin");
        assert_eq!(
            (robin.account_id, robin.email.as_deref(), robin.email_status),
            (
                me.account_id,
                Some("robin@example.com"),
                EmailStatus::Unverified
            )
        );
        assert_eq!(
            reporter(db).await.email_status,
            EmailStatus::ReportedWrong,
            "{}",
            test_db.backend
        );
        let tasks = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::WrongPerson))
            .all(db)
            .await
            .expect("tasks");
        assert_eq!(tasks.len(), 1);
        assert!(
            tasks[0].title.contains("robin@example.com")
                && tasks[0].title.contains("I left AP in May."),
            "{}",
            tasks[0].title
        );
        assert_eq!(
            audit_event::Entity::find().count(db).await.expect("count"),
            audit_before + 2,
            "{}",
            test_db.backend
        );
        let mails = outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.to_address.eq("robin@example.com"))
            .all(db)
            .await
            .expect("mail");
        assert_eq!(mails.len(), 1);

        // Submitting the same report again is harmless.
        let again = contacts::report_wrong_person(
            db,
            PUBLIC_URL,
            me.id,
            &report("robin@example.com"),
            now(),
        )
        .await
        .expect("again");
        assert_eq!(
            again,
            contacts::Reported {
                new_contact_id: robin.id,
                first_time: false
            }
        );
        assert_eq!(
            task::Entity::find()
                .filter(task::COLUMN.kind.eq(TaskKind::WrongPerson))
                .count(db)
                .await
                .expect("count"),
            1
        );
        assert_eq!(
            outbox_email::Entity::find()
                .filter(outbox_email::COLUMN.to_address.eq("robin@example.com"))
                .count(db)
                .await
                .expect("count"),
            1
        );

        // The verification link in Robin's email confirms the address and opens the portal.
        let body = &mails[0].body_text;
        let start = body.find(&format!("{PUBLIC_URL}/l/")).expect("a link");
        let token: String = body[start + PUBLIC_URL.len() + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let opened = magic_links::consume(db, &token, now())
            .await
            .expect("verify");
        assert_eq!(opened.contact_id, robin.id);
        let caller = sessions::resolve(db, &opened.secret, now())
            .await
            .expect("resolve");
        assert_eq!(
            caller.portal_account(),
            Ok(me.account_id),
            "{}",
            test_db.backend
        );
        let robin = contact::Entity::find_by_id(robin.id)
            .one(db)
            .await
            .expect("q")
            .expect("robin");
        assert_eq!(
            robin.email_status,
            EmailStatus::Verified,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn bad_reports_name_the_field_and_change_nothing() {
    for test_db in app::testing::databases("wrong_person_invalid").await {
        let db = &test_db.conn;
        demo::load(db, now()).await.expect("demo");
        let me = reporter(db).await;
        let contacts_before = contact::Entity::find().count(db).await.expect("count");
        let cases = [
            (
                WrongPersonReport {
                    name: " ".to_owned(),
                    ..report("x@example.com")
                },
                "name",
            ),
            (report("not-an-email"), "email"),
            (report(demo::DEMO_CONTACT_EMAIL), "email"),
            (
                WrongPersonReport {
                    note: Some("x".repeat(2001)),
                    ..report("x@example.com")
                },
                "note",
            ),
        ];
        for (input, field) in cases {
            let err = contacts::report_wrong_person(db, PUBLIC_URL, me.id, &input, now())
                .await
                .expect_err(field);
            assert!(
                matches!(err, AppError::Validation { field: ref f, .. } if f == field),
                "{}: {err:?}",
                test_db.backend
            );
        }
        assert_eq!(
            contact::Entity::find().count(db).await.expect("count"),
            contacts_before
        );
        assert_eq!(
            reporter(db).await.email_status,
            EmailStatus::Verified,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn changing_a_contacts_email_ends_their_links_and_sessions() {
    for test_db in app::testing::databases("contact_change_email").await {
        let db = &test_db.conn;
        demo::load(db, now()).await.expect("demo");
        let me = reporter(db).await;
        let link = magic_links::issue(
            db,
            me.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            magic_links::Creator {
                kind: ActorKind::System,
                id: None,
            },
            now(),
        )
        .await
        .expect("issue");
        let other = magic_links::issue(
            db,
            me.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            magic_links::Creator {
                kind: ActorKind::System,
                id: None,
            },
            now(),
        )
        .await
        .expect("issue");
        let session = magic_links::consume(db, &other, now())
            .await
            .expect("consume")
            .secret;

        let bad = contacts::change_email(
            db,
            me.id,
            "nope",
            (ActorKind::Staff, None, Channel::StaffUi),
            now(),
        )
        .await;
        assert!(matches!(bad, Err(AppError::Validation { ref field, .. }) if field == "email"));
        let changed = contacts::change_email(
            db,
            me.id,
            "New.AP@Acme-Hardware.test",
            (ActorKind::Staff, None, Channel::StaffUi),
            now(),
        )
        .await
        .expect("change");
        assert_eq!(
            (changed.email.as_deref(), changed.email_status),
            (Some("new.ap@acme-hardware.test"), EmailStatus::Unverified)
        );
        assert!(
            magic_links::describe(db, &link, now())
                .await
                .expect("describe")
                .is_none(),
            "{}: old link revoked",
            test_db.backend
        );
        assert_eq!(
            sessions::resolve(db, &session, now())
                .await
                .expect("resolve"),
            sessions::Caller::Anonymous,
            "{}",
            test_db.backend
        );
        let logged = audit_event::Entity::find()
            .filter(audit_event::COLUMN.field.eq("email"))
            .all(db)
            .await
            .expect("audit");
        assert!(
            logged
                .iter()
                .any(|e| e.old_value.as_deref() == Some(demo::DEMO_CONTACT_EMAIL)),
            "{}",
            test_db.backend
        );
    }
}
