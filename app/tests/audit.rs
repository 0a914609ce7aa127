//! The audit log's hash chain: intact after ordinary appends (more than one verify page),
//! and broken — at the right event — by an edit or a deletion behind Settle's back.

use app::entities::audit_event;
use app::model::enums::{ActorKind, Channel};
use app::services::audit::{self, Change};
use app::testing::{databases, fixtures};
use chrono::Duration;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};

async fn append_many(db: &impl ConnectionTrait, n: i64) {
    for i in 0..n {
        audit::append(
            db,
            Change {
                actor_kind: ActorKind::Staff,
                actor_id: Some(1),
                channel: Channel::StaffUi,
                account_id: None,
                entity: "account",
                entity_id: Some(i),
                field: Some("display_name"),
                old_value: Some(format!("Old {i}")),
                new_value: Some(format!("New {i}")),
            },
            fixtures::now() + Duration::seconds(i),
        )
        .await
        .expect("append");
    }
}

#[tokio::test]
async fn the_chain_verifies_until_a_row_is_edited_behind_settles_back() {
    for t in databases("audit_chain").await {
        let db = &t.conn;
        append_many(db, 1_203).await;
        let ok = audit::verify(db).await.expect("verify");
        assert_eq!(
            (ok.checked, ok.first_broken),
            (1_203, None),
            "{}",
            t.backend
        );

        let backend = db.get_database_backend();
        let sql = "UPDATE audit_events SET new_value = 'Someone Else' WHERE id = 1100";
        db.execute_raw(Statement::from_string(backend, sql))
            .await
            .expect("tamper");
        let broken = audit::verify(db).await.expect("verify");
        assert_eq!(
            broken.first_broken,
            Some(1_100),
            "{}: an edited value",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_deleted_event_breaks_the_link_of_the_next() {
    for t in databases("audit_chain_delete").await {
        let db = &t.conn;
        append_many(db, 5).await;
        let backend = db.get_database_backend();
        db.execute_raw(Statement::from_string(
            backend,
            "DELETE FROM audit_events WHERE id = 3",
        ))
        .await
        .expect("delete");
        let broken = audit::verify(db).await.expect("verify");
        assert_eq!(broken.first_broken, Some(4), "{}", t.backend);
        assert!(
            audit_event::Entity::find_by_id(4)
                .one(db)
                .await
                .expect("read")
                .is_some()
        );
    }
}
