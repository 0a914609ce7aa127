//! Staff accounts: the list's filters and paging in SQL, and inline saves — stored with an
//! audit event, refused with the field named when invalid, stale when someone changed the
//! field since it was loaded (but not when they changed another field), and two saves
//! racing on one record never both landing.

use app::entities::{account, audit_event, contact, magic_link};
use app::error::AppError;
use app::model::accounts::{AccountField, ContactField, Saved};
use app::model::enums::*;
use app::services::accounts::{self, ListFilter};
use app::services::magic_links::{self, Creator};
use app::testing::{databases, file_sqlite, fixtures};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

const STAFF: i64 = 1;

async fn reload(db: &impl ConnectionTrait, id: i64) -> account::Model {
    account::Entity::find_by_id(id)
        .one(db)
        .await
        .expect("read")
        .expect("account")
}

#[tokio::test]
async fn a_save_is_stored_versioned_and_audited() {
    for t in databases("accounts_save").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let saved = accounts::save_account_field(
            db,
            STAFF,
            a.id,
            AccountField::DisplayName,
            "  Acme Tools ",
            1,
            "Acme",
            fixtures::now(),
        )
        .await
        .expect("save");
        assert_eq!(
            saved,
            Saved::Done {
                version: 2,
                value: "Acme Tools".to_owned()
            },
            "{}",
            t.backend
        );
        let after = reload(db, a.id).await;
        assert_eq!(
            (after.display_name.as_str(), after.version),
            ("Acme Tools", 2)
        );
        let event = audit_event::Entity::find()
            .filter(audit_event::COLUMN.field.eq("display_name"))
            .one(db)
            .await
            .expect("read")
            .expect("audited");
        assert_eq!(
            (event.old_value.as_deref(), event.new_value.as_deref()),
            (Some("Acme"), Some("Acme Tools"))
        );
        assert_eq!(
            (event.actor_kind, event.channel),
            (ActorKind::Staff, Channel::StaffUi)
        );
        let terms = accounts::save_account_field(
            db,
            STAFF,
            a.id,
            AccountField::PaymentTermsDays,
            "45",
            2,
            "30",
            fixtures::now(),
        )
        .await
        .expect("terms");
        assert_eq!(
            terms,
            Saved::Done {
                version: 3,
                value: "45".to_owned()
            }
        );
        assert_eq!(reload(db, a.id).await.payment_terms_days, 45);
    }
}

#[tokio::test]
async fn an_invalid_value_is_refused_on_its_field_and_nothing_changes() {
    for t in databases("accounts_invalid").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let bad = accounts::save_account_field(
            db,
            STAFF,
            a.id,
            AccountField::PaymentTermsDays,
            "net 30",
            1,
            "30",
            fixtures::now(),
        )
        .await;
        assert!(
            matches!(&bad, Err(AppError::Validation { field, .. }) if field == "payment_terms_days"),
            "{bad:?}"
        );
        let c = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let bad = accounts::save_contact_field(
            db,
            STAFF,
            c.id,
            ContactField::Email,
            "pat@",
            1,
            "pat@acme.test",
            fixtures::now(),
        )
        .await;
        assert!(
            matches!(&bad, Err(AppError::Validation { field, .. }) if field == "email"),
            "{bad:?}"
        );
        assert_eq!(reload(db, a.id).await.version, 1, "{}", t.backend);
        assert_eq!(
            audit_event::Entity::find().count(db).await.expect("count"),
            0
        );
    }
}

#[tokio::test]
async fn a_stale_save_shows_the_current_value_unless_only_another_field_moved() {
    for t in databases("accounts_stale").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        // Two editors load version 1. The first renames the account.
        accounts::save_account_field(
            db,
            STAFF,
            a.id,
            AccountField::DisplayName,
            "Acme One",
            1,
            "Acme",
            fixtures::now(),
        )
        .await
        .expect("first");
        // The second, still on version 1, renames it too: refused, with what is there now.
        let second = accounts::save_account_field(
            db,
            2,
            a.id,
            AccountField::DisplayName,
            "Acme Two",
            1,
            "Acme",
            fixtures::now(),
        )
        .await
        .expect("answer");
        assert_eq!(
            second,
            Saved::Stale {
                version: 2,
                current: "Acme One".to_owned()
            },
            "{}",
            t.backend
        );
        assert_eq!(
            reload(db, a.id).await.display_name,
            "Acme One",
            "never a silent overwrite"
        );
        // "Keep mine": the same value again, from the version and value now shown.
        let kept = accounts::save_account_field(
            db,
            2,
            a.id,
            AccountField::DisplayName,
            "Acme Two",
            2,
            "Acme One",
            fixtures::now(),
        )
        .await
        .expect("keep mine");
        assert_eq!(
            kept,
            Saved::Done {
                version: 3,
                value: "Acme Two".to_owned()
            }
        );
        // An editor on an old version changing a field nobody touched is not stale.
        let phone = accounts::save_account_field(
            db,
            3,
            a.id,
            AccountField::Phone,
            "+1 555 010 2000",
            1,
            "",
            fixtures::now(),
        )
        .await
        .expect("phone");
        assert_eq!(
            phone,
            Saved::Done {
                version: 4,
                value: "+1 555 010 2000".to_owned()
            }
        );
    }
}

#[tokio::test]
async fn a_new_contact_email_starts_unverified_and_ends_old_links() {
    for t in databases("accounts_contact_email").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let c = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        magic_links::issue(
            db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            Creator {
                kind: ActorKind::System,
                id: None,
            },
            fixtures::now(),
        )
        .await
        .expect("link");
        let saved = accounts::save_contact_field(
            db,
            STAFF,
            c.id,
            ContactField::Email,
            "Robin@Acme.Test",
            1,
            "pat@acme.test",
            fixtures::now(),
        )
        .await
        .expect("save");
        assert_eq!(
            saved,
            Saved::Done {
                version: 2,
                value: "robin@acme.test".to_owned()
            }
        );
        let after = contact::Entity::find_by_id(c.id)
            .one(db)
            .await
            .expect("read")
            .expect("contact");
        assert_eq!(after.email_status, EmailStatus::Unverified, "{}", t.backend);
        let live = magic_link::Entity::find()
            .filter(magic_link::COLUMN.contact_id.eq(c.id))
            .filter(magic_link::COLUMN.revoked_at.is_null())
            .count(db)
            .await
            .expect("count");
        assert_eq!(live, 0, "{}: links sent to the old address end", t.backend);
    }
}

async fn race(db: &DatabaseConnection, backend: &str) {
    let a = fixtures::customer(db, "C-7", "Race").await;
    let (d1, d2, id) = (db.clone(), db.clone(), a.id);
    let one = tokio::spawn(async move {
        accounts::save_account_field(
            &d1,
            1,
            id,
            AccountField::DisplayName,
            "From one",
            1,
            "Race",
            fixtures::now(),
        )
        .await
    });
    let two = tokio::spawn(async move {
        accounts::save_account_field(
            &d2,
            2,
            id,
            AccountField::DisplayName,
            "From two",
            1,
            "Race",
            fixtures::now(),
        )
        .await
    });
    let results = [one.await.expect("task"), two.await.expect("task")];
    let done = results
        .iter()
        .filter(|r| matches!(r, Ok(Saved::Done { .. })))
        .count();
    let stale = results
        .iter()
        .filter(|r| matches!(r, Ok(Saved::Stale { .. })))
        .count();
    assert_eq!((done, stale), (1, 1), "{backend}: {results:?}");
    let after = reload(db, id).await;
    assert_eq!(after.version, 2, "{backend}");
}

#[tokio::test]
async fn two_saves_racing_on_one_field_never_both_land() {
    for t in databases("accounts_race").await {
        race(&t.conn, t.backend).await;
    }
    let dir = std::env::temp_dir().join(format!("settle-accounts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("race.db");
    let _ = std::fs::remove_file(&path);
    let db = file_sqlite(&path).await;
    race(&db, "sqlite file").await;
    db.close().await.ok();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn the_list_searches_filters_and_pages_in_sql() {
    for t in databases("accounts_list").await {
        let db = &t.conn;
        for i in 0..120 {
            let a = fixtures::customer(db, &format!("C-{i:04}"), &format!("Company {i:04}")).await;
            if i % 2 == 0 {
                fixtures::contact(db, a.id, "AP", &format!("ap{i}@x.test")).await;
            }
            if i == 7 {
                contact::ActiveModel {
                    account_id: Set(a.id),
                    name: Set("Gone".to_owned()),
                    email: Set(Some("gone@x.test".to_owned())),
                    role: Set(ContactRole::Ap),
                    is_primary_billing: Set(false),
                    email_status: Set(EmailStatus::Bounced),
                    version: Set(1),
                    created_at: Set(fixtures::now()),
                    updated_at: Set(fixtures::now()),
                    ..Default::default()
                }
                .insert(db)
                .await
                .expect("bounced contact");
            }
        }
        let now = fixtures::now();
        let all = accounts::list(db, &ListFilter::default(), 0, now)
            .await
            .expect("list");
        assert_eq!(
            (all.total, all.pages, all.rows.len()),
            (120, 3, 50),
            "{}",
            t.backend
        );
        let last = accounts::list(db, &ListFilter::default(), 99, now)
            .await
            .expect("past the end");
        assert_eq!((last.page, last.rows.len()), (2, 20));
        let q = ListFilter {
            q: Some("company 001".to_owned()),
            ..Default::default()
        };
        assert_eq!(accounts::list(db, &q, 0, now).await.expect("q").total, 10);
        let no_email = ListFilter {
            gap: Some("email".to_owned()),
            ..Default::default()
        };
        let missing = accounts::list(db, &no_email, 0, now).await.expect("gap");
        assert_eq!(
            missing.total, 60,
            "{}: odd accounts have no contact; 7's only one bounced",
            t.backend
        );
        assert!(
            missing
                .rows
                .iter()
                .all(|r| r.gaps.contains(&"email".to_owned()))
        );
        let bounced = ListFilter {
            bounced: true,
            ..Default::default()
        };
        let b = accounts::list(db, &bounced, 0, now).await.expect("bounced");
        assert_eq!((b.total, b.rows[0].has_bounced), (1, true));
        let unknown = ListFilter {
            gap: Some("nonsense".to_owned()),
            ..Default::default()
        };
        assert!(matches!(
            accounts::list(db, &unknown, 0, now).await,
            Err(AppError::Validation { .. })
        ));
    }
}
