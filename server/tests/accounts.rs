//! Staff inline saves over HTTP: a viewer is refused, a collector saves, nobody signed in
//! gets 401.

mod common;

use app::model::enums::StaffRole;
use app::services::{sessions, staff};
use app::testing::{databases, fixtures};
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use common::{now, router};

async fn post(
    router: &axum::Router,
    path: &str,
    cookie: Option<&str>,
    body: String,
) -> (StatusCode, String) {
    let mut req = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

async fn staff_cookie(db: &sea_orm::DatabaseConnection, email: &str, role: StaffRole) -> String {
    let user = staff::add(db, email, "Someone", role, "a long enough password", now())
        .await
        .expect("staff");
    let secret = sessions::open_staff_session(db, user.id, now())
        .await
        .expect("session");
    format!("{}={secret}", sessions::COOKIE)
}

#[tokio::test]
async fn viewers_may_look_but_not_change_and_collectors_may() {
    for t in databases("http_accounts_roles").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let router = router(db.clone());
        let viewer = staff_cookie(db, "viewer@settle.test", StaffRole::Viewer).await;
        let collector = staff_cookie(db, "collector@settle.test", StaffRole::Collector).await;
        let body = format!(
            "record=account&id={}&field=display_name&value=Acme+Tools&version=1&original=Acme",
            a.id
        );

        let (status, _) = post(&router, "/api/staff/field", None, body.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{}", t.backend);
        let (status, _) = post(&router, "/api/staff/field", Some(&viewer), body.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}: a viewer", t.backend);
        let (status, text) = post(
            &router,
            "/api/staff/account",
            Some(&viewer),
            format!("id={}", a.id),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        assert!(text.contains("\"can_edit\":false"), "{text}");

        let (status, text) = post(&router, "/api/staff/field", Some(&collector), body).await;
        assert_eq!(status, StatusCode::OK, "{}: {text}", t.backend);
        assert!(
            text.contains("Acme Tools") && text.contains("Done"),
            "{text}"
        );
        let bad = format!(
            "record=account&id={}&field=tin_encrypted&value=x&version=2&original=",
            a.id
        );
        let (status, _) = post(&router, "/api/staff/field", Some(&collector), bad).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "only the editable fields"
        );
    }
}

#[tokio::test]
async fn a_change_over_http_records_its_request_id() {
    use app::entities::audit_event;
    use sea_orm::{EntityTrait, QueryFilter};
    for t in databases("http_accounts_request_id").await {
        let db = &t.conn;
        let a = fixtures::customer(db, "C-1", "Acme").await;
        let router = router(db.clone());
        let collector = staff_cookie(db, "collector@settle.test", StaffRole::Collector).await;
        let body = format!(
            "record=account&id={}&field=phone&value=%2B1+555+010+2000&version=1&original=",
            a.id
        );
        let req = Request::post("/api/staff/field")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header(header::COOKIE, &collector);
        let res = router
            .clone()
            .oneshot(req.body(Body::from(body)).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK);
        let request_id = res
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        assert!(request_id.is_some(), "every response names its request");
        let event = audit_event::Entity::find()
            .filter(audit_event::COLUMN.field.eq("phone"))
            .one(db)
            .await
            .expect("read")
            .expect("audited");
        assert_eq!(event.request_id, request_id, "{}", t.backend);
    }
}
