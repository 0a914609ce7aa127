//! Rate limits count per key, reset after their window, and hold across connections.

use app::services::rate_limit::{self, Limit};
use chrono::{Duration, TimeZone, Utc};

#[tokio::test]
async fn a_key_is_limited_within_its_window_and_free_after_it() {
    for test_db in app::testing::databases("rate_limit_window").await {
        let db = &test_db.conn;
        let now = Utc
            .with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let limit = Limit {
            max: 3,
            window: Duration::hours(1),
        };
        let mut allowed = Vec::new();
        for i in 0..5 {
            allowed.push(
                rate_limit::hit(db, "email:a@b.test", limit, now + Duration::minutes(i))
                    .await
                    .expect("hit"),
            );
        }
        assert_eq!(
            allowed,
            [true, true, true, false, false],
            "{}",
            test_db.backend
        );
        assert!(
            rate_limit::hit(db, "email:other@b.test", limit, now)
                .await
                .expect("hit"),
            "{}: keys are separate",
            test_db.backend
        );
        let later = now + Duration::hours(1) + Duration::minutes(1);
        assert!(
            rate_limit::hit(db, "email:a@b.test", limit, later)
                .await
                .expect("hit"),
            "{}: window reset",
            test_db.backend
        );
    }
}
