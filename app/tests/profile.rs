//! The customer's profile: ordinary changes apply at once; sensitive ones wait for a
//! step-up code and then for staff, who approve (applied, sealed) or reject (nothing
//! changes). Full bank numbers and TINs never appear in clear in the database, the audit
//! log or any email.

use app::entities::{account, audit_event, outbox_email, payment_method, profile_change, task};
use app::error::AppError;
use app::model::enums::*;
use app::model::profile::SensitiveChange;
use app::services::{crypto, profile};
use app::state::SecretKey;
use app::testing::{databases, fixtures};
use chrono::Duration;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

const PUBLIC_URL: &str = "https://billing.example.com";
const KEY: SecretKey = SecretKey([42; 32]);
const ACCOUNT_NO: &str = "987654321012";

async fn last_mail(db: &impl ConnectionTrait, template: &str) -> outbox_email::Model {
    outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.template_key.eq(template))
        .order_by_desc(outbox_email::COLUMN.id)
        .one(db)
        .await
        .expect("read")
        .expect("mail queued")
}

fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_default()
        .to_owned()
}

/// A staff member to decide (decisions name who made them).
async fn reviewer(db: &impl ConnectionTrait) -> i64 {
    app::services::staff::add(
        db,
        "rita@settle.test",
        "Rita Reviewer",
        StaffRole::Collector,
        "a long enough password",
        fixtures::now(),
    )
    .await
    .expect("staff")
    .id
}

fn bank() -> SensitiveChange {
    SensitiveChange::BankAccount {
        holder: "Acme Inc.".into(),
        routing: "021000021".into(),
        account: ACCOUNT_NO.into(),
    }
}

#[tokio::test]
async fn ordinary_changes_apply_at_once_and_verify_records_who() {
    for t in databases("profile_company").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        profile::update_company(
            db,
            pat.id,
            a.id,
            "Acme Incorporated",
            "Acme",
            "acme.test",
            fixtures::now(),
        )
        .await
        .expect("update");
        let after = account::Entity::find_by_id(a.id)
            .one(db)
            .await
            .expect("read")
            .expect("account");
        assert_eq!(
            (after.legal_name.as_str(), after.website.as_deref()),
            ("Acme Incorporated", Some("https://acme.test"))
        );
        let bad = profile::update_company(db, pat.id, a.id, " ", "Acme", "", fixtures::now()).await;
        assert!(
            matches!(&bad, Err(AppError::Validation { field, .. }) if field == "legal_name"),
            "{bad:?}"
        );
        profile::verify(db, pat.id, a.id, fixtures::now())
            .await
            .expect("verify");
        let after = account::Entity::find_by_id(a.id)
            .one(db)
            .await
            .expect("read")
            .expect("account");
        assert_eq!(after.verified_at, Some(fixtures::now()), "{}", t.backend);
        assert_eq!(after.verified_by.as_deref(), Some("Pat <pat@acme.test>"));
        let events = audit_event::Entity::find()
            .filter(audit_event::COLUMN.account_id.eq(a.id))
            .count(db)
            .await
            .expect("count");
        assert_eq!(events, 3, "legal name, website, verification");
    }
}

#[tokio::test]
async fn a_bank_change_needs_the_code_then_staff_and_stays_sealed() {
    for t in databases("profile_bank").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let owner = fixtures::contact(db, a.id, "Olive Owner", "olive@acme.test").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let now = fixtures::now();
        let id = profile::request_change(db, &KEY, PUBLIC_URL, pat.id, a.id, &bank(), now)
            .await
            .expect("request");
        let mail = last_mail(db, profile::CODE_TEMPLATE).await;
        assert_eq!(
            mail.to_address, "pat@acme.test",
            "the code goes to the current address"
        );
        let code = code_in(&mail.body_text);
        assert_eq!(code.len(), 6, "{}", mail.body_text);

        let wrong = if code == "000000" { "111111" } else { "000000" };
        let miss = profile::confirm(db, PUBLIC_URL, pat.id, id, wrong, now).await;
        assert!(
            matches!(&miss, Err(AppError::Validation { field, .. }) if field == "code"),
            "{miss:?}"
        );
        let view = profile::confirm(
            db,
            PUBLIC_URL,
            pat.id,
            id,
            &code,
            now + Duration::minutes(2),
        )
        .await
        .expect("confirm");
        assert_eq!(view.status, ChangeStatus::PendingReview, "{}", t.backend);
        let notice = last_mail(db, profile::NOTICE_TEMPLATE).await;
        assert_eq!(
            notice.to_address, "olive@acme.test",
            "the previous primary contact hears of it"
        );
        let approvals = task::Entity::find()
            .filter(task::COLUMN.kind.eq(TaskKind::Approval))
            .count(db)
            .await
            .expect("count");
        assert_eq!(approvals, 1);
        assert_eq!(
            payment_method::Entity::find()
                .count(db)
                .await
                .expect("count"),
            0,
            "nothing applied before staff approve"
        );

        let rita = reviewer(db).await;
        profile::decide(db, &KEY, PUBLIC_URL, rita, id, true, "", now)
            .await
            .expect("approve");
        let method = payment_method::Entity::find()
            .one(db)
            .await
            .expect("read")
            .expect("bank account");
        assert_eq!((method.last4.as_str(), method.is_default), ("1012", true));
        let sealed = method.account_number_encrypted.clone().unwrap_or_default();
        assert_eq!(
            crypto::open(&KEY, &sealed).expect("opens"),
            ACCOUNT_NO.as_bytes()
        );
        let again = profile::decide(db, &KEY, PUBLIC_URL, rita, id, false, "late", now).await;
        assert!(matches!(again, Err(AppError::Conflict(_))), "decided once");

        // The full number is nowhere in clear.
        let change = profile_change::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("read")
            .expect("change");
        let mut haystack = format!("{method:?}{change:?}");
        for e in audit_event::Entity::find().all(db).await.expect("read") {
            haystack.push_str(&format!("{e:?}"));
        }
        for m in outbox_email::Entity::find().all(db).await.expect("read") {
            haystack.push_str(&m.body_text);
            haystack.push_str(&m.subject);
        }
        assert!(
            !haystack.contains(ACCOUNT_NO),
            "{}: the account number leaked",
            t.backend
        );
        assert_eq!(
            last_mail(db, profile::DECISION_TEMPLATE).await.to_address,
            "pat@acme.test"
        );
        let _ = owner;
    }
}

#[tokio::test]
async fn a_rejected_tin_change_needs_a_reason_and_changes_nothing() {
    for t in databases("profile_reject").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let now = fixtures::now();
        let bad = profile::request_change(
            db,
            &KEY,
            PUBLIC_URL,
            pat.id,
            a.id,
            &SensitiveChange::Tin("07-1234567".into()),
            now,
        )
        .await;
        assert!(
            matches!(&bad, Err(AppError::Validation { field, .. }) if field == "tin"),
            "{bad:?}"
        );
        let id = profile::request_change(
            db,
            &KEY,
            PUBLIC_URL,
            pat.id,
            a.id,
            &SensitiveChange::Tin("12-3456789".into()),
            now,
        )
        .await
        .expect("request");
        let code = code_in(&last_mail(db, profile::CODE_TEMPLATE).await.body_text);
        profile::confirm(db, PUBLIC_URL, pat.id, id, &code, now)
            .await
            .expect("confirm");
        let rita = reviewer(db).await;
        let no_reason = profile::decide(db, &KEY, PUBLIC_URL, rita, id, false, " ", now).await;
        assert!(matches!(no_reason, Err(AppError::Validation { .. })));
        profile::decide(
            db,
            &KEY,
            PUBLIC_URL,
            rita,
            id,
            false,
            "The W-9 on file shows another EIN.",
            now,
        )
        .await
        .expect("reject");
        let after = account::Entity::find_by_id(a.id)
            .one(db)
            .await
            .expect("read")
            .expect("account");
        assert_eq!(
            (after.tin_last4, after.tin_encrypted),
            (None, None),
            "{}",
            t.backend
        );
        let decided = last_mail(db, profile::DECISION_TEMPLATE).await;
        assert!(
            decided.subject.starts_with("Not approved"),
            "{}",
            decided.subject
        );
        assert!(decided.body_text.contains("another EIN"));
    }
}

#[tokio::test]
async fn making_a_colleague_the_billing_contact_moves_the_role_after_approval() {
    for t in databases("profile_billing_colleague").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let now = fixtures::now();
        let lee = profile::add_contact(
            db,
            pat.id,
            a.id,
            &profile::ContactInput {
                name: "Lee AP".into(),
                email: "lee@acme.test".into(),
                phone: String::new(),
                role: ContactRole::Ap,
            },
            now,
        )
        .await
        .expect("add");
        let id = profile::request_change(
            db,
            &KEY,
            PUBLIC_URL,
            pat.id,
            a.id,
            &SensitiveChange::BillingEmail("lee@acme.test".into()),
            now,
        )
        .await
        .expect("request");
        let code = code_in(&last_mail(db, profile::CODE_TEMPLATE).await.body_text);
        profile::confirm(db, PUBLIC_URL, pat.id, id, &code, now)
            .await
            .expect("confirm");
        let billing = |db| async move {
            app::entities::contact::Entity::find()
                .filter(app::entities::contact::COLUMN.account_id.eq(a.id))
                .filter(app::entities::contact::COLUMN.is_primary_billing.eq(true))
                .all(db)
                .await
                .expect("read")
        };
        let before = billing(db).await;
        assert_eq!(before.len(), 1);
        assert_eq!(
            before[0].id, pat.id,
            "{}: nothing moves before approval",
            t.backend
        );
        let rita = reviewer(db).await;
        profile::decide(db, &KEY, PUBLIC_URL, rita, id, true, "", now)
            .await
            .expect("approve");
        let after = billing(db).await;
        assert_eq!(after.len(), 1, "{}: one billing contact", t.backend);
        assert_eq!(after[0].id, lee, "{}", t.backend);
        let pat_now = app::entities::contact::Entity::find_by_id(pat.id)
            .one(db)
            .await
            .expect("read")
            .expect("pat");
        assert_eq!(
            pat_now.email.as_deref(),
            Some("pat@acme.test"),
            "{}: the old billing contact keeps their own address",
            t.backend
        );
    }
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes() {
    for t in databases("profile_expiry").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let now = fixtures::now();
        let id = profile::request_change(
            db,
            &KEY,
            PUBLIC_URL,
            pat.id,
            a.id,
            &SensitiveChange::BillingEmail("ap@acme.test".into()),
            now,
        )
        .await
        .expect("request");
        let code = code_in(&last_mail(db, profile::CODE_TEMPLATE).await.body_text);
        let late = profile::confirm(
            db,
            PUBLIC_URL,
            pat.id,
            id,
            &code,
            now + Duration::minutes(11),
        )
        .await;
        assert!(
            matches!(late, Err(AppError::Validation { .. })),
            "{}: {late:?}",
            t.backend
        );
        let change = profile_change::Entity::find_by_id(id)
            .one(db)
            .await
            .expect("read")
            .expect("change");
        assert_eq!(change.status, ChangeStatus::Expired);
    }
}

#[tokio::test]
async fn contacts_are_added_renamed_and_removed_within_the_account() {
    use app::entities::contact;
    use app::services::profile::ContactInput;
    for t in databases("profile_contacts").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let other = fixtures::customer(db, "C-2", "Bolt").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let theirs = fixtures::contact(db, other.id, "Bo", "bo@bolt.test").await;
        let now = fixtures::now();
        let input = |name: &str, email: &str| ContactInput {
            name: name.into(),
            email: email.into(),
            phone: String::new(),
            role: ContactRole::Ap,
        };
        let bad = profile::add_contact(db, pat.id, a.id, &input("Robin", "robin@"), now).await;
        assert!(matches!(&bad, Err(AppError::Validation { field, .. }) if field == "email"));
        let dup =
            profile::add_contact(db, pat.id, a.id, &input("Pat again", "pat@acme.test"), now).await;
        assert!(matches!(&dup, Err(AppError::Validation { field, .. }) if field == "email"));
        let robin = profile::add_contact(db, pat.id, a.id, &input("Robin", "Robin@Acme.test"), now)
            .await
            .expect("add");
        let added = contact::Entity::find_by_id(robin)
            .one(db)
            .await
            .expect("read")
            .expect("contact");
        assert_eq!(
            (added.email.as_deref(), added.email_status),
            (Some("robin@acme.test"), EmailStatus::Unverified),
            "{}",
            t.backend
        );

        profile::update_contact(
            db,
            pat.id,
            a.id,
            robin,
            &ContactInput {
                phone: "+1 555 010 3000".into(),
                ..input("Robin Ross", "")
            },
            now,
        )
        .await
        .expect("update");
        let renamed = contact::Entity::find_by_id(robin)
            .one(db)
            .await
            .expect("read")
            .expect("contact");
        assert_eq!(
            (renamed.name.as_str(), renamed.phone.as_deref()),
            ("Robin Ross", Some("+1 555 010 3000"))
        );
        let foreign =
            profile::update_contact(db, pat.id, a.id, theirs.id, &input("Hacked", ""), now).await;
        assert_eq!(
            foreign.err(),
            Some(AppError::NotFound),
            "another account's contact"
        );
        assert!(
            profile::remove_contact(db, pat.id, a.id, pat.id, now)
                .await
                .is_err(),
            "not oneself"
        );
        assert!(
            profile::remove_contact(db, pat.id, a.id, theirs.id, now)
                .await
                .is_err()
        );
        profile::remove_contact(db, pat.id, a.id, robin, now)
            .await
            .expect("remove");
        assert!(
            contact::Entity::find_by_id(robin)
                .one(db)
                .await
                .expect("read")
                .is_none()
        );
        assert!(
            contact::Entity::find_by_id(theirs.id)
                .one(db)
                .await
                .expect("read")
                .is_some()
        );
    }
}

#[tokio::test]
async fn a_supplied_w9_is_filed_as_a_customer_upload_and_shown_received() {
    use app::services::files::{self, NewFile};
    for t in databases("profile_supply").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let b = fixtures::customer(db, "C-2", "Bolt").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let file = |account_id| NewFile {
            account_id: Some(account_id),
            file_name: "w9.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 10,
            sha256: "0".repeat(64),
            storage_path: "uploads/x.pdf".into(),
        };
        let mine = files::record(db, file(a.id), fixtures::now())
            .await
            .expect("file");
        let theirs = files::record(db, file(b.id), fixtures::now())
            .await
            .expect("file");
        let before = profile::profile(db, a.id).await.expect("profile");
        assert!(before.documents.iter().all(|d| d.latest.is_none()));
        let foreign =
            profile::supply_document(db, pat.id, a.id, "w9", theirs.id, fixtures::now()).await;
        assert!(
            matches!(&foreign, Err(AppError::Validation { field, .. }) if field == "file"),
            "{foreign:?}"
        );
        let unknown =
            profile::supply_document(db, pat.id, a.id, "passport", mine.id, fixtures::now()).await;
        assert!(matches!(&unknown, Err(AppError::Validation { field, .. }) if field == "kind"));
        profile::supply_document(db, pat.id, a.id, "w9", mine.id, fixtures::now())
            .await
            .expect("supply");
        let after = profile::profile(db, a.id).await.expect("profile");
        let w9 = after
            .documents
            .iter()
            .find(|d| d.kind == "w9")
            .expect("w9 row");
        assert_eq!(
            w9.latest.as_ref().map(|l| l.2),
            Some(fixtures::now().date_naive()),
            "{}",
            t.backend
        );
    }
}

#[tokio::test]
async fn the_mailing_address_is_checked_saved_at_once_and_audited() {
    use app::model::profile::AddressInput;
    for t in databases("profile_mailing").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, a.id, "Pat", "pat@acme.test").await;
        let now = fixtures::now();
        let mut input = AddressInput {
            line1: "1 Main St".into(),
            line2: String::new(),
            city: "Eugene".into(),
            region: "OR".into(),
            postal_code: "974".into(),
            country: String::new(),
        };
        let bad = profile::update_mailing_address(db, pat.id, a.id, &input, now).await;
        assert!(
            matches!(&bad, Err(AppError::Validation { field, .. }) if field == "postal_code"),
            "{}: {bad:?}",
            t.backend
        );
        input.postal_code = "97401".into();
        profile::update_mailing_address(db, pat.id, a.id, &input, now)
            .await
            .expect("first address");
        input.line1 = "2 Oak Ave".into();
        profile::update_mailing_address(db, pat.id, a.id, &input, now)
            .await
            .expect("changed address");
        let shown = profile::profile(db, a.id).await.expect("profile");
        let mailing: Vec<_> = shown
            .addresses
            .iter()
            .filter(|ad| ad.kind == AddressKind::Mailing)
            .collect();
        assert_eq!(mailing.len(), 1, "{}: one mailing address", t.backend);
        assert_eq!(mailing[0].text, "2 Oak Ave, Eugene, OR 97401, US");
        let events = audit_event::Entity::find()
            .filter(audit_event::COLUMN.field.eq("mailing"))
            .order_by_asc(audit_event::COLUMN.id)
            .all(db)
            .await
            .expect("audit");
        assert_eq!(events.len(), 2, "{}", t.backend);
        assert_eq!(
            events[1].old_value.as_deref(),
            Some("1 Main St, Eugene, OR 97401, US")
        );
        assert_eq!(
            events[1].new_value.as_deref(),
            Some("2 Oak Ave, Eugene, OR 97401, US")
        );
    }
}
