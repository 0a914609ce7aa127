//! Every entity against the migrated schema, on SQLite and (with `TEST_DATABASE_URL`)
//! PostgreSQL: rows read back exactly as written, and the schema's unique and foreign
//! keys refuse what they must.

use app::entities::*;
use app::model::enums::*;
use app::testing::{TestDb, databases};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::sea_query::ColumnType;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DbBackend, DbErr, EntityTrait, IdenStatic, IntoActiveModel, Iterable, ModelTrait,
    PrimaryKeyToColumn, PrimaryKeyTrait, QueryFilter, SqlErr, Statement, Value,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A fixed instant with microseconds, the finest precision both databases keep.
fn ts(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 9, 30, 0)
        .single()
        .expect("valid instant")
        + Duration::minutes(minutes)
        + Duration::microseconds(123_456)
}

fn day(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, month, day).expect("valid date")
}

fn table_of<E: EntityTrait>() -> &'static str {
    E::default().table_name()
}

/// Inserts `model` (its auto-increment id left to the database) and returns the stored row.
async fn try_insert<M, A>(t: &TestDb, model: M) -> Result<M, DbErr>
where
    M: ModelTrait + IntoActiveModel<A>,
    M::Entity: EntityTrait<Model = M>,
    A: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
{
    let mut active = model.into_active_model().reset_all();
    if <<M::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::auto_increment() {
        for key in <M::Entity as EntityTrait>::PrimaryKey::iter() {
            active.not_set(key.into_column());
        }
    }
    active.insert(&t.conn).await
}

/// Inserts `expected`, then reads the row back by its primary key and checks that both the
/// insert's result and the stored row equal `expected` (with the id the database chose).
async fn create<M, A>(t: &TestDb, expected: M) -> M
where
    M: ModelTrait + IntoActiveModel<A> + Clone + PartialEq + std::fmt::Debug,
    M::Entity: EntityTrait<Model = M>,
    A: ActiveModelTrait<Entity = M::Entity> + ActiveModelBehavior + Send,
{
    let table = table_of::<M::Entity>();
    let backend = t.backend;
    let inserted = try_insert(t, expected.clone())
        .await
        .unwrap_or_else(|e| panic!("{backend}: insert into {table}: {e}"));

    let auto = <<M::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::auto_increment();
    let mut expected = expected;
    let mut find = M::Entity::find();
    for key in <M::Entity as EntityTrait>::PrimaryKey::iter() {
        let column = key.into_column();
        let value = inserted.get(column);
        if auto {
            assert!(
                matches!(value, Value::BigInt(Some(id)) if id > 0),
                "{backend}: {table} got an id from the database, not {value:?}"
            );
            expected.set(column, value.clone());
        }
        find = find.filter(column.eq(value));
    }
    assert_eq!(
        inserted, expected,
        "{backend}: {table} as returned by the insert"
    );

    let found = find
        .one(&t.conn)
        .await
        .unwrap_or_else(|e| panic!("{backend}: read {table}: {e}"))
        .unwrap_or_else(|| panic!("{backend}: the {table} row just inserted is not found"));
    assert_eq!(found, expected, "{backend}: {table} reads back as written");
    found
}

/// Asserts that `result` failed on the named kind of constraint.
fn assert_refused<T: std::fmt::Debug>(
    result: Result<T, DbErr>,
    constraint: Constraint,
    t: &TestDb,
    what: &str,
) {
    let backend = t.backend;
    match result {
        Ok(row) => panic!("{backend}: {what} was accepted: {row:?}"),
        Err(e) => match (constraint, e.sql_err()) {
            (Constraint::Unique, Some(SqlErr::UniqueConstraintViolation(_)))
            | (Constraint::ForeignKey, Some(SqlErr::ForeignKeyConstraintViolation(_))) => {}
            (_, other) => panic!(
                "{backend}: {what} should fail on a {constraint:?} constraint, failed with {e} ({other:?})"
            ),
        },
    }
}

#[derive(Debug, Clone, Copy)]
enum Constraint {
    Unique,
    ForeignKey,
}

// ---------------------------------------------------------------------------------------------
// Fixtures: complete rows with every optional column filled, id 0 until inserted
// ---------------------------------------------------------------------------------------------

fn staff(email: &str) -> staff_user::Model {
    staff_user::Model {
        id: 0,
        email: email.to_owned(),
        name: "Casey Collector".to_owned(),
        role: StaffRole::Collector,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        active: true,
        failed_logins: 2,
        locked_until: Some(ts(30)),
        created_at: ts(0),
        updated_at: ts(1),
    }
}

fn account(number: &str, collector_id: Option<i64>) -> account::Model {
    account::Model {
        id: 0,
        kind: AccountKind::Customer,
        account_number: number.to_owned(),
        external_id: Some(format!("ERP-{number}")),
        legal_name: format!("Acme Hardware {number} LLC"),
        display_name: format!("Acme Hardware {number}"),
        tin_encrypted: Some("enc:v1:abcdef".to_owned()),
        tin_last4: Some("6789".to_owned()),
        phone: Some("+1 555 0100".to_owned()),
        website: Some("https://acme.test".to_owned()),
        payment_terms_days: 30,
        credit_limit_minor: Some(5_000_000_000_000),
        currency: "USD".to_owned(),
        preferred_payment_method: Some(PaymentMethodKind::Ach),
        collector_id,
        status: AccountStatus::Active,
        segment: Some("enterprise".to_owned()),
        verified_at: Some(ts(5)),
        verified_by: Some("Pat <pat@acme.test>".to_owned()),
        version: 3,
        created_at: ts(0),
        updated_at: ts(6),
    }
}

/// An account with every optional column empty.
fn bare_account(number: &str) -> account::Model {
    account::Model {
        external_id: None,
        tin_encrypted: None,
        tin_last4: None,
        phone: None,
        website: None,
        credit_limit_minor: None,
        preferred_payment_method: None,
        collector_id: None,
        segment: None,
        verified_at: None,
        verified_by: None,
        kind: AccountKind::Vendor,
        status: AccountStatus::Onboarding,
        ..account(number, None)
    }
}

fn contact(account_id: i64, email: &str) -> contact::Model {
    contact::Model {
        id: 0,
        account_id,
        external_id: Some(format!("ERP-C-{email}")),
        name: "Pat Payables".to_owned(),
        email: Some(email.to_owned()),
        phone: Some("+1 555 0101".to_owned()),
        role: ContactRole::Ap,
        is_primary_billing: true,
        email_status: EmailStatus::Verified,
        version: 1,
        created_at: ts(0),
        updated_at: ts(0),
    }
}

fn address(account_id: i64, kind: AddressKind) -> address::Model {
    address::Model {
        id: 0,
        account_id,
        kind,
        line1: "1 Main St".to_owned(),
        line2: Some("Suite 200".to_owned()),
        city: "Springfield".to_owned(),
        region: "IL".to_owned(),
        postal_code: "62701".to_owned(),
        country: "US".to_owned(),
        version: 1,
        created_at: ts(0),
        updated_at: ts(0),
    }
}

fn payment_method(account_id: i64) -> payment_method::Model {
    payment_method::Model {
        id: 0,
        account_id,
        kind: PaymentMethodKind::BankAccount,
        brand: Some("Chase".to_owned()),
        last4: "4321".to_owned(),
        holder_name: Some("Acme Hardware LLC".to_owned()),
        routing_number: Some("021000021".to_owned()),
        account_number_encrypted: Some("enc:v1:123456".to_owned()),
        is_default: true,
        status: RecordStatus::PendingReview,
        created_at: ts(0),
    }
}

fn stored_file(account_id: Option<i64>) -> stored_file::Model {
    stored_file::Model {
        id: 0,
        account_id,
        file_name: "INV-1001.pdf".to_owned(),
        content_type: "application/pdf".to_owned(),
        size_bytes: 3_000_000_000,
        sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".to_owned(),
        storage_path: "files/e3/b0/e3b0c442".to_owned(),
        created_at: ts(0),
    }
}

fn document(account_id: i64, number: &str, file_id: Option<i64>) -> document::Model {
    document::Model {
        id: 0,
        account_id,
        kind: DocumentKind::Invoice,
        number: number.to_owned(),
        external_id: Some(format!("ERP-D-{number}")),
        po_number: Some("PO-77".to_owned()),
        issue_date: day(1, 2),
        due_date: Some(day(2, 1)),
        currency: "USD".to_owned(),
        total_minor: 12_345_678_901,
        tax_minor: 1_234,
        open_minor: 10_000,
        disputed_minor: 500,
        status: DocumentStatus::PaymentPending,
        file_id,
        upload_kind: Some("remittance".to_owned()),
        created_at: ts(0),
        updated_at: ts(2),
    }
}

fn document_line(document_id: i64, line_no: i32) -> document_line::Model {
    document_line::Model {
        id: 0,
        document_id,
        line_no,
        sku: Some("BLT-100".to_owned()),
        description: "Hex bolts, zinc, 100 pk".to_owned(),
        quantity_milli: 2_500,
        unit_price_minor: 1_895,
        amount_minor: 4_738,
        tax_minor: 379,
    }
}

fn payment(account_id: i64, provider_event_id: Option<&str>) -> payment::Model {
    payment::Model {
        id: 0,
        account_id,
        external_id: provider_event_id.map(|e| format!("ERP-P-{e}")),
        provider: PaymentProvider::Stripe,
        provider_event_id: provider_event_id.map(str::to_owned),
        provider_ref: Some("pi_123".to_owned()),
        method: PaymentChannel::Ach,
        amount_minor: 10_000,
        unapplied_minor: 2_500,
        currency: "USD".to_owned(),
        status: PaymentStatus::Succeeded,
        received_at: ts(10),
        created_at: ts(11),
    }
}

fn payment_application(payment_id: i64, document_id: i64) -> payment_application::Model {
    payment_application::Model {
        id: 0,
        payment_id,
        document_id,
        amount_minor: 7_500,
        created_at: ts(11),
    }
}

fn payment_link(account_id: i64, contact_id: Option<i64>, key: &str) -> payment_link::Model {
    payment_link::Model {
        id: 0,
        account_id,
        contact_id,
        provider: PaymentProvider::Sandbox,
        provider_session_id: Some(format!("cs_{key}")),
        idempotency_key: key.to_owned(),
        document_ids: "[1,2,3]".to_owned(),
        amount_minor: 10_000,
        currency: "USD".to_owned(),
        status: PaymentLinkStatus::Pending,
        created_at: ts(0),
        updated_at: ts(1),
        checkout_url: Some(format!("https://pay.example/{key}")),
        method: Some(PaymentChannel::Card),
    }
}

fn promise(account_id: i64, contact_id: Option<i64>) -> promise::Model {
    promise::Model {
        id: 0,
        account_id,
        contact_id,
        amount_minor: 9_000,
        currency: "USD".to_owned(),
        promised_date: day(2, 28),
        note: Some("Paying after our month-end close".to_owned()),
        status: PromiseStatus::PartiallyKept,
        created_at: ts(0),
        resolved_at: Some(ts(60)),
    }
}

fn dispute(account_id: i64, document_id: i64, contact_id: Option<i64>) -> dispute::Model {
    dispute::Model {
        id: 0,
        account_id,
        document_id,
        contact_id,
        status: DisputeStatus::Open,
        disputed_minor: 4_738,
        credited_minor: 1_000,
        resolution_note: Some("Credited the damaged part".to_owned()),
        assignee_id: None,
        version: 2,
        created_at: ts(0),
        updated_at: ts(3),
        resolved_at: Some(ts(4)),
    }
}

fn dispute_line(dispute_id: i64, line_id: i64, open: bool) -> dispute_line::Model {
    dispute_line::Model {
        id: 0,
        dispute_id,
        document_line_id: line_id,
        open_line_id: open.then_some(line_id),
        reason: DisputeReason::Damaged,
        disputed_quantity_milli: Some(1_000),
        disputed_minor: 1_895,
        note: Some("Box arrived crushed".to_owned()),
        credited_minor: Some(1_000),
        created_at: ts(0),
    }
}

fn magic_link(contact_id: i64, account_id: i64, token_hash: &str) -> magic_link::Model {
    magic_link::Model {
        id: 0,
        token_hash: token_hash.to_owned(),
        contact_id,
        account_id,
        purpose: LinkPurpose::Pay,
        scope: Some("documents:1,2".to_owned()),
        created_by_kind: ActorKind::Staff,
        created_by_id: Some(7),
        created_at: ts(0),
        expires_at: ts(60 * 24 * 7),
        consumed_at: Some(ts(5)),
        revoked_at: Some(ts(6)),
        code_hash: Some("c0de".to_owned()),
        code_attempts: 2,
    }
}

fn session(id_hash: &str) -> session::Model {
    session::Model {
        id: 0,
        id_hash: id_hash.to_owned(),
        principal_kind: PrincipalKind::Contact,
        contact_id: None,
        account_id: None,
        staff_user_id: None,
        purpose: Some(LinkPurpose::Profile),
        scope: Some("profile".to_owned()),
        created_at: ts(0),
        last_seen_at: ts(20),
        expires_at: ts(60 * 12),
        revoked_at: Some(ts(30)),
    }
}

fn audit_event(account_id: Option<i64>, hash: &str) -> audit_event::Model {
    audit_event::Model {
        id: 0,
        occurred_at: ts(0),
        actor_kind: ActorKind::Contact,
        actor_id: Some(12),
        channel: Channel::MagicLink,
        account_id,
        entity: "contacts".to_owned(),
        entity_id: Some(12),
        field: Some("email".to_owned()),
        old_value: Some("old@acme.test".to_owned()),
        new_value: Some("new@acme.test".to_owned()),
        request_id: Some("req-1".to_owned()),
        client_ip: Some("203.0.113.9".to_owned()),
        prev_hash: "0".repeat(64),
        hash: hash.to_owned(),
    }
}

fn template(key: &str) -> template::Model {
    template::Model {
        id: 0,
        key: key.to_owned(),
        channel: TemplateChannel::Email,
        name: "Friendly reminder".to_owned(),
        subject: "Invoice {{number}} is due".to_owned(),
        body_text: "Hello {{name}}, …".to_owned(),
        body_html: Some("<p>Hello {{name}}, …</p>".to_owned()),
        version: 4,
        updated_at: ts(0),
    }
}

fn reminder_rule() -> reminder_rule::Model {
    reminder_rule::Model {
        id: 0,
        name: "Standard net-30".to_owned(),
        scope: Some("segment=enterprise".to_owned()),
        active: false,
        version: 2,
        created_at: ts(0),
        updated_at: ts(1),
    }
}

fn reminder_step(rule_id: i64, position: i32, template_id: Option<i64>) -> reminder_step::Model {
    reminder_step::Model {
        id: 0,
        rule_id,
        position,
        trigger: StepTrigger::DaysPastDue,
        days: -3,
        action: StepAction::Email,
        template_id,
    }
}

fn outbox_email(message_id: &str, to_contact_id: Option<i64>) -> outbox_email::Model {
    outbox_email::Model {
        id: 0,
        message_id: message_id.to_owned(),
        to_address: "ap@acme.test".to_owned(),
        to_contact_id,
        subject: "Invoice INV-1 is due".to_owned(),
        body_text: "Hello".to_owned(),
        body_html: Some("<p>Hello</p>".to_owned()),
        template_key: Some("reminder".to_owned()),
        status: OutboxStatus::Sending,
        attempts: 2,
        next_attempt_at: ts(15),
        claimed_until: Some(ts(16)),
        last_error: Some("421 try again later".to_owned()),
        created_at: ts(0),
        sent_at: Some(ts(17)),
    }
}

fn campaign(created_by: Option<i64>) -> campaign::Model {
    campaign::Model {
        id: 0,
        name: "Spring profile refresh".to_owned(),
        kind: CampaignKind::ProfileUpdate,
        filter: Some("status=active".to_owned()),
        status: CampaignStatus::Running,
        created_by,
        created_at: ts(0),
    }
}

fn campaign_target(
    campaign_id: i64,
    account_id: i64,
    contact_id: Option<i64>,
) -> campaign_target::Model {
    campaign_target::Model {
        id: 0,
        campaign_id,
        account_id,
        contact_id,
        status: TargetStatus::Opened,
        follow_ups: 1,
        last_sent_at: Some(ts(9)),
    }
}

/// An account with a contact and an invoice of two lines: the parents most groups need.
struct Invoice {
    account: account::Model,
    contact: contact::Model,
    document: document::Model,
    lines: [document_line::Model; 2],
}

async fn invoice(t: &TestDb, number: &str) -> Invoice {
    let account = create(t, account(number, None)).await;
    let contact = create(t, contact(account.id, &format!("ap-{number}@acme.test"))).await;
    let document = create(t, document(account.id, &format!("INV-{number}"), None)).await;
    let lines = [
        create(t, document_line(document.id, 1)).await,
        create(t, document_line(document.id, 2)).await,
    ];
    Invoice {
        account,
        contact,
        document,
        lines,
    }
}

// ---------------------------------------------------------------------------------------------
// Accounts, contacts, addresses, payment methods
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn accounts_contacts_addresses_and_payment_methods_read_back_as_written() {
    for t in databases("entities_accounts_read_back").await {
        let collector = create(&t, staff("collector@supplier.test")).await;
        let full = create(&t, account("A-1", Some(collector.id))).await;
        create(&t, bare_account("A-2")).await;
        create(&t, contact(full.id, "ap@acme.test")).await;
        create(
            &t,
            contact::Model {
                external_id: None,
                email: None,
                phone: None,
                role: ContactRole::Other,
                is_primary_billing: false,
                email_status: EmailStatus::ReportedWrong,
                ..contact(full.id, "unused")
            },
        )
        .await;
        create(&t, address(full.id, AddressKind::RemitTo)).await;
        create(
            &t,
            address::Model {
                line2: None,
                ..address(full.id, AddressKind::Shipping)
            },
        )
        .await;
        create(&t, payment_method(full.id)).await;
        create(
            &t,
            payment_method::Model {
                kind: PaymentMethodKind::Card,
                brand: None,
                holder_name: None,
                routing_number: None,
                account_number_encrypted: None,
                is_default: false,
                status: RecordStatus::Removed,
                ..payment_method(full.id)
            },
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_account_number_is_refused() {
    for t in databases("entities_accounts_duplicate_number").await {
        create(&t, bare_account("A-1")).await;
        let again = try_insert(&t, bare_account("A-1")).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second account numbered A-1",
        );
    }
}

#[tokio::test]
async fn external_ids_are_unique_but_many_may_be_missing() {
    for t in databases("entities_accounts_external_id").await {
        create(&t, account("A-1", None)).await;
        let same_external = account::Model {
            external_id: Some("ERP-A-1".to_owned()),
            ..account("A-2", None)
        };
        assert_refused(
            try_insert(&t, same_external).await,
            Constraint::Unique,
            &t,
            "a second account with external id ERP-A-1",
        );
        create(&t, bare_account("A-3")).await;
        create(&t, bare_account("A-4")).await;
    }
}

#[tokio::test]
async fn contact_of_a_missing_account_is_refused() {
    for t in databases("entities_accounts_orphan_contact").await {
        let orphan = try_insert(&t, contact(999_999, "ghost@nowhere.test")).await;
        assert_refused(
            orphan,
            Constraint::ForeignKey,
            &t,
            "a contact of account 999999",
        );
    }
}

#[tokio::test]
async fn second_address_of_the_same_kind_is_refused() {
    for t in databases("entities_accounts_duplicate_address").await {
        let acct = create(&t, bare_account("A-1")).await;
        create(&t, address(acct.id, AddressKind::Billing)).await;
        create(&t, address(acct.id, AddressKind::Mailing)).await;
        let again = try_insert(&t, address(acct.id, AddressKind::Billing)).await;
        assert_refused(again, Constraint::Unique, &t, "a second billing address");
    }
}

#[tokio::test]
async fn deleting_an_account_deletes_its_contacts_addresses_and_payment_methods() {
    for t in databases("entities_accounts_cascade").await {
        let backend = t.backend;
        let acct = create(&t, bare_account("A-1")).await;
        create(&t, contact(acct.id, "ap@acme.test")).await;
        create(&t, address(acct.id, AddressKind::Billing)).await;
        create(&t, payment_method(acct.id)).await;
        account::Entity::delete_by_id(acct.id)
            .exec(&t.conn)
            .await
            .unwrap_or_else(|e| panic!("{backend}: delete the account: {e}"));
        let left = (
            contact::Entity::find()
                .all(&t.conn)
                .await
                .expect("contacts")
                .len(),
            address::Entity::find()
                .all(&t.conn)
                .await
                .expect("addresses")
                .len(),
            payment_method::Entity::find()
                .all(&t.conn)
                .await
                .expect("payment methods")
                .len(),
        );
        assert_eq!(
            left,
            (0, 0, 0),
            "{backend}: children left after the account went"
        );
    }
}

#[tokio::test]
async fn deleting_a_collector_unassigns_their_accounts() {
    for t in databases("entities_accounts_collector_set_null").await {
        let backend = t.backend;
        let collector = create(&t, staff("collector@supplier.test")).await;
        let acct = create(&t, account("A-1", Some(collector.id))).await;
        staff_user::Entity::delete_by_id(collector.id)
            .exec(&t.conn)
            .await
            .unwrap_or_else(|e| panic!("{backend}: delete the collector: {e}"));
        let after = account::Entity::find_by_id(acct.id)
            .one(&t.conn)
            .await
            .expect("read the account")
            .expect("the account is still there");
        assert_eq!(
            after.collector_id, None,
            "{backend}: collector_id after the collector went"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Documents, lines, stored files
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn documents_lines_and_stored_files_read_back_as_written() {
    for t in databases("entities_documents_read_back").await {
        let acct = create(&t, account("A-1", None)).await;
        let file = create(&t, stored_file(Some(acct.id))).await;
        create(&t, stored_file(None)).await;
        let doc = create(&t, document(acct.id, "INV-1", Some(file.id))).await;
        create(
            &t,
            document::Model {
                kind: DocumentKind::CustomerUpload,
                external_id: None,
                po_number: None,
                due_date: None,
                file_id: None,
                upload_kind: None,
                status: DocumentStatus::Void,
                ..document(acct.id, "UP-1", None)
            },
        )
        .await;
        create(&t, document_line(doc.id, 1)).await;
        create(
            &t,
            document_line::Model {
                sku: None,
                ..document_line(doc.id, 2)
            },
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_line_number_on_a_document_is_refused() {
    for t in databases("entities_documents_duplicate_line").await {
        let acct = create(&t, bare_account("A-1")).await;
        let first = create(&t, document(acct.id, "INV-1", None)).await;
        let second = create(&t, document(acct.id, "INV-2", None)).await;
        create(&t, document_line(first.id, 1)).await;
        create(&t, document_line(second.id, 1)).await;
        let again = try_insert(&t, document_line(first.id, 1)).await;
        assert_refused(again, Constraint::Unique, &t, "a second line 1 on INV-1");
    }
}

#[tokio::test]
async fn duplicate_document_number_of_the_same_kind_is_refused() {
    for t in databases("entities_documents_duplicate_number").await {
        let a = create(&t, bare_account("A-1")).await;
        let b = create(&t, bare_account("A-2")).await;
        create(&t, document(a.id, "1001", None)).await;
        // The same number is fine for another kind of document.
        create(
            &t,
            document::Model {
                kind: DocumentKind::CreditMemo,
                external_id: None,
                ..document(a.id, "1001", None)
            },
        )
        .await;
        let again = document::Model {
            external_id: None,
            ..document(b.id, "1001", None)
        };
        assert_refused(
            try_insert(&t, again).await,
            Constraint::Unique,
            &t,
            "a second invoice 1001",
        );
    }
}

#[tokio::test]
async fn document_of_a_missing_file_is_refused() {
    for t in databases("entities_documents_orphan_file").await {
        let acct = create(&t, bare_account("A-1")).await;
        let orphan = try_insert(&t, document(acct.id, "INV-1", Some(999_999))).await;
        assert_refused(
            orphan,
            Constraint::ForeignKey,
            &t,
            "a document of file 999999",
        );
    }
}

#[tokio::test]
async fn deleting_a_document_deletes_its_lines() {
    for t in databases("entities_documents_cascade").await {
        let backend = t.backend;
        let acct = create(&t, bare_account("A-1")).await;
        let doc = create(&t, document(acct.id, "INV-1", None)).await;
        create(&t, document_line(doc.id, 1)).await;
        document::Entity::delete_by_id(doc.id)
            .exec(&t.conn)
            .await
            .unwrap_or_else(|e| panic!("{backend}: delete the document: {e}"));
        let left = document_line::Entity::find()
            .all(&t.conn)
            .await
            .expect("lines");
        assert!(
            left.is_empty(),
            "{backend}: lines left after their document went: {left:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Payments, applications, payment links
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn payments_applications_and_payment_links_read_back_as_written() {
    for t in databases("entities_payments_read_back").await {
        let inv = invoice(&t, "A-1").await;
        let paid = create(&t, payment(inv.account.id, Some("evt_1"))).await;
        create(
            &t,
            payment::Model {
                provider: PaymentProvider::Manual,
                provider_ref: None,
                method: PaymentChannel::Check,
                status: PaymentStatus::Pending,
                ..payment(inv.account.id, None)
            },
        )
        .await;
        create(&t, payment_application(paid.id, inv.document.id)).await;
        create(
            &t,
            payment_link(inv.account.id, Some(inv.contact.id), "key-1"),
        )
        .await;
        create(
            &t,
            payment_link::Model {
                provider_session_id: None,
                status: PaymentLinkStatus::Expired,
                ..payment_link(inv.account.id, None, "key-2")
            },
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_provider_event_id_is_refused() {
    for t in databases("entities_payments_duplicate_event").await {
        let acct = create(&t, bare_account("A-1")).await;
        create(&t, payment(acct.id, Some("evt_1"))).await;
        // Payments entered by hand have no event id, and there may be many.
        create(&t, payment(acct.id, None)).await;
        create(&t, payment(acct.id, None)).await;
        let replay = payment::Model {
            external_id: None,
            ..payment(acct.id, Some("evt_1"))
        };
        assert_refused(
            try_insert(&t, replay).await,
            Constraint::Unique,
            &t,
            "a second payment for event evt_1",
        );
    }
}

#[tokio::test]
async fn applying_a_payment_twice_to_one_document_is_refused() {
    for t in databases("entities_payments_duplicate_application").await {
        let inv = invoice(&t, "A-1").await;
        let paid = create(&t, payment(inv.account.id, Some("evt_1"))).await;
        create(&t, payment_application(paid.id, inv.document.id)).await;
        let again = try_insert(&t, payment_application(paid.id, inv.document.id)).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second application to INV-A-1",
        );
    }
}

#[tokio::test]
async fn duplicate_payment_link_idempotency_key_is_refused() {
    for t in databases("entities_payments_duplicate_link_key").await {
        let acct = create(&t, bare_account("A-1")).await;
        create(&t, payment_link(acct.id, None, "key-1")).await;
        let again = payment_link::Model {
            provider_session_id: None,
            ..payment_link(acct.id, None, "key-1")
        };
        assert_refused(
            try_insert(&t, again).await,
            Constraint::Unique,
            &t,
            "a second payment link with key-1",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Promises and disputes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn promises_and_disputes_read_back_as_written() {
    for t in databases("entities_promises_disputes_read_back").await {
        let inv = invoice(&t, "A-1").await;
        let assignee = create(&t, staff("collector@supplier.test")).await;
        let kept = create(&t, promise(inv.account.id, Some(inv.contact.id))).await;
        create(
            &t,
            promise::Model {
                contact_id: None,
                note: None,
                status: PromiseStatus::Open,
                resolved_at: None,
                ..promise(inv.account.id, None)
            },
        )
        .await;
        create(
            &t,
            promise_document::Model {
                promise_id: kept.id,
                document_id: inv.document.id,
                amount_minor: 9_000,
            },
        )
        .await;

        let open = create(
            &t,
            dispute::Model {
                assignee_id: Some(assignee.id),
                ..dispute(inv.account.id, inv.document.id, Some(inv.contact.id))
            },
        )
        .await;
        create(
            &t,
            dispute::Model {
                status: DisputeStatus::Draft,
                resolution_note: None,
                resolved_at: None,
                ..dispute(inv.account.id, inv.document.id, None)
            },
        )
        .await;
        create(&t, dispute_line(open.id, inv.lines[0].id, true)).await;
        create(
            &t,
            dispute_line::Model {
                reason: DisputeReason::Price,
                disputed_quantity_milli: None,
                note: None,
                credited_minor: None,
                ..dispute_line(open.id, inv.lines[1].id, false)
            },
        )
        .await;

        let file = create(&t, stored_file(Some(inv.account.id))).await;
        let message = |author_id, file_id| dispute_message::Model {
            id: 0,
            dispute_id: open.id,
            author_kind: ActorKind::Contact,
            author_id,
            body: "Photos attached".to_owned(),
            file_id,
            created_at: ts(2),
        };
        create(&t, message(Some(inv.contact.id), Some(file.id))).await;
        create(&t, message(None, None)).await;
    }
}

#[tokio::test]
async fn second_open_dispute_of_the_same_invoice_line_is_refused() {
    for t in databases("entities_disputes_second_open_line").await {
        let inv = invoice(&t, "A-1").await;
        let first = create(&t, dispute(inv.account.id, inv.document.id, None)).await;
        let second = create(&t, dispute(inv.account.id, inv.document.id, None)).await;
        create(&t, dispute_line(first.id, inv.lines[0].id, true)).await;
        // Another line of the same invoice may be disputed at the same time.
        create(&t, dispute_line(second.id, inv.lines[1].id, true)).await;
        let again = try_insert(&t, dispute_line(second.id, inv.lines[0].id, true)).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second open dispute of line 1",
        );
    }
}

#[tokio::test]
async fn closed_dispute_lines_free_the_invoice_line_for_a_new_dispute() {
    for t in databases("entities_disputes_closed_line").await {
        let backend = t.backend;
        let inv = invoice(&t, "A-1").await;
        let first = create(&t, dispute(inv.account.id, inv.document.id, None)).await;
        let line = create(&t, dispute_line(first.id, inv.lines[0].id, true)).await;
        // Two closed disputes of the same line coexist.
        create(&t, dispute_line(first.id, inv.lines[0].id, false)).await;

        let mut closing = line.into_active_model();
        closing.open_line_id = Set(None);
        closing
            .update(&t.conn)
            .await
            .unwrap_or_else(|e| panic!("{backend}: close the dispute line: {e}"));

        let second = create(&t, dispute(inv.account.id, inv.document.id, None)).await;
        create(&t, dispute_line(second.id, inv.lines[0].id, true)).await;
    }
}

#[tokio::test]
async fn promise_covering_the_same_document_twice_is_refused() {
    for t in databases("entities_promises_duplicate_document").await {
        let inv = invoice(&t, "A-1").await;
        let kept = create(&t, promise(inv.account.id, None)).await;
        let covers = promise_document::Model {
            promise_id: kept.id,
            document_id: inv.document.id,
            amount_minor: 100,
        };
        create(&t, covers.clone()).await;
        assert_refused(
            try_insert(&t, covers).await,
            Constraint::Unique,
            &t,
            "the same document twice in one promise",
        );
    }
}

#[tokio::test]
async fn dispute_line_of_a_missing_invoice_line_is_refused() {
    for t in databases("entities_disputes_orphan_line").await {
        let inv = invoice(&t, "A-1").await;
        let open = create(&t, dispute(inv.account.id, inv.document.id, None)).await;
        let orphan = try_insert(&t, dispute_line(open.id, 999_999, false)).await;
        assert_refused(
            orphan,
            Constraint::ForeignKey,
            &t,
            "a dispute of line 999999",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Magic links, sessions, staff users, the supplier
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn magic_links_sessions_staff_users_and_supplier_read_back_as_written() {
    for t in databases("entities_access_read_back").await {
        let admin = create(&t, staff("admin@supplier.test")).await;
        create(
            &t,
            staff_user::Model {
                role: StaffRole::Viewer,
                active: false,
                failed_logins: 0,
                locked_until: None,
                ..staff("viewer@supplier.test")
            },
        )
        .await;
        let inv = invoice(&t, "A-1").await;
        create(&t, magic_link(inv.contact.id, inv.account.id, "hash-1")).await;
        create(
            &t,
            magic_link::Model {
                purpose: LinkPurpose::Portal,
                scope: None,
                created_by_kind: ActorKind::System,
                created_by_id: None,
                consumed_at: None,
                revoked_at: None,
                ..magic_link(inv.contact.id, inv.account.id, "hash-2")
            },
        )
        .await;
        create(
            &t,
            session::Model {
                contact_id: Some(inv.contact.id),
                account_id: Some(inv.account.id),
                ..session("session-1")
            },
        )
        .await;
        create(
            &t,
            session::Model {
                principal_kind: PrincipalKind::Staff,
                staff_user_id: Some(admin.id),
                purpose: None,
                scope: None,
                revoked_at: None,
                ..session("session-2")
            },
        )
        .await;
        let supplier = supplier::Model {
            id: 0,
            legal_name: "Northwind Supply Co.".to_owned(),
            display_name: "Northwind".to_owned(),
            email: "ar@northwind.test".to_owned(),
            phone: Some("+1 555 0199".to_owned()),
            website: Some("https://northwind.test".to_owned()),
            remit_to: "PO Box 1, Springfield".to_owned(),
            tin: Some("12-3456789".to_owned()),
            currency: "USD".to_owned(),
            created_at: ts(0),
            updated_at: ts(1),
        };
        create(&t, supplier.clone()).await;
        create(
            &t,
            supplier::Model {
                phone: None,
                website: None,
                tin: None,
                ..supplier
            },
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_staff_email_is_refused() {
    for t in databases("entities_access_duplicate_staff_email").await {
        create(&t, staff("admin@supplier.test")).await;
        let again = try_insert(&t, staff("admin@supplier.test")).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second admin@supplier.test",
        );
    }
}

#[tokio::test]
async fn duplicate_magic_link_token_hash_is_refused() {
    for t in databases("entities_access_duplicate_token").await {
        let inv = invoice(&t, "A-1").await;
        create(&t, magic_link(inv.contact.id, inv.account.id, "hash-1")).await;
        let again = try_insert(&t, magic_link(inv.contact.id, inv.account.id, "hash-1")).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second link with token hash-1",
        );
    }
}

#[tokio::test]
async fn duplicate_session_id_hash_is_refused() {
    for t in databases("entities_access_duplicate_session").await {
        create(&t, session("session-1")).await;
        let again = try_insert(&t, session("session-1")).await;
        assert_refused(again, Constraint::Unique, &t, "a second session-1");
    }
}

#[tokio::test]
async fn deleting_a_contact_ends_their_links_and_sessions() {
    for t in databases("entities_access_cascade").await {
        let backend = t.backend;
        let inv = invoice(&t, "A-1").await;
        create(&t, magic_link(inv.contact.id, inv.account.id, "hash-1")).await;
        create(
            &t,
            session::Model {
                contact_id: Some(inv.contact.id),
                ..session("s-1")
            },
        )
        .await;
        contact::Entity::delete_by_id(inv.contact.id)
            .exec(&t.conn)
            .await
            .unwrap_or_else(|e| panic!("{backend}: delete the contact: {e}"));
        let left = (
            magic_link::Entity::find()
                .all(&t.conn)
                .await
                .expect("links")
                .len(),
            session::Entity::find()
                .all(&t.conn)
                .await
                .expect("sessions")
                .len(),
        );
        assert_eq!(
            left,
            (0, 0),
            "{backend}: links and sessions left after the contact went"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Audit events, messages, tasks
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn audit_events_messages_and_tasks_read_back_as_written() {
    for t in databases("entities_audit_read_back").await {
        let inv = invoice(&t, "A-1").await;
        let collector = create(&t, staff("collector@supplier.test")).await;
        create(&t, audit_event(Some(inv.account.id), "hash-1")).await;
        create(
            &t,
            audit_event::Model {
                actor_kind: ActorKind::System,
                actor_id: None,
                channel: Channel::System,
                entity_id: None,
                field: None,
                old_value: None,
                new_value: None,
                request_id: None,
                client_ip: None,
                prev_hash: "hash-1".to_owned(),
                ..audit_event(None, "hash-2")
            },
        )
        .await;

        create(
            &t,
            message::Model {
                id: 0,
                account_id: inv.account.id,
                document_id: Some(inv.document.id),
                author_kind: ActorKind::Contact,
                author_contact_id: Some(inv.contact.id),
                author_staff_id: None,
                body: "Could you resend the PDF?".to_owned(),
                created_at: ts(0),
                read_at: Some(ts(3)),
            },
        )
        .await;
        create(
            &t,
            message::Model {
                id: 0,
                account_id: inv.account.id,
                document_id: None,
                author_kind: ActorKind::Staff,
                author_contact_id: None,
                author_staff_id: Some(collector.id),
                body: "Sent.".to_owned(),
                created_at: ts(4),
                read_at: None,
            },
        )
        .await;

        let task = task::Model {
            id: 0,
            account_id: Some(inv.account.id),
            kind: TaskKind::BrokenPromise,
            title: "Call about the broken promise".to_owned(),
            related_kind: Some("promise".to_owned()),
            related_id: Some(1),
            due_date: Some(day(3, 1)),
            priority: 2,
            assignee_id: Some(collector.id),
            status: TaskStatus::Done,
            outcome: Some("Will pay Friday".to_owned()),
            created_at: ts(0),
            updated_at: ts(1),
            completed_at: Some(ts(2)),
        };
        create(&t, task.clone()).await;
        create(
            &t,
            task::Model {
                account_id: None,
                kind: TaskKind::Review,
                related_kind: None,
                related_id: None,
                due_date: None,
                assignee_id: None,
                status: TaskStatus::Open,
                outcome: None,
                completed_at: None,
                ..task
            },
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_audit_hash_is_refused() {
    for t in databases("entities_audit_duplicate_hash").await {
        create(&t, audit_event(None, "hash-1")).await;
        let again = try_insert(&t, audit_event(None, "hash-1")).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second audit event with hash-1",
        );
    }
}

#[tokio::test]
async fn account_with_audit_history_cannot_be_deleted() {
    for t in databases("entities_audit_restrict").await {
        let acct = create(&t, bare_account("A-1")).await;
        create(&t, audit_event(Some(acct.id), "hash-1")).await;
        let deleted = account::Entity::delete_by_id(acct.id).exec(&t.conn).await;
        assert_refused(
            deleted,
            Constraint::ForeignKey,
            &t,
            "deleting an audited account",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Reminder rules, steps, touches, templates, outbox, campaigns
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn reminders_templates_outbox_and_campaigns_read_back_as_written() {
    for t in databases("entities_automation_read_back").await {
        let inv = invoice(&t, "A-1").await;
        let author = create(&t, staff("admin@supplier.test")).await;
        let tpl = create(&t, template("reminder")).await;
        create(
            &t,
            template::Model {
                channel: TemplateChannel::Letter,
                body_html: None,
                ..template("letter")
            },
        )
        .await;
        let rule = create(&t, reminder_rule()).await;
        create(
            &t,
            reminder_rule::Model {
                scope: None,
                active: true,
                ..reminder_rule()
            },
        )
        .await;
        let step = create(&t, reminder_step(rule.id, 1, Some(tpl.id))).await;
        create(
            &t,
            reminder_step::Model {
                trigger: StepTrigger::InvoiceAge,
                action: StepAction::Call,
                days: 45,
                ..reminder_step(rule.id, 2, None)
            },
        )
        .await;
        create(
            &t,
            reminder_touch::Model {
                id: 0,
                document_id: inv.document.id,
                step_id: step.id,
                fired_at: ts(8),
            },
        )
        .await;

        create(&t, outbox_email("<1@settle.test>", Some(inv.contact.id))).await;
        create(
            &t,
            outbox_email::Model {
                body_html: None,
                template_key: None,
                status: OutboxStatus::Pending,
                attempts: 0,
                claimed_until: None,
                last_error: None,
                sent_at: None,
                ..outbox_email("<2@settle.test>", None)
            },
        )
        .await;

        let running = create(&t, campaign(Some(author.id))).await;
        create(
            &t,
            campaign::Model {
                kind: CampaignKind::DirectMail,
                filter: None,
                status: CampaignStatus::Draft,
                ..campaign(None)
            },
        )
        .await;
        create(
            &t,
            campaign_target(running.id, inv.account.id, Some(inv.contact.id)),
        )
        .await;
        let other = create(&t, bare_account("A-2")).await;
        create(
            &t,
            campaign_target::Model {
                status: TargetStatus::Pending,
                follow_ups: 0,
                last_sent_at: None,
                ..campaign_target(running.id, other.id, None)
            },
        )
        .await;
    }
}

#[tokio::test]
async fn reminder_step_firing_twice_for_one_document_is_refused() {
    for t in databases("entities_automation_duplicate_touch").await {
        let inv = invoice(&t, "A-1").await;
        let rule = create(&t, reminder_rule()).await;
        let step = create(&t, reminder_step(rule.id, 1, None)).await;
        let touch = reminder_touch::Model {
            id: 0,
            document_id: inv.document.id,
            step_id: step.id,
            fired_at: ts(8),
        };
        create(&t, touch.clone()).await;
        let again = try_insert(
            &t,
            reminder_touch::Model {
                fired_at: ts(9),
                ..touch
            },
        )
        .await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "step 1 firing twice for INV-A-1",
        );
    }
}

#[tokio::test]
async fn two_steps_at_the_same_position_of_a_rule_are_refused() {
    for t in databases("entities_automation_duplicate_step").await {
        let rule = create(&t, reminder_rule()).await;
        create(&t, reminder_step(rule.id, 1, None)).await;
        let again = try_insert(&t, reminder_step(rule.id, 1, None)).await;
        assert_refused(again, Constraint::Unique, &t, "a second step at position 1");
    }
}

#[tokio::test]
async fn duplicate_template_key_is_refused() {
    for t in databases("entities_automation_duplicate_template").await {
        create(&t, template("reminder")).await;
        let again = try_insert(&t, template("reminder")).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second template keyed reminder",
        );
    }
}

#[tokio::test]
async fn duplicate_outbox_message_id_is_refused() {
    for t in databases("entities_automation_duplicate_outbox").await {
        create(&t, outbox_email("<1@settle.test>", None)).await;
        let again = try_insert(&t, outbox_email("<1@settle.test>", None)).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second email <1@settle.test>",
        );
    }
}

#[tokio::test]
async fn account_targeted_twice_by_one_campaign_is_refused() {
    for t in databases("entities_automation_duplicate_target").await {
        let acct = create(&t, bare_account("A-1")).await;
        let running = create(&t, campaign(None)).await;
        create(&t, campaign_target(running.id, acct.id, None)).await;
        let again = try_insert(&t, campaign_target(running.id, acct.id, None)).await;
        assert_refused(
            again,
            Constraint::Unique,
            &t,
            "a second target for account A-1",
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The migrated schema against the entity definitions
// ---------------------------------------------------------------------------------------------

/// A column as the entity declares it or as the database has it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ColumnShape {
    name: String,
    /// A backend-neutral type name: text, integer, bigint, boolean, date or timestamptz
    /// (SQLite has one integer type, so there both widths are "integer").
    kind: String,
    nullable: bool,
}

/// What an entity declares: its table, columns, and single-column unique keys.
#[derive(Debug, PartialEq, Eq)]
struct TableShape {
    table: String,
    columns: Vec<ColumnShape>,
    unique: Vec<String>,
}

fn entity_kind(column_type: &ColumnType, backend: DbBackend) -> String {
    let kind = match column_type {
        ColumnType::String(_) | ColumnType::Text => "text",
        ColumnType::Integer if backend == DbBackend::Sqlite => "integer",
        ColumnType::BigInteger if backend == DbBackend::Sqlite => "integer",
        ColumnType::Integer => "integer",
        ColumnType::BigInteger => "bigint",
        ColumnType::Boolean => "boolean",
        ColumnType::Date => "date",
        ColumnType::TimestampWithTimeZone => "timestamptz",
        other => panic!("an entity column type the migrations do not use: {other:?}"),
    };
    kind.to_owned()
}

fn database_kind(data_type: &str) -> String {
    let lower = data_type.to_ascii_lowercase();
    let kind = match lower.as_str() {
        "varchar" | "text" | "character varying" => "text",
        "integer" => "integer",
        "bigint" => "bigint",
        "boolean" | "bool" => "boolean",
        "date" | "date_text" => "date",
        "timestamp with time zone" | "timestamp_with_timezone_text" => "timestamptz",
        other => other,
    };
    kind.to_owned()
}

fn entity_shape<E: EntityTrait>(entity: E, backend: DbBackend) -> TableShape {
    let mut columns = Vec::new();
    let mut unique = Vec::new();
    for column in E::Column::iter() {
        let def = column.def();
        columns.push(ColumnShape {
            name: column.as_str().to_owned(),
            kind: entity_kind(def.get_column_type(), backend),
            nullable: def.is_null(),
        });
        if def.is_unique() {
            unique.push(column.as_str().to_owned());
        }
    }
    columns.sort();
    unique.sort();
    TableShape {
        table: entity.table_name().to_owned(),
        columns,
        unique,
    }
}

async fn strings(t: &TestDb, sql: &str, table: &str) -> Vec<(String, String, i64)> {
    let backend = t.conn.get_database_backend();
    let rows = t
        .conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, [table.into()]))
        .await
        .unwrap_or_else(|e| panic!("{}: {sql}: {e}", t.backend));
    rows.iter()
        .map(|row| {
            (
                row.try_get::<String>("", "a").expect("column a"),
                row.try_get::<String>("", "b").expect("column b"),
                row.try_get::<i64>("", "c").expect("column c"),
            )
        })
        .collect()
}

async fn database_shape(t: &TestDb, table: &str) -> TableShape {
    let (columns_sql, unique_sql) = match t.conn.get_database_backend() {
        DbBackend::Sqlite => (
            r#"SELECT name AS a, type AS b, CAST("notnull" AS INTEGER) AS c
               FROM pragma_table_info(?)"#,
            r#"SELECT min(ii.name) AS a, '' AS b, CAST(0 AS INTEGER) AS c
               FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii
               WHERE il."unique" = 1 AND il.origin <> 'pk'
               GROUP BY il.name HAVING count(*) = 1"#,
        ),
        _ => (
            "SELECT column_name::text AS a, data_type::text AS b,
                    CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END::bigint AS c
             FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            "SELECT a.attname::text AS a, ''::text AS b, 0::bigint AS c
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
             WHERE n.nspname = current_schema() AND c.relname = $1
               AND i.indisunique AND NOT i.indisprimary AND i.indnatts = 1",
        ),
    };
    let mut columns: Vec<ColumnShape> = strings(t, columns_sql, table)
        .await
        .into_iter()
        .map(|(name, data_type, not_null)| ColumnShape {
            name,
            kind: database_kind(&data_type),
            nullable: not_null == 0,
        })
        .collect();
    columns.sort();
    let mut unique: Vec<String> = strings(t, unique_sql, table)
        .await
        .into_iter()
        .map(|(name, _, _)| name)
        .collect();
    unique.sort();
    TableShape {
        table: table.to_owned(),
        columns,
        unique,
    }
}

#[tokio::test]
async fn migrated_schema_matches_every_entity() {
    for t in databases("entities_schema").await {
        let backend = t.conn.get_database_backend();
        let entities = [
            entity_shape(account::Entity, backend),
            entity_shape(address::Entity, backend),
            entity_shape(audit_event::Entity, backend),
            entity_shape(campaign::Entity, backend),
            entity_shape(campaign_target::Entity, backend),
            entity_shape(contact::Entity, backend),
            entity_shape(dispute::Entity, backend),
            entity_shape(dispute_line::Entity, backend),
            entity_shape(dispute_message::Entity, backend),
            entity_shape(document::Entity, backend),
            entity_shape(document_line::Entity, backend),
            entity_shape(magic_link::Entity, backend),
            entity_shape(message::Entity, backend),
            entity_shape(outbox_email::Entity, backend),
            entity_shape(payment::Entity, backend),
            entity_shape(payment_application::Entity, backend),
            entity_shape(payment_link::Entity, backend),
            entity_shape(payment_link_document::Entity, backend),
            entity_shape(payment_method::Entity, backend),
            entity_shape(profile_change::Entity, backend),
            entity_shape(promise::Entity, backend),
            entity_shape(promise_document::Entity, backend),
            entity_shape(rate_limit::Entity, backend),
            entity_shape(reminder_rule::Entity, backend),
            entity_shape(reminder_step::Entity, backend),
            entity_shape(reminder_touch::Entity, backend),
            entity_shape(session::Entity, backend),
            entity_shape(staff_user::Entity, backend),
            entity_shape(stored_file::Entity, backend),
            entity_shape(supplier::Entity, backend),
            entity_shape(task::Entity, backend),
            entity_shape(template::Entity, backend),
            entity_shape(webhook_event::Entity, backend),
        ];
        for expected in &entities {
            let actual = database_shape(&t, &expected.table).await;
            assert_eq!(
                &actual, expected,
                "{}: the migrated table {} differs from its entity",
                t.backend, expected.table
            );
        }
    }
}
