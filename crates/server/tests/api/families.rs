//! Token families and reuse detection (on by default): every log in starts a family, each
//! rotation stays in it, and a rotated-out refresh token that comes back revokes the whole
//! family, as RFC 9700 §4.14.2 and Auth0, Okta and Ory do.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::*;

every_database!(
    a_stolen_refresh_token_replayed_ends_the_whole_family,
    another_session_of_the_same_user_survives_a_replay,
    tokens_carry_their_family_and_rotation_keeps_it,
    without_reuse_detection_tokens_carry_no_family,
    twenty_parallel_refreshes_without_grace_let_one_through_and_revoke_the_family,
    twenty_parallel_refreshes_with_grace_all_get_the_same_successor,
    the_predecessor_after_the_grace_is_reuse,
    an_older_token_within_the_grace_is_reuse,
    rotation_never_carries_a_session_past_the_family_lifetime,
    an_ended_family_refreshes_no_more,
    logging_out_revokes_the_family_and_its_access_tokens,
    a_replay_is_logged_with_user_and_family_but_no_token,
);

/// The refresh and access tokens of a successful refresh.
async fn refreshed(app: &TestApp, refresh: &str) -> (String, String) {
    let body = json_body(app.refresh(refresh).await, 200).await;
    (
        body["refresh"]
            .as_str()
            .expect("a rotated token")
            .to_owned(),
        body["access"].as_str().expect("an access token").to_owned(),
    )
}

fn blacklisted() -> Value {
    token_not_valid("Token is blacklisted")
}

async fn a_stolen_refresh_token_replayed_ends_the_whole_family(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let r1 = app.user_with_tokens().await;
    let (r2, a2) = refreshed(&app, &r1.refresh).await;

    // The thief (or a stale client) presents R1 again.
    assert_json(app.refresh(&r1.refresh).await, 401, blacklisted()).await;

    // From then on nothing of the family works: R2, and every access token minted from it.
    assert_json(app.refresh(&r2).await, 401, blacklisted()).await;
    for access in [&r1.access, &a2] {
        assert_json(
            app.get_as("/hello/", access).await,
            401,
            access_token_refused("Token is blacklisted"),
        )
        .await;
    }
}

async fn another_session_of_the_same_user_survives_a_replay(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let laptop = app.user_with_tokens().await;
    let phone = app.obtain_pair("ada", PASSWORD).await;
    refreshed(&app, &laptop.refresh).await;

    assert_json(app.refresh(&laptop.refresh).await, 401, blacklisted()).await;

    assert_json(
        app.get_as("/hello/", &phone.access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
    refreshed(&app, &phone.refresh).await;
}

async fn tokens_carry_their_family_and_rotation_keeps_it(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    let family = payload_of(&pair.refresh)["family_id"].clone();
    assert!(family.as_str().is_some_and(|id| id.len() == 32), "{family}");
    assert_eq!(payload_of(&pair.access)["family_id"], family);

    let (r2, a2) = refreshed(&app, &pair.refresh).await;

    assert_eq!(payload_of(&r2)["family_id"], family);
    assert_eq!(payload_of(&a2)["family_id"], family);
    let other = app.obtain_pair("ada", PASSWORD).await;
    assert_ne!(payload_of(&other.refresh)["family_id"], family);
}

async fn without_reuse_detection_tokens_carry_no_family(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_DETECTION", "false")]).await;
    let pair = app.user_with_tokens().await;

    assert_eq!(payload_of(&pair.refresh).get("family_id"), None);
    let (r2, _) = refreshed(&app, &pair.refresh).await;
    assert_eq!(payload_of(&r2).get("family_id"), None);
    // Replaying R1 is simplejwt's plain "blacklisted"; R2 lives on.
    assert_json(app.refresh(&pair.refresh).await, 401, blacklisted()).await;
    refreshed(&app, &r2).await;
}

async fn twenty_parallel_refreshes_without_grace_let_one_through_and_revoke_the_family(
    backend: Backend,
) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;

    let responses = join_all((0..20).map(|_| app.refresh(&pair.refresh))).await;

    let mut statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses[0], 200, "{statuses:?}");
    assert!(statuses[1..].iter().all(|s| *s == 401), "{statuses:?}");
    // The losers cannot be told from a thief: the family is gone, the winner's token too.
    let mut winner = None;
    for response in responses {
        if response.status() == 200 {
            winner = Some(json_body(response, 200).await);
        } else {
            assert_json(response, 401, blacklisted()).await;
        }
    }
    let winner = winner.expect("one refresh succeeded");
    assert_json(
        app.refresh(winner["refresh"].as_str().unwrap()).await,
        401,
        blacklisted(),
    )
    .await;
}

async fn twenty_parallel_refreshes_with_grace_all_get_the_same_successor(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_GRACE", "5")]).await;
    let pair = app.user_with_tokens().await;

    let responses = join_all((0..20).map(|_| app.refresh(&pair.refresh))).await;

    let mut successors = Vec::new();
    for response in responses {
        let body = json_body(response, 200).await;
        successors.push(body["refresh"].as_str().unwrap().to_owned());
    }
    successors.dedup();
    assert_eq!(successors.len(), 1, "the family branched");
    // The family lives: its one successor rotates on.
    refreshed(&app, &successors[0]).await;
}

async fn the_predecessor_after_the_grace_is_reuse(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_GRACE", "1")]).await;
    let pair = app.user_with_tokens().await;
    let (r2, _) = refreshed(&app, &pair.refresh).await;

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert_json(app.refresh(&pair.refresh).await, 401, blacklisted()).await;
    assert_json(app.refresh(&r2).await, 401, blacklisted()).await;
}

async fn an_older_token_within_the_grace_is_reuse(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_REUSE_GRACE", "30")]).await;
    let r1 = app.user_with_tokens().await;
    let (r2, _) = refreshed(&app, &r1.refresh).await;
    let (r3, _) = refreshed(&app, &r2).await;

    // R1 is two rotations old: no lost answer explains it.
    assert_json(app.refresh(&r1.refresh).await, 401, blacklisted()).await;
    assert_json(app.refresh(&r3).await, 401, blacklisted()).await;
}

async fn rotation_never_carries_a_session_past_the_family_lifetime(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_FAMILY_LIFETIME", "60")]).await;
    let pair = app.user_with_tokens().await;
    let family_end = payload_of(&pair.refresh)["exp"].as_i64().unwrap();
    assert!(
        (family_end - (now() + 60)).abs() <= 2,
        "refresh exp {family_end}"
    );

    let (r2, a2) = refreshed(&app, &pair.refresh).await;

    assert!(payload_of(&r2)["exp"].as_i64().unwrap() <= family_end);
    assert!(payload_of(&a2)["exp"].as_i64().unwrap() <= family_end);
}

async fn an_ended_family_refreshes_no_more(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[("JWT_REFRESH_FAMILY_LIFETIME", "1")]).await;
    let pair = app.user_with_tokens().await;

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;

    assert_json(
        app.refresh(&pair.refresh).await,
        401,
        token_not_valid("Token is expired"),
    )
    .await;
}

async fn logging_out_revokes_the_family_and_its_access_tokens(backend: Backend) {
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    let (r2, a2) = refreshed(&app, &pair.refresh).await;

    assert_json(app.blacklist(&r2).await, 200, json!({})).await;

    assert_json(
        app.get_as("/hello/", &a2).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
    assert_json(app.refresh(&r2).await, 401, blacklisted()).await;
    assert_json(app.blacklist(&r2).await, 401, blacklisted()).await;
}

async fn a_replay_is_logged_with_user_and_family_but_no_token(backend: Backend) {
    let log = capture_log();
    let app = TestApp::spawn_with(&backend, &[]).await;
    let pair = app.user_with_tokens().await;
    let family = payload_of(&pair.refresh)["family_id"]
        .as_str()
        .unwrap()
        .to_owned();
    refreshed(&app, &pair.refresh).await;

    assert_eq!(app.refresh(&pair.refresh).await.status(), 401);

    let lines = log.lines_with(&["refresh_token_reuse_detected", &family]);
    assert_eq!(lines.len(), 1, "{:?}", log.all());
    assert!(lines[0].contains("user_id=1"), "{}", lines[0]);
    assert!(
        !lines[0].contains(&pair.refresh),
        "a token in the log: {}",
        lines[0]
    );
}
