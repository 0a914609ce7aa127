//! Configuration from the environment. A bad value stops start-up with one line that
//! names the variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Everything `settle` reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub site_addr: SocketAddr,
    pub public_url: String,
    pub smtp_url: Option<String>,
    pub mail_from: lettre::message::Mailbox,
    pub secret_key: [u8; 32],
    pub data_dir: PathBuf,
    pub site_root: String,
    /// How long a mail worker's claim on a message lasts before another process may take it.
    pub mail_lease_secs: u64,
    /// How often the mail worker looks for due mail when nothing wakes it.
    pub mail_poll_secs: u64,
    /// The Easy Pay provider.
    pub pay: PayConfig,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// How often `settle serve` runs the reminder rules; 0: only on demand (`settle remind`).
    pub remind_every_minutes: u64,
    /// On PostgreSQL with autovacuum off, whether `settle serve` vacuums its own tables.
    pub pg_vacuum: bool,
}

/// Which payment provider Easy Pay uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayConfig {
    /// The built-in test checkout (the default).
    Sandbox,
    /// Stripe Checkout.
    Stripe {
        api_base: String,
        secret_key: String,
        webhook_secret: String,
    },
}

/// A variable that is set to something Settle cannot use.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

impl Config {
    /// Reads the configuration from `get` (the process environment in production).
    ///
    /// # Errors
    /// The first variable whose value cannot be used.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let data_dir = PathBuf::from(get("SETTLE_DATA_DIR").unwrap_or_else(|| "data".to_owned()));

        let database_url = get("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}/settle.db?mode=rwc", data_dir.display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "DATABASE_URL",
                "must start with sqlite: or postgres://",
            ));
        }

        let site_addr_text = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".to_owned());
        let site_addr: SocketAddr = site_addr_text.parse().map_err(|_| {
            bad(
                "LEPTOS_SITE_ADDR",
                format!("`{site_addr_text}` is not an address like 127.0.0.1:3000"),
            )
        })?;

        let public_url = get("SETTLE_PUBLIC_URL").unwrap_or_else(|| format!("http://{site_addr}"));
        let public_url = public_url.trim_end_matches('/').to_owned();
        let rest = public_url
            .strip_prefix("https://")
            .or_else(|| public_url.strip_prefix("http://"))
            .ok_or_else(|| bad("SETTLE_PUBLIC_URL", "must start with http:// or https://"))?;
        if rest.is_empty() || rest.contains(char::is_whitespace) {
            return Err(bad(
                "SETTLE_PUBLIC_URL",
                "must name a host, like https://billing.example.com",
            ));
        }

        let smtp_url = get("SETTLE_SMTP_URL");
        if let Some(url) = &smtp_url {
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url).map_err(|e| {
                bad(
                    "SETTLE_SMTP_URL",
                    format!("not a usable SMTP URL ({e}); e.g. smtp://127.0.0.1:2525"),
                )
            })?;
        }

        let mail_from_text = get("SETTLE_MAIL_FROM")
            .unwrap_or_else(|| "Settle <billing@settle.localhost>".to_owned());
        let mail_from = mail_from_text.parse().map_err(|_| {
            bad(
                "SETTLE_MAIL_FROM",
                format!("`{mail_from_text}` is not an address like Billing <billing@example.com>"),
            )
        })?;

        let secret_key = match get("SETTLE_SECRET_KEY") {
            Some(hex_key) => parse_key(&hex_key)
                .ok_or_else(|| bad("SETTLE_SECRET_KEY", "must be 64 hex characters (32 bytes)"))?,
            None => {
                let path = data_dir.join("secret.key");
                load_or_create_key(&path).map_err(|e| {
                    bad(
                        "SETTLE_SECRET_KEY",
                        format!("unset, and {} could not be used: {e}", path.display()),
                    )
                })?
            }
        };

        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned());
        let seconds = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(text) => text
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=86_400).contains(n))
                    .ok_or_else(|| {
                        bad(
                            var,
                            format!("`{text}` is not a number of seconds from 1 to 86400"),
                        )
                    }),
            }
        };
        let mail_lease_secs = seconds("SETTLE_MAIL_LEASE_SECS", 300)?;
        let mail_poll_secs = seconds("SETTLE_MAIL_POLL_SECS", 5)?;
        let max_upload_bytes = match get("SETTLE_MAX_UPLOAD_MB") {
            None => app::state::DEFAULT_MAX_UPLOAD_BYTES,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=1024).contains(n))
                .map(|mb| mb * 1024 * 1024)
                .ok_or_else(|| {
                    bad(
                        "SETTLE_MAX_UPLOAD_MB",
                        format!("`{text}` is not a number of megabytes from 1 to 1024"),
                    )
                })?,
        };
        let remind_every_minutes = match get("SETTLE_REMIND_EVERY_MINUTES") {
            None => 60,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= 1440)
                .ok_or_else(|| {
                    bad(
                        "SETTLE_REMIND_EVERY_MINUTES",
                        format!(
                            "`{text}` is not a number of minutes from 0 (only on demand) to 1440"
                        ),
                    )
                })?,
        };
        let pg_vacuum = match get("SETTLE_PG_VACUUM").as_deref() {
            None | Some("auto") => true,
            Some("off") => false,
            Some(other) => {
                return Err(bad(
                    "SETTLE_PG_VACUUM",
                    format!(
                        "`{other}` is not a choice; use auto (vacuum when PostgreSQL's autovacuum is off) or off"
                    ),
                ));
            }
        };
        let pay = match get("SETTLE_PAY_PROVIDER").as_deref() {
            None | Some("sandbox") => PayConfig::Sandbox,
            Some("stripe") => {
                let secret_key = get("SETTLE_STRIPE_SECRET_KEY")
                    .filter(|k| k.starts_with("sk_") || k.starts_with("rk_"))
                    .ok_or_else(|| {
                        bad(
                            "SETTLE_STRIPE_SECRET_KEY",
                            "must be set to a Stripe secret key (sk_…) when SETTLE_PAY_PROVIDER=stripe",
                        )
                    })?;
                let webhook_secret = get("SETTLE_STRIPE_WEBHOOK_SECRET")
                    .filter(|k| k.starts_with("whsec_"))
                    .ok_or_else(|| {
                        bad(
                            "SETTLE_STRIPE_WEBHOOK_SECRET",
                            "must be set to the webhook endpoint's signing secret (whsec_…)",
                        )
                    })?;
                let api_base = get("SETTLE_STRIPE_API_BASE")
                    .unwrap_or_else(|| "https://api.stripe.com".to_owned());
                if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
                    return Err(bad(
                        "SETTLE_STRIPE_API_BASE",
                        "must start with https:// (or http:// for a local mock)",
                    ));
                }
                PayConfig::Stripe {
                    api_base: api_base.trim_end_matches('/').to_owned(),
                    secret_key,
                    webhook_secret,
                }
            }
            Some(other) => {
                return Err(bad(
                    "SETTLE_PAY_PROVIDER",
                    format!("`{other}` is not a provider; use sandbox or stripe"),
                ));
            }
        };
        Ok(Config {
            database_url,
            site_addr,
            public_url,
            smtp_url,
            mail_from,
            secret_key,
            data_dir,
            site_root,
            mail_lease_secs,
            mail_poll_secs,
            pay,
            max_upload_bytes,
            remind_every_minutes,
            pg_vacuum,
        })
    }

    /// The configured payment provider. The sandbox signs its callbacks with a secret
    /// derived from `SETTLE_SECRET_KEY`, so every process of one installation agrees on it.
    ///
    /// # Errors
    /// The provider's HTTP client cannot be built.
    pub fn pay_provider(
        &self,
    ) -> Result<std::sync::Arc<dyn app::services::easy_pay::Provider>, ConfigError> {
        use app::services::easy_pay::{sandbox::Sandbox, stripe::Stripe};
        Ok(match &self.pay {
            PayConfig::Sandbox => std::sync::Arc::new(Sandbox::new(
                sandbox_secret(&self.secret_key),
                &self.public_url,
            )),
            PayConfig::Stripe {
                api_base,
                secret_key,
                webhook_secret,
            } => std::sync::Arc::new(
                Stripe::new(api_base, secret_key, webhook_secret)
                    .map_err(|e| bad("SETTLE_PAY_PROVIDER", e.to_string()))?,
            ),
        })
    }

    /// Whether links and cookies are served over https.
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// The sandbox's webhook secret: a hash of the installation's secret key, so it is the
/// same in every process and says nothing about the key.
pub fn sandbox_secret(secret_key: &[u8; 32]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(b"settle sandbox webhook secret\0");
    hasher.update(secret_key);
    hex::encode(hasher.finalize()).into_bytes()
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    hex::decode(text).ok()?.try_into().ok()
}

/// Reads the generated key, or makes one (with a warning) on first run.
fn load_or_create_key(path: &Path) -> std::io::Result<[u8; 32]> {
    if path.exists() {
        let text = std::fs::read_to_string(path)?;
        return parse_key(text.trim())
            .ok_or_else(|| std::io::Error::other("it does not hold 64 hex characters"));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
    write_private(path, &hex::encode(key))?;
    tracing::warn!(path = %path.display(), "SETTLE_SECRET_KEY is unset: generated a key into the data directory; set it explicitly in production");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    const KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";

    #[test]
    fn defaults_are_sqlite_on_localhost() {
        let c = config(&[("SETTLE_SECRET_KEY", KEY)]).expect("defaults are valid");
        assert_eq!(c.database_url, "sqlite://data/settle.db?mode=rwc");
        assert_eq!(c.site_addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(c.smtp_url.is_none());
        assert!(!c.is_https());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("DATABASE_URL", "mysql://x"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("SETTLE_PUBLIC_URL", "ftp://x"),
            ("SETTLE_SMTP_URL", "not a url"),
            ("SETTLE_MAIL_FROM", "nobody"),
            ("SETTLE_SECRET_KEY", "abc"),
            ("SETTLE_MAIL_LEASE_SECS", "0"),
            ("SETTLE_MAIL_POLL_SECS", "soon"),
            ("SETTLE_PAY_PROVIDER", "paypal"),
            ("SETTLE_MAX_UPLOAD_MB", "0"),
            ("SETTLE_REMIND_EVERY_MINUTES", "1441"),
            ("SETTLE_PG_VACUUM", "always"),
        ] {
            // Later entries win, so the bad value replaces the valid key where they collide.
            let err = config(&[("SETTLE_SECRET_KEY", KEY), (var, value)]).expect_err(var);
            assert_eq!(err.var, var, "{value}");
        }
    }

    #[test]
    fn the_sandbox_is_the_default_provider() {
        let c = config(&[("SETTLE_SECRET_KEY", KEY)]).expect("valid");
        assert_eq!(c.pay, PayConfig::Sandbox);
    }

    #[test]
    fn stripe_needs_its_keys_each_named_when_missing() {
        let base = [
            ("SETTLE_SECRET_KEY", KEY),
            ("SETTLE_PAY_PROVIDER", "stripe"),
        ];
        let err = config(&base).expect_err("no keys");
        assert_eq!(err.var, "SETTLE_STRIPE_SECRET_KEY");
        let err = config(&[base[0], base[1], ("SETTLE_STRIPE_SECRET_KEY", "sk_test_1")])
            .expect_err("no webhook secret");
        assert_eq!(err.var, "SETTLE_STRIPE_WEBHOOK_SECRET");
        let err = config(&[
            base[0],
            base[1],
            ("SETTLE_STRIPE_SECRET_KEY", "sk_test_1"),
            ("SETTLE_STRIPE_WEBHOOK_SECRET", "whsec_1"),
            ("SETTLE_STRIPE_API_BASE", "localhost:12111"),
        ])
        .expect_err("bad base");
        assert_eq!(err.var, "SETTLE_STRIPE_API_BASE");
        let c = config(&[
            base[0],
            base[1],
            ("SETTLE_STRIPE_SECRET_KEY", "sk_test_1"),
            ("SETTLE_STRIPE_WEBHOOK_SECRET", "whsec_1"),
        ])
        .expect("valid");
        assert_eq!(
            c.pay,
            PayConfig::Stripe {
                api_base: "https://api.stripe.com".to_owned(),
                secret_key: "sk_test_1".to_owned(),
                webhook_secret: "whsec_1".to_owned(),
            }
        );
    }

    #[test]
    fn public_url_loses_its_trailing_slash() {
        let c = config(&[
            ("SETTLE_SECRET_KEY", KEY),
            ("SETTLE_PUBLIC_URL", "https://billing.example.com/"),
        ])
        .expect("valid");
        assert_eq!(c.public_url, "https://billing.example.com");
        assert!(c.is_https());
    }
}
