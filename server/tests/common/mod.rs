//! What several server test files share: temporary directories and a real SMTP server.

#![allow(dead_code)] // each test file uses its own part of this module

use std::path::PathBuf;
use std::sync::Arc;

use app::entities::{account, contact};
use app::model::enums::{ActorKind, LinkPurpose};
use app::services::{magic_links, sessions};
use app::state::FixedClock;
use leptos::config::LeptosOptions;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};

pub use app::testing::fixtures::now;

/// The SMTP sink script: aiosmtpd saving each message as `.eml` and `.json`.
pub const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smtp_sink.py");

/// A directory of its own under the system's temporary directory, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "settle-{name}-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `smtp_sink.py`, killed when dropped.
pub struct Sink {
    _child: tokio::process::Child,
    pub port: u16,
    pub dir: TempDir,
}

impl Sink {
    pub async fn start(name: &str) -> Sink {
        let dir = TempDir::new(name);
        // The OS picks a free port; the sink binds it right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = tokio::process::Command::new("python3")
            .arg(SINK)
            .arg(port.to_string())
            .arg(&dir.0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the SMTP sink");
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Sink {
                    _child: child,
                    port,
                    dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the SMTP sink exited ({status}); is aiosmtpd installed (scripts/setup.sh)?"
                );
            }
            // Readiness polling, bounded: at most 400 × 25 ms.
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the SMTP sink did not accept connections on port {port}");
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message the sink accepted with this Message-ID, decoded by Python's email package.
    pub fn received(&self, message_id: &str) -> Vec<serde_json::Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir.0)
            .expect("sink directory")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                serde_json::from_str::<serde_json::Value>(
                    &std::fs::read_to_string(p).expect("sink file"),
                )
                .expect("sink JSON")
            })
            .filter(|m| m["message_id"].as_str() == Some(message_id))
            .collect()
    }
}

/// The test router with stored files under `data_dir` and uploads capped at `max_upload_bytes`.
pub fn router_with_files(
    db: DatabaseConnection,
    data_dir: PathBuf,
    max_upload_bytes: u64,
) -> axum::Router {
    let options = LeptosOptions::builder()
        .output_name("settle")
        .site_root("target/site")
        .build();
    let mut state = server::web::state(
        db,
        options,
        Arc::new(FixedClock::at(now())),
        PUBLIC_URL,
        Arc::new(app::services::easy_pay::sandbox::Sandbox::new(
            SANDBOX_SECRET.to_vec(),
            PUBLIC_URL,
        )),
    );
    state.settings = Arc::new(app::state::Settings {
        data_dir,
        max_upload_bytes,
        ..(*state.settings).clone()
    });
    server::web::router(state)
}

/// The public URL the test router builds links from.
pub const PUBLIC_URL: &str = "http://settle.test";

/// The router tests drive, with a clock fixed at [`now`].
pub fn router(db: DatabaseConnection) -> axum::Router {
    let options = LeptosOptions::builder()
        .output_name("settle")
        .site_root("target/site")
        .build();
    server::web::router(server::web::state(
        db,
        options,
        Arc::new(FixedClock::at(now())),
        PUBLIC_URL,
        Arc::new(app::services::easy_pay::sandbox::Sandbox::new(
            SANDBOX_SECRET.to_vec(),
            PUBLIC_URL,
        )),
    ))
}

/// The secret the test router's sandbox signs its webhooks with.
pub const SANDBOX_SECRET: &[u8] = b"test sandbox secret";

/// A portal session cookie for the first contact with an email on account `number`.
pub async fn session_for(db: &DatabaseConnection, number: &str) -> (i64, String) {
    let account = account::Entity::find()
        .filter(account::COLUMN.account_number.eq(number))
        .one(db)
        .await
        .ok()
        .flatten()
        .expect("demo account");
    let contact = contact::Entity::find()
        .filter(contact::COLUMN.account_id.eq(account.id))
        .filter(contact::COLUMN.email.is_not_null())
        .one(db)
        .await
        .ok()
        .flatten()
        .expect("a contact with email");
    let token = magic_links::issue(
        db,
        contact.id,
        LinkPurpose::Portal,
        None,
        magic_links::SIGN_IN_TTL,
        magic_links::Creator {
            kind: ActorKind::System,
            id: None,
        },
        now(),
    )
    .await
    .expect("issue link");
    let secret = magic_links::consume(db, &token, now())
        .await
        .expect("consume link");
    (
        account.id,
        format!("{}={}", sessions::COOKIE, secret.secret),
    )
}
