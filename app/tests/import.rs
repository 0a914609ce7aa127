//! CSV import: every reject reason with its line, column and reason; dry runs that write
//! nothing; clean files; re-imports that change nothing; changed rows updated and audited;
//! resuming after a crash mid-file; BOM and semicolons; document zips; and the fuzz corpus
//! run through the invoices row parser.

use std::path::{Path, PathBuf};

use app::entities::{
    account, audit_event, contact, document, document_line, import_run, payment, stored_file,
};
use app::error::AppError;
use app::model::enums::*;
use app::services::import::{self, RunOptions};
use app::state::FixedClock;
use app::testing::fixtures;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn clock() -> FixedClock {
    FixedClock::at(fixtures::now())
}

async fn run_at(
    db: &DatabaseConnection,
    kind: ImportKind,
    path: &Path,
    opts: &RunOptions,
) -> (import_run::Model, Result<import_run::Model, AppError>) {
    let sha = import::sha256_of(path).await.expect("sha");
    let run = import::begin(
        db,
        kind,
        "file.csv",
        &sha,
        opts.dry_run,
        None,
        fixtures::now(),
    )
    .await
    .expect("begin");
    let result = import::execute(db, run.id, path, opts, &clock()).await;
    (run, result)
}

async fn apply(db: &DatabaseConnection, kind: ImportKind, name: &str) -> import_run::Model {
    let (_, result) = run_at(db, kind, &fixture(name), &RunOptions::default()).await;
    result.unwrap_or_else(|e| panic!("{name}: {e}"))
}

async fn dry(db: &DatabaseConnection, kind: ImportKind, name: &str) -> import_run::Model {
    let opts = RunOptions {
        dry_run: true,
        ..RunOptions::default()
    };
    let (_, result) = run_at(db, kind, &fixture(name), &opts).await;
    result.unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn counts(run: &import_run::Model) -> [i64; 4] {
    [
        run.created_count,
        run.updated_count,
        run.unchanged_count,
        run.rejected_count,
    ]
}

async fn audit_count(db: &DatabaseConnection) -> u64 {
    audit_event::Entity::find().count(db).await.expect("count")
}

async fn doc(db: &DatabaseConnection, number: &str) -> document::Model {
    document::Entity::find()
        .filter(document::Column::Number.eq(number))
        .one(db)
        .await
        .expect("query")
        .unwrap_or_else(|| panic!("{number} exists"))
}

async fn base(db: &DatabaseConnection) {
    apply(db, ImportKind::Accounts, "accounts.csv").await;
    apply(db, ImportKind::Contacts, "contacts.csv").await;
    apply(db, ImportKind::Invoices, "invoices.csv").await;
}

/// A kind, a fixture and the rejects it must produce (line, column, start of the reason).
type Case = (
    ImportKind,
    &'static str,
    &'static [(i64, &'static str, &'static str)],
);

#[tokio::test]
async fn every_reject_names_its_line_column_and_reason() {
    let cases: &[Case] = &[
        (
            ImportKind::Invoices,
            "reject_missing_account.csv",
            &[
                (2, "account_number", "no account has this number"),
                (3, "account_number", "no account has this number"),
            ],
        ),
        (
            ImportKind::Invoices,
            "reject_bad_date.csv",
            &[
                (
                    2,
                    "invoice_number",
                    "invoice not imported: line 3 of it was rejected",
                ),
                (3, "due_date", "not a date like 2026-01-31"),
            ],
        ),
        (
            ImportKind::Invoices,
            "reject_negative_quantity.csv",
            &[(2, "quantity", "negative quantity")],
        ),
        (
            ImportKind::Invoices,
            "reject_bad_amount.csv",
            &[
                (
                    2,
                    "unit_price",
                    "not a number with a dot and at most 2 decimals",
                ),
                (3, "unit_price", "at most 2 decimals"),
            ],
        ),
        (
            ImportKind::Invoices,
            "reject_duplicate_invoice.csv",
            &[(
                5,
                "invoice_number",
                "duplicate invoice number with different content (first on line 2)",
            )],
        ),
        (
            ImportKind::Invoices,
            "reject_line_differs.csv",
            &[
                (
                    2,
                    "invoice_number",
                    "invoice not imported: line 3 of it was rejected",
                ),
                (3, "invoice_date", "differs from line 2 of the same invoice"),
                (4, "line_no", "line number repeated (first on line 3)"),
            ],
        ),
        (
            ImportKind::Invoices,
            "reject_unknown_column.csv",
            &[(1, "colour", "unknown column")],
        ),
        (
            ImportKind::Invoices,
            "reject_missing_column.csv",
            &[(1, "description", "required column is missing")],
        ),
        (
            ImportKind::Payments,
            "reject_unknown_invoice.csv",
            &[(2, "applies_to", "no invoice INV-404 on this account")],
        ),
        (
            ImportKind::Accounts,
            "reject_accounts.csv",
            &[
                (2, "legal_name", ""),
                (
                    3,
                    "payment_terms_days",
                    "enter a number of days from 0 to 365",
                ),
            ],
        ),
        (
            ImportKind::Contacts,
            "reject_contact_account.csv",
            &[(2, "account_number", "no account has this number")],
        ),
    ];
    for db in app::testing::databases("import_rejects").await {
        let db = &db.conn;
        base(db).await;
        let mut docs_before = document::Entity::find().count(db).await.expect("count");
        for (kind, name, expected) in cases {
            let opts = RunOptions::default();
            let (run, result) = run_at(db, *kind, &fixture(name), &opts).await;
            let header_problem = expected.iter().any(|(line, _, _)| *line == 1);
            assert_eq!(result.is_err(), header_problem, "{name}: {result:?}");
            let got = import::rejects(db, run.id).await.expect("rejects");
            let got: Vec<(i64, String, String)> = got
                .into_iter()
                .map(|r| (r.line, r.column_name, r.reason))
                .collect();
            for (line, column, reason) in expected.iter() {
                assert!(
                    got.iter()
                        .any(|(l, c, r)| l == line && c == column && r.starts_with(reason)),
                    "{name}: expected line {line}, {column}: {reason} in {got:?}"
                );
            }
            let view = import::view(db, run.id).await.expect("view");
            assert_eq!(view.rejects.len(), got.len(), "{name}");
            // Nothing of a rejected invoice is stored, not even its good lines; of the
            // duplicate file, the first INV-9 and INV-8 are.
            let docs = document::Entity::find().count(db).await.expect("count");
            let new = if *name == "reject_duplicate_invoice.csv" {
                2
            } else {
                0
            };
            assert_eq!(docs, docs_before + new, "{name}");
            docs_before = docs;
        }
    }
}

#[tokio::test]
async fn a_dry_run_counts_but_writes_nothing() {
    for db in app::testing::databases("import_dry_run").await {
        let db = &db.conn;
        let run = dry(db, ImportKind::Accounts, "accounts.csv").await;
        assert_eq!(run.status, ImportStatus::Checked);
        assert_eq!(counts(&run), [3, 0, 0, 0]);
        assert_eq!(run.total_rows, 3);
        assert_eq!(run.processed_rows, 3);
        assert_eq!(account::Entity::find().count(db).await.expect("count"), 0);
        assert_eq!(audit_count(db).await, 0);

        apply(db, ImportKind::Accounts, "accounts.csv").await;
        let run = dry(db, ImportKind::Invoices, "invoices.csv").await;
        assert_eq!(counts(&run), [6, 0, 0, 0]);
        assert_eq!(document::Entity::find().count(db).await.expect("count"), 0);
        let run = dry(db, ImportKind::Accounts, "accounts_changed.csv").await;
        assert_eq!(counts(&run), [0, 1, 2, 0]);
        assert_eq!(
            account::Entity::find()
                .filter(account::Column::AccountNumber.eq("C1001"))
                .one(db)
                .await
                .expect("query")
                .map(|a| a.legal_name),
            Some("Acme Corp".to_owned())
        );
    }
}

#[tokio::test]
async fn clean_files_create_what_they_say() {
    for db in app::testing::databases("import_clean").await {
        let db = &db.conn;
        let run = apply(db, ImportKind::Accounts, "accounts.csv").await;
        assert_eq!(
            (run.status, counts(&run)),
            (ImportStatus::Applied, [3, 0, 0, 0])
        );
        let globex = account::Entity::find()
            .filter(account::Column::ExternalId.eq("ERP-A2"))
            .one(db)
            .await
            .expect("query")
            .expect("Globex");
        assert_eq!(globex.display_name, "Globex LLC");
        assert_eq!(globex.payment_terms_days, 45);
        assert_eq!(globex.status, AccountStatus::Active);
        let run = apply(db, ImportKind::Contacts, "contacts.csv").await;
        assert_eq!(counts(&run), [2, 0, 0, 0]);
        let pat = contact::Entity::find()
            .filter(contact::Column::ExternalId.eq("ERP-P1"))
            .one(db)
            .await
            .expect("query")
            .expect("Pat");
        assert!(pat.is_primary_billing);
        assert_eq!(pat.email.as_deref(), Some("ap@acme.test"));

        let run = apply(db, ImportKind::Invoices, "invoices.csv").await;
        assert_eq!(counts(&run), [6, 0, 0, 0]);
        let inv1 = doc(db, "INV-1").await;
        assert_eq!(
            (inv1.total_minor, inv1.tax_minor, inv1.open_minor),
            (29_700, 2_200, 29_700)
        );
        let inv2 = doc(db, "INV-2").await;
        assert_eq!(inv2.total_minor, 12_998);
        assert_eq!(
            inv2.due_date.map(|d| d.to_string()).as_deref(),
            Some("2026-11-19")
        );
        let lines = document_line::Entity::find()
            .filter(document_line::Column::DocumentId.eq(inv2.id))
            .order_by_asc(document_line::Column::LineNo)
            .all(db)
            .await
            .expect("lines");
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].amount_minor, 9_998);
        assert_eq!(lines[2].sku, None);

        let run = apply(db, ImportKind::Payments, "payments.csv").await;
        assert_eq!(counts(&run), [2, 0, 0, 0]);
        assert_eq!(doc(db, "INV-1").await.open_minor, 19_700);
        let inv2 = doc(db, "INV-2").await;
        assert_eq!((inv2.open_minor, inv2.status), (0, DocumentStatus::Paid));
        let pay2 = payment::Entity::find()
            .filter(payment::Column::ExternalId.eq("ERP-PAY2"))
            .one(db)
            .await
            .expect("query")
            .expect("payment");
        assert_eq!((pay2.amount_minor, pay2.unapplied_minor), (20_000, 7_002));
        assert_eq!(pay2.provider, PaymentProvider::Erp);
    }
}

#[tokio::test]
async fn importing_the_same_files_again_changes_nothing() {
    for db in app::testing::databases("import_again").await {
        let db = &db.conn;
        base(db).await;
        apply(db, ImportKind::Payments, "payments.csv").await;
        let audits = audit_count(db).await;
        let docs = document::Entity::find().all(db).await.expect("docs");
        let lines = document_line::Entity::find()
            .count(db)
            .await
            .expect("lines");
        for (kind, name, rows) in [
            (ImportKind::Accounts, "accounts.csv", 3),
            (ImportKind::Contacts, "contacts.csv", 2),
            (ImportKind::Invoices, "invoices.csv", 6),
            (ImportKind::Payments, "payments.csv", 2),
        ] {
            let run = apply(db, kind, name).await;
            assert_eq!(counts(&run), [0, 0, rows, 0], "{name}");
        }
        assert_eq!(audit_count(db).await, audits);
        assert_eq!(document::Entity::find().all(db).await.expect("docs"), docs);
        assert_eq!(
            document_line::Entity::find()
                .count(db)
                .await
                .expect("lines"),
            lines
        );
    }
}

#[tokio::test]
async fn a_changed_row_updates_and_is_audited() {
    for db in app::testing::databases("import_changed").await {
        let db = &db.conn;
        base(db).await;
        apply(db, ImportKind::Payments, "payments.csv").await;
        let audits = audit_count(db).await;

        let run = apply(db, ImportKind::Accounts, "accounts_changed.csv").await;
        assert_eq!(counts(&run), [0, 1, 2, 0]);
        let events = audit_event::Entity::find()
            .order_by_asc(audit_event::Column::Id)
            .all(db)
            .await
            .expect("events");
        let new: Vec<_> = events.iter().skip(audits as usize).collect();
        assert_eq!(new.len(), 1);
        assert_eq!(new[0].channel, Channel::Import);
        assert_eq!(new[0].actor_kind, ActorKind::System);
        assert_eq!(new[0].field.as_deref(), Some("legal_name"));
        assert_eq!(new[0].old_value.as_deref(), Some("Acme Corp"));
        assert_eq!(new[0].new_value.as_deref(), Some("Acme Corporation"));

        // INV-1's second line drops from 150.00 + 12.00 tax to 50.00 + 4.00: 29,700 → 18,900.
        // 100.00 of it was paid, so 89.00 stays open.
        let run = apply(db, ImportKind::Invoices, "invoices_changed.csv").await;
        assert_eq!(counts(&run), [0, 2, 4, 0]);
        let inv1 = doc(db, "INV-1").await;
        assert_eq!(
            (inv1.total_minor, inv1.tax_minor, inv1.open_minor),
            (18_900, 1_400, 8_900)
        );
        let audited: Vec<String> = audit_event::Entity::find()
            .filter(audit_event::Column::Entity.eq("document"))
            .filter(audit_event::Column::EntityId.eq(inv1.id))
            .all(db)
            .await
            .expect("events")
            .into_iter()
            .filter_map(|e| e.field)
            .collect();
        assert_eq!(audited, ["total", "tax", "lines"]);
    }
}

/// A file of `invoices` invoices of 1 to 4 lines over the accounts of `accounts.csv`.
fn many_invoices(dir: &Path, invoices: usize) -> PathBuf {
    let mut text = String::from(
        "external_id,invoice_number,account_number,invoice_date,line_no,description,quantity,unit_price,tax\n",
    );
    for i in 0..invoices {
        let account = ["C1001", "C1002"][i % 2];
        for line in 1..=(i % 4) + 1 {
            text.push_str(&format!(
                "X-{i},BIG-{i},{account},2026-10-{:02},{line},Item {line},{line}.5,{}.25,1.00\n",
                (i % 28) + 1,
                10 + i
            ));
        }
    }
    let path = dir.join("many.csv");
    std::fs::write(&path, text).expect("write");
    path
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("settle-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

type Snapshot = Vec<(String, i64, i64, i64, Vec<(i32, i64, i64, i64)>)>;

async fn snapshot(db: &DatabaseConnection) -> Snapshot {
    let mut out = Vec::new();
    for d in document::Entity::find()
        .order_by_asc(document::Column::Number)
        .all(db)
        .await
        .expect("docs")
    {
        let lines = document_line::Entity::find()
            .filter(document_line::Column::DocumentId.eq(d.id))
            .order_by_asc(document_line::Column::LineNo)
            .all(db)
            .await
            .expect("lines")
            .into_iter()
            .map(|l| (l.line_no, l.quantity_milli, l.unit_price_minor, l.tax_minor))
            .collect();
        out.push((d.number, d.total_minor, d.tax_minor, d.open_minor, lines));
    }
    out
}

#[tokio::test]
async fn a_crashed_import_resumes_and_ends_as_a_one_shot_import() {
    let dir = scratch("resume");
    let file = many_invoices(&dir, 40);
    let mut one_shot = None;
    for db in app::testing::databases("import_one_shot").await {
        apply(&db.conn, ImportKind::Accounts, "accounts.csv").await;
        let opts = RunOptions {
            batch_rows: 7,
            ..RunOptions::default()
        };
        let (_, result) = run_at(&db.conn, ImportKind::Invoices, &file, &opts).await;
        result.expect("one shot");
        one_shot = Some(snapshot(&db.conn).await);
    }
    let one_shot = one_shot.expect("a database");
    for db in app::testing::databases("import_resume").await {
        let db = &db.conn;
        apply(db, ImportKind::Accounts, "accounts.csv").await;
        let opts = RunOptions {
            batch_rows: 7,
            crash_after_batches: Some(3),
            ..RunOptions::default()
        };
        let (run, result) = run_at(db, ImportKind::Invoices, &file, &opts).await;
        assert!(result.is_err());
        let failed = import::view(db, run.id).await.expect("view");
        assert_eq!(failed.status, ImportStatus::Failed);
        assert_eq!(failed.total_rows, 100);
        assert!(failed.processed_rows >= 21 && failed.processed_rows < 100);
        // Never half an invoice: every stored invoice has all its lines.
        let partial = snapshot(db).await;
        assert!(!partial.is_empty());
        for (number, _, _, _, lines) in &partial {
            let i: usize = number.trim_start_matches("BIG-").parse().expect("number");
            assert_eq!(lines.len(), (i % 4) + 1, "{number}");
        }
        let committed = import_run::Entity::find_by_id(run.id)
            .one(db)
            .await
            .expect("run")
            .expect("run")
            .committed_line;
        assert!(committed > 1);

        let opts = RunOptions {
            batch_rows: 7,
            ..RunOptions::default()
        };
        let (resumed, result) = run_at(db, ImportKind::Invoices, &file, &opts).await;
        assert_eq!(resumed.id, run.id, "the failed run resumes");
        let done = result.expect("resumed");
        assert_eq!(done.status, ImportStatus::Applied);
        assert_eq!(done.processed_rows, 100);
        assert_eq!(done.created_count, 100);
        assert_eq!(snapshot(db).await, one_shot);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_bom_and_semicolons_are_understood() {
    for db in app::testing::databases("import_bom").await {
        let db = &db.conn;
        apply(db, ImportKind::Accounts, "accounts.csv").await;
        let run = apply(db, ImportKind::Invoices, "invoices_bom_semicolon.csv").await;
        assert_eq!(counts(&run), [2, 0, 0, 0]);
        let inv = doc(db, "INV-7").await;
        assert_eq!(inv.total_minor, 2_500 + 725 + 58);
        assert_eq!(inv.external_id.as_deref(), Some("ERP-I7"));
        let first = document_line::Entity::find()
            .filter(document_line::Column::DocumentId.eq(inv.id))
            .filter(document_line::Column::LineNo.eq(1))
            .one(db)
            .await
            .expect("line")
            .expect("line 1");
        assert_eq!(first.description, "Widget; blue");
    }
}

fn zip_of(dir: &Path, entries: &[(&str, &[u8])]) -> PathBuf {
    use std::io::Write;
    let path = dir.join("documents.zip");
    let file = std::fs::File::create(&path).expect("zip file");
    let mut zip = zip::ZipWriter::new(file);
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(bytes).expect("write");
    }
    zip.finish().expect("finish");
    path
}

#[tokio::test]
async fn a_zip_of_pdfs_attaches_them_to_their_documents() {
    let dir = scratch("zip");
    let pdf: &[u8] = b"%PDF-1.4\n% invoice one\n%%EOF\n";
    let path = zip_of(
        &dir,
        &[
            ("INV-1.pdf", pdf),
            ("pdfs/INV-404.pdf", pdf),
            ("INV-2.pdf", b"not a pdf at all"),
        ],
    );
    for db in app::testing::databases("import_zip").await {
        let db = &db.conn;
        base(db).await;
        let data = dir.join(format!("data-{}", db.get_database_backend() as u8));
        let opts = RunOptions {
            data_dir: data.clone(),
            ..RunOptions::default()
        };
        let (run, result) = run_at(db, ImportKind::Documents, &path, &opts).await;
        let done = result.expect("import");
        assert_eq!(counts(&done), [1, 0, 0, 2]);
        let rejects: Vec<(i64, String, String)> = import::rejects(db, run.id)
            .await
            .expect("rejects")
            .into_iter()
            .map(|r| (r.line, r.column_name, r.reason))
            .collect();
        assert_eq!(
            rejects,
            [
                (
                    2,
                    "INV-404.pdf".to_owned(),
                    "no document has this number".to_owned()
                ),
                (3, "INV-2.pdf".to_owned(), "not a PDF".to_owned()),
            ]
        );
        let inv1 = doc(db, "INV-1").await;
        let file = stored_file::Entity::find_by_id(inv1.file_id.expect("attached"))
            .one(db)
            .await
            .expect("query")
            .expect("stored file");
        assert_eq!(file.content_type, "application/pdf");
        assert_eq!(file.account_id, Some(inv1.account_id));
        assert_eq!(
            std::fs::read(data.join(&file.storage_path)).expect("stored bytes"),
            pdf
        );
        assert!(doc(db, "INV-2").await.file_id.is_none());

        // The same zip again: the same PDF is unchanged (on a new run of the same file
        // it is a finished run already, so use a dry run to count).
        let opts = RunOptions {
            dry_run: true,
            data_dir: data,
            ..RunOptions::default()
        };
        let (_, again) = run_at(db, ImportKind::Documents, &path, &opts).await;
        assert_eq!(counts(&again.expect("dry run")), [0, 0, 1, 2]);
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_fuzz_corpus_and_regressions_never_panic_the_row_parser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut fed = 0;
    for sub in ["corpus/import_row", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).expect("read");
            // The assertion is that this returns at all: a panic fails the test.
            import::scan_invoices(bytes.as_slice());
            fed += 1;
        }
    }
    assert!(fed > 0, "the corpus has seed inputs");
}
