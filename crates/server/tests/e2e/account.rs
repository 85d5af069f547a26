//! The Account page: who you are, changing the password (the browser keeps its session, in a
//! new cookie; every other one ends), and logging out everywhere after a confirmation.

use anyhow::{Result, ensure};
use thirtyfour::By;

use crate::browser::{
    PASSWORD, call_again_and_wait_for_the_greeting, register_and_log_in, save_for_book,
};
use crate::harness::{Browser, ServerProcess, run};

const NEW_PASSWORD: &str = "a-whole-new-passphrase";

/// Logs `ada` in from "another device" (the token API); returns that device's refresh token.
async fn another_device(server: &ServerProcess) -> Result<String> {
    let pair: serde_json::Value = reqwest::Client::new()
        .post(server.url("/api/token/"))
        .json(&serde_json::json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    Ok(pair["refresh"].as_str().unwrap_or_default().to_owned())
}

/// The status `/api/token/refresh/` answers for `refresh`.
async fn refresh_status(server: &ServerProcess, refresh: &str) -> Result<u16> {
    let answer = reqwest::Client::new()
        .post(server.url("/api/token/refresh/"))
        .json(&serde_json::json!({"refresh": refresh}))
        .send()
        .await?;
    Ok(answer.status().as_u16())
}

async fn open_account(browser: &Browser) -> Result<()> {
    browser.click_link("Account").await?;
    browser.wait_for_path("/account").await
}

#[tokio::test]
async fn the_account_page_shows_who_you_are() {
    run("account", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;

        open_account(browser).await?;

        browser.text_of("profile-username", |t| t == "ada").await?;
        let rules = browser
            .text_of("password-rules", |t| t.contains("at least 8 characters"))
            .await?;
        ensure!(rules.contains("72 bytes"), "{rules}");
        save_for_book(browser, "account").await
    })
    .await;
}

#[tokio::test]
async fn a_wrong_old_password_and_a_weak_new_one_are_told_field_by_field() {
    run("password-fields", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        open_account(browser).await?;

        browser.fill("old_password", "not-the-password").await?;
        browser.fill("new_password", "1234").await?;
        browser.click("change-password").await?;

        browser
            .text_of("old_password-error", |t| {
                t == "Your old password was entered incorrectly. Please enter it again."
            })
            .await?;
        let new = browser
            .text_of("new_password-error", |t| t.contains("too short"))
            .await?;
        ensure!(new.contains("entirely numeric"), "{new}");
        browser.fill("new_password", "5").await?;
        browser.text_of("new_password-error", str::is_empty).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn changing_the_password_keeps_this_browsers_tabs_and_ends_every_other_session() {
    run("password-change", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let elsewhere = another_device(server).await?;
        let first = browser.driver.window().await?;
        let second = browser.driver.new_tab().await?;
        browser.driver.switch_to_window(second.clone()).await?;
        browser.open(&server.url("/hello")).await?;
        browser
            .text_of("hello-message", |t| t == "Hello, World!")
            .await?;
        browser.driver.switch_to_window(first.clone()).await?;
        open_account(browser).await?;

        browser.fill("old_password", PASSWORD).await?;
        browser.fill("new_password", NEW_PASSWORD).await?;
        browser.click("change-password").await?;

        for tab in [first, second] {
            browser.driver.switch_to_window(tab).await?;
            browser
                .text_of("session-notice", |t| {
                    t.starts_with("Your password was changed.")
                })
                .await?;
            browser
                .text_of("nav-user", |t| t == "Logged in as ada")
                .await?;
        }
        call_again_and_wait_for_the_greeting(browser).await?;
        ensure!(
            refresh_status(server, &elsewhere).await? == 401,
            "the other device's session survived the password change"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn logging_out_everywhere_says_what_it_does_first_then_ends_every_session() {
    run("logout-all", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let elsewhere = another_device(server).await?;
        open_account(browser).await?;

        browser.click("logout-all").await?;
        let asked = browser
            .text_of("logout-all-what", |t| !t.is_empty())
            .await?;
        ensure!(
            asked.contains("every browser and device") && asked.contains("this one included"),
            "{asked}"
        );
        browser.click("logout-all-cancel").await?;
        ensure!(
            browser
                .driver
                .find_all(By::Id("logout-all-confirm"))
                .await?
                .is_empty(),
            "cancel left the question open"
        );
        ensure!(
            refresh_status(server, &elsewhere).await? == 200,
            "asking ended a session"
        );

        browser.click("logout-all").await?;
        browser.click("logout-all-confirmed").await?;

        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| t.starts_with("You logged out everywhere"))
            .await?;
        let another = another_device(server).await?;
        ensure!(!another.is_empty(), "ada cannot log in again");
        ensure!(
            refresh_status(server, &elsewhere).await? == 401,
            "the other device's session survived"
        );
        Ok(())
    })
    .await;
}
