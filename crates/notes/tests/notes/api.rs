//! The notes API as a caller sees it.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn a_token_from_the_auth_server_writes_and_reads_the_callers_notes() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;

    let created = json_body(
        notes.create(&token, &json!({"text": "  buy milk "})).await,
        201,
    )
    .await;
    let listed = json_body(notes.list(&token).await, 200).await;

    assert_eq!(created["text"], "buy milk");
    assert!(created["id"].is_i64());
    assert!(
        created["created"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.len() == 27),
        "{created}"
    );
    assert_eq!(listed, json!([created]));
}

#[actix_web::test]
async fn each_caller_sees_only_their_own_notes() {
    let (_keys, auth, notes) = both();
    let ada = auth.access_token_for("ada").await;
    let bob = auth.access_token_for("bob").await;
    json_body(notes.create(&ada, &json!({"text": "ada's"})).await, 201).await;

    let bobs = json_body(notes.list(&bob).await, 200).await;

    assert_eq!(bobs, json!([]));
}

#[actix_web::test]
async fn without_a_token_the_answer_is_a_401_with_a_challenge() {
    let (_keys, _auth, notes) = both();

    let response = notes
        .client
        .get(format!("{}/notes/api/notes/", notes.address))
        .send()
        .await
        .unwrap();

    assert_json(
        response,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}

#[actix_web::test]
async fn a_refresh_token_is_refused_as_the_wrong_type() {
    let (_keys, auth, notes) = both();
    auth.access_token_for("ada").await;
    let pair = auth.log_in("ada").await;

    assert_json(
        notes.list(pair["refresh"].as_str().unwrap()).await,
        401,
        access_token_refused("Token has wrong type"),
    )
    .await;
}

#[actix_web::test]
async fn another_method_is_a_405_after_authentication() {
    let (_keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let url = format!("{}/notes/api/notes/", notes.address);

    let anonymous = notes.client.delete(&url).send().await.unwrap();
    let authenticated = notes
        .client
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(anonymous.status(), 401);
    assert_eq!(authenticated.headers()["Allow"], "GET, POST, HEAD, OPTIONS");
    assert_json(
        authenticated,
        405,
        json!({"detail": "Method \"DELETE\" not allowed."}),
    )
    .await;
}

#[actix_web::test]
async fn an_unknown_path_is_a_json_404() {
    let (_keys, _auth, notes) = both();

    let response = notes
        .client
        .get(format!("{}/notes/api/nothing/", notes.address))
        .send()
        .await
        .unwrap();

    assert_json(response, 404, json!({"detail": "Not found."})).await;
}

#[actix_web::test]
async fn notes_are_kept_in_postgresql_too() {
    let Some(admin_url) = crate::postgres::admin_url() else {
        assert!(
            !crate::postgres::required(),
            "TEST_DATABASE_URL is not set, and E2E_REQUIRE=1 requires PostgreSQL"
        );
        eprintln!("note: TEST_DATABASE_URL is not set; the PostgreSQL variant is skipped");
        return;
    };
    let database = crate::postgres::ScratchDatabase::create(&admin_url);
    let keys = tempfile::tempdir().unwrap();
    let auth = AuthServer::start(keys.path(), &[]);
    let notes = NotesService::start(&auth.jwks_url(), &[("NOTES_DATABASE_URL", &database.url)]);
    let token = auth.access_token_for("ada").await;

    let first = json_body(notes.create(&token, &json!({"text": "one"})).await, 201).await;
    let second = json_body(notes.create(&token, &json!({"text": "two"})).await, 201).await;

    assert_eq!(
        json_body(notes.list(&token).await, 200).await,
        json!([first, second])
    );
}

#[actix_web::test]
async fn the_auth_server_forwards_the_notes_api_in_development() {
    let (keys, auth, notes) = both();
    let token = auth.access_token_for("ada").await;
    let front = AuthServer::start(keys.path(), &[("NOTES_URL", &notes.address)]);
    let url = format!("{}/notes/api/notes/", front.address);

    let created = notes
        .client
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({"text": "through the front"}))
        .send()
        .await
        .unwrap();
    let anonymous = notes.client.get(&url).send().await.unwrap();

    let created = json_body(created, 201).await;
    assert_eq!(
        json_body(notes.list(&token).await, 200).await,
        json!([created])
    );
    assert_json(
        anonymous,
        401,
        json!({"detail": "Authentication credentials were not provided."}),
    )
    .await;
}
