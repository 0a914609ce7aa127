//! Staff sign-in: generic refusals, lockout with backoff, password change ends other sessions.

use app::error::AppError;
use app::model::enums::StaffRole;
use app::services::sessions::{self, Caller};
use app::services::staff;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

const PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn right_password_opens_a_staff_session_and_every_refusal_looks_the_same() {
    for test_db in app::testing::databases("staff_sign_in").await {
        let db = &test_db.conn;
        let user = staff::add(
            db,
            "Casey@Example.com",
            "Casey",
            StaffRole::Collector,
            PASSWORD,
            now(),
        )
        .await
        .expect("add");
        assert_eq!(user.email, "casey@example.com");

        let secret = staff::sign_in(db, " casey@example.com ", PASSWORD, now())
            .await
            .expect("sign in");
        let caller = sessions::resolve(db, &secret, now())
            .await
            .expect("resolve");
        assert!(
            matches!(
                caller,
                Caller::Staff {
                    role: StaffRole::Collector,
                    ..
                }
            ),
            "{}",
            test_db.backend
        );
        assert_eq!(caller.staff(StaffRole::Admin), Err(AppError::Forbidden));
        assert!(caller.staff(StaffRole::Viewer).is_ok());

        assert_eq!(
            staff::sign_in(db, "casey@example.com", "wrong password!", now()).await,
            Err(AppError::Unauthorized)
        );
        assert_eq!(
            staff::sign_in(db, "nobody@example.com", PASSWORD, now()).await,
            Err(AppError::Unauthorized)
        );
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    for test_db in app::testing::databases("staff_lockout").await {
        let db = &test_db.conn;
        staff::add(
            db,
            "lock@example.com",
            "Lock",
            StaffRole::Viewer,
            PASSWORD,
            now(),
        )
        .await
        .expect("add");
        for _ in 0..staff::FREE_ATTEMPTS {
            assert_eq!(
                staff::sign_in(db, "lock@example.com", "guess guess guess", now()).await,
                Err(AppError::Unauthorized)
            );
        }
        // Locked: even the right password is refused, with the same answer.
        assert_eq!(
            staff::sign_in(db, "lock@example.com", PASSWORD, now()).await,
            Err(AppError::Unauthorized),
            "{}",
            test_db.backend
        );
        // The first lock lasts a minute.
        let after = now() + Duration::minutes(1) + Duration::seconds(1);
        assert!(
            staff::sign_in(db, "lock@example.com", PASSWORD, after)
                .await
                .is_ok(),
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn locks_grow_with_further_failures() {
    for test_db in app::testing::databases("staff_backoff").await {
        let db = &test_db.conn;
        staff::add(
            db,
            "grow@example.com",
            "Grow",
            StaffRole::Viewer,
            PASSWORD,
            now(),
        )
        .await
        .expect("add");
        let mut t = now();
        for _ in 0..staff::FREE_ATTEMPTS {
            let _ = staff::sign_in(db, "grow@example.com", "nope nope nope", t).await;
        }
        // After the first minute-long lock, one more failure locks for two minutes.
        t += Duration::minutes(1) + Duration::seconds(1);
        let _ = staff::sign_in(db, "grow@example.com", "nope nope nope", t).await;
        let within = t + Duration::seconds(90);
        assert_eq!(
            staff::sign_in(db, "grow@example.com", PASSWORD, within).await,
            Err(AppError::Unauthorized),
            "{}",
            test_db.backend
        );
        let past = t + Duration::minutes(2) + Duration::seconds(1);
        assert!(
            staff::sign_in(db, "grow@example.com", PASSWORD, past)
                .await
                .is_ok(),
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions() {
    for test_db in app::testing::databases("staff_password_change").await {
        let db = &test_db.conn;
        let user = staff::add(
            db,
            "pw@example.com",
            "Pw",
            StaffRole::Admin,
            PASSWORD,
            now(),
        )
        .await
        .expect("add");
        let other_device = staff::sign_in(db, "pw@example.com", PASSWORD, now())
            .await
            .expect("sign in");

        let wrong =
            staff::change_password(db, user.id, "not it at all", "a brand new password", now())
                .await;
        assert!(
            matches!(wrong, Err(AppError::Validation { ref field, .. }) if field == "current_password"),
            "{wrong:?}"
        );
        let short = staff::change_password(db, user.id, PASSWORD, "short", now()).await;
        assert!(
            matches!(short, Err(AppError::Validation { ref field, .. }) if field == "new_password"),
            "{short:?}"
        );

        staff::change_password(db, user.id, PASSWORD, "a brand new password", now())
            .await
            .expect("change");
        assert_eq!(
            sessions::resolve(db, &other_device, now())
                .await
                .expect("resolve"),
            Caller::Anonymous,
            "{}",
            test_db.backend
        );
        assert_eq!(
            staff::sign_in(db, "pw@example.com", PASSWORD, now()).await,
            Err(AppError::Unauthorized)
        );
        assert!(
            staff::sign_in(db, "pw@example.com", "a brand new password", now())
                .await
                .is_ok()
        );
    }
}

#[tokio::test]
async fn adding_staff_validates_its_input() {
    for test_db in app::testing::databases("staff_add_validation").await {
        let db = &test_db.conn;
        let bad_email =
            staff::add(db, "not-an-email", "X", StaffRole::Viewer, PASSWORD, now()).await;
        assert!(
            matches!(bad_email, Err(AppError::Validation { ref field, .. }) if field == "email")
        );
        let short = staff::add(db, "x@example.com", "X", StaffRole::Viewer, "short", now()).await;
        assert!(
            matches!(short, Err(AppError::Validation { ref field, .. }) if field == "password")
        );
        staff::add(db, "x@example.com", "X", StaffRole::Viewer, PASSWORD, now())
            .await
            .expect("add");
        let dup = staff::add(db, "X@example.com", "X", StaffRole::Viewer, PASSWORD, now()).await;
        assert!(
            matches!(dup, Err(AppError::Conflict(_))),
            "{}: {dup:?}",
            test_db.backend
        );
    }
}
