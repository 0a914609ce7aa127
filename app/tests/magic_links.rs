//! Magic links: describing does not consume, the exchange is single-use even under
//! concurrency, and expired links are refused.

use app::entities::{contact, session};
use app::error::AppError;
use app::model::enums::*;
use app::services::magic_links::{self, Creator};
use app::services::sessions::{self, Caller};
use app::testing::fixtures;
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

const SYSTEM: Creator = Creator {
    kind: ActorKind::System,
    id: None,
};

async fn contact_on_new_account(db: &DatabaseConnection, number: &str) -> contact::Model {
    let account = fixtures::customer(db, number, &format!("{number} Company")).await;
    fixtures::contact(
        db,
        account.id,
        "Pat Payables",
        &format!("pat@{}.test", number.to_ascii_lowercase()),
    )
    .await
}

#[tokio::test]
async fn describing_a_link_does_not_consume_it() {
    for test_db in app::testing::databases("links_describe").await {
        let db = &test_db.conn;
        let c = contact_on_new_account(db, "L-1").await;
        let token = magic_links::issue(
            db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            SYSTEM,
            now(),
        )
        .await
        .expect("issue");
        for _ in 0..3 {
            let preview = magic_links::describe(db, &token, now())
                .await
                .expect("describe")
                .expect("usable");
            assert_eq!(preview.company, "L-1 Company");
            assert_eq!(preview.masked_email, "p•••@l-1.test");
        }
        let secret = magic_links::consume(db, &token, now())
            .await
            .expect("still usable after GETs");
        let caller = sessions::resolve(db, &secret.secret, now())
            .await
            .expect("resolve");
        assert!(
            matches!(caller, Caller::Contact { account_id, .. } if account_id == c.account_id),
            "{}",
            test_db.backend
        );
        assert!(
            magic_links::describe(db, &token, now())
                .await
                .expect("describe")
                .is_none(),
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn a_link_is_exchanged_once() {
    for test_db in app::testing::databases("links_once").await {
        let db = &test_db.conn;
        let c = contact_on_new_account(db, "L-2").await;
        let token = magic_links::issue(
            db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            SYSTEM,
            now(),
        )
        .await
        .expect("issue");
        magic_links::consume(db, &token, now())
            .await
            .expect("first");
        assert_eq!(
            magic_links::consume(db, &token, now()).await,
            Err(AppError::NotFound),
            "{}",
            test_db.backend
        );
        assert_eq!(
            magic_links::consume(db, "not-a-token", now()).await,
            Err(AppError::NotFound),
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn an_expired_link_is_refused() {
    for test_db in app::testing::databases("links_expired").await {
        let db = &test_db.conn;
        let c = contact_on_new_account(db, "L-3").await;
        let token = magic_links::issue(
            db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            SYSTEM,
            now(),
        )
        .await
        .expect("issue");
        let later = now() + magic_links::SIGN_IN_TTL + Duration::seconds(1);
        assert!(
            magic_links::describe(db, &token, later)
                .await
                .expect("describe")
                .is_none()
        );
        assert_eq!(
            magic_links::consume(db, &token, later).await,
            Err(AppError::NotFound),
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn fifty_concurrent_exchanges_make_exactly_one_session() {
    for test_db in app::testing::databases("links_concurrent").await {
        let db = test_db.conn.clone();
        let c = contact_on_new_account(&db, "L-4").await;
        let token = magic_links::issue(
            &db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            SYSTEM,
            now(),
        )
        .await
        .expect("issue");
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let db = db.clone();
                let token = token.clone();
                tokio::spawn(async move { magic_links::consume(&db, &token, now()).await })
            })
            .collect();
        let mut won = 0;
        for t in tasks {
            match t.await.expect("join") {
                Ok(_) => won += 1,
                Err(AppError::NotFound) => {}
                Err(other) => panic!("{}: unexpected {other:?}", test_db.backend),
            }
        }
        assert_eq!(won, 1, "{}", test_db.backend);
        assert_eq!(
            session::Entity::find().count(&db).await.expect("count"),
            1,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn sessions_end_after_idling_and_when_revoked() {
    for test_db in app::testing::databases("sessions_idle").await {
        let db = &test_db.conn;
        let c = contact_on_new_account(db, "L-5").await;
        let secret = sessions::open_contact_session(
            db,
            c.id,
            c.account_id,
            LinkPurpose::Portal,
            None,
            now(),
        )
        .await
        .expect("open");
        let active = sessions::resolve(db, &secret, now() + Duration::minutes(29))
            .await
            .expect("resolve");
        assert!(
            matches!(active, Caller::Contact { .. }),
            "{}",
            test_db.backend
        );
        // The request at minute 29 counted as activity, so minute 58 is still within 30 idle minutes.
        let still = sessions::resolve(db, &secret, now() + Duration::minutes(58))
            .await
            .expect("resolve");
        let Caller::Contact { session_id, .. } = still else {
            panic!("{}: idled out too early", test_db.backend)
        };
        let idle = sessions::resolve(db, &secret, now() + Duration::minutes(58 + 31))
            .await
            .expect("resolve");
        assert_eq!(idle, Caller::Anonymous, "{}", test_db.backend);

        let secret = sessions::open_contact_session(
            db,
            c.id,
            c.account_id,
            LinkPurpose::Portal,
            None,
            now(),
        )
        .await
        .expect("open");
        sessions::revoke(db, session_id, now())
            .await
            .expect("revoke old");
        let Caller::Contact { session_id, .. } = sessions::resolve(db, &secret, now())
            .await
            .expect("resolve")
        else {
            panic!("{}: fresh session not active", test_db.backend)
        };
        sessions::revoke(db, session_id, now())
            .await
            .expect("revoke");
        assert_eq!(
            sessions::resolve(db, &secret, now())
                .await
                .expect("resolve"),
            Caller::Anonymous,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn a_pay_link_session_cannot_see_the_portal() {
    for test_db in app::testing::databases("links_purpose").await {
        let db = &test_db.conn;
        let c = contact_on_new_account(db, "L-6").await;
        let token = magic_links::issue(
            db,
            c.id,
            LinkPurpose::Pay,
            Some("[1]".to_owned()),
            magic_links::PURPOSE_TTL,
            SYSTEM,
            now(),
        )
        .await
        .expect("issue");
        let secret = magic_links::consume(db, &token, now())
            .await
            .expect("consume");
        let caller = sessions::resolve(db, &secret.secret, now())
            .await
            .expect("resolve");
        assert_eq!(
            caller.portal_account(),
            Err(AppError::Unauthorized),
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn purging_removes_only_what_ended_over_a_day_ago() {
    for test_db in app::testing::databases("sessions_purge").await {
        let db = &test_db.conn;
        let c = contact_on_new_account(db, "L-7").await;
        let old = sessions::open_contact_session(
            db,
            c.id,
            c.account_id,
            LinkPurpose::Portal,
            None,
            now() - Duration::days(3),
        )
        .await
        .expect("open");
        let fresh = sessions::open_contact_session(
            db,
            c.id,
            c.account_id,
            LinkPurpose::Portal,
            None,
            now(),
        )
        .await
        .expect("open");
        let stale_link = magic_links::issue(
            db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            SYSTEM,
            now() - Duration::days(2),
        )
        .await
        .expect("issue");
        let live_link = magic_links::issue(
            db,
            c.id,
            LinkPurpose::Portal,
            None,
            magic_links::SIGN_IN_TTL,
            SYSTEM,
            now(),
        )
        .await
        .expect("issue");

        let removed = sessions::purge_expired(db, now()).await.expect("purge");
        assert_eq!(removed, 2, "{}", test_db.backend);
        assert_eq!(
            sessions::resolve(db, &old, now()).await.expect("resolve"),
            Caller::Anonymous
        );
        assert!(
            matches!(
                sessions::resolve(db, &fresh, now()).await.expect("resolve"),
                Caller::Contact { .. }
            ),
            "{}",
            test_db.backend
        );
        assert!(
            magic_links::describe(db, &stale_link, now())
                .await
                .expect("describe")
                .is_none()
        );
        assert!(
            magic_links::describe(db, &live_link, now())
                .await
                .expect("describe")
                .is_some(),
            "{}",
            test_db.backend
        );
    }
}
