//! `NOTES_URL`: in development the server forwards the notes service's API, so the frontend
//! reaches it on one origin (the notes service's own tests cover the forwarding that works).

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn without_notes_url_the_notes_api_is_a_json_404() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;

    assert_json(
        app.get("/notes/api/notes/", None).await,
        404,
        json!({"detail": "Not found."}),
    )
    .await;
}

#[actix_web::test]
async fn with_the_notes_service_down_its_forwarded_api_is_a_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let notes_url = format!("http://127.0.0.1:{closed}");
    let app = TestApp::spawn_with(&Backend::Sqlite, &[("NOTES_URL", &notes_url)]).await;

    assert_json(
        app.get("/notes/api/notes/", Some("Bearer x")).await,
        503,
        json!({"detail": "Service temporarily unavailable."}),
    )
    .await;
}
