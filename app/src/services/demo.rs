//! The demo data set: a supplier, ~50 accounts and ~600 invoices across every aging
//! bucket, so a newcomer sees both sides of Settle within a minute.
//!
//! Loading is one transaction and does nothing when the demo supplier already exists,
//! so running it twice leaves the same rows.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait, prelude::*,
};

use crate::entities::{
    account, address, contact, dispute, dispute_line, dispute_message, document, document_line,
    payment, payment_application, payment_method, promise, promise_document, supplier,
};
use crate::error::AppError;
use crate::model::enums::*;
use crate::services::staff;

/// Number of accounts the demo creates.
pub const ACCOUNTS: usize = 50;
/// The first `VENDORS` accounts after the customers are vendors.
pub const VENDORS: usize = 4;
/// Invoices per account, spread so the total is about 600.
pub const INVOICES_PER_ACCOUNT: usize = 12;
/// Email of the demo staff admin.
pub const ADMIN_EMAIL: &str = "admin@settle.test";
/// Email of the contact whose portal link the demo prints.
pub const DEMO_CONTACT_EMAIL: &str = "ap@acme-hardware.test";
const SUPPLIER_NAME: &str = "Northwind Supply Co.";

/// What a demo load did.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// False when the demo data was already there.
    pub created: bool,
    /// The contact whose portal link should be shown.
    pub demo_contact_id: i64,
    /// The admin's generated password, shown once when the admin was created.
    pub admin_password: Option<String>,
}

const COMPANIES: [&str; ACCOUNTS] = [
    "Acme Hardware",
    "Blue Ridge Builders",
    "Cascade Foods",
    "Delta Marine",
    "Evergreen Clinics",
    "Fairview Schools",
    "Granite Works",
    "Harbor Logistics",
    "Ironwood Furniture",
    "Juniper Labs",
    "Keystone Auto",
    "Lakeside Hotels",
    "Maple Street Bakery",
    "Northstar Energy",
    "Oakridge Farms",
    "Pinecrest Realty",
    "Quarry Stone",
    "Redwood Outfitters",
    "Summit Dental",
    "Tidewater Seafood",
    "Union Printing",
    "Valley Vineyards",
    "Westgate Pharmacy",
    "Yellowstone Tours",
    "Zephyr Cycles",
    "Alpine Dairy",
    "Bayview Motors",
    "Copperfield Mills",
    "Driftwood Cafe",
    "Eastside Plumbing",
    "Foxglove Florists",
    "Golden Gate Optics",
    "Hillside Vets",
    "Indigo Textiles",
    "Jetstream Couriers",
    "Kingfisher Pools",
    "Lighthouse Books",
    "Meadowbrook Golf",
    "Nimbus Software",
    "Orchard Market",
    "Prairie Grain",
    "Quicksilver Labs",
    "Riverbend Spa",
    "Silverline Rail",
    "Timberline Lumber",
    "Uptown Salon",
    "Vertex Steel",
    "Willow Creek Inn",
    "Xenon Lighting",
    "Yardley Paper",
];

const PRODUCTS: [(&str, &str, i64); 10] = [
    ("BLT-100", "Hex bolts, zinc, 100 pk", 1_895),
    ("SCR-250", "Wood screws #8, 250 pk", 1_249),
    ("PNL-4X8", "Plywood panel 4x8 ft", 4_650),
    ("PNT-GAL", "Exterior paint, 1 gal", 3_899),
    ("TAP-DUC", "Duct tape, 60 yd", 799),
    ("GLV-XL", "Work gloves, XL, dozen", 2_400),
    ("LMB-2X4", "Lumber 2x4x8 ft", 589),
    ("CBL-12G", "Electrical cable 12 AWG, 50 ft", 6_725),
    ("FLT-HVAC", "HVAC filter 20x25", 1_550),
    ("SVC-DEL", "Delivery and handling", 7_500),
];

/// Loads the demo data unless it is already there.
///
/// # Errors
/// Database errors as `Internal`; nothing is written when any insert fails.
pub async fn load(
    db: &(impl ConnectionTrait + TransactionTrait),
    now: DateTime<Utc>,
) -> Result<DemoSummary, AppError> {
    let txn = crate::db::begin_write(db).await?;
    if let Some(existing) = supplier::Entity::find()
        .filter(supplier::COLUMN.legal_name.eq(SUPPLIER_NAME))
        .one(&txn)
        .await?
    {
        let _ = existing;
        let contact = demo_contact(&txn).await?;
        txn.commit().await?;
        return Ok(DemoSummary {
            created: false,
            demo_contact_id: contact.id,
            admin_password: None,
        });
    }

    supplier::ActiveModel {
        legal_name: Set(SUPPLIER_NAME.to_owned()),
        display_name: Set("Northwind Supply".to_owned()),
        email: Set("receivables@northwind-supply.test".to_owned()),
        phone: Set(Some("+1 555 010 2000".to_owned())),
        website: Set(Some("https://northwind-supply.test".to_owned())),
        remit_to: Set("Northwind Supply Co.\nPO Box 4410\nPortland, OR 97208".to_owned()),
        tin: Set(Some("93-1234567".to_owned())),
        currency: Set("USD".to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;

    let admin_password = super::tokens::new_token();
    let admin = staff::add(
        &txn,
        ADMIN_EMAIL,
        "Avery Admin",
        StaffRole::Admin,
        &admin_password,
        now,
    )
    .await?;
    staff::add(
        &txn,
        "collector@settle.test",
        "Casey Collector",
        StaffRole::Collector,
        &super::tokens::new_token(),
        now,
    )
    .await?;

    let mut rng = StdRng::seed_from_u64(2026);
    let today = now.date_naive();
    let mut demo_contact_id = None;
    for (index, company) in COMPANIES.iter().enumerate() {
        let is_vendor = index >= ACCOUNTS - VENDORS;
        let account = create_account(&txn, index, company, is_vendor, admin.id, now).await?;
        let contact_id = create_contacts(&txn, &account, index, now).await?;
        if index == 0 {
            demo_contact_id = contact_id;
        }
        if is_vendor {
            payment_method::ActiveModel {
                account_id: Set(account.id),
                kind: Set(PaymentMethodKind::BankAccount),
                brand: Set(None),
                last4: Set(format!("{:04}", 1000 + index)),
                holder_name: Set(Some(String::from(*company))),
                routing_number: Set(Some("021000021".to_owned())),
                account_number_encrypted: Set(None),
                is_default: Set(true),
                status: Set(RecordStatus::Active),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            continue;
        }
        create_documents(&txn, &mut rng, &account, index, today, now).await?;
    }
    let demo_contact_id = demo_contact_id.ok_or(AppError::Internal)?;
    create_promise_and_dispute(&txn, demo_contact_id, now).await?;
    txn.commit().await?;
    Ok(DemoSummary {
        created: true,
        demo_contact_id,
        admin_password: Some(admin_password),
    })
}

async fn demo_contact(db: &impl ConnectionTrait) -> Result<contact::Model, AppError> {
    contact::Entity::find()
        .filter(contact::COLUMN.email.eq(DEMO_CONTACT_EMAIL))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}

fn slug(company: &str) -> String {
    company.to_ascii_lowercase().replace(' ', "-")
}

async fn create_account(
    db: &impl ConnectionTrait,
    index: usize,
    company: &str,
    is_vendor: bool,
    collector_id: i64,
    now: DateTime<Utc>,
) -> Result<account::Model, AppError> {
    let account = account::ActiveModel {
        kind: Set(if is_vendor {
            AccountKind::Vendor
        } else {
            AccountKind::Customer
        }),
        account_number: Set(format!(
            "{}-{:05}",
            if is_vendor { "V" } else { "C" },
            10_001 + index
        )),
        external_id: Set(Some(format!("demo-account-{index}"))),
        legal_name: Set(format!("{company} LLC")),
        display_name: Set(company.to_owned()),
        tin_encrypted: Set(None),
        tin_last4: Set((!index.is_multiple_of(3)).then(|| format!("{:04}", 4000 + index))),
        phone: Set(Some(format!(
            "+1 555 01{:02} {:04}",
            index,
            1000 + index * 7
        ))),
        website: Set(index
            .is_multiple_of(2)
            .then(|| format!("https://{}.test", slug(company)))),
        payment_terms_days: Set(if index.is_multiple_of(4) { 45 } else { 30 }),
        credit_limit_minor: Set(Some(2_500_000 + (index as i64) * 100_000)),
        currency: Set("USD".to_owned()),
        preferred_payment_method: Set(Some(if index.is_multiple_of(2) {
            PaymentMethodKind::Ach
        } else {
            PaymentMethodKind::Card
        })),
        collector_id: Set(Some(collector_id)),
        status: Set(match index % 10 {
            7 => AccountStatus::Onboarding,
            9 => AccountStatus::OnHold,
            _ => AccountStatus::Active,
        }),
        segment: Set(Some(
            if index.is_multiple_of(3) {
                "enterprise"
            } else {
                "smb"
            }
            .to_owned(),
        )),
        verified_at: Set((index % 4 != 1).then_some(now - Duration::days(30 + index as i64 * 5))),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for kind in [AddressKind::Mailing, AddressKind::Billing] {
        address::ActiveModel {
            account_id: Set(account.id),
            kind: Set(kind),
            line1: Set(format!("{} Commerce Way", 100 + index * 3)),
            line2: Set(None),
            city: Set("Springfield".to_owned()),
            region: Set("OR".to_owned()),
            postal_code: Set(format!("97{:03}", 400 + index)),
            country: Set("US".to_owned()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(account)
}

/// Creates the account's contacts and returns the primary one's id. Every tenth account
/// has no email address at all (direct mail), and one contact's email has bounced.
async fn create_contacts(
    db: &impl ConnectionTrait,
    account: &account::Model,
    index: usize,
    now: DateTime<Utc>,
) -> Result<Option<i64>, AppError> {
    let domain = format!("{}.test", slug(&account.display_name));
    let no_email = index % 10 == 5;
    let people: [(&str, ContactRole, bool); 2] = [
        ("Accounts Payable", ContactRole::Ap, true),
        ("Controller", ContactRole::Primary, false),
    ];
    let mut primary = None;
    for (n, (role_name, role, is_billing)) in people.into_iter().enumerate() {
        let email = if no_email {
            None
        } else if index == 0 && n == 0 {
            Some(DEMO_CONTACT_EMAIL.to_owned())
        } else {
            Some(format!(
                "{}@{domain}",
                if n == 0 { "ap" } else { "controller" }
            ))
        };
        let email_status = match (index, n) {
            (3, 0) => EmailStatus::Bounced,
            (_, 0) if email.is_some() => EmailStatus::Verified,
            _ => EmailStatus::Unverified,
        };
        let row = contact::ActiveModel {
            account_id: Set(account.id),
            external_id: Set(Some(format!("demo-contact-{index}-{n}"))),
            name: Set(format!("{role_name}, {}", account.display_name)),
            email: Set(email),
            phone: Set(Some(format!("+1 555 02{:02} {:04}", index, 2000 + n))),
            role: Set(role),
            is_primary_billing: Set(is_billing),
            email_status: Set(email_status),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        if n == 0 {
            primary = Some(row.id);
        }
    }
    Ok(primary)
}

/// The account (Keystone Auto, `ap@keystone-auto.test`) whose newest invoice is long.
pub const LONG_INVOICE_ACCOUNT: usize = 10;
/// How many lines that invoice has.
pub const LONG_INVOICE_LINES: usize = 200;

/// Invoices from 0 to 200 days old, with lines; old ones mostly paid, some partly.
async fn create_documents(
    db: &impl ConnectionTrait,
    rng: &mut StdRng,
    account: &account::Model,
    index: usize,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    for n in 0..INVOICES_PER_ACCOUNT {
        // Spread issue dates evenly over ~200 days so every aging bucket is filled.
        let age = (n as i64) * 17 + rng.random_range(0..10);
        let issue_date = today - Duration::days(age);
        let due_date = issue_date + Duration::days(i64::from(account.payment_terms_days));
        // One long invoice, the newest of one account, for the dispute page's speed.
        let line_count = if index == LONG_INVOICE_ACCOUNT && n == 0 {
            LONG_INVOICE_LINES
        } else {
            rng.random_range(1..=5)
        };
        let mut lines = Vec::with_capacity(line_count);
        for line_no in 0..line_count {
            let (sku, description, price) = PRODUCTS[rng.random_range(0..PRODUCTS.len())];
            let quantity = rng.random_range(1..=40_i64);
            let amount = price * quantity;
            lines.push((
                line_no as i32 + 1,
                sku,
                description,
                quantity,
                price,
                amount,
                amount * 8 / 100,
            ));
        }
        let subtotal: i64 = lines.iter().map(|l| l.5).sum();
        let tax: i64 = lines.iter().map(|l| l.6).sum();
        let total = subtotal + tax;
        // Older invoices are mostly settled; a few stay open in every bucket.
        let paid = match age {
            0..=45 => 0,
            46..=120 if n % 3 == 0 => total / 2,
            46..=120 => 0,
            _ if n % 4 == 0 => 0,
            _ => total,
        };
        let open = total - paid;
        let number = format!("INV-{}-{:04}", 10_001 + index, n + 1);
        let doc = document::ActiveModel {
            account_id: Set(account.id),
            kind: Set(DocumentKind::Invoice),
            number: Set(number.clone()),
            external_id: Set(Some(format!("demo-{number}"))),
            po_number: Set((n % 3 == 0).then(|| format!("PO-{}-{}", 7000 + index, n))),
            issue_date: Set(issue_date),
            due_date: Set(Some(due_date)),
            currency: Set(account.currency.clone()),
            total_minor: Set(total),
            tax_minor: Set(tax),
            open_minor: Set(open),
            disputed_minor: Set(0),
            status: Set(if open == 0 {
                DocumentStatus::Paid
            } else {
                DocumentStatus::Open
            }),
            file_id: Set(None),
            upload_kind: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        document_line::Entity::insert_many(lines.into_iter().map(
            |(line_no, sku, description, quantity, price, amount, tax)| {
                document_line::ActiveModel {
                    document_id: Set(doc.id),
                    line_no: Set(line_no),
                    sku: Set(Some(sku.to_owned())),
                    description: Set(description.to_owned()),
                    quantity_milli: Set(quantity * 1000),
                    unit_price_minor: Set(price),
                    amount_minor: Set(amount),
                    tax_minor: Set(tax),
                    ..Default::default()
                }
            },
        ))
        .exec(db)
        .await?;
        if paid > 0 {
            let received = (issue_date + Duration::days(20))
                .and_hms_opt(15, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(now);
            let payment = payment::ActiveModel {
                account_id: Set(account.id),
                external_id: Set(Some(format!("demo-payment-{number}"))),
                provider: Set(PaymentProvider::Erp),
                provider_event_id: Set(None),
                provider_ref: Set(Some(format!("CHK{}", 500_000 + index * 100 + n))),
                method: Set(if n % 2 == 0 {
                    PaymentChannel::Check
                } else {
                    PaymentChannel::Ach
                }),
                amount_minor: Set(paid),
                unapplied_minor: Set(0),
                currency: Set(account.currency.clone()),
                status: Set(PaymentStatus::Succeeded),
                received_at: Set(received),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            payment_application::ActiveModel {
                payment_id: Set(payment.id),
                document_id: Set(doc.id),
                amount_minor: Set(paid),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
        }
    }
    let others = [
        (
            DocumentKind::Statement,
            format!("STM-{}-{}", 10_001 + index, today.format("%Y%m")),
        ),
        (
            DocumentKind::PurchaseOrder,
            format!("PO-{}-X", 7000 + index),
        ),
        (
            DocumentKind::BillOfLading,
            format!("BOL-{}-1", 30_000 + index),
        ),
    ];
    for (kind, number) in others {
        if kind != DocumentKind::Statement && !index.is_multiple_of(5) {
            continue;
        }
        document::ActiveModel {
            account_id: Set(account.id),
            kind: Set(kind),
            number: Set(number.clone()),
            external_id: Set(Some(format!("demo-{number}"))),
            po_number: Set(None),
            issue_date: Set(today),
            due_date: Set(None),
            currency: Set(account.currency.clone()),
            total_minor: Set(0),
            tax_minor: Set(0),
            open_minor: Set(0),
            disputed_minor: Set(0),
            status: Set(DocumentStatus::Closed),
            file_id: Set(None),
            upload_kind: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// One open promise and one open dispute on the demo contact's account.
async fn create_promise_and_dispute(
    db: &impl ConnectionTrait,
    contact_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let contact = contact::Entity::find_by_id(contact_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let open: Vec<document::Model> = document::Entity::find()
        .filter(document::COLUMN.account_id.eq(contact.account_id))
        .filter(document::COLUMN.kind.eq(DocumentKind::Invoice))
        .filter(document::COLUMN.status.eq(DocumentStatus::Open))
        .all(db)
        .await?;
    let (Some(promised), Some(disputed)) = (open.first(), open.get(1)) else {
        return Err(AppError::Internal);
    };
    let promise = promise::ActiveModel {
        account_id: Set(contact.account_id),
        contact_id: Set(Some(contact.id)),
        amount_minor: Set(promised.open_minor),
        currency: Set(promised.currency.clone()),
        promised_date: Set(now.date_naive() + Duration::days(10)),
        note: Set(Some("Paying with the next check run.".to_owned())),
        status: Set(PromiseStatus::Open),
        created_at: Set(now),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    promise_document::ActiveModel {
        promise_id: Set(promise.id),
        document_id: Set(promised.id),
        amount_minor: Set(promised.open_minor),
    }
    .insert(db)
    .await?;

    let line = document_line::Entity::find()
        .filter(document_line::COLUMN.document_id.eq(disputed.id))
        .one(db)
        .await?
        .ok_or(AppError::Internal)?;
    let disputed_minor = line.unit_price_minor.min(line.amount_minor);
    let dispute = dispute::ActiveModel {
        account_id: Set(contact.account_id),
        document_id: Set(disputed.id),
        contact_id: Set(Some(contact.id)),
        status: Set(DisputeStatus::Open),
        disputed_minor: Set(disputed_minor),
        credited_minor: Set(0),
        resolution_note: Set(None),
        assignee_id: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        resolved_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    dispute_line::ActiveModel {
        dispute_id: Set(dispute.id),
        document_line_id: Set(line.id),
        open_line_id: Set(Some(line.id)),
        reason: Set(DisputeReason::Damaged),
        disputed_quantity_milli: Set(Some(1000)),
        disputed_minor: Set(disputed_minor),
        note: Set(Some("One unit arrived damaged.".to_owned())),
        credited_minor: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    dispute_message::ActiveModel {
        dispute_id: Set(dispute.id),
        author_kind: Set(ActorKind::Contact),
        author_id: Set(Some(contact.id)),
        body: Set("Photo of the damaged unit to follow.".to_owned()),
        file_id: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    document::Entity::update_many()
        .col_expr(document::Column::DisputedMinor, Expr::value(disputed_minor))
        .filter(document::COLUMN.id.eq(disputed.id))
        .exec(db)
        .await?;
    Ok(())
}
