use axum::body::Body;
use http::{Request, header};
use http_body_util::BodyExt;
use sea_orm::{ActiveModelTrait, ActiveValue::Set};
use tower::ServiceExt;

mod common;

#[tokio::test]
async fn scratch() {
    let t = app::testing::databases("zz_scratch_supplier_tmp").await.remove(0);
    let db = t.conn;
    let r = common::router(db.clone());
    let get = |path: &'static str| {
        let r = r.clone();
        async move {
            let res = r.oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
            let st = res.status();
            let h = res.headers().clone();
            let b = res.into_body().collect().await.unwrap().to_bytes();
            (st, h, String::from_utf8_lossy(&b).to_string())
        }
    };
    let (st, _, body) = get("/supplier.vcf").await;
    println!("EMPTY {st} {body}");
    let (st, _, body) = get("/supplier").await;
    println!("PAGE-EMPTY {st} {}", body.contains("No profile yet"));
    app::entities::supplier::ActiveModel {
        legal_name: Set("Northwind Supply Co.".into()),
        display_name: Set("Northwind Supply".into()),
        email: Set("ar@n.test".into()),
        phone: Set(Some("+1 555".into())),
        website: Set(Some("https://n.test".into())),
        remit_to: Set("Northwind\nPO Box 1\nPortland, OR".into()),
        tin: Set(Some("93-1234567".into())),
        currency: Set("USD".into()),
        created_at: Set(common::now()),
        updated_at: Set(common::now()),
        ..Default::default()
    }.insert(&db).await.unwrap();
    let (st, h, body) = get("/supplier.vcf").await;
    println!("VCF {st} {:?} {:?}\n{body:?}", h.get(header::CONTENT_TYPE), h.get(header::CONTENT_DISPOSITION));
    let (st, _, body) = get("/supplier").await;
    let i = body.find("supplier-card").unwrap_or(0);
    println!("PAGE {st}\n{}", &body[i.saturating_sub(200)..(i + 2500).min(body.len())]);
    let res = r.clone().oneshot(Request::post("/api/supplier").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::empty()).unwrap()).await.unwrap();
    let st = res.status();
    let b = res.into_body().collect().await.unwrap().to_bytes();
    println!("API {st} {}", String::from_utf8_lossy(&b));
    let res = r.clone().oneshot(Request::post("/api/staff/supplier/share").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from("contact_ids[0]=1")).unwrap()).await.unwrap();
    let st = res.status();
    let b = res.into_body().collect().await.unwrap().to_bytes();
    println!("SHARE {st} {}", String::from_utf8_lossy(&b));
}
