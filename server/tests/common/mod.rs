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

/// Polls `check` every 50 ms for at most `secs` seconds; panics naming `what` after that.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..secs * 20 {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A port nobody listens on right now (the OS picks it; the caller binds it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The secret key every `settle` process of a test shares (64 hex characters).
pub const SECRET_KEY_HEX: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// `settle ARGS` with the environment the process tests share: the database, a data
/// directory, the shared secret key and quiet logs. stdout is discarded; stderr is kept
/// so a failing process explains itself in the test output.
pub fn settle_command(
    args: &[&str],
    db_url: &str,
    data_dir: &std::path::Path,
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_settle"));
    cmd.args(args)
        .env("DATABASE_URL", db_url)
        .env("SETTLE_DATA_DIR", data_dir)
        .env("SETTLE_SECRET_KEY", SECRET_KEY_HEX)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// `settle serve` on `port` (site root: the data directory; no assets are needed).
pub fn settle_serve_command(
    db_url: &str,
    data_dir: &std::path::Path,
    port: u16,
) -> tokio::process::Command {
    let mut cmd = settle_command(&["serve"], db_url, data_dir);
    cmd.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", data_dir);
    cmd
}

/// A running `settle serve`, killed (SIGKILL) when dropped.
pub struct Served {
    pub child: tokio::process::Child,
    pub port: u16,
}

impl Served {
    /// Starts `cmd` (from [`settle_serve_command`] on `port`) and waits, at most 60 s, until
    /// it accepts connections; panics if it exits first.
    pub async fn start(mut cmd: tokio::process::Command, port: u16) -> Served {
        let child = cmd.spawn().expect("settle starts");
        let mut served = Served { child, port };
        served.ready().await;
        served
    }

    /// Waits, at most 60 s, until the server accepts connections.
    pub async fn ready(&mut self) {
        for _ in 0..1200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("settle serve exited before listening: {status}");
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "settle serve did not listen on port {} within 60 s",
            self.port
        );
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// kill -9.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("kill -9 settle");
    }

    /// A request to this server; see [`http`].
    pub async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        http(self.port, method, path, headers, body).await
    }
}

/// An HTTP response as [`http`] read it.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// `name=value` of the first `Set-Cookie` setting cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.trim().starts_with(&format!("{name}=")))
            .map(|pair| pair.trim().to_owned())
    }
}

/// One HTTP/1.1 request over a fresh connection to 127.0.0.1:`port` (`Connection: close`),
/// reading the whole answer (chunked or not). The server tests have no HTTP client crate;
/// this is enough for talking to a real `settle serve`.
///
/// # Errors
/// The connection failed or was cut before a whole answer arrived.
pub async fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<HttpResponse> {
    use std::io::{Error, ErrorKind};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let bad = |what: &str| {
        Error::new(
            ErrorKind::UnexpectedEof,
            format!("{what}: {} bytes", raw.len()),
        )
    };
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no complete response head"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            let line_end = rest[at..]
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or_else(|| bad("a chunk size line is cut"))?;
            let size_text = String::from_utf8_lossy(&rest[at..at + line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| bad("a chunk size is not hex"))?;
            at += line_end + 2;
            if size == 0 {
                break;
            }
            let chunk = rest
                .get(at..at + size)
                .ok_or_else(|| bad("a chunk is cut"))?;
            out.extend_from_slice(chunk);
            at += size + 2;
        }
        out
    } else {
        let length = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse::<usize>().ok());
        match length {
            Some(n) => rest
                .get(..n)
                .ok_or_else(|| bad("the body is cut"))?
                .to_vec(),
            None => rest.to_vec(),
        }
    };
    Ok(HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Recreates the PostgreSQL database `settle_t_{name}` on the server `TEST_DATABASE_URL`
/// names and returns its URL (for `settle` processes, which need a URL, not a connection);
/// `None` when `TEST_DATABASE_URL` is unset.
pub async fn fresh_postgres_url(name: &str) -> Option<String> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let admin_url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())?;
    let db_name = format!("settle_t_{name}");
    let admin = app::db::connect(&admin_url)
        .await
        .expect("TEST_DATABASE_URL must be reachable");
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{db_name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{db_name}\""),
    ] {
        admin
            .execute_raw(Statement::from_string(DbBackend::Postgres, sql))
            .await
            .expect("create the test database");
    }
    admin.close().await.ok();
    Some(postgres_url_with_database(&admin_url, &db_name))
}

/// `url` naming database `db_name` instead (its query kept).
pub fn postgres_url_with_database(url: &str, db_name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    format!("{root}/{db_name}{query}")
}

impl Sink {
    /// A sink on `port` (chosen by the caller, for a server that "comes up" at an address
    /// clients already use).
    pub async fn start_on(name: &str, port: u16) -> Sink {
        let dir = TempDir::new(name);
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
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the SMTP sink did not accept connections on port {port}");
    }

    /// How many messages the sink accepted in all.
    pub fn count(&self) -> usize {
        std::fs::read_dir(&self.dir.0)
            .expect("sink directory")
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count()
    }
}

/// Signs contact `contact_id` in on a real server the way a customer does: a portal magic
/// link issued now (the server reads the system clock), its button's POST on `port`.
/// Returns the `settle_session=…` cookie the server set.
pub async fn sign_in_over_http(db: &DatabaseConnection, port: u16, contact_id: i64) -> String {
    let token = magic_links::issue(
        db,
        contact_id,
        LinkPurpose::Portal,
        None,
        magic_links::SIGN_IN_TTL,
        magic_links::Creator {
            kind: ActorKind::System,
            id: None,
        },
        chrono::Utc::now(),
    )
    .await
    .expect("issue a portal link");
    let res = http(
        port,
        "POST",
        "/api/links/open",
        &[("content-type", "application/x-www-form-urlencoded")],
        format!("token={token}").as_bytes(),
    )
    .await
    .expect("the link's button is answered");
    res.cookie(sessions::COOKIE)
        .unwrap_or_else(|| panic!("opening the link set no session cookie: {res:?}"))
}
