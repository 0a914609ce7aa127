//! Secure messages: a contact's message opens one inbox task per account; a staff reply is
//! saved, emailed to the customer through the outbox and closes the task.

use app::entities::{outbox_email, staff_user, task};
use app::error::AppError;
use app::model::enums::*;
use app::services::messages;
use app::testing::{databases, fixtures};
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

const PUBLIC_URL: &str = "https://billing.example.com";

async fn staff(db: &impl sea_orm::ConnectionTrait) -> staff_user::Model {
    staff_user::ActiveModel {
        email: Set("casey@supplier.test".to_owned()),
        name: Set("Casey Collector".to_owned()),
        role: Set(StaffRole::Collector),
        password_hash: Set("x".to_owned()),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert staff")
}

#[tokio::test]
async fn a_message_opens_one_task_and_a_reply_is_emailed_and_closes_it() {
    for t in databases("messages_flow").await {
        let db = &t.conn;
        let acct = fixtures::customer(db, "C-1", "Acme").await;
        let who = fixtures::contact(db, acct.id, "Pat", "pat@acme.test").await;
        let inv = fixtures::invoice(db, acct.id, "INV-9", 10_000).await;
        let me = staff(db).await;
        let now = fixtures::now();

        let first =
            messages::send_from_contact(db, who.id, acct.id, Some(inv.id), "Is INV-9 right?", now)
                .await
                .expect("send");
        assert_eq!(first.document.as_deref(), Some("INV-9"));
        messages::send_from_contact(
            db,
            who.id,
            acct.id,
            None,
            "  And one more thing.  ",
            now + Duration::minutes(1),
        )
        .await
        .expect("send again");
        let open = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::Message))
            .filter(task::COLUMN.status.eq(TaskStatus::Open))
            .count(db)
            .await
            .expect("count");
        assert_eq!(
            open, 1,
            "{}: one open task per account, however many messages",
            t.backend
        );

        let inbox = messages::threads(db, 50).await.expect("threads");
        assert_eq!(inbox.len(), 1);
        assert!(inbox[0].awaiting_reply);
        assert_eq!(inbox[0].last_body, "And one more thing.");

        let reply = messages::reply_from_staff(
            db,
            PUBLIC_URL,
            me.id,
            acct.id,
            "Yes, it is.",
            now + Duration::minutes(5),
        )
        .await
        .expect("reply");
        assert!(reply.from_staff);
        let mail = outbox_email::Entity::find()
            .filter(
                outbox_email::COLUMN
                    .template_key
                    .eq(messages::REPLY_TEMPLATE),
            )
            .one(db)
            .await
            .expect("read")
            .expect("reply email queued");
        assert_eq!(mail.to_address, "pat@acme.test");
        // No supplier row in this database, and the customer's last message was general.
        assert_eq!(mail.subject, "We replied to your message");
        assert!(mail.body_text.contains("Yes, it is."), "{}", mail.body_text);
        assert!(mail.body_text.contains("/portal/messages"));
        let still_open = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::Message))
            .filter(task::COLUMN.status.eq(TaskStatus::Open))
            .count(db)
            .await
            .expect("count");
        assert_eq!(still_open, 0, "{}", t.backend);

        let thread = messages::thread(db, acct.id).await.expect("thread");
        let bodies: Vec<&str> = thread.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(
            bodies,
            ["Is INV-9 right?", "And one more thing.", "Yes, it is."]
        );
        assert_eq!(thread[2].author, "Casey Collector");
        assert!(!messages::threads(db, 50).await.expect("threads")[0].awaiting_reply);
    }
}

#[tokio::test]
async fn messages_stay_inside_their_account() {
    for t in databases("messages_scope").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let b = fixtures::customer(db, "C-2", "Bolt").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let theirs = fixtures::invoice(db, b.id, "INV-B", 10_000).await;
        let now = fixtures::now();
        let other_doc =
            messages::send_from_contact(db, pat.id, a.id, Some(theirs.id), "hi", now).await;
        assert!(
            matches!(&other_doc, Err(AppError::Validation { field, .. }) if field == "document_id"),
            "{other_doc:?}"
        );
        let other_account = messages::send_from_contact(db, pat.id, b.id, None, "hi", now).await;
        assert_eq!(other_account.err(), Some(AppError::Forbidden));
        let empty = messages::send_from_contact(db, pat.id, a.id, None, "   ", now).await;
        assert!(matches!(&empty, Err(AppError::Validation { field, .. }) if field == "body"));
        messages::send_from_contact(db, pat.id, a.id, None, "mine", now)
            .await
            .expect("send");
        assert!(
            messages::thread(db, b.id).await.expect("thread").is_empty(),
            "{}",
            t.backend
        );
    }
}
