//! The built frontend served at `/`: single-page-app fallback for pages, never for the API or
//! for missing assets, and cache headers by file name.

use std::path::Path;

use serde_json::json;

use crate::helpers::*;

const INDEX: &str = "<!doctype html><title>app</title>";
const SCRIPT: &str = "frontend-0123456789abcdef.js";
/// What stands in for the script's `.gz` twin: the server sends it as it is.
const GZIPPED_SCRIPT: &[u8] = b"\x1f\x8b stands in for the gzipped script";

/// An app serving a stand-in `dist/` with an index and one hashed script.
async fn app_with_frontend(dir: &Path) -> TestApp {
    std::fs::write(dir.join("index.html"), INDEX).unwrap();
    std::fs::write(dir.join(SCRIPT), "console.log('hi')").unwrap();
    std::fs::write(dir.join(format!("{SCRIPT}.gz")), GZIPPED_SCRIPT).unwrap();
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

#[actix_web::test]
async fn a_hashed_asset_goes_out_as_its_gz_twin_to_a_client_that_accepts_gzip() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let response = app
        .client
        .get(app.url(&format!("/{SCRIPT}")))
        .header("Accept-Encoding", "br, gzip;q=0.8")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["Content-Encoding"], "gzip");
    assert_eq!(headers["Content-Type"], "text/javascript");
    assert_eq!(headers["Vary"], "Accept-Encoding");
    assert_eq!(
        headers["Cache-Control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(response.bytes().await.unwrap(), GZIPPED_SCRIPT);
}

#[actix_web::test]
async fn a_hashed_asset_goes_out_as_it_is_to_a_client_that_refuses_gzip() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    for accept in [None, Some("identity"), Some("gzip;q=0, br")] {
        let mut request = app.client.get(app.url(&format!("/{SCRIPT}")));
        if let Some(accept) = accept {
            request = request.header("Accept-Encoding", accept);
        }
        let response = request.send().await.unwrap();

        assert_eq!(response.status(), 200, "{accept:?}");
        assert!(
            response.headers().get("Content-Encoding").is_none(),
            "{accept:?}"
        );
        assert_eq!(
            response.text().await.unwrap(),
            "console.log('hi')",
            "{accept:?}"
        );
    }
}

#[actix_web::test]
async fn an_asset_name_that_climbs_out_of_the_frontend_is_a_404() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    for path in [
        "/%2fetc%2fhostname-0123456789abcdef.js",
        "/..%2f..%2fCargo-0123456789abcdef.js",
        "/.hidden-0123456789abcdef.js",
    ] {
        let response = app
            .client
            .get(app.url(path))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();

        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            json!({"detail": "Not found."}),
            "{path}"
        );
    }
}

#[actix_web::test]
async fn another_method_on_a_page_is_drfs_405_and_on_an_unknown_api_path_a_404() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    for (path, status, body) in [
        (
            "/login",
            405,
            json!({"detail": "Method \"POST\" not allowed."}),
        ),
        ("/", 405, json!({"detail": "Method \"POST\" not allowed."})),
        (
            &format!("/{SCRIPT}"),
            405,
            json!({"detail": "Method \"POST\" not allowed."}),
        ),
        ("/api/nothing/", 404, json!({"detail": "Not found."})),
    ] {
        let response = app.client.post(app.url(path)).send().await.unwrap();

        assert_eq!(response.status(), status, "{path}");
        if status == 405 {
            assert_eq!(response.headers()["Allow"], "GET, HEAD", "{path}");
        }
        assert_eq!(
            response.json::<serde_json::Value>().await.unwrap(),
            body,
            "{path}"
        );
    }
}

#[actix_web::test]
async fn a_range_of_a_hashed_asset_is_a_range_of_the_file_itself() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let response = app
        .client
        .get(app.url(&format!("/{SCRIPT}")))
        .header("Accept-Encoding", "gzip")
        .header("Range", "bytes=0-6")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 206);
    assert_ne!(
        response
            .headers()
            .get("Content-Encoding")
            .map(|v| v.to_str().unwrap()),
        Some("gzip")
    );
    assert_eq!(response.text().await.unwrap(), "console");
}

#[actix_web::test]
async fn a_range_with_if_range_gets_the_whole_hashed_asset() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let response = app
        .client
        .get(app.url(&format!("/{SCRIPT}")))
        .header("Range", "bytes=0-6")
        .header("If-Range", "\"an older copy\"")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers().get("Content-Range"), None);
    assert_eq!(response.text().await.unwrap(), "console.log('hi')");
}

#[actix_web::test]
async fn a_range_with_if_range_gets_the_whole_index() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    let response = app
        .client
        .get(app.url("/index.html"))
        .header("Range", "bytes=0-4")
        .header("If-Range", "Thu, 01 Jan 1970 00:00:00 GMT")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), INDEX);
}

#[actix_web::test]
async fn gzip_goes_to_whoever_admits_it_and_to_nobody_who_refuses_it() {
    let dist = tempfile::tempdir().unwrap();
    let app = app_with_frontend(dist.path()).await;

    for (accept, gzipped) in [
        ("gzip", true),
        ("GZIP", true),
        ("*", true),
        ("br, gzip;q=0.5", true),
        ("*, gzip;q=0", false),
        ("gzip;q=0, *", false),
        ("gzip;Q=0", false),
        ("gzip;q=abc", false),
        ("gzip;q=1.5", false),
        ("identity", false),
        ("garbage,,;;", false),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/{SCRIPT}")))
            .header("Accept-Encoding", accept)
            .send()
            .await
            .unwrap();

        let encoding = response
            .headers()
            .get("Content-Encoding")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            encoding.as_deref() == Some("gzip"),
            gzipped,
            "{accept}: {encoding:?}"
        );
        assert!(
            response
                .headers()
                .get("Content-Disposition")
                .is_none_or(|v| !v.to_str().unwrap().contains(".gz")),
            "{accept}"
        );
    }
}
