//! The `settle` command line.

use std::io::Read;
use std::sync::Arc;

use app::model::enums::{ActorKind, LinkPurpose, StaffRole};
use app::services::{demo, magic_links, staff};
use app::state::{Clock, SystemClock};
use clap::{Parser, Subcommand, ValueEnum};
use leptos::config::LeptosOptions;
use sea_orm::{DatabaseConnection, EntityTrait, QueryFilter};

use crate::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "settle",
    version,
    about = "Settle: a self-service accounts-receivable portal"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, then serve HTTP and run the background workers (the default).
    Serve,
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Load the demo data set (does nothing if it is already loaded) and print how to sign in.
    Demo,
    /// Manage staff users.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Check the audit log's hash chain; exit 1 naming the first broken event.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Run the reminder rules for today and print what they did (or, dry, would do).
    Remind {
        /// Only report what would be sent; write nothing.
        #[arg(long, conflicts_with = "now", required_unless_present = "now")]
        dry_run: bool,
        /// Run now: record the touches, queue the emails and open the tasks.
        #[arg(long)]
        now: bool,
    },
    /// Import a CSV file from the ERP (for `documents`, a zip of PDFs named by document
    /// number): every row is checked and reported, then applied in batches.
    Import {
        /// What the file holds.
        #[arg(value_enum)]
        kind: ImportKindArg,
        /// The file to read.
        file: std::path::PathBuf,
        /// Only check the file and report what would be created, updated or rejected.
        #[arg(long)]
        dry_run: bool,
    },
    /// Manage keys of the REST API.
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
    /// Make a magic link for a contact and print it.
    Link {
        /// The contact's email address.
        #[arg(long)]
        email: String,
        /// What the link opens.
        #[arg(long, value_enum, default_value_t = PurposeArg::Portal)]
        purpose: PurposeArg,
        /// For `--purpose pay`: the number of the invoice the link pays.
        #[arg(long)]
        invoice: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (shown once; Settle keeps only its hash).
    Create {
        /// What the key is for, e.g. the system that uses it.
        #[arg(long)]
        name: String,
        /// What the key may do.
        #[arg(long, value_enum, default_value_t = ScopeArg::Read)]
        scope: ScopeArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Read,
    ReadWrite,
}

impl From<ScopeArg> for app::model::enums::ApiScope {
    fn from(scope: ScopeArg) -> Self {
        match scope {
            ScopeArg::Read => app::model::enums::ApiScope::Read,
            ScopeArg::ReadWrite => app::model::enums::ApiScope::ReadWrite,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every event's hash and check that each links to its predecessor.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum StaffCommand {
    /// Add a staff user. The password is read from standard input, or generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKindArg {
    Accounts,
    Contacts,
    Invoices,
    Payments,
    Documents,
}

impl From<ImportKindArg> for app::model::enums::ImportKind {
    fn from(kind: ImportKindArg) -> Self {
        use app::model::enums::ImportKind;
        match kind {
            ImportKindArg::Accounts => ImportKind::Accounts,
            ImportKindArg::Contacts => ImportKind::Contacts,
            ImportKindArg::Invoices => ImportKind::Invoices,
            ImportKindArg::Payments => ImportKind::Payments,
            ImportKindArg::Documents => ImportKind::Documents,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    Admin,
    Collector,
    Viewer,
}

impl From<RoleArg> for StaffRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Admin => StaffRole::Admin,
            RoleArg::Collector => StaffRole::Collector,
            RoleArg::Viewer => StaffRole::Viewer,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PurposeArg {
    Portal,
    Profile,
    Pay,
    WrongPerson,
    VerifyContact,
}

impl From<PurposeArg> for LinkPurpose {
    fn from(p: PurposeArg) -> Self {
        match p {
            PurposeArg::Portal => LinkPurpose::Portal,
            PurposeArg::Profile => LinkPurpose::Profile,
            PurposeArg::Pay => LinkPurpose::Pay,
            PurposeArg::WrongPerson => LinkPurpose::WrongPerson,
            PurposeArg::VerifyContact => LinkPurpose::VerifyContact,
        }
    }
}

/// A failure the command line reports in one line.
pub type CliResult = Result<(), String>;

/// Runs one command to completion.
///
/// # Errors
/// A message for the operator, printed as one line by `main`.
pub async fn run(cli: Cli, config: Config) -> CliResult {
    // `settle serve` checkpoints SQLite's WAL in a worker of its own; commands, on commit.
    let checkpoints = match cli.command {
        None | Some(Command::Serve) => app::db::Checkpoints::ByWorker,
        Some(_) => app::db::Checkpoints::OnCommit,
    };
    let db = app::db::connect_with(&config.database_url, checkpoints)
        .await
        .map_err(|e| format!("DATABASE_URL: cannot open the database: {e}"))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    app::db::migrate(&db)
        .await
        .map_err(|e| format!("migrating the database failed: {e}"))?;
    app::services::templates::seed_defaults(&db, clock.now())
        .await
        .map_err(|e| format!("seeding the email templates failed: {e}"))?;
    app::services::letters::seed_letters(&db, clock.now())
        .await
        .map_err(|e| format!("seeding the letter templates failed: {e}"))?;
    app::services::campaigns::seed_template(&db, clock.now())
        .await
        .map_err(|e| format!("seeding the campaign template failed: {e}"))?;
    app::services::supplier_profile::seed_template(&db, clock.now())
        .await
        .map_err(|e| format!("seeding the supplier profile template failed: {e}"))?;
    app::services::reminders::seed_default_rule(&db, clock.now())
        .await
        .map_err(|e| format!("seeding the default reminder rule failed: {e}"))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(db, config, clock).await,
        Command::Migrate => {
            println!("The database is up to date.");
            Ok(())
        }
        Command::Demo => load_demo(&db, &config, clock.as_ref()).await,
        Command::Staff {
            command:
                StaffCommand::Add {
                    email,
                    name,
                    role,
                    password_stdin,
                },
        } => {
            let (password, generated) = if password_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| format!("reading the password from standard input: {e}"))?;
                (text.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (app::services::tokens::new_token(), true)
            };
            let user = staff::add(&db, &email, &name, role.into(), &password, clock.now())
                .await
                .map_err(|e| e.to_string())?;
            println!("Added {} <{}> as {}.", user.name, user.email, user.role);
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let found = app::services::audit::verify(&db)
                .await
                .map_err(|e| format!("reading the audit log: {e}"))?;
            match found.first_broken {
                None => {
                    println!(
                        "Audit log intact: {} events, every hash and link checks out.",
                        found.checked
                    );
                    Ok(())
                }
                Some(id) => Err(format!(
                    "audit log broken at event {id}: its content or its link to the event before does not match its hash ({} events checked)",
                    found.checked
                )),
            }
        }
        Command::Remind { dry_run, now: _ } => {
            let report = if dry_run {
                app::services::reminders::dry_run_all(&db, clock.now()).await
            } else {
                app::services::reminders::run(&db, &config.public_url, clock.now()).await
            }
            .map_err(|e| format!("running the reminder rules failed: {e}"))?;
            print_reminders(&report);
            Ok(())
        }
        Command::Import {
            kind,
            file,
            dry_run,
        } => {
            crate::import::cli(
                &db,
                kind.into(),
                &file,
                dry_run,
                &config.data_dir,
                clock.as_ref(),
            )
            .await
        }
        Command::ApiKey {
            command: ApiKeyCommand::Create { name, scope },
        } => {
            let (key, secret) =
                app::services::api_keys::create(&db, &name, scope.into(), None, clock.now())
                    .await
                    .map_err(|e| e.to_string())?;
            eprintln!(
                "Created API key {} “{}” ({}); shown once:",
                key.id, key.name, key.scope
            );
            println!("{secret}");
            Ok(())
        }
        Command::Link {
            email,
            purpose,
            invoice,
        } => {
            let link = make_link(
                &db,
                &config,
                &email,
                purpose.into(),
                invoice.as_deref(),
                clock.as_ref(),
            )
            .await?;
            println!("{link}");
            Ok(())
        }
    }
}

fn print_reminders(r: &app::model::reminders::DryRunReport) {
    let verb = if r.dry_run { "would be" } else { "were" };
    println!(
        "Reminders for {}{}: {} rule(s), {} open invoice(s) examined.",
        r.day,
        if r.dry_run {
            " (dry run, nothing written)"
        } else {
            ""
        },
        r.rules,
        r.invoices_examined
    );
    println!(
        "Touched invoices {verb}: {} emailed, {} called ({} of them because no contact could be emailed), {} by letter.",
        r.emailed_invoices, r.called_invoices, r.email_became_call, r.lettered_invoices
    );
    println!(
        "Emails {verb} queued: {} to {} account(s); tasks {verb} opened: {}.",
        r.emails, r.accounts_emailed, r.tasks
    );
    println!(
        "Earlier steps marked passed: {}; invoices already reminded for their latest step: {}.",
        r.steps_passed, r.already_touched
    );
    for (reason, n) in &r.skipped {
        println!("Skipped, {}: {n}", reason.label());
    }
    if r.dry_run && !r.sample.is_empty() {
        println!("Sample:");
        for s in &r.sample {
            println!(
                "  {} {}  {}  step {} ({}): {}  {}",
                s.account_number,
                s.account_name,
                s.invoice_number,
                s.step,
                s.when,
                s.action,
                app::model::portal::format_money(s.amount_minor, &s.currency)
            );
        }
    }
}

async fn make_link(
    db: &DatabaseConnection,
    config: &Config,
    email: &str,
    purpose: LinkPurpose,
    invoice: Option<&str>,
    clock: &dyn Clock,
) -> Result<String, String> {
    use app::entities::contact;
    let email = email.trim().to_ascii_lowercase();
    let contact = contact::Entity::find()
        .filter(contact::COLUMN.email.eq(email.clone()))
        .one(db)
        .await
        .map_err(|e| format!("looking up the contact: {e}"))?
        .ok_or_else(|| format!("no contact has the email {email}"))?;
    let creator = magic_links::Creator {
        kind: ActorKind::System,
        id: None,
    };
    match (purpose, invoice) {
        (LinkPurpose::Pay, Some(number)) => {
            let token = app::services::easy_pay::issue_pay_link(
                db,
                contact.id,
                number,
                creator,
                clock.now(),
            )
            .await
            .map_err(|e| match e {
                app::error::AppError::NotFound => {
                    format!("{email}'s account has no invoice {number}")
                }
                other => other.to_string(),
            })?;
            return Ok(format!("{}/l/{token}", config.public_url));
        }
        (LinkPurpose::Pay, None) => return Err("--purpose pay needs --invoice NUMBER".to_owned()),
        (_, Some(_)) => return Err("--invoice goes with --purpose pay only".to_owned()),
        _ => {}
    }
    let ttl = if purpose == LinkPurpose::Portal {
        magic_links::SIGN_IN_TTL
    } else {
        magic_links::PURPOSE_TTL
    };
    let token = magic_links::issue(
        db,
        contact.id,
        purpose,
        None,
        ttl,
        magic_links::Creator {
            kind: ActorKind::System,
            id: None,
        },
        clock.now(),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(format!("{}/l/{token}", config.public_url))
}

async fn load_demo(db: &DatabaseConnection, config: &Config, clock: &dyn Clock) -> CliResult {
    let summary = demo::load(db, clock.now())
        .await
        .map_err(|e| format!("loading the demo data failed: {e}"))?;
    if summary.created {
        println!(
            "Demo data loaded: {} accounts with invoices, payments, a promise and a dispute.",
            demo::ACCOUNTS
        );
    } else {
        println!("Demo data was already loaded; nothing changed.");
    }
    println!();
    println!(
        "Staff: {} (sign-in page {}/staff/sign-in)",
        demo::ADMIN_EMAIL,
        config.public_url
    );
    match summary.admin_password {
        Some(password) => println!("       password (shown once): {password}"),
        None => println!(
            "       password: printed when the demo was first loaded; or add yourself with `settle staff add`"
        ),
    }
    let link = make_link(
        db,
        config,
        demo::DEMO_CONTACT_EMAIL,
        LinkPurpose::Portal,
        None,
        clock,
    )
    .await?;
    println!();
    println!(
        "Customer portal for {} (valid 15 minutes, once):",
        demo::DEMO_CONTACT_EMAIL
    );
    println!("       {link}");
    println!(
        "       a fresh one: settle link --email {}",
        demo::DEMO_CONTACT_EMAIL
    );
    Ok(())
}

async fn serve(db: DatabaseConnection, config: Config, clock: Arc<dyn Clock>) -> CliResult {
    let leptos_options = LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("settle"))
        .site_root(config.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(config.site_addr)
        .build();
    let mailer =
        crate::mailer::Mailer::from_config(&config).map_err(|e| format!("SETTLE_SMTP_URL: {e}"))?;
    let mut state = crate::web::state(
        db.clone(),
        leptos_options,
        clock.clone(),
        &config.public_url,
        config.pay_provider().map_err(|e| e.to_string())?,
    );
    state.mail_wake = mailer.waker();
    state.settings = Arc::new(app::state::Settings {
        data_dir: config.data_dir.clone(),
        max_upload_bytes: config.max_upload_bytes,
        secret_key: app::state::SecretKey(config.secret_key),
        ..(*state.settings).clone()
    });
    crate::workers::spawn_promise_follow_up(
        db.clone(),
        clock.clone(),
        config.public_url.clone(),
        mailer.waker(),
    );
    crate::workers::spawn_campaign_follow_up(
        db.clone(),
        clock.clone(),
        config.public_url.clone(),
        mailer.waker(),
    );
    if config.remind_every_minutes > 0 {
        crate::workers::spawn_reminders(
            db.clone(),
            clock.clone(),
            config.public_url.clone(),
            mailer.waker(),
            std::time::Duration::from_secs(config.remind_every_minutes * 60),
        );
    } else {
        tracing::info!("reminder rules run only on demand (settle remind --now)");
    }
    crate::workers::spawn_webhook_delivery(
        db.clone(),
        clock.clone(),
        app::state::SecretKey(config.secret_key),
    );
    if config.pg_vacuum {
        crate::workers::spawn_pg_vacuum(db.clone());
    }
    crate::workers::spawn(db, clock, mailer);
    crate::workers::spawn_wal_checkpoints(&config.database_url).await?;
    let router = crate::web::router(state);
    let listener = tokio::net::TcpListener::bind(config.site_addr)
        .await
        .map_err(|e| {
            format!(
                "LEPTOS_SITE_ADDR: cannot listen on {}: {e}",
                config.site_addr
            )
        })?;
    tracing::info!(addr = %config.site_addr, public_url = %config.public_url, "Settle is listening");
    println!(
        "Settle is listening on http://{} (public URL {})",
        config.site_addr, config.public_url
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|e| format!("the server stopped: {e}"))
}
