//! The HTTP surface, driven through the router with `tower::ServiceExt::oneshot`:
//! server functions are scoped to the caller's account, cross-site writes are refused,
//! and every response carries the security headers.

use app::model::portal::Overview;
use app::services::{demo, sessions};
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sea_orm::{EntityTrait, QueryFilter};
use tower::ServiceExt;

mod common;
use common::{now, router, session_for};

async fn call(
    router: &axum::Router,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> (StatusCode, http::HeaderMap, String) {
    let mut req =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    if let Some(origin) = origin {
        req = req
            .header(header::ORIGIN, origin)
            .header("sec-fetch-site", "cross-site");
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn overview_is_scoped_to_the_callers_account() {
    for test_db in app::testing::databases("http_overview_scoped").await {
        let db = test_db.conn;
        demo::load(&db, now()).await.expect("demo");
        let (a_id, a_cookie) = session_for(&db, "C-10001").await;
        let (b_id, b_cookie) = session_for(&db, "C-10002").await;
        assert_ne!(a_id, b_id);
        let router = router(db.clone());

        let (status, _, body) = call(&router, "/api/portal/overview", Some(&a_cookie), None).await;
        assert_eq!(status, StatusCode::OK, "{}: {body}", test_db.backend);
        let a: Overview = serde_json::from_str(&body).expect("overview json");
        assert_eq!(a.account_number, "C-10001", "{}", test_db.backend);

        let (status, _, body) = call(&router, "/api/portal/overview", Some(&b_cookie), None).await;
        assert_eq!(status, StatusCode::OK, "{}", test_db.backend);
        let b: Overview = serde_json::from_str(&body).expect("overview json");
        assert_eq!(b.account_number, "C-10002", "{}", test_db.backend);

        let a_ids: Vec<i64> = a.open_invoices.iter().map(|i| i.id).collect();
        assert!(!a_ids.is_empty());
        assert!(
            b.open_invoices.iter().all(|i| !a_ids.contains(&i.id)),
            "{}: B saw A's invoices",
            test_db.backend
        );
        let a_docs = app::entities::document::Entity::find()
            .filter(app::entities::document::COLUMN.account_id.eq(a_id))
            .all(&db)
            .await
            .expect("documents");
        assert!(
            a_ids.iter().all(|id| a_docs.iter().any(|d| d.id == *id)),
            "{}: A saw foreign invoices",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn overview_without_a_session_is_unauthorized() {
    for test_db in app::testing::databases("http_overview_anon").await {
        let router = router(test_db.conn);
        let (status, _, _) = call(&router, "/api/portal/overview", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", test_db.backend);
        let (status, _, _) = call(
            &router,
            "/api/portal/overview",
            Some("settle_session=forged"),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", test_db.backend);
    }
}

#[tokio::test]
async fn cross_site_post_is_refused() {
    for test_db in app::testing::databases("http_cross_site").await {
        let db = test_db.conn;
        demo::load(&db, now()).await.expect("demo");
        let (_, cookie) = session_for(&db, "C-10001").await;
        let router = router(db);
        let (status, _, _) = call(
            &router,
            "/api/portal/sign-out",
            Some(&cookie),
            Some("https://evil.example"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", test_db.backend);
        // The session survived the refused request.
        let (status, _, _) = call(&router, "/api/portal/overview", Some(&cookie), None).await;
        assert_eq!(status, StatusCode::OK, "{}", test_db.backend);
    }
}

#[tokio::test]
async fn responses_carry_security_headers_and_are_not_cached() {
    for test_db in app::testing::databases("http_headers").await {
        let router = router(test_db.conn);
        let (_, headers, _) = call(&router, "/api/portal/overview", None, None).await;
        assert_eq!(
            headers
                .get(header::X_CONTENT_TYPE_OPTIONS)
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..])
        );
        assert_eq!(
            headers.get(header::REFERRER_POLICY).map(|v| v.as_bytes()),
            Some(&b"same-origin"[..])
        );
        assert_eq!(
            headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
            Some(&b"no-store"[..])
        );
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        // The built assets are the same for everyone: kept, but revalidated.
        let (_, headers, _) = call(&router, "/pkg/settle.css", None, None).await;
        assert_eq!(
            headers.get(header::CACHE_CONTROL).map(|v| v.as_bytes()),
            Some(&b"no-cache"[..])
        );
    }
}

async fn staff_cookie(router: &axum::Router, email: &str, password: &str) -> String {
    let body = format!(
        "email={}&password={}",
        email.replace('@', "%40"),
        password.replace(' ', "+")
    );
    let req = Request::post("/api/staff/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("request");
    let res = router.clone().oneshot(req).await.expect("response");
    let cookie = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(sessions::COOKIE))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    cookie.unwrap_or_else(|| panic!("no session cookie after staff sign-in ({})", res.status()))
}

#[tokio::test]
async fn only_collectors_and_admins_may_revoke_a_contacts_access() {
    use app::model::enums::StaffRole;
    use app::services::staff;
    for test_db in app::testing::databases("http_staff_roles").await {
        let db = test_db.conn;
        demo::load(&db, now()).await.expect("demo");
        let (_, contact_cookie) = session_for(&db, "C-10001").await;
        staff::add(
            &db,
            "viewer@example.com",
            "Vic",
            StaffRole::Viewer,
            "viewer password 1",
            now(),
        )
        .await
        .expect("viewer");
        staff::add(
            &db,
            "coll@example.com",
            "Col",
            StaffRole::Collector,
            "collector password 1",
            now(),
        )
        .await
        .expect("collector");
        let router = router(db.clone());
        let contact = app::entities::contact::Entity::find()
            .filter(
                app::entities::contact::COLUMN
                    .email
                    .eq(demo::DEMO_CONTACT_EMAIL),
            )
            .one(&db)
            .await
            .ok()
            .flatten()
            .expect("demo contact");
        let path = "/api/staff/contacts/revoke-access";
        let body = format!("contact_id={}", contact.id);
        let post = |cookie: Option<String>| {
            let mut req = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            if let Some(c) = cookie {
                req = req.header(header::COOKIE, c);
            }
            router
                .clone()
                .oneshot(req.body(Body::from(body.clone())).expect("request"))
        };

        assert_eq!(
            post(None).await.expect("response").status(),
            StatusCode::UNAUTHORIZED,
            "{}",
            test_db.backend
        );
        assert_eq!(
            post(Some(contact_cookie.clone()))
                .await
                .expect("response")
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let viewer = staff_cookie(&router, "viewer@example.com", "viewer password 1").await;
        assert_eq!(
            post(Some(viewer)).await.expect("response").status(),
            StatusCode::FORBIDDEN,
            "{}",
            test_db.backend
        );
        // The refused attempts changed nothing.
        let (status, _, _) =
            call(&router, "/api/portal/overview", Some(&contact_cookie), None).await;
        assert_eq!(status, StatusCode::OK);

        let collector = staff_cookie(&router, "coll@example.com", "collector password 1").await;
        assert_eq!(
            post(Some(collector)).await.expect("response").status(),
            StatusCode::OK,
            "{}",
            test_db.backend
        );
        let (status, _, _) =
            call(&router, "/api/portal/overview", Some(&contact_cookie), None).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{}: the contact's session ended",
            test_db.backend
        );
    }
}

#[tokio::test]
async fn pages_carry_a_nonce_based_csp_matching_their_scripts() {
    for test_db in app::testing::databases("http_csp_nonce").await {
        let router = router(test_db.conn);
        let res = router
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let csp = res
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body =
            String::from_utf8_lossy(&res.into_body().collect().await.expect("body").to_bytes())
                .into_owned();
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in the CSP");
        assert!(nonce.len() >= 16, "{csp}");
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
            "{csp}"
        );
        assert!(
            body.contains(&format!("nonce=\"{nonce}\"")),
            "the page's scripts carry the nonce"
        );
        let link_page = router
            .clone()
            .oneshot(
                Request::get("/l/some-token")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(
            link_page
                .headers()
                .get(header::REFERRER_POLICY)
                .map(|v| v.as_bytes()),
            Some(&b"no-referrer"[..]),
            "link pages hide their token"
        );
        // A second response gets a different nonce.
        let again = router
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let csp2 = again
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_ne!(csp, csp2);
    }
}

#[tokio::test]
async fn asking_for_a_link_answers_the_same_for_known_and_unknown_addresses() {
    for test_db in app::testing::databases("http_sign_in_same").await {
        let db = test_db.conn;
        demo::load(&db, now()).await.expect("demo");
        let router = router(db);
        let ask = |email: &str| {
            let req = Request::post("/api/portal/request-link")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("email={}", email.replace('@', "%40"))))
                .expect("request");
            router.clone().oneshot(req)
        };
        let known = ask(demo::DEMO_CONTACT_EMAIL).await.expect("response");
        let unknown = ask("stranger@nowhere.test").await.expect("response");
        assert_eq!(known.status(), unknown.status(), "{}", test_db.backend);
        let strip = |h: &http::HeaderMap| {
            let mut h = h.clone();
            h.remove(header::DATE);
            h.remove(header::CONTENT_SECURITY_POLICY);
            // Every response names its own request.
            h.remove("x-request-id");
            h
        };
        assert_eq!(
            strip(known.headers()),
            strip(unknown.headers()),
            "{}",
            test_db.backend
        );
        let known_body = known.into_body().collect().await.expect("body").to_bytes();
        let unknown_body = unknown
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        assert_eq!(known_body, unknown_body, "{}", test_db.backend);
    }
}

#[tokio::test]
async fn templates_are_for_admins_and_a_stale_save_is_refused() {
    use app::model::enums::StaffRole;
    use app::services::staff;
    for test_db in app::testing::databases("http_templates_admin").await {
        let db = test_db.conn;
        staff::add(
            &db,
            "viewer@example.com",
            "Vic",
            StaffRole::Viewer,
            "viewer password 1",
            now(),
        )
        .await
        .expect("viewer");
        staff::add(
            &db,
            "admin@example.com",
            "Ada",
            StaffRole::Admin,
            "admin password 12",
            now(),
        )
        .await
        .expect("admin");
        let router = router(db.clone());
        let post = |path: &'static str, cookie: String, body: String| {
            let req = Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, cookie)
                .body(Body::from(body))
                .expect("request");
            router.clone().oneshot(req)
        };
        let viewer = staff_cookie(&router, "viewer@example.com", "viewer password 1").await;
        let admin = staff_cookie(&router, "admin@example.com", "admin password 12").await;
        let res = post("/api/staff/templates", viewer, String::new())
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{}", test_db.backend);

        let res = post("/api/staff/templates", admin.clone(), String::new())
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let list: Vec<app::model::staff::TemplateDraft> =
            serde_json::from_slice(&res.into_body().collect().await.expect("body").to_bytes())
                .expect("json");
        let t = list
            .iter()
            .find(|t| t.key == "portal_sign_in")
            .expect("seeded sign-in template");

        let form = |subject: &str, version: i32| {
            format!(
                "key=portal_sign_in&subject={}&body_text={}&version={version}",
                subject.replace(' ', "+"),
                "Hello+%7B%7B+contact_name+%7D%7D"
            )
        };
        let res = post(
            "/api/staff/templates/save",
            admin.clone(),
            form("New subject", t.version),
        )
        .await
        .expect("response");
        assert_eq!(res.status(), StatusCode::OK, "{}", test_db.backend);
        // A second save from the same starting version would silently overwrite: refused.
        let res = post(
            "/api/staff/templates/save",
            admin.clone(),
            form("Other subject", t.version),
        )
        .await
        .expect("response");
        assert_eq!(res.status(), StatusCode::CONFLICT, "{}", test_db.backend);
        let broken = "key=portal_sign_in&subject=Hi&body_text=%7B%7B+unclosed&version=99";
        let res = post(
            "/api/staff/templates/save",
            admin.clone(),
            broken.to_owned(),
        )
        .await
        .expect("response");
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: a template that does not parse",
            test_db.backend
        );
        let stored = app::services::templates::get(&db, "portal_sign_in")
            .await
            .expect("template");
        assert_eq!(
            (stored.subject.as_str(), stored.version),
            ("New subject", t.version + 1)
        );
    }
}
