//! API keys: shown once and stored as a hash, named, refused once revoked, last use recorded
//! at most once a minute, creation and revocation audited.

use app::entities::{api_key, audit_event};
use app::error::AppError;
use app::model::enums::{ActorKind, ApiScope, Channel, StaffRole};
use app::services::{api_keys, staff, tokens};
use app::testing::{databases, fixtures::now};
use chrono::Duration;
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};

#[tokio::test]
async fn a_key_is_shown_once_stored_hashed_and_authenticates() {
    for t in databases("api_keys_create").await {
        let db = &t.conn;
        let admin = staff::add(
            db,
            "admin@x.test",
            "Ada Admin",
            StaffRole::Admin,
            "a long enough password",
            now(),
        )
        .await
        .expect("admin");

        let (key, secret) = api_keys::create(
            db,
            "  NetSuite  ",
            ApiScope::ReadWrite,
            Some(admin.id),
            now(),
        )
        .await
        .expect("create");

        assert!(
            secret.starts_with(api_keys::KEY_PREFIX) && secret.len() > 40,
            "{secret}"
        );
        assert_eq!(key.name, "NetSuite");
        assert_eq!(key.secret_hash, tokens::hash_token(&secret));
        assert!(secret.starts_with(&key.prefix) && key.prefix.len() < secret.len() / 2);
        let stored = api_key::Entity::find_by_id(key.id)
            .one(db)
            .await
            .expect("read")
            .expect("row");
        assert!(
            !format!("{stored:?}").contains(&secret),
            "{}: the key itself is not stored",
            t.backend
        );

        let found = api_keys::authenticate(db, &secret, now())
            .await
            .expect("authenticate");
        assert_eq!((found.id, found.scope), (key.id, ApiScope::ReadWrite));
        for wrong in [
            "",
            "settle_",
            "settle_nope",
            &secret[..secret.len() - 1],
            &secret.replacen("settle_", "other_", 1),
        ] {
            assert_eq!(
                api_keys::authenticate(db, wrong, now()).await,
                Err(AppError::Unauthorized),
                "{wrong}"
            );
        }

        let listed = api_keys::list(db).await.expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].created_by.as_deref(), Some("Ada Admin"));
        assert_eq!(
            listed[0].last_used_at.as_deref(),
            Some("2026-11-23 09:00 UTC")
        );
        assert_eq!(listed[0].revoked_at, None);

        let created = audit_event::Entity::find()
            .filter(audit_event::COLUMN.entity.eq("api_key"))
            .one(db)
            .await
            .expect("read")
            .expect("creation is audited");
        assert_eq!(
            (created.actor_kind, created.channel, created.actor_id),
            (ActorKind::Staff, Channel::StaffUi, Some(admin.id))
        );
        assert!(!created.new_value.unwrap_or_default().contains(&secret));
    }
}

#[tokio::test]
async fn names_are_checked() {
    for t in databases("api_keys_names").await {
        let db = &t.conn;
        for bad in ["", "   ", &"x".repeat(81), "tab\there"] {
            let err = api_keys::create(db, bad, ApiScope::Read, None, now())
                .await
                .expect_err(bad);
            assert!(
                matches!(err, AppError::Validation { ref field, .. } if field == "name"),
                "{err:?}"
            );
        }
        assert_eq!(
            api_key::Entity::find().count(db).await.expect("count"),
            0,
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn last_use_is_written_at_most_once_a_minute() {
    for t in databases("api_keys_last_used").await {
        let db = &t.conn;
        let (key, secret) = api_keys::create(db, "ERP", ApiScope::Read, None, now())
            .await
            .expect("create");
        assert_eq!(key.last_used_at, None);

        api_keys::authenticate(db, &secret, now())
            .await
            .expect("first use");
        api_keys::authenticate(db, &secret, now() + Duration::seconds(59))
            .await
            .expect("again");
        let row = api_key::Entity::find_by_id(key.id)
            .one(db)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(row.last_used_at, Some(now()), "{}", t.backend);

        let later = now() + Duration::minutes(5);
        let used = api_keys::authenticate(db, &secret, later)
            .await
            .expect("later");
        assert_eq!(used.last_used_at, Some(later));
        let row = api_key::Entity::find_by_id(key.id)
            .one(db)
            .await
            .expect("read")
            .expect("row");
        assert_eq!(row.last_used_at, Some(later));
    }
}

#[tokio::test]
async fn a_revoked_key_is_refused_and_revoking_again_changes_nothing() {
    for t in databases("api_keys_revoke").await {
        let db = &t.conn;
        let (key, secret) = api_keys::create(db, "ERP", ApiScope::Read, None, now())
            .await
            .expect("create");
        let (_, other) = api_keys::create(db, "BI", ApiScope::Read, None, now())
            .await
            .expect("create");

        let revoked = api_keys::revoke(db, key.id, None, now() + Duration::hours(1))
            .await
            .expect("revoke");
        assert_eq!(revoked.revoked_at, Some(now() + Duration::hours(1)));
        assert_eq!(
            api_keys::authenticate(db, &secret, now() + Duration::hours(2)).await,
            Err(AppError::Unauthorized)
        );
        assert!(
            api_keys::authenticate(db, &other, now()).await.is_ok(),
            "{}: other keys still work",
            t.backend
        );

        let again = api_keys::revoke(db, key.id, None, now() + Duration::hours(3))
            .await
            .expect("again");
        assert_eq!(
            again.revoked_at,
            Some(now() + Duration::hours(1)),
            "the first revocation stands"
        );
        let revocations = audit_event::Entity::find()
            .filter(audit_event::COLUMN.entity.eq("api_key"))
            .filter(audit_event::COLUMN.field.eq("revoked"))
            .count(db)
            .await
            .expect("count");
        assert_eq!(revocations, 1);
        assert_eq!(
            api_keys::revoke(db, 999_999, None, now()).await.map(|_| ()),
            Err(AppError::NotFound)
        );

        let listed = api_keys::list(db).await.expect("list");
        assert_eq!(listed.iter().filter(|k| k.revoked_at.is_some()).count(), 1);
    }
}
