//! Sessions end honestly: a log out that cannot reach the server says so and keeps trying,
//! the reason a session ended shows on whatever page you are, each reason in its own words,
//! and the times the page shows are the server's.

use anyhow::{Result, ensure};
use serde_json::{Value, json};
use thirtyfour::By;

use crate::browser::{PASSWORD, register_and_log_in, shown_access_token};
use crate::harness::{Browser, ServerProcess, exclusive, run, with_browser};

/// Whether the page shows someone logged in.
async fn logged_in(browser: &Browser) -> Result<bool> {
    Ok(browser
        .driver
        .find(By::Id("nav-user"))
        .await?
        .attr("hidden")
        .await?
        .is_none())
}

/// The `exp` claim of `token`.
fn exp_of(token: &str) -> Result<i64> {
    let parts = claims::compact::split(token).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let payload: Value = serde_json::from_slice(&parts.payload)?;
    payload["exp"]
        .as_i64()
        .ok_or_else(|| anyhow::anyhow!("no exp in {payload}"))
}

/// `POST path` with `access`, as another device of the same user would.
async fn post_as(server: &ServerProcess, path: &str, access: &str, body: Value) -> Result<u16> {
    let answer = reqwest::Client::new()
        .post(server.url(path))
        .bearer_auth(access)
        .json(&body)
        .send()
        .await?;
    Ok(answer.status().as_u16())
}

#[tokio::test]
async fn a_log_out_the_server_cannot_hear_keeps_the_session_says_so_and_gets_through_later() {
    let _turn = exclusive().await;
    let mut server = ServerProcess::start(&[]).expect("the server starts");
    let base = server.base.clone();
    with_browser("logout-unreachable", async |browser| {
        register_and_log_in(browser, &base, "ada").await?;
        let cookie = browser.session_cookie().await?;
        server.stop();

        browser.click("logout-button").await?;

        browser
            .text_of("logout-error", |t| {
                t.starts_with("Could not reach the server: your session is still open there.")
            })
            .await?;
        ensure!(
            logged_in(browser).await?,
            "the page says nobody is logged in"
        );
        ensure!(
            browser.session_cookie().await? == cookie,
            "the session's cookie changed while the server was away"
        );

        server.restart()?;

        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| t == "You logged out.")
            .await?;
        browser.text_of("logout-error", str::is_empty).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_reason_a_session_ended_shows_on_a_page_that_needs_no_session() {
    // A short access token, so the page refreshes (and learns the news) within seconds.
    run(
        "ended-on-inspector",
        &[("JWT_ACCESS_TOKEN_LIFETIME", "6")],
        async |browser, server| {
            register_and_log_in(browser, &server.base, "ada").await?;
            let access = shown_access_token(browser).await?;
            browser.click_link("Token inspector").await?;
            browser.wait_for_path("/inspector").await?;

            let changed =
                json!({"old_password": PASSWORD, "new_password": "a-whole-new-passphrase"});
            ensure!(post_as(server, "/api/password/change/", &access, changed).await? == 200);

            let notice = browser
                .text_of("session-ended", |t| t.contains("Your password was changed"))
                .await?;
            ensure!(notice.contains("Log in again"), "{notice}");
            ensure!(
                !logged_in(browser).await?,
                "the page still says ada is logged in"
            );
            Ok(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_replayed_refresh_token_is_told_as_what_a_stolen_copy_looks_like() {
    run("ended-by-replay", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let cookie = browser
            .session_cookie()
            .await?
            .and_then(|cookie| cookie["value"].as_str().map(str::to_owned))
            .unwrap_or_default();
        // A thief's copy of the cookie is used first: the page's own turn is then a replay.
        let stolen = reqwest::Client::new()
            .post(server.url("/api/session/refresh/"))
            .header("X-Requested-With", "XMLHttpRequest")
            .header("Cookie", format!("refresh={cookie}"))
            .send()
            .await?;
        ensure!(
            stolen.status() == 200,
            "the thief's refresh: {}",
            stolen.status()
        );
        browser.driver.refresh().await?;

        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| {
                t.contains("one of its old refresh tokens was used again")
            })
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_times_the_page_shows_are_the_servers() {
    run("session-times", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let access = shown_access_token(browser).await?;
        let exp = exp_of(&access)?;

        // The page's own formatting of the access token's exp, from the token itself.
        let expected: String = browser
            .driver
            .execute(
                "return new Date(arguments[0] * 1000).toLocaleString('default', \
                 {dateStyle: 'medium', timeStyle: 'short'})",
                vec![json!(exp)],
            )
            .await?
            .convert()?;
        browser
            .text_of("curl-expiry", |t| t.contains(&expected))
            .await?;
        let times = browser
            .text_of("session-times", |t| t.contains("however often"))
            .await?;
        ensure!(
            !times.contains("a day") && !times.contains("a week"),
            "{times}"
        );
        Ok(())
    })
    .await;
}
