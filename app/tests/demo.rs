//! The demo data set: idempotent, and rich enough to show every part of the overview.

use app::entities::{
    account, contact, dispute, document, document_line, payment, promise, staff_user,
};
use app::model::enums::{AccountKind, DocumentKind, EmailStatus};
use app::services::{demo, portal};
use chrono::{TimeZone, Utc};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, prelude::*};

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

async fn counts(db: &DatabaseConnection) -> [u64; 8] {
    [
        account::Entity::find().count(db).await.unwrap_or(0),
        contact::Entity::find().count(db).await.unwrap_or(0),
        document::Entity::find().count(db).await.unwrap_or(0),
        document_line::Entity::find().count(db).await.unwrap_or(0),
        payment::Entity::find().count(db).await.unwrap_or(0),
        promise::Entity::find().count(db).await.unwrap_or(0),
        dispute::Entity::find().count(db).await.unwrap_or(0),
        staff_user::Entity::find().count(db).await.unwrap_or(0),
    ]
}

#[tokio::test]
async fn loading_the_demo_twice_leaves_the_same_rows() {
    for test_db in app::testing::databases("demo_twice").await {
        let db = &test_db.conn;
        let first = demo::load(db, now()).await.expect("first load");
        assert!(first.created);
        assert!(first.admin_password.is_some());
        let after_first = counts(db).await;

        let second = demo::load(db, now()).await.expect("second load");
        assert!(!second.created);
        assert_eq!(second.demo_contact_id, first.demo_contact_id);
        assert_eq!(counts(db).await, after_first, "{}", test_db.backend);
    }
}

#[tokio::test]
async fn demo_has_the_shape_the_product_describes() {
    for test_db in app::testing::databases("demo_shape").await {
        let db = &test_db.conn;
        demo::load(db, now()).await.expect("load");
        let [accounts, _, _, lines, payments, promises, disputes, staff] = counts(db).await;
        let backend = test_db.backend;
        assert_eq!(accounts, demo::ACCOUNTS as u64, "{backend}");
        let vendors = account::Entity::find()
            .filter(account::COLUMN.kind.eq(AccountKind::Vendor))
            .count(db)
            .await
            .expect("count");
        assert_eq!(vendors, demo::VENDORS as u64, "{backend}");
        let invoices = document::Entity::find()
            .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
            .count(db)
            .await
            .expect("count");
        assert!(
            (500..=700).contains(&invoices),
            "{backend}: {invoices} invoices"
        );
        assert!(lines >= invoices, "{backend}");
        assert!(
            payments > 0 && promises == 1 && disputes == 1 && staff >= 1,
            "{backend}"
        );
        for kind in [
            DocumentKind::Statement,
            DocumentKind::PurchaseOrder,
            DocumentKind::BillOfLading,
        ] {
            let n = document::Entity::find()
                .filter(document::COLUMN.kind.eq(kind))
                .count(db)
                .await
                .expect("count");
            assert!(n > 0, "{backend}: no {kind}");
        }
        let bounced = contact::Entity::find()
            .filter(contact::COLUMN.email_status.eq(EmailStatus::Bounced))
            .count(db)
            .await
            .expect("count");
        assert_eq!(bounced, 1, "{backend}");
        let without_email = contact::Entity::find()
            .filter(contact::COLUMN.email.is_null())
            .count(db)
            .await
            .expect("count");
        assert!(without_email > 0, "{backend}");

        // Every aging bucket holds money somewhere in the book.
        let customers = account::Entity::find()
            .filter(account::COLUMN.kind.eq(AccountKind::Customer))
            .all(db)
            .await
            .expect("accounts");
        let mut buckets = [0i64; 5];
        for a in customers {
            let o = portal::overview(db, a.id, now().date_naive())
                .await
                .expect("overview");
            for (i, (_, v)) in o.aging.buckets().iter().enumerate() {
                buckets[i] += v;
            }
        }
        assert!(buckets.iter().all(|v| *v > 0), "{backend}: {buckets:?}");
    }
}
