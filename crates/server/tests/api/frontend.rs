//! The built frontend served at `/`: single-page-app fallback for pages, never for the API or
//! for missing assets, and cache headers by file name.

use std::path::Path;

use serde_json::json;

use crate::helpers::*;

const INDEX: &str = "<!doctype html><title>app</title>";
const SCRIPT: &str = "frontend-0123456789abcdef.js";

/// An app serving a stand-in `dist/` with an index and one hashed script.
async fn app_with_frontend(dir: &Path) -> TestApp {
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join(SCRIPT), "console.log('hi')").unwrap();
    std::fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
    let dir = dir.to_string_lossy().into_owned();
    TestApp::spawn_with(&Backend::Sqlite, &[("FRONTEND_DIR", &dir)]).await
}

async fn text_and_cache(app: &TestApp, path: &str) -> (u16, String, String) {
    let response = app.get(path, None).await;
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("Cache-Control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.text().await.unwrap())
}

#[actix_web::test]
async fn the_index_is_served_at_the_root_and_always_revalidated() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let (status, cache, body) = text_and_cache(&app, "/").await;

    assert_eq!(
        (status, cache.as_str(), body.as_str()),
        (200, "no-cache", INDEX)
    );
}

#[actix_web::test]
async fn a_page_path_falls_back_to_the_index() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    for page in ["/login", "/hello", "/inspector"] {
        let (status, cache, body) = text_and_cache(&app, page).await;
        assert_eq!(
            (status, cache.as_str(), body.as_str()),
            (200, "no-cache", INDEX),
            "{page}"
        );
    }
}

#[actix_web::test]
async fn a_hashed_asset_is_cached_for_a_year() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let (status, cache, _) = text_and_cache(&app, &format!("/{SCRIPT}")).await;

    assert_eq!(
        (status, cache.as_str()),
        (200, "public, max-age=31536000, immutable")
    );
}

#[actix_web::test]
async fn an_unhashed_asset_is_revalidated() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let (status, cache, _) = text_and_cache(&app, "/favicon.svg").await;

    assert_eq!((status, cache.as_str()), (200, "no-cache"));
}

#[actix_web::test]
async fn a_missing_asset_is_a_404_not_the_index() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    assert_json(
        app.get("/frontend-ffffffffffffffff.js", None).await,
        404,
        json!({"detail": "Not found."}),
    )
    .await;
}

#[actix_web::test]
async fn an_unknown_api_path_never_falls_back_to_the_index() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    assert_json(
        app.get("/api/unknown/", None).await,
        404,
        json!({"detail": "Not found."}),
    )
    .await;
}

#[actix_web::test]
async fn the_api_still_answers_beside_the_frontend() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    assert_json(
        app.get("/hello/", None).await,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

#[actix_web::test]
async fn without_a_built_frontend_the_root_says_how_to_build_it() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_string_lossy().into_owned();
    let app = TestApp::spawn_with(&Backend::Sqlite, &[("FRONTEND_DIR", &dir)]).await;

    let (status, _, body) = text_and_cache(&app, "/").await;

    assert_eq!(status, 200);
    assert!(body.contains("the frontend is not built"), "{body}");
    assert!(body.contains("cargo xtask serve"), "{body}");
    assert_json(
        app.get("/login", None).await,
        404,
        json!({"detail": "Not found."}),
    )
    .await;
}
