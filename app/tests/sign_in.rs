//! Asking for a sign-in link, and signing in with the code it carries.

use app::entities::{magic_link, outbox_email};
use app::error::AppError;
use app::model::enums::*;
use app::services::{demo, magic_links, sessions, sign_in};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

const PUBLIC_URL: &str = "https://billing.example.com";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

/// The code in the newest sign-in email to `to`.
async fn code_in_mail(db: &sea_orm::DatabaseConnection, to: &str) -> String {
    let mail = outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.to_address.eq(to))
        .order_by_desc(outbox_email::COLUMN.id)
        .one(db)
        .await
        .ok()
        .flatten()
        .expect("a sign-in email");
    let text = mail.body_text;
    let i = text.find("code").expect("the email mentions the code");
    text[i..]
        .split_whitespace()
        .find(|w| w.len() == 9 && w.as_bytes()[4] == b'-')
        .expect("a code like ABCD-EFGH")
        .to_owned()
}

#[tokio::test]
async fn a_known_address_gets_a_link_and_code_and_an_unknown_one_nothing() {
    for test_db in app::testing::databases("sign_in_send").await {
        let db = &test_db.conn;
        demo::load(db, now()).await.expect("demo");
        let before = outbox_email::Entity::find().count(db).await.expect("count");
        assert_eq!(
            sign_in::send_links(db, PUBLIC_URL, "nobody@nowhere.test", now()).await,
            Ok(0)
        );
        assert_eq!(
            outbox_email::Entity::find().count(db).await.expect("count"),
            before
        );

        assert_eq!(
            sign_in::send_links(db, PUBLIC_URL, demo::DEMO_CONTACT_EMAIL, now()).await,
            Ok(1),
            "{}",
            test_db.backend
        );
        let mail = outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.to_address.eq(demo::DEMO_CONTACT_EMAIL))
            .one(db)
            .await
            .expect("query")
            .expect("queued");
        assert!(
            mail.body_text.contains(&format!("{PUBLIC_URL}/l/")),
            "{}",
            mail.body_text
        );
        let code = code_in_mail(db, demo::DEMO_CONTACT_EMAIL).await;

        // Wrong codes count; the right one opens a portal session once.
        assert_eq!(
            magic_links::redeem_code(db, demo::DEMO_CONTACT_EMAIL, "AAAA-AAAA", now()).await,
            Err(AppError::NotFound)
        );
        let opened = magic_links::redeem_code(
            db,
            &demo::DEMO_CONTACT_EMAIL.to_uppercase(),
            &code.to_lowercase(),
            now(),
        )
        .await
        .expect("redeem");
        assert_eq!(opened.purpose, LinkPurpose::Portal);
        let caller = sessions::resolve(db, &opened.secret, now())
            .await
            .expect("resolve");
        assert!(caller.portal_account().is_ok(), "{}", test_db.backend);
        assert_eq!(
            magic_links::redeem_code(db, demo::DEMO_CONTACT_EMAIL, &code, now()).await,
            Err(AppError::NotFound)
        );
    }
}

#[tokio::test]
async fn a_code_dies_after_five_wrong_tries_and_with_its_link() {
    for test_db in app::testing::databases("sign_in_code_attempts").await {
        let db = &test_db.conn;
        demo::load(db, now()).await.expect("demo");
        sign_in::send_links(db, PUBLIC_URL, demo::DEMO_CONTACT_EMAIL, now())
            .await
            .expect("send");
        let code = code_in_mail(db, demo::DEMO_CONTACT_EMAIL).await;
        for _ in 0..magic_links::CODE_ATTEMPTS {
            assert_eq!(
                magic_links::redeem_code(db, demo::DEMO_CONTACT_EMAIL, "ZZZZ-ZZZZ", now()).await,
                Err(AppError::NotFound)
            );
        }
        assert_eq!(
            magic_links::redeem_code(db, demo::DEMO_CONTACT_EMAIL, &code, now()).await,
            Err(AppError::NotFound),
            "{}",
            test_db.backend
        );

        sign_in::send_links(db, PUBLIC_URL, demo::DEMO_CONTACT_EMAIL, now())
            .await
            .expect("send");
        let code = code_in_mail(db, demo::DEMO_CONTACT_EMAIL).await;
        let late = now() + magic_links::SIGN_IN_TTL + Duration::seconds(1);
        assert_eq!(
            magic_links::redeem_code(db, demo::DEMO_CONTACT_EMAIL, &code, late).await,
            Err(AppError::NotFound),
            "{}",
            test_db.backend
        );
        let with_code = magic_link::Entity::find()
            .filter(magic_link::COLUMN.code_hash.is_not_null())
            .count(db)
            .await
            .expect("count");
        assert_eq!(with_code, 2);
    }
}

#[tokio::test]
async fn requests_are_limited_per_address_and_per_client_alike_for_known_and_unknown() {
    for test_db in app::testing::databases("sign_in_rate_limit").await {
        let db = &test_db.conn;
        for address in ["known@example.com", "unknown@example.com"] {
            for i in 0..5 {
                let ip = format!("10.0.0.{i}");
                assert!(
                    sign_in::admit_request(db, address, &ip, now())
                        .await
                        .is_ok(),
                    "{}",
                    test_db.backend
                );
            }
            assert_eq!(
                sign_in::admit_request(db, address, "10.0.1.1", now()).await,
                Err(AppError::RateLimited),
                "{}",
                test_db.backend
            );
        }
        for i in 0..5 {
            assert!(
                sign_in::admit_request(db, &format!("a{i}@example.com"), "192.0.2.1", now())
                    .await
                    .is_ok()
            );
        }
        assert_eq!(
            sign_in::admit_request(db, "fresh@example.com", "192.0.2.1", now()).await,
            Err(AppError::RateLimited)
        );
        let invalid = sign_in::admit_request(db, "not an email", "192.0.2.9", now()).await;
        assert!(matches!(invalid, Err(AppError::Validation { ref field, .. }) if field == "email"));
    }
}
