//! Direct mail: the four letter templates seed once, the accounts without any email
//! address are found, and the printed PDF (read back with poppler's `pdftotext`) carries
//! each account's letter followed by its statement.

use app::entities::{address, contact, supplier, template};
use app::error::AppError;
use app::model::enums::*;
use app::services::{demo, letters};
use app::testing::fixtures;
use chrono::Duration;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait, QueryFilter,
};

const REGISTRATION_URL: &str = "https://billing.example.com/register";

/// The text of a PDF as poppler's `pdftotext` reads it, whitespace collapsed.
fn pdf_text(bytes: &[u8], name: &str) -> String {
    let path = std::env::temp_dir().join(format!("settle-{}-{name}.pdf", std::process::id()));
    std::fs::write(&path, bytes).expect("write the PDF");
    let out = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed");
    std::fs::remove_file(&path).ok();
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn supplier(db: &impl ConnectionTrait) {
    supplier::ActiveModel {
        legal_name: Set("Northwind Supply Co.".to_owned()),
        display_name: Set("Northwind Supply".to_owned()),
        email: Set("receivables@northwind-supply.test".to_owned()),
        remit_to: Set("Northwind Supply Co.\nPO Box 4410\nPortland, OR 97208".to_owned()),
        currency: Set("USD".to_owned()),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert supplier");
}

async fn address(db: &impl ConnectionTrait, account_id: i64, kind: AddressKind, line1: &str) {
    address::ActiveModel {
        account_id: Set(account_id),
        kind: Set(kind),
        line1: Set(line1.to_owned()),
        line2: Set(None),
        city: Set("Springfield".to_owned()),
        region: Set("OR".to_owned()),
        postal_code: Set("97401".to_owned()),
        country: Set("US".to_owned()),
        version: Set(1),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert address");
}

/// A contact whose email is `email` (none when `None`), not the billing contact.
async fn contact_with(db: &impl ConnectionTrait, account_id: i64, email: Option<&str>) {
    contact::ActiveModel {
        account_id: Set(account_id),
        name: Set("Pat Payables".to_owned()),
        email: Set(email.map(str::to_owned)),
        phone: Set(Some("+1 555 0100".to_owned())),
        role: Set(ContactRole::Ap),
        is_primary_billing: Set(false),
        email_status: Set(EmailStatus::Unverified),
        version: Set(1),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert contact");
}

#[tokio::test]
async fn letters_seed_the_four_templates_once() {
    for test_db in app::testing::databases("letters_seed").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        // Test databases come seeded like a started server: start from none.
        app::entities::template::Entity::delete_many()
            .filter(
                app::entities::template::COLUMN
                    .channel
                    .eq(app::model::enums::TemplateChannel::Letter),
            )
            .exec(db)
            .await
            .expect("empty the letters");

        let first = letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed");
        let second = letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed again");

        assert_eq!((first, second), (4, 0), "{backend}");
        let stored = letters::list_templates(db).await.expect("list");
        let keys: Vec<&str> = stored.iter().map(|t| t.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "letter_online_accounts",
                "letter_statements_online",
                "letter_billing_contact",
                "letter_reminder"
            ],
            "{backend}"
        );
        assert!(
            stored
                .iter()
                .all(|t| t.channel == TemplateChannel::Letter && t.body_html.is_none()),
            "{backend}"
        );
        assert_eq!(
            stored[0].subject, "Important Changes to Our Billing Process",
            "{backend}"
        );
        for t in &stored {
            for placeholder in ["{{ company }}", "{{ registration_url }}", "{{ supplier }}"] {
                assert!(t.body_text.contains(placeholder), "{backend} {}", t.key);
            }
            assert!(t.body_text.contains("{{ account_number }}"), "{backend}");
            assert!(
                t.body_text.contains("Enclosure: Customer Statement"),
                "{backend}"
            );
        }
        assert!(
            app::services::templates::get(db, "letter_reminder")
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn letters_seeding_keeps_an_admins_edit() {
    for test_db in app::testing::databases("letters_seed_keeps_edit").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed");
        let stored = letters::get_template(db, letters::REMINDER)
            .await
            .expect("reminder");
        template::ActiveModel {
            id: Set(stored.id),
            subject: Set("Edited by an admin".to_owned()),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("edit");

        let added = letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed again");

        assert_eq!(added, 0, "{backend}");
        let kept = letters::get_template(db, letters::REMINDER)
            .await
            .expect("reminder");
        assert_eq!(kept.subject, "Edited by an admin", "{backend}");
    }
}

#[tokio::test]
async fn letters_go_to_active_customers_without_any_email() {
    for test_db in app::testing::databases("letters_without_email").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        fixtures::customer(db, "C-1", "No Contacts").await;
        let blank = fixtures::customer(db, "C-2", "Blank Email").await;
        contact_with(db, blank.id, None).await;
        contact_with(db, blank.id, Some("  ")).await;
        let emailed = fixtures::customer(db, "C-3", "Has Email").await;
        contact_with(db, emailed.id, None).await;
        contact_with(db, emailed.id, Some("ap@has-email.test")).await;
        let on_hold = fixtures::customer(db, "C-4", "On Hold").await;
        app::entities::account::ActiveModel {
            id: Set(on_hold.id),
            status: Set(AccountStatus::OnHold),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("hold");
        let vendor = fixtures::customer(db, "V-1", "A Vendor").await;
        app::entities::account::ActiveModel {
            id: Set(vendor.id),
            kind: Set(AccountKind::Vendor),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("vendor");

        let found = letters::accounts_without_email(db).await.expect("find");

        let numbers: Vec<&str> = found.iter().map(|a| a.account_number.as_str()).collect();
        assert_eq!(numbers, ["C-1", "C-2"], "{backend}");
    }
}

#[tokio::test]
async fn letters_find_the_five_demo_accounts_without_email() {
    for test_db in app::testing::databases("letters_demo").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        demo::load(db, fixtures::now()).await.expect("demo");

        let found = letters::accounts_without_email(db).await.expect("find");

        let numbers: Vec<&str> = found.iter().map(|a| a.account_number.as_str()).collect();
        assert_eq!(
            numbers,
            ["C-10006", "C-10016", "C-10026", "C-10036", "C-10046"],
            "{backend}"
        );
        let ids: Vec<i64> = found.iter().map(|a| a.id).collect();
        let with_email = contact::Entity::find()
            .filter(contact::COLUMN.account_id.is_in(ids.clone()))
            .filter(contact::COLUMN.email.is_not_null())
            .all(db)
            .await
            .expect("contacts");
        assert!(with_email.is_empty(), "{backend}");
        let addresses = letters::mailing_addresses(db, &ids)
            .await
            .expect("addresses");
        assert!(
            addresses.values().all(|a| a.kind == AddressKind::Mailing),
            "{backend}"
        );
        assert_eq!(addresses.len(), 5, "{backend}");
    }
}

#[tokio::test]
async fn letters_pdf_has_each_letter_and_its_statement() {
    for test_db in app::testing::databases("letters_pdf").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed");
        supplier(db).await;
        let acme = fixtures::customer(db, "C-1001", "Acme Hardware").await;
        address(db, acme.id, AddressKind::Billing, "9 Billing Rd").await;
        address(db, acme.id, AddressKind::Mailing, "1 Mailing Way").await;
        contact_with(db, acme.id, None).await;
        fixtures::invoice(db, acme.id, "INV-A-1", 25_000).await;
        let globex = fixtures::customer(db, "C-1002", "Globex Parts").await;
        fixtures::invoice(db, globex.id, "INV-G-1", 40_000).await;
        let emailed = fixtures::customer(db, "C-1003", "Initech").await;
        fixtures::contact(db, emailed.id, "Bill", "bill@initech.test").await;
        fixtures::invoice(db, emailed.id, "INV-I-1", 10_000).await;
        let today = fixtures::now().date_naive();

        let bytes =
            letters::letters_pdf(db, letters::ONLINE_ACCOUNTS, None, REGISTRATION_URL, today)
                .await
                .expect("letters");

        assert!(bytes.starts_with(b"%PDF"), "{backend}");
        let text = pdf_text(&bytes, &format!("letters-{backend}"));
        for expected in [
            "Northwind Supply",
            "PO Box 4410",
            "November 23, 2026",
            "RE: Important Changes to Our Billing Process",
            "Dear Accounts Payable team at Acme Hardware",
            "Dear Accounts Payable team at Globex Parts",
            "1 Mailing Way",
            "Springfield, OR 97401",
            REGISTRATION_URL,
            "account number, C-1001",
            "account number, C-1002",
            "Enclosure: Customer Statement",
            "STATEMENT",
            "Invoice INV-A-1",
            "Invoice INV-G-1",
        ] {
            assert!(
                text.contains(expected),
                "{backend}: {expected:?} missing in {text}"
            );
        }
        assert!(!text.contains("9 Billing Rd"), "{backend}: mailing first");
        assert!(!text.contains("Initech"), "{backend}: has an email");
        assert!(!text.contains("{{"), "{backend}: unfilled placeholder");
        let period = format!("{} to {today}", today - Duration::days(90));
        assert!(text.contains(&period), "{backend}: 90 days in {text}");
        // Each letter is followed by its own statement.
        let order = [
            "Acme Hardware",
            "Enclosure: Customer Statement",
            "Invoice INV-A-1",
            "Globex Parts",
            "Invoice INV-G-1",
        ]
        .map(|s| text.find(s).expect("present"));
        assert!(order.is_sorted(), "{backend}: {order:?}");
    }
}

#[tokio::test]
async fn letters_pdf_for_chosen_accounts_and_other_templates() {
    for test_db in app::testing::databases("letters_pdf_chosen").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed");
        supplier(db).await;
        let acme = fixtures::customer(db, "C-2001", "Acme Hardware").await;
        fixtures::invoice(db, acme.id, "INV-A-9", 25_000).await;
        let globex = fixtures::customer(db, "C-2002", "Globex Parts").await;
        let today = fixtures::now().date_naive();

        let bytes = letters::letters_pdf(
            db,
            letters::BILLING_CONTACT,
            Some(&[globex.id]),
            REGISTRATION_URL,
            today,
        )
        .await
        .expect("letters");

        let text = pdf_text(&bytes, &format!("letters-chosen-{backend}"));
        assert!(
            text.contains("RE: Please Submit Your Billing Contact Information"),
            "{backend}: {text}"
        );
        assert!(text.contains("account number: C-2002"), "{backend}: {text}");
        assert!(
            text.contains("As of November 23, 2026"),
            "{backend}: {text}"
        );
        assert!(text.contains("STATEMENT"), "{backend}");
        assert!(!text.contains("C-2001"), "{backend}: not chosen");
    }
}

#[tokio::test]
async fn letters_pdf_refuses_unknown_templates_and_accounts() {
    for test_db in app::testing::databases("letters_pdf_refused").await {
        let (db, backend) = (&test_db.conn, test_db.backend);
        letters::seed_letters(db, fixtures::now())
            .await
            .expect("seed");
        let acme = fixtures::customer(db, "C-3001", "Acme Hardware").await;
        let today = fixtures::now().date_naive();
        let field = |r: Result<Vec<u8>, AppError>| match r {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("{backend}: expected a validation error, got {other:?}"),
        };

        let email_template =
            letters::letters_pdf(db, "portal_sign_in", None, REGISTRATION_URL, today).await;
        let unknown_account = letters::letters_pdf(
            db,
            letters::REMINDER,
            Some(&[acme.id, acme.id + 1000]),
            REGISTRATION_URL,
            today,
        )
        .await;
        fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let nobody =
            letters::letters_pdf(db, letters::REMINDER, None, REGISTRATION_URL, today).await;

        assert_eq!(field(email_template), "template");
        assert_eq!(field(unknown_account), "accounts");
        assert_eq!(field(nobody), "accounts");
        assert!(letters::parse_account_ids("1,2,x").is_err(), "{backend}");
    }
}
