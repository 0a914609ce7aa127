//! The outbox survives a crash: a real `settle serve` is killed (SIGKILL) while it holds a
//! claimed message in the middle of an SMTP exchange; a restarted `settle serve` delivers
//! it, and the receiving SMTP server sees that Message-ID exactly once.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use app::entities::outbox_email;
use app::model::enums::OutboxStatus;
use app::services::outbox::{self, NewEmail};
use app::testing::fixtures;
use common::{Sink, TempDir, eventually, free_port, settle_serve_command};
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An SMTP server that greets and then never answers: a send to it hangs until killed.
async fn stalling_smtp() -> (u16, Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connected = Arc::new(AtomicBool::new(false));
    let flag = connected.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            flag.store(true, Ordering::SeqCst);
            tokio::spawn(async move {
                let _ = socket.write_all(b"220 stall.test ESMTP\r\n").await;
                let mut buf = [0u8; 1024];
                while matches!(socket.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    (port, connected)
}

fn settle_serve(dir: &TempDir, db_url: &str, smtp_url: &str) -> tokio::process::Child {
    settle_serve_command(db_url, &dir.0, free_port())
        .env("SETTLE_SMTP_URL", smtp_url)
        .env("SETTLE_MAIL_LEASE_SECS", "2")
        .env("SETTLE_MAIL_POLL_SECS", "1")
        .spawn()
        .expect("settle starts")
}

async fn status(db: &DatabaseConnection, id: i64) -> Option<OutboxStatus> {
    outbox_email::Entity::find_by_id(id)
        .one(db)
        .await
        .ok()
        .flatten()
        .map(|m| m.status)
}

#[tokio::test]
async fn mail_claimed_by_a_killed_server_is_delivered_once_after_restart() {
    let dir = TempDir::new("crash");
    let db_url = format!("sqlite://{}/settle.db?mode=rwc", dir.0.display());
    let db = app::db::connect(&db_url).await.expect("database");
    app::db::migrate(&db).await.expect("migrate");
    let account = fixtures::customer(&db, "CRASH-1", "Crash Test Dummies").await;
    let contact = fixtures::contact(&db, account.id, "Pat Payables", "pat@crash.test").await;
    let message_id = outbox::enqueue(
        &db,
        NewEmail {
            to: "pat@crash.test".to_owned(),
            to_contact_id: Some(contact.id),
            subject: "Your statement".to_owned(),
            text: "Hello".to_owned(),
            ..NewEmail::default()
        },
        chrono::Utc::now(),
    )
    .await
    .expect("enqueue");
    let row = outbox_email::Entity::find()
        .one(&db)
        .await
        .expect("query")
        .expect("queued row");

    // 1. The first server claims the message and hangs in the SMTP exchange; kill it there.
    let (stall_port, connected) = stalling_smtp().await;
    let mut first = settle_serve(&dir, &db_url, &format!("smtp://127.0.0.1:{stall_port}"));
    eventually(30, "the first server to claim the message", || async {
        status(&db, row.id).await == Some(OutboxStatus::Sending)
    })
    .await;
    eventually(30, "the first server to reach the SMTP server", || async {
        connected.load(Ordering::SeqCst)
    })
    .await;
    first.kill().await.expect("kill -9");
    assert_eq!(
        status(&db, row.id).await,
        Some(OutboxStatus::Sending),
        "the killed server never recorded a send"
    );

    // 2. A restarted server takes the message over once its lease has passed and sends it.
    let sink = Sink::start("crash").await;
    let mut second = settle_serve(&dir, &db_url, &sink.url());
    eventually(60, "the restarted server to send the message", || async {
        status(&db, row.id).await == Some(OutboxStatus::Sent)
    })
    .await;
    second.kill().await.expect("stop");
    assert_eq!(
        sink.received(&message_id).len(),
        1,
        "the Message-ID arrived exactly once"
    );
}
