//! The supplier's shared profile: the public card lists receivables staff and never the
//! whole TIN; the vCard is well-formed; sharing queues one email per contact with an
//! address and one audit event, or nothing at all when the request is refused.

use app::api::supplier_profile::{ArContact, SupplierCard};
use app::entities::{audit_event, contact, outbox_email, staff_user, supplier};
use app::error::AppError;
use app::model::enums::*;
use app::services::{staff, supplier_profile};
use app::testing::{databases, fixtures};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};

const PUBLIC_URL: &str = "https://billing.example.com";
const PASSWORD: &str = "correct horse battery";

async fn supplier_row(db: &impl ConnectionTrait) -> supplier::Model {
    supplier::ActiveModel {
        legal_name: Set("Northwind Supply Co.".to_owned()),
        display_name: Set("Northwind Supply".to_owned()),
        email: Set("receivables@northwind-supply.test".to_owned()),
        phone: Set(Some("+1 555 010 2000".to_owned())),
        website: Set(Some("https://northwind-supply.test".to_owned())),
        remit_to: Set("Northwind Supply Co.\nPO Box 4410\nPortland, OR 97208".to_owned()),
        tin: Set(Some("93-1234567".to_owned())),
        currency: Set("USD".to_owned()),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert supplier")
}

async fn staff_user(
    db: &impl ConnectionTrait,
    email: &str,
    name: &str,
    role: StaffRole,
) -> staff_user::Model {
    staff::add(db, email, name, role, PASSWORD, fixtures::now())
        .await
        .expect("add staff")
}

async fn contact_without_email(db: &impl ConnectionTrait, account_id: i64) -> contact::Model {
    contact::ActiveModel {
        account_id: Set(account_id),
        name: Set("Phone Only".to_owned()),
        email: Set(None),
        phone: Set(Some("+1 555 010 3000".to_owned())),
        role: Set(ContactRole::Other),
        is_primary_billing: Set(false),
        email_status: Set(EmailStatus::Unverified),
        version: Set(1),
        created_at: Set(fixtures::now()),
        updated_at: Set(fixtures::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert contact")
}

async fn outbox_rows(db: &impl ConnectionTrait) -> u64 {
    outbox_email::Entity::find()
        .count(db)
        .await
        .expect("count outbox")
}

async fn share_events(db: &impl ConnectionTrait) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::COLUMN.entity.eq("supplier"))
        .filter(audit_event::COLUMN.field.eq("shared"))
        .all(db)
        .await
        .expect("read audit")
}

#[tokio::test]
async fn supplier_profile_card_lists_ar_staff_and_never_the_full_tin() {
    for t in databases("supplier_profile_card").await {
        let db = &t.conn;
        assert_eq!(
            supplier_profile::public_profile(db).await,
            Err(AppError::NotFound),
            "{}: no supplier row yet",
            t.backend
        );
        supplier_row(db).await;
        staff_user(
            db,
            "casey@supplier.test",
            "Casey Collector",
            StaffRole::Collector,
        )
        .await;
        staff_user(db, "avery@supplier.test", "Avery Admin", StaffRole::Admin).await;
        staff_user(db, "vic@supplier.test", "Vic Viewer", StaffRole::Viewer).await;
        let gone = staff_user(
            db,
            "gone@supplier.test",
            "Gone Collector",
            StaffRole::Collector,
        )
        .await;
        staff_user::ActiveModel {
            id: Set(gone.id),
            active: Set(false),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("deactivate");

        let card = supplier_profile::public_profile(db).await.expect("card");

        assert_eq!(card.name, "Northwind Supply");
        assert_eq!(card.legal_name, "Northwind Supply Co.");
        assert_eq!(card.email, "receivables@northwind-supply.test");
        assert_eq!(card.phone.as_deref(), Some("+1 555 010 2000"));
        assert_eq!(
            card.website.as_deref(),
            Some("https://northwind-supply.test")
        );
        assert_eq!(
            card.remit_to,
            "Northwind Supply Co.\nPO Box 4410\nPortland, OR 97208"
        );
        assert_eq!(
            card.ar_contacts,
            [
                ArContact {
                    name: "Avery Admin".to_owned(),
                    email: "avery@supplier.test".to_owned()
                },
                ArContact {
                    name: "Casey Collector".to_owned(),
                    email: "casey@supplier.test".to_owned()
                },
            ],
            "{}: active admins and collectors only",
            t.backend
        );
        assert_eq!(card.tin_last4.as_deref(), Some("4567"));
        let json = serde_json::to_string(&card).expect("json");
        let vcard = supplier_profile::vcard(&card);
        for shown in [json.as_str(), vcard.as_str(), card.tin_text().as_str()] {
            assert!(!shown.contains("1234567"), "{}: {shown}", t.backend);
            assert!(!shown.contains("93-12"), "{}: {shown}", t.backend);
        }
    }
}

#[test]
fn supplier_profile_vcard_has_crlf_escapes_and_folds_long_lines() {
    let first_line = "Northwind Supply Co., Lockbox; Dept\\7\n";
    let tail = "x".repeat(200 - first_line.chars().count());
    let remit_to = format!("{first_line}{tail}");
    assert_eq!(remit_to.chars().count(), 200);
    let card = SupplierCard {
        name: "Northwind Supply, Inc.".to_owned(),
        legal_name: "Northwind; Supply \\ Co".to_owned(),
        email: "receivables@northwind-supply.test".to_owned(),
        phone: Some("+1 555 010 2000".to_owned()),
        website: Some("https://northwind-supply.test/a,b".to_owned()),
        remit_to,
        currency: "USD".to_owned(),
        tin_last4: None,
        ar_contacts: vec![ArContact {
            name: "Casey Collector".to_owned(),
            email: "casey@supplier.test".to_owned(),
        }],
    };

    let out = supplier_profile::vcard(&card);

    assert!(out.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\n"), "{out}");
    assert!(out.ends_with("END:VCARD\r\n"), "{out}");
    assert_eq!(
        (out.matches('\n').count(), out.matches('\r').count()),
        (out.matches("\r\n").count(), out.matches("\r\n").count()),
        "every line ends in CRLF: {out:?}"
    );
    let physical: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
    for line in &physical {
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    assert!(
        physical.iter().filter(|l| l.starts_with(' ')).count() >= 3,
        "the 200-character address is folded: {out}"
    );

    let unfolded = out.replace("\r\n ", "");
    let lines: Vec<&str> = unfolded.split("\r\n").collect();
    assert!(lines.contains(&"FN:Northwind Supply\\, Inc."), "{unfolded}");
    assert!(
        lines.contains(&"ORG:Northwind\\; Supply \\\\ Co"),
        "{unfolded}"
    );
    assert!(
        lines.contains(&"EMAIL;TYPE=INTERNET,WORK:receivables@northwind-supply.test"),
        "{unfolded}"
    );
    assert!(
        lines.contains(&"TEL;TYPE=WORK,VOICE:+1 555 010 2000"),
        "{unfolded}"
    );
    assert!(
        lines.contains(&"URL:https://northwind-supply.test/a,b"),
        "{unfolded}"
    );
    let adr = format!("ADR;TYPE=WORK:;;Northwind Supply Co.\\, Lockbox\\; Dept\\\\7\\n{tail};;;;");
    assert!(lines.contains(&adr.as_str()), "{unfolded}");
    let note = lines
        .iter()
        .find(|l| l.starts_with("NOTE:"))
        .expect("a note");
    assert!(
        note.contains("Casey Collector <casey@supplier.test>"),
        "{note}"
    );
    assert!(note.contains("TIN on request"), "{note}");
}

#[tokio::test]
async fn supplier_profile_share_queues_one_email_per_contact_with_an_address() {
    for t in databases("supplier_profile_share").await {
        let db = &t.conn;
        supplier_profile::seed_template(db, fixtures::now())
            .await
            .expect("seed");
        assert_eq!(
            supplier_profile::seed_template(db, fixtures::now()).await,
            Ok(0),
            "{}: seeding twice adds nothing",
            t.backend
        );
        supplier_row(db).await;
        let me = staff_user(
            db,
            "casey@supplier.test",
            "Casey Collector",
            StaffRole::Collector,
        )
        .await;
        let acme = fixtures::customer(db, "C-1", "Acme").await;
        let globex = fixtures::customer(db, "C-2", "Globex").await;
        let pat = fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let sam = fixtures::contact(db, globex.id, "Sam", "sam@globex.test").await;
        let phone_only = contact_without_email(db, acme.id).await;

        let sent = supplier_profile::share(
            db,
            PUBLIC_URL,
            me.id,
            &[pat.id, sam.id, phone_only.id, pat.id],
            fixtures::now(),
        )
        .await
        .expect("share");

        assert_eq!(sent, 2, "{}", t.backend);
        let mut mail = outbox_email::Entity::find()
            .filter(
                outbox_email::COLUMN
                    .template_key
                    .eq(supplier_profile::SHARE_TEMPLATE),
            )
            .all(db)
            .await
            .expect("read outbox");
        mail.sort_by(|a, b| a.to_address.cmp(&b.to_address));
        let to: Vec<&str> = mail.iter().map(|m| m.to_address.as_str()).collect();
        assert_eq!(to, ["pat@acme.test", "sam@globex.test"], "{}", t.backend);
        assert_eq!(outbox_rows(db).await, 2, "{}", t.backend);
        let first = &mail[0];
        assert!(
            first.subject.contains("Northwind Supply"),
            "{}",
            first.subject
        );
        for expected in [
            "Hello Pat,",
            "Casey Collector at Northwind Supply",
            "PO Box 4410",
            "casey@supplier.test",
            "https://billing.example.com/supplier\n",
            "https://billing.example.com/supplier.vcf",
        ] {
            assert!(
                first.body_text.contains(expected),
                "{}: {expected:?} in {}",
                t.backend,
                first.body_text
            );
        }
        let html = first.body_html.as_deref().unwrap_or_default();
        assert!(html.contains("PO Box 4410<br>"), "{html}");
        assert!(
            html.contains("href=\"https://billing.example.com/supplier.vcf\""),
            "{html}"
        );

        let events = share_events(db).await;
        assert_eq!(events.len(), 1, "{}", t.backend);
        assert_eq!(events[0].actor_kind, ActorKind::Staff);
        assert_eq!(events[0].actor_id, Some(me.id));
        assert_eq!(events[0].channel, Channel::StaffUi);
        assert_eq!(events[0].new_value.as_deref(), Some("2 contacts"));
    }
}

#[tokio::test]
async fn supplier_profile_share_refuses_bad_requests_and_writes_nothing() {
    for t in databases("supplier_profile_refused").await {
        let db = &t.conn;
        supplier_profile::seed_template(db, fixtures::now())
            .await
            .expect("seed");
        supplier_row(db).await;
        let me = staff_user(
            db,
            "casey@supplier.test",
            "Casey Collector",
            StaffRole::Collector,
        )
        .await;
        let acme = fixtures::customer(db, "C-1", "Acme").await;
        let pat = fixtures::contact(db, acme.id, "Pat", "pat@acme.test").await;
        let phone_only = contact_without_email(db, acme.id).await;
        let too_many: Vec<i64> = (1..=51).collect();

        for (ids, why) in [
            (vec![pat.id, 9_999], "an unknown id"),
            (too_many, "more than 50 contacts"),
            (vec![], "no contact"),
            (vec![phone_only.id], "nobody with an email address"),
        ] {
            let result =
                supplier_profile::share(db, PUBLIC_URL, me.id, &ids, fixtures::now()).await;
            assert!(
                matches!(&result, Err(AppError::Validation { field, .. }) if field == "contacts"),
                "{}: {why}: {result:?}",
                t.backend
            );
        }
        match supplier_profile::share(db, PUBLIC_URL, me.id, &[pat.id, 9_999], fixtures::now())
            .await
        {
            Err(AppError::Validation { message, .. }) => {
                assert_eq!(message, "no contact has the id 9999", "{}", t.backend);
            }
            other => panic!("{}: {other:?}", t.backend),
        }

        assert_eq!(outbox_rows(db).await, 0, "{}", t.backend);
        assert!(share_events(db).await.is_empty(), "{}", t.backend);
    }
}

#[tokio::test]
async fn the_share_picker_finds_contacts_by_name_email_or_company() {
    for t in app::testing::databases("supplier_share_picker").await {
        let db = &t.conn;
        let acme = app::testing::fixtures::customer(db, "C-1", "Acme Hardware").await;
        let pat = app::testing::fixtures::contact(db, acme.id, "Pat Doe", "pat@acme.test").await;
        let beta = app::testing::fixtures::customer(db, "C-2", "Beta 100% Foods").await;
        let bo = app::testing::fixtures::contact(db, beta.id, "Bo Lin", "bo@beta.test").await;
        let find = |q: &'static str| async move {
            app::services::supplier_profile::find_contacts(db, q, 20)
                .await
                .expect("find")
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(find("acme").await, [pat.id], "{}: by company", t.backend);
        assert_eq!(
            find("BO@").await,
            [bo.id],
            "{}: by email, any case",
            t.backend
        );
        assert_eq!(find("pat d").await, [pat.id], "{}: by name", t.backend);
        assert_eq!(find("100%").await, [bo.id], "{}: % is literal", t.backend);
        assert_eq!(find("1%0").await, Vec::<i64>::new(), "{}", t.backend);
        assert!(
            find("  ").await.is_empty(),
            "{}: blank finds nobody",
            t.backend
        );
        let one = app::services::supplier_profile::find_contacts(db, "Pat", 20)
            .await
            .expect("find");
        assert_eq!(one[0].company, "Acme Hardware");
        assert_eq!(one[0].email, "pat@acme.test");
    }
}
