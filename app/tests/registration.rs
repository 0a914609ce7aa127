//! Registration from a paper letter: the account number plus a second fact (billing ZIP or
//! the amount of one open invoice) add the billing contact, rate-limited, and every failure
//! to match answers the same.

use app::entities::{address, audit_event, contact, document, magic_link, outbox_email};
use app::error::AppError;
use app::model::enums::*;
use app::model::registration::{NO_MATCH, Registration};
use app::services::registration::{self, ATTEMPTS_PER_ACCOUNT, ATTEMPTS_PER_CLIENT};
use app::services::{magic_links, sessions};
use app::testing::fixtures;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter,
};

const PUBLIC_URL: &str = "https://billing.example.com";

/// An account "C-1001" with a billing address in ZIP 60601 and one open invoice of
/// $1,234.56; returns the account's id.
async fn letter_customer(db: &impl ConnectionTrait) -> i64 {
    let acct = fixtures::customer(db, "C-1001", "Acme Hardware").await;
    address::ActiveModel {
        account_id: Set(acct.id),
        kind: Set(AddressKind::Billing),
        line1: Set("1 Main St".to_owned()),
        line2: Set(None),
        city: Set("Chicago".to_owned()),
        region: Set("IL".to_owned()),
        postal_code: Set("60601".to_owned()),
        country: Set("US".to_owned()),
        version: Set(1),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert address");
    fixtures::invoice(db, acct.id, "INV-1", 123_456).await;
    acct.id
}

fn form(account_number: &str, second_fact: &str, email: &str) -> Registration {
    Registration {
        account_number: account_number.to_owned(),
        second_fact: second_fact.to_owned(),
        name: "Pat Payer".to_owned(),
        email: email.to_owned(),
        phone: Some(" +1 (312) 555-0100 ".to_owned()),
    }
}

fn no_match() -> AppError {
    AppError::validation("account_number", NO_MATCH)
}

async fn count_rows(db: &DatabaseConnection) -> [u64; 4] {
    [
        contact::Entity::find().count(db).await.expect("count"),
        outbox_email::Entity::find().count(db).await.expect("count"),
        audit_event::Entity::find().count(db).await.expect("count"),
        magic_link::Entity::find().count(db).await.expect("count"),
    ]
}

#[tokio::test]
async fn account_number_and_zip_add_the_billing_contact_and_mail_a_link() {
    for test_db in app::testing::databases("registration_zip").await {
        let db = &test_db.conn;
        let account_id = letter_customer(db).await;

        let done = registration::register(
            db,
            PUBLIC_URL,
            &form(" c-1001 ", "606 01", " Pat@Example.com "),
            "10.0.0.1",
            fixtures::now(),
        )
        .await
        .expect("register");

        assert_eq!(done.account_id, account_id);
        assert!(done.created);
        let pat = contact::Entity::find_by_id(done.contact_id)
            .one(db)
            .await
            .expect("q")
            .expect("pat");
        assert_eq!(
            (
                pat.account_id,
                pat.name.as_str(),
                pat.email.as_deref(),
                pat.phone.as_deref(),
                pat.role,
                pat.is_primary_billing,
                pat.email_status,
            ),
            (
                account_id,
                "Pat Payer",
                Some("pat@example.com"),
                Some("+1 (312) 555-0100"),
                ContactRole::Billing,
                true,
                EmailStatus::Unverified,
            ),
            "{}",
            test_db.backend
        );
        let mails = outbox_email::Entity::find()
            .filter(outbox_email::COLUMN.template_key.eq("verify_contact"))
            .all(db)
            .await
            .expect("mail");
        assert_eq!(mails.len(), 1, "{}", test_db.backend);
        assert_eq!(mails[0].to_address, "pat@example.com");
        assert_eq!(mails[0].to_contact_id, Some(pat.id));
        let logged = audit_event::Entity::find()
            .filter(audit_event::COLUMN.field.eq("registered"))
            .all(db)
            .await
            .expect("audit");
        assert_eq!(logged.len(), 1, "{}", test_db.backend);
        assert_eq!(
            (
                logged[0].entity.as_str(),
                logged[0].entity_id,
                logged[0].account_id,
                logged[0].channel,
                logged[0].new_value.as_deref(),
            ),
            (
                "contact",
                Some(pat.id),
                Some(account_id),
                Channel::Portal,
                Some(magic_links::mask_email("pat@example.com").as_str()),
            )
        );

        // The link in the email confirms the address and opens the account.
        let body = &mails[0].body_text;
        let start = body.find(&format!("{PUBLIC_URL}/l/")).expect("a link");
        let token: String = body[start + PUBLIC_URL.len() + 3..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        let opened = magic_links::consume(db, &token, fixtures::now())
            .await
            .expect("verify");
        assert_eq!(opened.contact_id, pat.id);
        let caller = sessions::resolve(db, &opened.secret, fixtures::now())
            .await
            .expect("resolve");
        assert_eq!(
            caller.portal_account(),
            Ok(account_id),
            "{}",
            test_db.backend
        );
        let pat = contact::Entity::find_by_id(pat.id)
            .one(db)
            .await
            .expect("q")
            .expect("pat");
        assert_eq!(
            pat.email_status,
            EmailStatus::Verified,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn the_amount_of_an_open_invoice_is_accepted_instead_of_the_zip() {
    for test_db in app::testing::databases("registration_amount").await {
        let db = &test_db.conn;
        let account_id = letter_customer(db).await;
        let void = fixtures::invoice(db, account_id, "INV-2", 77_700).await;
        document::ActiveModel {
            id: Set(void.id),
            status: Set(DocumentStatus::Void),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("void");
        let ap = fixtures::contact(db, account_id, "Alex Ap", "ap@example.com").await;

        let refused = registration::register(
            db,
            PUBLIC_URL,
            &form("C-1001", "777.00", "pat@example.com"),
            "10.0.0.1",
            fixtures::now(),
        )
        .await;
        assert_eq!(
            refused,
            Err(no_match()),
            "{}: void invoice",
            test_db.backend
        );

        let done = registration::register(
            db,
            PUBLIC_URL,
            &form("C-1001", "$1,234.56", "pat@example.com"),
            "10.0.0.1",
            fixtures::now(),
        )
        .await
        .expect("register");
        assert!(done.created);
        let pat = contact::Entity::find_by_id(done.contact_id)
            .one(db)
            .await
            .expect("q")
            .expect("pat");
        assert!(
            !pat.is_primary_billing,
            "{}: the account already had a primary billing contact",
            test_db.backend
        );

        // A contact the account already has is reused, and gets a fresh link.
        let again = registration::register(
            db,
            PUBLIC_URL,
            &form("C-1001", "1234.56", "AP@example.com"),
            "10.0.0.1",
            fixtures::now(),
        )
        .await
        .expect("register again");
        assert_eq!(
            again,
            registration::Registered {
                account_id,
                contact_id: ap.id,
                created: false
            }
        );
        assert_eq!(
            contact::Entity::find()
                .filter(contact::COLUMN.account_id.eq(account_id))
                .count(db)
                .await
                .expect("count"),
            2,
            "{}",
            test_db.backend
        );
        assert_eq!(
            outbox_email::Entity::find()
                .filter(outbox_email::COLUMN.template_key.eq("verify_contact"))
                .count(db)
                .await
                .expect("count"),
            2,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn wrong_zip_wrong_account_and_too_many_attempts_answer_the_same() {
    for test_db in app::testing::databases("registration_same_error").await {
        let db = &test_db.conn;
        letter_customer(db).await;
        let attempt = |f: Registration, ip: &'static str| async move {
            registration::register(db, PUBLIC_URL, &f, ip, fixtures::now()).await
        };

        let wrong_zip = attempt(form("C-1001", "99999", "pat@example.com"), "10.0.0.1")
            .await
            .expect_err("wrong zip");
        let wrong_account = attempt(form("C-9999", "60601", "pat@example.com"), "10.0.0.2")
            .await
            .expect_err("wrong account");
        // Use up the account number's attempts, each from a different client.
        let ips = ["10.0.1.1", "10.0.1.2", "10.0.1.3", "10.0.1.4", "10.0.1.5"];
        for ip in &ips[..usize::try_from(ATTEMPTS_PER_ACCOUNT.max - 1).expect("max")] {
            attempt(form("c-1001", "11111", "pat@example.com"), ip)
                .await
                .expect_err("wrong zip");
        }
        let limited = attempt(form("C-1001", "60601", "pat@example.com"), "10.0.0.3")
            .await
            .expect_err("over the limit");

        assert_eq!(wrong_zip, no_match(), "{}", test_db.backend);
        assert_eq!(wrong_zip, wrong_account, "{}", test_db.backend);
        assert_eq!(wrong_account, limited, "{}", test_db.backend);
        assert_eq!(
            contact::Entity::find().count(db).await.expect("count"),
            0,
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn one_client_is_limited_across_account_numbers() {
    for test_db in app::testing::databases("registration_client_limit").await {
        let db = &test_db.conn;
        letter_customer(db).await;
        for i in 0..ATTEMPTS_PER_CLIENT.max {
            let refused = registration::register(
                db,
                PUBLIC_URL,
                &form(&format!("X-{i}"), "60601", "pat@example.com"),
                "10.0.0.1",
                fixtures::now(),
            )
            .await;
            assert_eq!(refused, Err(no_match()), "{}", test_db.backend);
        }

        let limited = registration::register(
            db,
            PUBLIC_URL,
            &form("C-1001", "60601", "pat@example.com"),
            "10.0.0.1",
            fixtures::now(),
        )
        .await;
        assert_eq!(limited, Err(no_match()), "{}", test_db.backend);

        let elsewhere = registration::register(
            db,
            PUBLIC_URL,
            &form("C-1001", "60601", "pat@example.com"),
            "10.0.0.2",
            fixtures::now(),
        )
        .await;
        assert!(elsewhere.is_ok(), "{}: {elsewhere:?}", test_db.backend);
    }
}

#[tokio::test]
async fn failures_write_nothing_and_bad_fields_are_named() {
    for test_db in app::testing::databases("registration_nothing_written").await {
        let db = &test_db.conn;
        letter_customer(db).await;
        let before = count_rows(db).await;
        let cases = [
            (form("C-1001", "99999", "pat@example.com"), "account_number"),
            (form("C-9999", "60601", "pat@example.com"), "account_number"),
            (form(" ", "60601", "pat@example.com"), "account_number"),
            (form("C-1001", "", "pat@example.com"), "second_fact"),
            (
                Registration {
                    name: "  ".to_owned(),
                    ..form("C-1001", "60601", "pat@example.com")
                },
                "name",
            ),
            (form("C-1001", "60601", "not-an-email"), "email"),
            (
                Registration {
                    phone: Some("ext. 12".to_owned()),
                    ..form("C-1001", "60601", "pat@example.com")
                },
                "phone",
            ),
        ];
        for (input, field) in cases {
            let err = registration::register(db, PUBLIC_URL, &input, "10.0.0.1", fixtures::now())
                .await
                .expect_err(field);
            assert!(
                matches!(err, AppError::Validation { field: ref f, .. } if f == field),
                "{}: {err:?}",
                test_db.backend
            );
        }
        assert_eq!(count_rows(db).await, before, "{}", test_db.backend);
    }
}
