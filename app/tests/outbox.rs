//! The email outbox: transactional enqueue, exclusive claims with leases, backoff, dead
//! letters, bounces, stored templates with HTML escaping, and the wrong-person footer.

use app::testing::fixtures;
use std::collections::HashSet;

use app::entities::{contact, outbox_email, task, template};
use app::error::AppError;
use app::model::enums::*;
use app::services::{magic_links, mail, outbox, templates};
use app::state::{Clock, FixedClock};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, TransactionTrait,
};

const PUBLIC_URL: &str = "https://billing.example.test";
const LEASE: Duration = Duration::minutes(5);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

async fn contact_named(db: &DatabaseConnection, number: &str, name: &str) -> contact::Model {
    let account = fixtures::customer(db, number, &format!("{number} & Sons <Ltd>")).await;
    fixtures::contact(
        db,
        account.id,
        name,
        &format!("ap@{}.test", number.to_ascii_lowercase()),
    )
    .await
}

fn email_to(to: &str) -> outbox::NewEmail {
    outbox::NewEmail {
        to: to.to_owned(),
        subject: format!("Hello {to}"),
        text: "Plain".to_owned(),
        html: Some("<p>Plain</p>".to_owned()),
        ..Default::default()
    }
}

async fn row(db: &DatabaseConnection, message_id: &str) -> outbox_email::Model {
    outbox_email::Entity::find()
        .filter(outbox_email::COLUMN.message_id.eq(message_id))
        .one(db)
        .await
        .expect("query")
        .expect("outbox row")
}

/// The token of the first `{PUBLIC_URL}/l/<token>` link in `body`.
fn link_token(body: &str) -> String {
    let prefix = format!("{PUBLIC_URL}/l/");
    let start = body.find(&prefix).expect("a link") + prefix.len();
    body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn an_email_enqueued_in_a_rolled_back_transaction_is_never_sent() {
    for test_db in app::testing::databases("outbox_rollback").await {
        let db = &test_db.conn;
        let txn = db.begin().await.expect("begin");
        let id = outbox::enqueue(&txn, email_to("a@x.test"), now())
            .await
            .expect("enqueue");
        assert!(
            id.starts_with('<') && id.ends_with("@settle.localhost>"),
            "{id}"
        );
        txn.rollback().await.expect("rollback");

        let txn = db.begin().await.expect("begin");
        let kept = outbox::enqueue(&txn, email_to("b@x.test"), now())
            .await
            .expect("enqueue");
        txn.commit().await.expect("commit");

        let rows = outbox_email::Entity::find().all(db).await.expect("rows");
        assert_eq!(rows.len(), 1, "{}", test_db.backend);
        assert_eq!(rows[0].message_id, kept, "{}", test_db.backend);
        assert_eq!(rows[0].status, OutboxStatus::Pending);
        assert_eq!(rows[0].attempts, 0);
        assert_eq!(rows[0].next_attempt_at, now());

        assert!(matches!(
            outbox::enqueue(db, email_to("not an address"), now()).await,
            Err(AppError::Validation { field, .. }) if field == "to"
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claimers_get_disjoint_rows() {
    for test_db in app::testing::databases("outbox_claim_exclusive").await {
        let db = test_db.conn.clone();
        let mut all = HashSet::new();
        for i in 0..12 {
            all.insert(
                outbox::enqueue(&db, email_to(&format!("r{i}@x.test")), now())
                    .await
                    .expect("enqueue"),
            );
        }
        let claimers: Vec<_> = (0..2)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { outbox::claim_due(&db, now(), 12, LEASE).await })
            })
            .collect();
        let mut seen = HashSet::new();
        for claimer in claimers {
            for row in claimer.await.expect("join").expect("claim") {
                assert_eq!(row.status, OutboxStatus::Sending, "{}", test_db.backend);
                assert_eq!(row.claimed_until, Some(now() + LEASE));
                assert!(
                    seen.insert(row.message_id.clone()),
                    "{}: {} claimed twice",
                    test_db.backend,
                    row.message_id
                );
            }
        }
        assert_eq!(seen, all, "{}: every row claimed once", test_db.backend);
        assert!(
            outbox::claim_due(&db, now(), 12, LEASE)
                .await
                .expect("claim")
                .is_empty(),
            "{}: nothing left while the leases run",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn a_claim_whose_lease_passed_is_claimed_again() {
    for test_db in app::testing::databases("outbox_lease").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let id = outbox::enqueue(db, email_to("lease@x.test"), clock.now())
            .await
            .expect("enqueue");
        let first = outbox::claim_due(db, clock.now(), 10, LEASE)
            .await
            .expect("claim");
        assert_eq!(first.len(), 1, "{}", test_db.backend);
        // The claimer dies here without sending or recording anything.
        clock.advance(LEASE - Duration::seconds(1));
        assert!(
            outbox::claim_due(db, clock.now(), 10, LEASE)
                .await
                .expect("claim")
                .is_empty(),
            "{}: still leased",
            test_db.backend
        );
        clock.advance(Duration::seconds(1));
        let again = outbox::claim_due(db, clock.now(), 10, LEASE)
            .await
            .expect("claim");
        assert_eq!(again.len(), 1, "{}", test_db.backend);
        assert_eq!(again[0].message_id, id);
        assert_eq!(again[0].claimed_until, Some(clock.now() + LEASE));
        assert_eq!(again[0].attempts, 0, "a lost claim is not a failed attempt");

        outbox::mark_sent(db, again[0].id, clock.now())
            .await
            .expect("sent");
        clock.advance(Duration::days(1));
        assert!(
            outbox::claim_due(db, clock.now(), 10, LEASE)
                .await
                .expect("claim")
                .is_empty(),
            "{}: a sent row is never claimed",
            test_db.backend
        );
        let sent = row(db, &id).await;
        assert_eq!(sent.status, OutboxStatus::Sent);
        assert_eq!(sent.sent_at, Some(now() + LEASE));
        assert_eq!(sent.claimed_until, None);
    }
}

#[tokio::test]
async fn failures_back_off_exponentially_and_give_up_after_max_attempts() {
    for test_db in app::testing::databases("outbox_backoff").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let id = outbox::enqueue(db, email_to("flaky@x.test"), clock.now())
            .await
            .expect("enqueue");
        let mut waits = Vec::new();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let claimed = outbox::claim_due(db, clock.now(), 10, LEASE)
                .await
                .expect("claim");
            assert_eq!(claimed.len(), 1, "{}: attempt {attempt}", test_db.backend);
            let after = outbox::mark_failed(db, claimed[0].id, "451 try later", false, clock.now())
                .await
                .expect("mark failed");
            assert_eq!(after.attempts, attempt, "{}", test_db.backend);
            assert_eq!(after.last_error.as_deref(), Some("451 try later"));
            assert_eq!(
                after,
                row(db, &id).await,
                "{}: returned as stored",
                test_db.backend
            );
            let old_enough = clock.now() - now() >= outbox::GIVE_UP_AFTER;
            if attempt >= outbox::MAX_ATTEMPTS && old_enough {
                assert_eq!(after.status, OutboxStatus::Dead, "{}", test_db.backend);
                break;
            }
            assert_eq!(
                after.status,
                OutboxStatus::Pending,
                "{}: attempt {attempt}, {} old: not given up yet",
                test_db.backend,
                clock.now() - now()
            );
            let wait = after.next_attempt_at - clock.now();
            waits.push(wait.num_seconds());
            clock.advance(wait - Duration::seconds(1));
            assert!(
                outbox::claim_due(db, clock.now(), 10, LEASE)
                    .await
                    .expect("claim")
                    .is_empty(),
                "{}: not due before its backoff",
                test_db.backend
            );
            clock.advance(Duration::seconds(1));
        }
        // Doubling from 30 s to the half-hour cap, then every half hour for a day.
        assert_eq!(
            waits[..7],
            [30, 60, 120, 240, 480, 960, 1800],
            "{}",
            test_db.backend
        );
        assert!(waits[7..].iter().all(|w| *w == 1800), "{}", test_db.backend);
        let tried_for: i64 = waits.iter().sum();
        assert!(
            (24 * 3600..24 * 3600 + 1800).contains(&tried_for),
            "{}: given up after {tried_for} s of trying",
            test_db.backend
        );
        clock.advance(Duration::days(30));
        assert!(
            outbox::claim_due(db, clock.now(), 10, LEASE)
                .await
                .expect("claim")
                .is_empty(),
            "{}: a dead row is not retried by itself",
            test_db.backend
        );
        let dead = outbox::list_dead(db).await.expect("dead");
        assert_eq!(dead.len(), 1, "{}", test_db.backend);
        assert_eq!(dead[0].message_id, id);
        // Recording a failure of a row nobody is sending is refused.
        assert!(matches!(
            outbox::mark_failed(db, dead[0].id, "late", false, clock.now()).await,
            Err(AppError::Conflict(_))
        ));
    }
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_and_staff_can_retry_it() {
    for test_db in app::testing::databases("outbox_retry_dead").await {
        let db = &test_db.conn;
        let clock = FixedClock::at(now());
        let id = outbox::enqueue(db, email_to("gone@x.test"), clock.now())
            .await
            .expect("enqueue");
        let other = outbox::enqueue(db, email_to("fine@x.test"), clock.now())
            .await
            .expect("enqueue");
        let claimed = outbox::claim_due(db, clock.now(), 10, LEASE)
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 2);
        let gone = claimed
            .iter()
            .find(|r| r.message_id == id)
            .expect("claimed");
        let dead = outbox::mark_failed(db, gone.id, "550 no such user", true, clock.now())
            .await
            .expect("mark failed");
        assert_eq!(dead.status, OutboxStatus::Dead, "{}", test_db.backend);
        assert_eq!(dead.attempts, 1);
        assert_eq!(
            outbox::list_dead(db)
                .await
                .expect("dead")
                .iter()
                .map(|r| r.message_id.clone())
                .collect::<Vec<_>>(),
            vec![id.clone()],
            "{}",
            test_db.backend
        );

        let other_row = row(db, &other).await;
        assert_eq!(
            outbox::retry_dead(db, other_row.id, clock.now()).await,
            Err(AppError::NotFound),
            "{}: only dead rows are retried",
            test_db.backend
        );
        clock.advance(Duration::minutes(1));
        let retried = outbox::retry_dead(db, dead.id, clock.now())
            .await
            .expect("retry");
        assert_eq!(retried.status, OutboxStatus::Pending, "{}", test_db.backend);
        assert_eq!(retried.attempts, 0);
        assert_eq!(retried.next_attempt_at, clock.now());
        assert!(outbox::list_dead(db).await.expect("dead").is_empty());
        // `other` is still leased; the retried row is due now.
        let again = outbox::claim_due(db, clock.now(), 10, LEASE)
            .await
            .expect("claim");
        assert_eq!(
            again
                .iter()
                .map(|r| r.message_id.clone())
                .collect::<Vec<_>>(),
            vec![id],
            "{}",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn a_bounce_marks_the_contact_and_opens_one_task() {
    for test_db in app::testing::databases("outbox_bounce").await {
        let db = &test_db.conn;
        let c = contact_named(db, "OB-1", "Pat").await;
        let address = c.email.clone().expect("email");
        let mut first = None;
        for _ in 0..2 {
            let id = outbox::enqueue(
                db,
                outbox::NewEmail {
                    to_contact_id: Some(c.id),
                    ..email_to(&address)
                },
                now(),
            )
            .await
            .expect("enqueue");
            let claimed = outbox::claim_due(db, now(), 10, LEASE)
                .await
                .expect("claim");
            let dead = outbox::record_bounce(db, claimed[0].id, "550 5.1.1 no such user", now())
                .await
                .expect("bounce");
            assert_eq!(dead.status, OutboxStatus::Dead, "{}", test_db.backend);
            assert_eq!(dead.message_id, id);
            first.get_or_insert(id);
        }
        let after = contact::Entity::find_by_id(c.id)
            .one(db)
            .await
            .expect("query")
            .expect("contact");
        assert_eq!(
            after.email_status,
            EmailStatus::Bounced,
            "{}",
            test_db.backend
        );
        assert_eq!(after.version, c.version + 1, "{}", test_db.backend);
        let tasks = task::Entity::find().all(db).await.expect("tasks");
        assert_eq!(
            tasks.len(),
            1,
            "{}: one open task per contact",
            test_db.backend
        );
        assert_eq!(tasks[0].kind, TaskKind::Bounce);
        assert_eq!(tasks[0].status, TaskStatus::Open);
        assert_eq!(tasks[0].account_id, Some(c.account_id));
        assert_eq!(tasks[0].related_id, Some(c.id));
        assert!(tasks[0].title.contains(&address), "{}", tasks[0].title);
    }
}

#[tokio::test]
async fn defaults_are_seeded_once_and_edits_survive() {
    for test_db in app::testing::databases("outbox_seed").await {
        let db = &test_db.conn;
        // The test databases may come seeded already: start from an empty table (and no
        // reminder steps pointing at its rows).
        app::entities::reminder_step::Entity::delete_many()
            .exec(db)
            .await
            .expect("empty the reminder steps");
        template::Entity::delete_many()
            .exec(db)
            .await
            .expect("empty the table");
        assert_eq!(
            templates::seed_defaults(db, now()).await.expect("seed"),
            templates::DEFAULTS.len(),
            "{}",
            test_db.backend
        );
        assert_eq!(
            template::Entity::find().count(db).await.expect("count"),
            templates::DEFAULTS.len() as u64,
            "{}",
            test_db.backend
        );
        for key in ["portal_sign_in", "verify_contact", "wrong_person_reported"] {
            assert!(
                templates::DEFAULTS.iter().any(|d| d.key == key),
                "default {key}"
            );
        }
        let stored = template::Entity::find()
            .filter(template::COLUMN.key.eq("verify_contact"))
            .one(db)
            .await
            .expect("query")
            .expect("seeded");
        template::ActiveModel {
            id: Set(stored.id),
            subject: Set("Edited {{ company }}".to_owned()),
            version: Set(2),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("edit");
        assert_eq!(
            templates::seed_defaults(db, now()).await.expect("seed"),
            0,
            "{}",
            test_db.backend
        );
        assert_eq!(
            template::Entity::find().count(db).await.expect("count"),
            templates::DEFAULTS.len() as u64
        );
        let rendered =
            templates::render(db, "verify_contact", &serde_json::json!({"company": "X"}))
                .await
                .expect("render");
        assert_eq!(rendered.subject, "Edited X", "{}", test_db.backend);
        assert_eq!(
            templates::render(db, "no_such_template", &serde_json::json!({})).await,
            Err(AppError::NotFound)
        );
    }
}

#[tokio::test]
async fn templates_escape_user_values_in_html_only() {
    for test_db in app::testing::databases("outbox_template_escape").await {
        let db = &test_db.conn;
        templates::seed_defaults(db, now()).await.expect("seed");
        let c = contact_named(db, "OT-1", "<script>alert(1)</script>").await;
        let link = format!("{PUBLIC_URL}/l/abc?x=1&y=2");
        let message_id = mail::send_to_contact(
            db,
            PUBLIC_URL,
            c.id,
            "portal_sign_in",
            serde_json::json!({ "link": link, "code": "123456", "minutes": 15 }),
            now(),
        )
        .await
        .expect("send");
        assert!(
            message_id.ends_with("@billing.example.test>"),
            "{message_id}"
        );
        let sent = row(db, &message_id).await;
        let html = sent.body_html.clone().expect("html part");
        assert!(
            sent.body_text.contains("Hello <script>alert(1)</script>,"),
            "{}: raw in text: {}",
            test_db.backend,
            sent.body_text
        );
        assert!(sent.body_text.contains(&link), "{}", sent.body_text);
        assert!(sent.body_text.contains("123456"));
        assert!(sent.body_text.contains("15 minutes"));
        assert!(!html.contains("<script>"), "{}: {html}", test_db.backend);
        assert!(
            html.contains("Hello &lt;script&gt;alert(1)&lt;/script&gt;,"),
            "{html}"
        );
        assert!(html.contains("OT-1 &amp; Sons &lt;Ltd&gt;"), "{html}");
        assert!(
            html.contains("href=\"https://billing.example.test/l/abc?x=1&amp;y=2\""),
            "{html}"
        );
        assert_eq!(sent.subject, "Your sign-in link for OT-1 & Sons <Ltd>");
        assert_eq!(sent.to_address, "ap@ot-1.test");
        assert_eq!(sent.to_contact_id, Some(c.id));
        assert_eq!(sent.template_key.as_deref(), Some("portal_sign_in"));
    }
}

#[tokio::test]
async fn every_contact_email_carries_a_working_wrong_person_link() {
    for test_db in app::testing::databases("outbox_wrong_person_footer").await {
        let db = &test_db.conn;
        templates::seed_defaults(db, now()).await.expect("seed");
        let c = contact_named(db, "OW-1", "Robin").await;
        let txn = db.begin().await.expect("begin");
        let message_id = mail::send_to_contact(
            &txn,
            PUBLIC_URL,
            c.id,
            "verify_contact",
            serde_json::json!({ "link": format!("{PUBLIC_URL}/verify") }),
            now(),
        )
        .await
        .expect("send");
        txn.commit().await.expect("commit");
        let sent = row(db, &message_id).await;
        let html = sent.body_html.clone().expect("html");
        assert!(
            sent.body_text
                .contains("Not the right person for these? Tell us who is."),
            "{}",
            sent.body_text
        );
        assert!(html.contains("Not the right person for these?"), "{html}");
        assert!(html.contains("Tell us who is."), "{html}");
        let token = link_token(&sent.body_text[sent.body_text.find("-- \n").expect("footer")..]);
        assert_eq!(
            link_token(&html[html.find("<hr>").expect("footer")..]),
            token,
            "{}: the same link in both parts",
            test_db.backend
        );
        let preview = magic_links::describe(db, &token, now())
            .await
            .expect("describe")
            .expect("a usable link");
        assert_eq!(
            preview.purpose,
            LinkPurpose::WrongPerson,
            "{}",
            test_db.backend
        );
        assert_eq!(preview.company, "OW-1 & Sons <Ltd>");

        // No email address: refused, nothing queued.
        contact::ActiveModel {
            id: Set(c.id),
            email: Set(None),
            ..Default::default()
        }
        .update(db)
        .await
        .expect("clear email");
        assert!(matches!(
            mail::send_to_contact(db, PUBLIC_URL, c.id, "verify_contact", serde_json::json!({}), now()).await,
            Err(AppError::Validation { field, .. }) if field == "email"
        ));
        assert_eq!(
            mail::send_to_contact(
                db,
                PUBLIC_URL,
                -1,
                "verify_contact",
                serde_json::json!({}),
                now()
            )
            .await,
            Err(AppError::NotFound)
        );
        assert_eq!(
            outbox_email::Entity::find().count(db).await.expect("count"),
            1,
            "{}",
            test_db.backend
        );
    }
}
