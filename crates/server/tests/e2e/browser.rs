//! The frontend in a real browser: headless Chromium against the `server` binary serving the
//! built `dist/`, as `cargo xtask serve` runs it.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};
use thirtyfour::By;

use crate::harness::{self, Browser, ServerProcess, run, screenshot_dir, wait_until};

pub const PASSWORD: &str = "correct-horse-battery";

/// Registers `username`, logs in, and waits for the Hello page's greeting; `base` is where
/// the app is served (the server itself, or nginx in front of it).
pub async fn register_and_log_in(browser: &Browser, base: &str, username: &str) -> Result<()> {
    browser.open(&format!("{base}/register")).await?;
    browser.fill("username", username).await?;
    browser.fill("password", PASSWORD).await?;
    browser.click("register-submit").await?;
    browser.wait_for_path("/login").await?;
    browser.text_of("notice", |t| t.contains("created")).await?;
    log_in(browser).await
}

/// Types the password into the log-in page (the username is filled in) and waits for Hello.
async fn log_in(browser: &Browser) -> Result<()> {
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
        let title = browser.driver.title().await?;
        ensure!(title == "Hello · JWT tutorial", "title {title:?}");
        save_for_book(browser, "hello").await
    })
    .await;
}

#[tokio::test]
async fn no_script_of_the_page_can_see_the_refresh_token() {
    run("httponly", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;

        let cookie = browser
            .session_cookie()
            .await?
            .context("no session cookie")?;
        ensure!(cookie["httpOnly"] == true, "{cookie}");
        ensure!(cookie["sameSite"] == "Strict", "{cookie}");
        ensure!(cookie["path"] == "/api/session/", "{cookie}");
        let refresh = cookie["value"].as_str().unwrap_or_default().to_owned();
        ensure!(refresh.starts_with("eyJ"), "{cookie}");
        let visible = browser.script_visible_state().await?;
        ensure!(
            !visible.contains(&refresh) && !visible.contains("eyJ"),
            "scripts can see a token: {visible}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_access_token_is_refreshed_silently_before_it_expires() {
    // The timer refreshes a fifth of the lifetime early: at 4.8 s, then at 9.6 s.
    let settings = [("JWT_ACCESS_TOKEN_LIFETIME", "6")];
    run("silent-refresh", &settings, async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;

        // Past the first token's expiry: only the refresh timer can have kept the session.
        tokio::time::sleep(Duration::from_secs(7)).await;
        call_again_and_wait_for_the_greeting(browser).await?;

        server
            .wait_for_log_lines(&["path=/api/session/refresh/", "status=200"], 1)
            .await?;
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

        tokio::time::sleep(Duration::from_secs(4)).await;
        call_again_and_wait_for_the_greeting(browser).await?;

        let refused = server
            .wait_for_log_lines(&["path=/hello/", "status=401"], 1)
            .await?;
        ensure!(refused.len() == 1, "refused calls: {refused:?}");
        server
            .wait_for_log_lines(&["path=/api/session/refresh/", "status=200"], 1)
            .await?;
        server
            .wait_for_log_lines(&["path=/hello/", "status=200"], 2)
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_timer_and_a_retry_after_a_401_at_once_make_one_refresh() {
    // The timer fires at 8 s (a fifth of 10 s early); a 401 is forced just before it.
    let settings = [("JWT_ACCESS_TOKEN_LIFETIME", "10")];
    run("overlapping-refresh", &settings, async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let access = shown_access_token(browser).await?;
        let iat = claim(&access, "iat")?;
        let timer_at = iat + 8;

        // Just before the timer, the server stops accepting this access token (a session log
        // out without the cookie revokes only it); then the page calls with it.
        sleep_until_epoch(timer_at as f64 - 0.15).await;
        deny_access_token(server, &access).await?;
        browser.click("call-again").await?;
        wait_for_the_greeting_of_call(browser, 2).await?;

        tokio::time::sleep(Duration::from_millis(1500)).await;
        let refreshes = server.log_lines(&["path=/api/session/refresh/"]);
        ensure!(
            refreshes.len() == 1 && refreshes[0].contains("status=200"),
            "refreshes: {refreshes:?}"
        );
        let reuse = server.log_lines(&["refresh_token_reuse_detected"]);
        ensure!(reuse.is_empty(), "{reuse:?}");
        browser
            .text_of("nav-user", |t| t == "Logged in as ada")
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn two_tabs_share_one_session_through_several_refreshes() {
    let settings = [("JWT_ACCESS_TOKEN_LIFETIME", "4")];
    run("two-tabs", &settings, async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let first = browser.driver.window().await?;
        let second = browser.driver.new_tab().await?;
        browser.driver.switch_to_window(second.clone()).await?;
        browser.open(&server.url("/hello")).await?;
        browser
            .text_of("hello-message", |t| t == "Hello, World!")
            .await?;

        // About four refreshes' worth, both tabs' timers running.
        tokio::time::sleep(Duration::from_secs(14)).await;

        for tab in [first, second] {
            browser.driver.switch_to_window(tab).await?;
            call_again_and_wait_for_the_greeting(browser).await?;
            browser
                .text_of("nav-user", |t| t == "Logged in as ada")
                .await?;
        }
        let refreshes = server.log_lines(&["path=/api/session/refresh/"]);
        ensure!(refreshes.len() >= 3, "only {} refreshes", refreshes.len());
        let refused: Vec<_> = refreshes
            .iter()
            .filter(|l| !l.contains("status=200"))
            .collect();
        ensure!(refused.is_empty(), "refused refreshes: {refused:?}");
        let reuse = server.log_lines(&["refresh_token_reuse_detected"]);
        ensure!(reuse.is_empty(), "{reuse:?}");
        Ok(())
    })
    .await;
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
async fn after_logging_out_the_session_and_its_cookie_are_dead() {
    run("logout", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let cookie = browser
            .session_cookie()
            .await?
            .context("no session cookie")?;
        let refresh = cookie["value"].as_str().unwrap_or_default().to_owned();

        browser.click("logout-button").await?;
        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| t == "You logged out.")
            .await?;
        ensure!(
            browser.session_cookie().await?.is_none(),
            "the cookie is still there"
        );
        browser.click_link("Hello").await?;
        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| t.contains("Log in to see that page"))
            .await?;

        let answer = reqwest::Client::new()
            .post(server.url("/api/session/refresh/"))
            .header("X-Requested-With", "XMLHttpRequest")
            .header("Cookie", format!("refresh={refresh}"))
            .send()
            .await?;
        ensure!(
            answer.status() == 401,
            "refresh after logout: {}",
            answer.status()
        );
        let body: Value = answer.json().await?;
        ensure!(body["detail"] == "Token is blacklisted", "body: {body}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn back_after_logging_out_leaves_the_protected_pages() {
    run("back-after-logout", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_path("/inspector").await?;
        browser.click("logout-button").await?;
        browser.wait_for_path("/login").await?;

        let mut seen = Vec::new();
        for _ in 0..6 {
            browser.driver.back().await?;
            tokio::time::sleep(Duration::from_millis(400)).await;
            let path = browser.driver.current_url().await?.path().to_owned();
            seen.push(path.clone());
            if path == "/register" {
                return Ok(());
            }
        }
        bail!("Back never left the app's logged-in pages: {seen:?}")
    })
    .await;
}

#[tokio::test]
async fn after_logging_in_you_return_to_the_page_you_came_from() {
    run("return-after-login", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click("logout-button").await?;
        browser.wait_for_path("/login").await?;
        browser.click_link("Hello").await?;
        browser.wait_for_path("/login").await?;

        log_in(browser).await
    })
    .await;
}

#[tokio::test]
async fn a_protected_page_sends_you_to_log_in_with_its_whole_address() {
    run("next-whole-address", &[], async |browser, server| {
        browser.open(&server.url("/hello?from=mail")).await?;
        browser.wait_for_path("/login").await?;
        let url = browser.driver.current_url().await?;
        ensure!(
            url.query() == Some("next=%2Fhello%3Ffrom%3Dmail"),
            "the guard sent the browser to {url}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_next_address_of_another_site_is_not_followed_after_logging_in() {
    run("next-elsewhere", &[], async |browser, server| {
        server.new_user_access_token("ada", PASSWORD).await?;
        // A backslash reads as a slash, and a tab is dropped: the second and third are
        // `//elsewhere.example/` too.
        for next in [
            "//elsewhere.example/",
            "/%5Celsewhere.example/",
            "/%09/elsewhere.example/",
            "https://elsewhere.example/",
        ] {
            browser
                .open(&server.url(&format!("/login?next={next}")))
                .await?;
            browser.fill("username", "ada").await?;
            log_in(browser)
                .await
                .with_context(|| format!("next={next}"))?;
            let url = browser.driver.current_url().await?;
            ensure!(
                url.as_str().starts_with(&server.base),
                "next={next} took the browser to {url}"
            );
            browser.click("logout-button").await?;
            browser.wait_for_path("/login").await?;
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_log_in_that_answers_after_you_moved_on_leaves_you_where_you_went() {
    run("log-in-then-elsewhere", &[], async |browser, server| {
        server.new_user_access_token("ada", PASSWORD).await?;
        browser.open(&server.url("/login")).await?;
        browser.fill("username", "ada").await?;
        browser.fill("password", PASSWORD).await?;
        browser.delay_fetches("/api/session/", 2000).await?;
        browser.click("login-submit").await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_heading("Token inspector").await?;
        // Logged in: the answer has come; a page it asked for would be drawn by the settle.
        browser.text_of("nav-user", |t| t.contains("ada")).await?;
        browser.settle().await?;
        let url = browser.driver.current_url().await?;
        ensure!(
            url.path() == "/inspector",
            "the log in took the browser to {url}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_log_in_page_while_logged_in_says_so_and_offers_to_log_out() {
    run("already-logged-in", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.open(&server.url("/login")).await?;

        browser
            .text_of("already", |t| t.contains("You are logged in as ada"))
            .await?;
        browser.click("already-logout").await?;
        wait_until("the log out", Duration::from_secs(10), || async {
            let shown = browser.driver.find(By::Id("already")).await.is_ok();
            if shown {
                Err("still logged in".to_owned())
            } else {
                Ok(())
            }
        })
        .await
    })
    .await;
}

#[tokio::test]
async fn a_session_ended_elsewhere_is_explained_in_words_with_the_username_kept() {
    run("session-ended", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        // Someone logs out everywhere, from another device.
        let access = shown_access_token(browser).await?;
        let answer = reqwest::Client::new()
            .post(server.url("/api/logout/all/"))
            .bearer_auth(&access)
            .send()
            .await?;
        ensure!(answer.status() == 200, "logout all: {}", answer.status());

        browser.click("call-again").await?;

        browser.wait_for_path("/login").await?;
        browser
            .text_of("notice", |t| t.starts_with("You logged out everywhere"))
            .await?;
        let username = browser
            .element(By::Id("username"))
            .await?
            .prop("value")
            .await?;
        ensure!(
            username.as_deref() == Some("ada"),
            "username field: {username:?}"
        );
        save_for_book(browser, "session-ended").await
    })
    .await;
}

#[tokio::test]
async fn a_wrong_password_shows_the_servers_message_until_the_field_is_edited() {
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
        browser.fill("password", "another-try").await?;
        browser.text_of("form-error", str::is_empty).await?;
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

#[tokio::test]
async fn with_the_server_down_hello_says_so_in_words() {
    run("server-down", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        server.stop();

        browser.click("call-again").await?;

        let expected = format!(
            "The server at {} does not answer. Is it running?",
            server.base
        );
        browser.text_of("hello-error", |t| t == expected).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn copy_falls_back_to_selecting_the_command_without_a_clipboard() {
    run("copy-fallback", &[], async |browser, server| {
        browser.hide_clipboard().await?;
        register_and_log_in(browser, &server.base, "ada").await?;

        browser.click("copy-curl").await?;

        browser
            .text_of("copied", |t| t.contains("the command is selected"))
            .await?;
        let selected = browser
            .driver
            .execute("return window.getSelection().toString();", vec![])
            .await?;
        let command = browser
            .text_of("curl-command", |t| t.contains("eyJ"))
            .await?;
        ensure!(
            selected.json().as_str() == Some(command.as_str()),
            "selected {:?}",
            selected.json()
        );
        Ok(())
    })
    .await;
}

/// The id or text of the element that has the keyboard focus.
async fn focused(browser: &Browser) -> Result<String> {
    let focused = browser
        .driver
        .execute(
            "const e = document.activeElement; return e.id || e.tagName;",
            vec![],
        )
        .await?;
    Ok(focused.json().as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn the_first_tab_stop_skips_to_the_content() {
    run("skip-link", &[], async |browser, server| {
        browser.open(&server.url("/inspector")).await?;
        browser.element(By::Tag("h1")).await?;

        browser
            .driver
            .active_element()
            .await?
            .send_keys(thirtyfour::Key::Tab)
            .await?;
        ensure!(
            focused(browser).await? == "skip-link",
            "the first stop is {}",
            focused(browser).await?
        );
        let link = browser.element(By::Id("skip-link")).await?;
        ensure!(link.text().await? == "Skip to content");
        ensure!(
            link.rect().await?.x >= 0.0,
            "the focused link is off screen"
        );

        link.send_keys(thirtyfour::Key::Enter).await?;
        wait_until(
            "the focus on the content",
            Duration::from_secs(5),
            || async {
                match focused(browser).await {
                    Ok(id) if id == "main" => Ok(()),
                    Ok(other) => Err(other),
                    Err(error) => Err(error.to_string()),
                }
            },
        )
        .await?;
        ensure!(
            browser.driver.current_url().await?.path() == "/inspector",
            "the link navigated away"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_navigation_does_not_shift_when_the_current_page_changes() {
    run("nav-shift", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let positions = async || -> Result<Vec<(String, f64, f64)>> {
            let mut all = Vec::new();
            for link in browser.driver.find_all(By::Css("nav a")).await? {
                let rect = link.rect().await?;
                all.push((link.text().await?, rect.x, rect.width));
            }
            Ok(all)
        };
        let on_hello = positions().await?;

        for (page, path) in [("Notes", "/notes"), ("Token inspector", "/inspector")] {
            browser.click_link(page).await?;
            browser.wait_for_path(path).await?;
            let here = positions().await?;
            ensure!(
                here == on_hello,
                "on {path}: {here:?}, on /hello: {on_hello:?}"
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_navigation_sets_the_title_and_moves_focus_to_the_heading() {
    run("titles", &[], async |browser, server| {
        browser.open(&server.url("/")).await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_path("/inspector").await?;

        wait_until("the inspector's title and focus", Duration::from_secs(10), || async {
            let title = browser.driver.title().await.map_err(|e| e.to_string())?;
            let focused = browser
                .driver
                .execute("return document.activeElement.tagName + ':' + document.activeElement.textContent;", vec![])
                .await
                .map_err(|e| e.to_string())?;
            let focused = focused.json().as_str().unwrap_or_default().to_owned();
            if title == "Token inspector · JWT tutorial" && focused == "H1:Token inspector" {
                Ok(())
            } else {
                Err(format!("title {title:?}, focus on {focused:?}"))
            }
        })
        .await
    })
    .await;
}

#[tokio::test]
async fn the_footer_links_the_readme() {
    run("readme-link", &[], async |browser, server| {
        browser.open(&server.url("/")).await?;

        browser.click("readme-link").await?;

        wait_until("the README", Duration::from_secs(10), || async {
            let text = match browser.driver.find(By::Tag("body")).await {
                Ok(body) => body.text().await.unwrap_or_default(),
                Err(error) => return Err(error.to_string()),
            };
            if text.starts_with("# JWT authentication, from the DRF tutorial to production") {
                Ok(())
            } else {
                Err(text.chars().take(80).collect())
            }
        })
        .await
    })
    .await;
}

// The inspector: what it sees itself, then what the server says, in words.

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
        browser.click("verify-button").await?;
        browser
            .text_of("verify-result", |t| {
                t.starts_with("The server accepts this token")
            })
            .await?;
        save_for_book(browser, "inspector").await
    })
    .await;
}

#[tokio::test]
async fn the_inspector_follows_the_session_to_its_next_access_token() {
    let settings = [("JWT_ACCESS_TOKEN_LIFETIME", "4")];
    run("inspector-follows", &settings, async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        let first = shown_jti(browser).await?;

        wait_until(
            "the next access token in the inspector",
            Duration::from_secs(10),
            || async {
                match shown_jti(browser).await {
                    Ok(jti) if jti != first => Ok(()),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await
    })
    .await;
}

#[tokio::test]
async fn the_jwt_io_example_is_explained_and_refused_as_invalid() {
    run("inspector-jwt-io", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        browser.click("use-example").await?;

        browser
            .text_of("findings", |t| t.contains("No exp claim"))
            .await?;
        browser.click("verify-button").await?;
        browser
            .text_of("verify-result", |t| {
                t.starts_with("The server refuses this token: \"Token is invalid\".")
                    && t.contains("a signature that does not match")
            })
            .await?;
        let sub = browser
            .element(By::Css("tr[data-claim='sub'] td:last-child"))
            .await?
            .text()
            .await?;
        ensure!(sub.starts_with("Subject (registered)"), "sub: {sub}");
        save_for_book(browser, "inspector-jwt-io").await
    })
    .await;
}

#[tokio::test]
async fn a_tampered_user_id_is_highlighted_and_its_refusal_explained() {
    run("inspector-tampered", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        shown_jti(browser).await?;

        browser.click("tamper-button").await?;

        browser
            .text_of("verify-result", |t| {
                t == "The server refuses it: \"Token is invalid\". You changed user_id; the \
                      signature was made over the old payload, so it no longer matches. Only \
                      the holder of the key can sign a new one."
            })
            .await?;
        let row = browser.element(By::Css("tr[data-claim='user_id']")).await?;
        ensure!(
            row.class_name()
                .await?
                .is_some_and(|class| class.contains("changed")),
            "the changed claim is not highlighted"
        );
        let user_id = row.find(By::Css(".claim-value")).await?.text().await?;
        ensure!(user_id == "10", "user_id shows {user_id:?}");
        save_for_book(browser, "inspector-tampered").await
    })
    .await;
}

#[tokio::test]
async fn alg_none_is_seen_before_the_server_is_asked() {
    run("inspector-alg-none", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        let access = shown_access_token(browser).await?;
        let payload = access.split('.').nth(1).context("a payload")?;
        // {"alg":"none","typ":"JWT"}
        let unsigned = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");

        browser.fill("token-input", &unsigned).await?;

        browser
            .text_of("findings", |t| {
                t.contains("alg is \"none\": an unsigned token")
            })
            .await?;
        browser.click("verify-button").await?;
        browser
            .text_of("verify-result", |t| t.contains("\"Token is invalid\""))
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_refresh_token_is_valid_but_only_for_refreshing() {
    run("inspector-refresh", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "ada").await?;
        let pair: Value = reqwest::Client::new()
            .post(server.url("/api/token/"))
            .json(&json!({"username": "ada", "password": PASSWORD}))
            .send()
            .await?
            .json()
            .await?;
        browser.click_link("Token inspector").await?;
        browser
            .fill(
                "token-input",
                pair["refresh"].as_str().context("a refresh token")?,
            )
            .await?;

        browser
            .text_of("findings", |t| {
                t.contains("A refresh token: valid only for refreshing")
            })
            .await?;
        browser.click("verify-button").await?;
        browser
            .text_of("verify-result", |t| {
                t.starts_with("Valid, but only for refreshing")
                    && t.contains("/hello/ needs an access token")
            })
            .await?;
        save_for_book(browser, "inspector-refresh").await
    })
    .await;
}

#[tokio::test]
async fn garbage_is_not_a_jwt_and_says_why() {
    run("not-a-jwt", &[], async |browser, server| {
        browser.open(&server.url("/inspector")).await?;

        browser.fill("token-input", "abc").await?;

        browser
            .text_of("inspector-error", |t| {
                t.starts_with("This is not a JWT") && t.contains("this has 1")
            })
            .await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn with_the_server_down_the_inspector_says_so_in_words() {
    run("inspector-server-down", &[], async |browser, server| {
        browser.open(&server.url("/inspector")).await?;
        browser.click("use-example").await?;
        server.stop();

        browser.click("verify-button").await?;

        let expected = format!(
            "The server at {} does not answer. Is it running?",
            server.base
        );
        browser.text_of("verify-result", |t| t == expected).await?;
        Ok(())
    })
    .await;
}

/// The session's access token, as the page shows it: in the Hello page's curl command, or in
/// the inspector's box.
pub async fn shown_access_token(browser: &Browser) -> Result<String> {
    if browser.driver.current_url().await?.path() == "/inspector" {
        shown_jti(browser).await?;
        let value = browser
            .element(By::Id("token-input"))
            .await?
            .prop("value")
            .await?;
        return value.context("the inspector's box is empty");
    }
    let curl = browser
        .text_of("curl-command", |t| t.contains("Bearer eyJ"))
        .await?;
    curl.split("Bearer ")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned)
        .context("a token in the curl command")
}

/// The `jti` the inspector shows, once it shows a token.
pub async fn shown_jti(browser: &Browser) -> Result<String> {
    let cell = browser
        .element(By::Css("tr[data-claim='jti'] .claim-value"))
        .await?;
    Ok(cell.text().await?)
}

/// A numeric claim of a token.
fn claim(token: &str, name: &str) -> Result<i64> {
    use base64::Engine;
    let payload = token.split('.').nth(1).context("a payload")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    let claims: Value = serde_json::from_slice(&bytes)?;
    claims[name].as_i64().with_context(|| format!("no {name}"))
}

async fn sleep_until_epoch(seconds: f64) {
    let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    if seconds > now {
        tokio::time::sleep(Duration::from_secs_f64(seconds - now)).await;
    }
}

/// Revokes one access token, as a session log out without the cookie does.
async fn deny_access_token(server: &ServerProcess, access: &str) -> Result<()> {
    let answer = reqwest::Client::new()
        .post(server.url("/api/session/logout/"))
        .header("X-Requested-With", "XMLHttpRequest")
        .bearer_auth(access)
        .send()
        .await?;
    ensure!(
        answer.status() == 200,
        "denying the token: {}",
        answer.status()
    );
    Ok(())
}

/// Clicks "Call again" on the Hello page and waits for the greeting of that call (not the one
/// shown before it).
pub async fn call_again_and_wait_for_the_greeting(browser: &Browser) -> Result<()> {
    let shown = browser.element(By::Id("hello-message")).await?;
    let previous: u32 = shown.attr("data-call").await?.unwrap_or_default().parse()?;
    browser.click("call-again").await?;
    wait_for_the_greeting_of_call(browser, previous + 1).await
}

/// Waits for the Hello page's greeting of call number `call`.
async fn wait_for_the_greeting_of_call(browser: &Browser, call: u32) -> Result<()> {
    let wanted = call.to_string();
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

/// Seconds left on the inspector's countdown.
async fn countdown(browser: &Browser) -> Result<i64> {
    let element = browser.element(By::Id("countdown")).await?;
    let seconds = element.attr("data-seconds").await?.unwrap_or_default();
    Ok(seconds.parse()?)
}

/// Saves a screenshot under `target/browser-screenshots/`, and into `docs/src/images/` for the
/// book and the README when `SAVE_README_SCREENSHOTS=1`.
pub async fn save_for_book(browser: &Browser, name: &str) -> Result<()> {
    let shot = screenshot_dir().join(format!("{name}.png"));
    browser.screenshot(&shot).await?;
    if std::env::var("SAVE_README_SCREENSHOTS").is_ok_and(|v| v == "1") {
        let docs = harness::workspace_root().join("docs/src/images");
        std::fs::create_dir_all(&docs)?;
        std::fs::copy(&shot, docs.join(format!("{name}.png")))?;
    }
    Ok(())
}

#[tokio::test]
async fn the_home_page_fetches_no_page_module_and_a_page_fetches_its_own_once() {
    run("lazy-pages", &[], async |browser, server| {
        browser.open(&format!("{}/", server.base)).await?;
        browser.element(By::Css("nav[aria-label='Main']")).await?;
        let first_load = browser.fetched_wasm_modules().await?;
        ensure!(
            first_load.len() == 1 && first_load[0].starts_with("frontend-"),
            "the home page fetched {first_load:?}"
        );

        register_and_log_in(browser, &server.base, "lazy").await?;
        browser.click_link("Attack lab").await?;
        browser.wait_for_path("/lab").await?;
        browser.element(By::Id("attacks-heading")).await?;
        browser.click_link("Hello").await?;
        browser.wait_for_path("/hello").await?;
        browser.click_link("Attack lab").await?;
        browser.element(By::Id("attacks-heading")).await?;
        let fetched = browser.fetched_wasm_modules().await?;
        let lab = fetched
            .iter()
            .filter(|name| name.starts_with("frontend-lab-"))
            .count();
        ensure!(
            lab == 1,
            "the lab's module was fetched {lab} times: {fetched:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_link_of_the_app_draws_its_page_without_loading_the_app_again() {
    run("router-link", &[], async |browser, server| {
        browser.open(&format!("{}/", server.base)).await?;
        browser.mark_app().await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_path("/inspector").await?;
        browser.wait_for_heading("Token inspector").await?;
        let link = browser.element(By::LinkText("Token inspector")).await?;
        let current = link.attr("aria-current").await?;
        ensure!(
            current.as_deref() == Some("page"),
            "aria-current: {current:?}"
        );
        ensure!(
            browser.is_same_app().await?,
            "the link loaded the app again"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn back_and_forward_draw_the_page_of_the_address() {
    run("router-history", &[], async |browser, server| {
        browser.open(&format!("{}/", server.base)).await?;
        browser.mark_app().await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_heading("Token inspector").await?;
        browser.driver.back().await?;
        browser.wait_for_path("/").await?;
        browser
            .wait_for_heading("JSON Web Tokens, hands on")
            .await?;
        browser.driver.forward().await?;
        browser.wait_for_path("/inspector").await?;
        browser.wait_for_heading("Token inspector").await?;
        ensure!(
            browser.is_same_app().await?,
            "Back or Forward loaded the app again"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn back_puts_the_page_where_it_was_scrolled() {
    run("router-scroll", &[], async |browser, server| {
        // A window short enough for the home page to scroll.
        browser.driver.set_window_rect(0, 0, 1280, 450).await?;
        browser.open(&format!("{}/", server.base)).await?;
        let scrolled = "return window.scrollY;";
        browser
            .driver
            .execute("window.scrollTo(0, 150);", vec![])
            .await?;
        let before = browser
            .driver
            .execute(scrolled, vec![])
            .await?
            .json()
            .clone();
        ensure!(
            before == json!(150),
            "the home page scrolled to {before}, not 150"
        );
        // A click from the page itself: WebDriver's would scroll the link into view first.
        browser
            .driver
            .execute(
                "document.querySelector('nav a[href=\"/inspector\"]').click();",
                vec![],
            )
            .await?;
        browser.wait_for_heading("Token inspector").await?;
        browser.driver.back().await?;
        browser
            .wait_for_heading("JSON Web Tokens, hands on")
            .await?;
        wait_until(
            "the home page scrolled back",
            Duration::from_secs(5),
            || async {
                let now = browser.driver.execute(scrolled, vec![]).await;
                match now.map(|now| now.json().clone()) {
                    Ok(now) if now == json!(150) => Ok(()),
                    other => Err(format!("scrolled to {other:?}")),
                }
            },
        )
        .await
    })
    .await;
}

#[tokio::test]
async fn a_link_to_the_open_page_adds_no_entry_to_the_history() {
    run("router-same-page", &[], async |browser, server| {
        browser.open(&format!("{}/", server.base)).await?;
        browser.click_link("Token inspector").await?;
        browser.wait_for_heading("Token inspector").await?;
        browser.mark_app().await?;
        let entries = "return history.length;";
        let before = browser
            .driver
            .execute(entries, vec![])
            .await?
            .json()
            .clone();
        browser.click_link("Token inspector").await?;
        let after = browser
            .driver
            .execute(entries, vec![])
            .await?
            .json()
            .clone();
        ensure!(
            before == after,
            "history entries: {before} before, {after} after"
        );
        browser.driver.back().await?;
        browser.wait_for_path("/").await?;
        ensure!(
            browser.is_same_app().await?,
            "the link loaded the app again"
        );
        Ok(())
    })
    .await;
}

/// What the home page may download of wasm and JavaScript, compressed as it comes over the
/// wire: the first load's budget (the build prints the same figure on its last lines).
const FIRST_LOAD_BUDGET: u64 = 150 * 1024;

#[tokio::test]
async fn the_home_page_downloads_at_most_150_kib_of_wasm_and_js() {
    run("first-load-budget", &[], async |browser, server| {
        browser.open(&format!("{}/", server.base)).await?;
        browser.wait_for_heading("JSON Web Tokens, hands on").await?;
        browser.settle().await?;
        let bytes = browser.fetched_code_bytes().await?;
        ensure!(
            bytes > 0 && bytes <= FIRST_LOAD_BUDGET,
            "the home page downloaded {bytes} bytes of wasm and js; the budget is {FIRST_LOAD_BUDGET}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_page_slow_to_arrive_says_so_and_offers_to_load_it_again() {
    run("lazy-page-slow", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "patient").await?;
        browser.delay_fetches("/frontend-lab-", 60_000).await?;
        browser.click_link("Attack lab").await?;
        browser
            .text_of("page-slow", |t| {
                t == "This is taking long: the connection may be slow or down. Load it again"
            })
            .await?;
        let again = browser.element(By::LinkText("Load it again")).await?;
        let href = again.attr("href").await?;
        ensure!(
            href.as_deref() == Some("/lab"),
            "Load it again goes to {href:?}"
        );
        browser.element(By::Id("page-loading")).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_page_whose_module_cannot_be_fetched_says_so_and_the_app_carries_on() {
    run("lazy-page-unavailable", &[], async |browser, server| {
        register_and_log_in(browser, &server.base, "offline").await?;
        browser.block_urls(&["*/frontend-lab-*"]).await?;
        browser.click_link("Attack lab").await?;
        browser
            .text_of("page-unavailable", |t| {
                t == "Its code did not arrive: the connection may be down, or the site was updated since you opened it."
            })
            .await?;
        let reload = browser.element(By::Id("page-reload")).await?;
        ensure!(
            reload.attr("href").await?.as_deref() == Some("/lab"),
            "the reload link goes to {:?}",
            reload.attr("href").await?
        );

        browser.click_link("Hello").await?;
        browser
            .text_of("hello-message", |t| t == "Hello, World!")
            .await?;
        browser.block_urls(&[]).await?;
        browser.click_link("Attack lab").await?;
        browser.element(By::Id("attacks-heading")).await?;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_protected_page_sends_a_visitor_to_log_in_without_fetching_its_module() {
    run("lazy-page-guard", &[], async |browser, server| {
        browser.open(&format!("{}/lab", server.base)).await?;
        browser.wait_for_path("/login").await?;
        browser.element(By::Id("login-submit")).await?;
        let fetched = browser.fetched_wasm_modules().await?;
        ensure!(
            fetched
                .iter()
                .any(|name| name.starts_with("frontend-login-"))
                && !fetched.iter().any(|name| name.starts_with("frontend-lab-")),
            "fetched {fetched:?}"
        );
        Ok(())
    })
    .await;
}
