//! The per-process view is current on every replica: what one process revokes, another
//! refuses within a second on PostgreSQL (`LISTEN/NOTIFY`), and what no process announces (the
//! command line against SQLite) within `AUTH_CACHE_TTL`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::{server, stderr};
use crate::helpers::*;

/// Two apps on one fresh PostgreSQL database, as two replicas behind a proxy; `None` (after
/// saying so, or failing under `E2E_REQUIRE=1`) without `TEST_DATABASE_URL`.
async fn two_replicas() -> Option<(TestApp, TestApp)> {
    let backend = Backend::postgres()?;
    let a = TestApp::spawn_with(&backend, &[]).await;
    let b = TestApp::spawn_beside(&a, &[]);
    Some((a, b))
}

/// Polls `GET /hello/` on `app` with `access` until it answers 401 with `body`; returns how
/// long that took, failing after `deadline`.
async fn refused_within(app: &TestApp, access: &str, body: &Value, deadline: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let response = app.get_as("/hello/", access).await;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.expect("a JSON body");
        if status == 401 && answer == *body {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < deadline,
            "still {status} {answer} after {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[actix_web::test]
async fn a_user_deactivated_from_the_command_line_is_refused_by_a_replica_within_a_second() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let pair = a.user_with_tokens().await;
    assert_eq!(b.get_as("/hello/", &pair.access).await.status(), 200);
    let url = a.database_url_text();
    let dir = tempfile::tempdir().unwrap();

    let output = server(
        dir.path(),
        &["deactivateuser", "ada"],
        &[("DATABASE_URL", &url)],
        "",
    );

    assert!(output.status.success(), "{}", stderr(&output));
    let inactive = json!({"detail": "User is inactive", "code": "user_inactive"});
    let took = refused_within(&b, &pair.access, &inactive, Duration::from_secs(1)).await;
    println!("deactivation seen by replica B after {took:?}");
}

#[actix_web::test]
async fn a_family_revoked_through_one_replica_is_refused_by_the_other_within_a_second() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let pair = a.user_with_tokens().await;
    assert_eq!(b.get_as("/hello/", &pair.access).await.status(), 200);

    assert_eq!(a.blacklist(&pair.refresh).await.status(), 200);

    let revoked = access_token_refused("Token is blacklisted");
    let took = refused_within(&b, &pair.access, &revoked, Duration::from_secs(1)).await;
    println!("family revocation seen by replica B after {took:?}");
}

#[actix_web::test]
async fn a_password_changed_through_one_replica_ends_sessions_on_the_other_within_a_second() {
    let Some((a, b)) = two_replicas().await else {
        return;
    };
    let here = a.user_with_tokens().await;
    let elsewhere = a.obtain_pair("ada", PASSWORD).await;
    assert_eq!(b.get_as("/hello/", &elsewhere.access).await.status(), 200);

    let response = a
        .change_password(&here.access, PASSWORD, "a-brand-new-passphrase")
        .await;

    assert_eq!(response.status(), 200);
    let revoked = access_token_refused("Token is blacklisted");
    let took = refused_within(&b, &elsewhere.access, &revoked, Duration::from_secs(1)).await;
    println!("password change seen by replica B after {took:?}");
}

#[actix_web::test]
async fn on_sqlite_a_deactivation_from_the_command_line_takes_effect_within_the_cache_ttl() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[("AUTH_CACHE_TTL", "1")]).await;
    let pair = app.user_with_tokens().await;
    assert_eq!(app.get_as("/hello/", &pair.access).await.status(), 200);
    let url = app.database_url_text();
    let dir = tempfile::tempdir().unwrap();

    let output = server(
        dir.path(),
        &["deactivateuser", "ada"],
        &[("DATABASE_URL", &url)],
        "",
    );

    assert!(output.status.success(), "{}", stderr(&output));
    let inactive = json!({"detail": "User is inactive", "code": "user_inactive"});
    // One second of cache, and a little for the request itself.
    let took = refused_within(&app, &pair.access, &inactive, Duration::from_millis(1500)).await;
    println!("deactivation seen on SQLite after {took:?} (AUTH_CACHE_TTL=1)");
}

#[actix_web::test]
async fn without_the_cache_every_check_asks_the_database() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[("AUTH_CACHE_TTL", "0")]).await;
    let pair = app.user_with_tokens().await;
    assert_eq!(app.get_as("/hello/", &pair.access).await.status(), 200);

    // Behind the app's back: nothing tells it, and no cache hides the change.
    server::db::users::set_active(&mut app.connection(), 1, false).unwrap();

    assert_json(
        app.get_as("/hello/", &pair.access).await,
        401,
        json!({"detail": "User is inactive", "code": "user_inactive"}),
    )
    .await;
}

#[actix_web::test]
async fn logging_out_everywhere_reaches_an_access_token_without_a_family_on_a_replica() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let a = TestApp::spawn_with(&backend, SIMPLEJWT_DEFAULTS).await;
    let b = TestApp::spawn_beside(&a, SIMPLEJWT_DEFAULTS);
    let pair = a.user_with_tokens().await;
    assert_eq!(b.get_as("/hello/", &pair.access).await.status(), 200);
    next_second().await;

    let logged_out = a.log_out_everywhere(&pair.access).await;
    assert_eq!(logged_out.status(), 200);

    let took = refused_within(
        &b,
        &pair.access,
        &access_token_refused("Token is blacklisted"),
        Duration::from_secs(5),
    )
    .await;
    println!("logging out everywhere reached the other replica in {took:?}");
}

#[actix_web::test]
async fn the_listeners_connection_is_named_in_pg_stat_activity() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let app = TestApp::spawn_with(&backend, &[]).await;
    let database = app.database_url_text();
    let database = database
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_owned();
    let query = format!(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE application_name = '{}' AND datname = '{database}'",
        server::db::listen::APPLICATION_NAME
    );
    let started = Instant::now();
    loop {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let counted: Count =
            diesel::RunQueryDsl::get_result(diesel::sql_query(&query), &mut app.connection())
                .expect("pg_stat_activity is readable");
        if counted.n == 1 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{} listener connections after 10 s",
            counted.n
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
