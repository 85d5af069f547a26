//! The frontend in a real browser: headless Chromium against the `server` binary serving the
//! built `dist/`, as `cargo xtask serve` runs it.

use std::time::Duration;

use anyhow::{Result, ensure};
use thirtyfour::By;

use crate::harness::{self, Browser, run, screenshot_dir, wait_until};

const PASSWORD: &str = "correct-horse-battery";

/// Registers `username`, logs in, and waits for the Hello page's greeting; `base` is where
/// the app is served (the server itself, or nginx in front of it).
pub async fn register_and_log_in(browser: &Browser, base: &str, username: &str) -> Result<()> {
    browser.open(&format!("{base}/register")).await?;
    browser.fill("username", username).await?;
    browser.fill("password", PASSWORD).await?;
    browser.click("register-submit").await?;
    browser.wait_for_path("/login").await?;
    browser.text_of("notice", |t| t.contains("created")).await?;
    browser.fill("password", PASSWORD).await?;
    browser.click("login-submit").await?;
    browser.wait_for_path("/hello").await?;
    browser
        .text_of("hello-message", |t| t == "Hello, World!")
        .await?;
    Ok(())
}

#[tokio::test]
async fn register_log_in_and_hello_shows_the_greeting_and_a_curl_command() {
    run("hello", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;

        let nav = browser.text_of("nav-user", |t| t.contains("ada")).await?;
        ensure!(nav == "Logged in as ada", "navigation says {nav:?}");
        let curl = browser
            .text_of("curl-command", |t| t.contains("eyJ"))
            .await?;
        ensure!(
            curl.starts_with("curl -H \"Authorization: Bearer eyJ"),
            "curl command: {curl}"
        );
        ensure!(
            curl.ends_with(&format!("{}/hello/", server.base)),
            "curl command: {curl}"
        );
        save_for_readme(browser, "hello").await
    })
    .await;
}

#[tokio::test]
async fn the_inspector_shows_an_access_token_and_a_countdown_that_decreases() {
    run("inspector", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_path("/inspector").await?;

        let token_type = browser
            .element(By::Css("tr[data-claim='token_type'] .claim-value"))
            .await?
            .text()
            .await?;
        ensure!(token_type == "access", "token_type shows {token_type:?}");
        let first = countdown(browser).await?;
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let second = countdown(browser).await?;
        ensure!(
            second < first && first - second >= 2,
            "countdown went from {first} to {second}"
        );
        save_for_readme(browser, "inspector").await
    })
    .await;
}

#[tokio::test]
async fn the_access_token_is_refreshed_silently_before_it_expires() {
    // The timer refreshes a fifth of the lifetime early: at 4.8 s, then at 9.6 s.
    let settings = [("JWT_ACCESS_TOKEN_LIFETIME", "6")];
    run("silent-refresh", &settings, async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let before = browser.stored_refresh_token().await?;

        // Past the first token's expiry: only the refresh timer can have kept the session.
        tokio::time::sleep(Duration::from_secs(7)).await;
        call_again_and_wait_for_the_greeting(browser).await?;

        let after = browser.stored_refresh_token().await?;
        ensure!(
            after.is_some() && after != before,
            "the refresh token did not rotate"
        );
        // Both calls of /hello/ (on arrival and now) were answered 200, and none was refused:
        // the token was fresh before the call went out.
        server
            .wait_for_log_lines(&["path=/hello/", "status=200"], 2)
            .await?;
        let refused = server.log_lines(&["path=/hello/", "status=401"]);
        ensure!(refused.is_empty(), "a call was refused: {refused:?}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn after_a_401_the_token_is_refreshed_and_the_call_retried() {
    let settings = [("JWT_ACCESS_TOKEN_LIFETIME", "3")];
    run("retry-after-401", &settings, async |browser, server| {
        // With the page's clock an hour behind, its refresh timer waits an hour: the access
        // token expires first, and only the retry after the server's 401 can save the call.
        browser.set_clock_behind(3600).await?;
        register_and_log_in(browser, &server.base, "ada").await?;
        let before = browser.stored_refresh_token().await?;

        tokio::time::sleep(Duration::from_secs(4)).await;
        call_again_and_wait_for_the_greeting(browser).await?;

        let refused = server
            .wait_for_log_lines(&["path=/hello/", "status=401"], 1)
            .await?;
        ensure!(refused.len() == 1, "refused calls: {refused:?}");
        server
            .wait_for_log_lines(&["path=/api/token/refresh/", "status=200"], 1)
            .await?;
        server
            .wait_for_log_lines(&["path=/hello/", "status=200"], 2)
            .await?;
        let after = browser.stored_refresh_token().await?;
        ensure!(
            after.is_some() && after != before,
            "the refresh token did not rotate"
        );
        Ok(())
    })
    .await;
}

/// Clicks "Call again" on the Hello page and waits for the greeting of that call (not the one
/// shown before it).
async fn call_again_and_wait_for_the_greeting(browser: &Browser) -> Result<()> {
    let shown = browser.element(By::Id("hello-message")).await?;
    let previous: u32 = shown.attr("data-call").await?.unwrap_or_default().parse()?;
    browser.click("call-again").await?;
    let wanted = (previous + 1).to_string();
    wait_until(
        "the greeting of the next call",
        Duration::from_secs(10),
        || async {
            let Ok(element) = browser.driver.find(By::Id("hello-message")).await else {
                let error = browser.driver.find(By::Id("hello-error")).await;
                return Err(match error {
                    Ok(error) => format!("an error: {:?}", error.text().await),
                    Err(_) => "no answer yet".to_owned(),
                });
            };
            let call = element.attr("data-call").await.ok().flatten();
            let text = element.text().await.unwrap_or_default();
            if call.as_deref() == Some(wanted.as_str()) && text == "Hello, World!" {
                Ok(())
            } else {
                Err(format!("call {call:?} says {text:?}"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn a_page_reload_keeps_the_session() {
    run("reload", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;

        browser.driver.refresh().await?;

        browser
            .text_of("hello-message", |t| t == "Hello, World!")
            .await?;
        browser
            .text_of("nav-user", |t| t == "Logged in as ada")
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn after_logging_out_hello_sends_you_to_log_in_and_the_old_refresh_token_is_refused() {
    run("logout", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let refresh = browser
            .stored_refresh_token()
            .await?
            .expect("a stored refresh token");

        browser.click("logout-button").await?;
        browser.wait_for_path("/").await?;
        ensure!(
            browser.stored_refresh_token().await?.is_none(),
            "the token is still stored"
        );
        browser.click_link("Hello").await?;

        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| t.contains("Log in to call"))
            .await?;
        let answer = reqwest::Client::new()
            .post(server.url("/api/token/refresh/"))
            .json(&serde_json::json!({"refresh": refresh}))
            .send()
            .await?;
        ensure!(
            answer.status() == 401,
            "refresh after logout: {}",
            answer.status()
        );
        let body: serde_json::Value = answer.json().await?;
        ensure!(body["detail"] == "Token is blacklisted", "body: {body}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_servers_message() {
    run("wrong-password", &[], async |browser, server| {
        browser.open(&server.url("/login")).await?;
        browser.fill("username", "nobody").await?;
        browser.fill("password", "not-the-password").await?;
        browser.click("login-submit").await?;

        browser
            .text_of("form-error", |t| {
                t == "No active account found with the given credentials"
            })
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn pasting_text_that_is_not_a_jwt_says_so() {
    run("not-a-jwt", &[], async |browser, server| {
        browser.open(&server.url("/inspector")).await?;

        browser.fill("token-input", "abc").await?;

        browser
            .text_of("inspector-error", |t| t.starts_with("This is not a JWT"))
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn register_shows_field_errors_next_to_their_fields() {
    run("register-errors", &[], async |browser, server| {
        browser.open(&server.url("/register")).await?;
        browser.fill("username", "ada").await?;
        browser.fill("password", "12345678").await?;
        browser.click("register-submit").await?;

        browser
            .text_of("password-error", |t| {
                t == "This password is too common. This password is entirely numeric."
            })
            .await?;
        Ok(())
    })
    .await;
}

/// Seconds left on the inspector's countdown.
async fn countdown(browser: &Browser) -> Result<i64> {
    let element = browser.element(By::Id("countdown")).await?;
    let seconds = element.attr("data-seconds").await?.unwrap_or_default();
    Ok(seconds.parse()?)
}

/// Saves a screenshot under `target/browser-screenshots/`, and into `docs/src/images/` for the
/// README when `SAVE_README_SCREENSHOTS=1`.
async fn save_for_readme(browser: &Browser, name: &str) -> Result<()> {
    let shot = screenshot_dir().join(format!("{name}.png"));
    browser.screenshot(&shot).await?;
    if std::env::var("SAVE_README_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = harness::workspace_root().join("docs/src/images");
        std::fs::create_dir_all(&docs)?;
        std::fs::copy(&shot, docs.join(format!("{name}.png")))?;
    }
    Ok(())
}
