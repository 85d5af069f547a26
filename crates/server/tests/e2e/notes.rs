//! The Notes page: the frontend served by the `server` binary, which forwards `/notes/api/`
//! to a `notes` process that checks tokens with the server's published keys alone.

use anyhow::{Result, ensure};
use thirtyfour::By;

use crate::browser::{register_and_log_in, save_for_book};
use crate::harness::{NotesProcess, ServerProcess, exclusive, start_twice, with_browser};

/// The server on a port chosen first, so the notes service can be told its JWKS URL, and the
/// notes service it forwards to.
fn start_both(settings: &[(&str, &str)]) -> Result<(ServerProcess, NotesProcess)> {
    start_twice("the server and the notes service", || {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let notes = NotesProcess::start(&format!("http://127.0.0.1:{port}/.well-known/jwks.json"))?;
        let bind = format!("127.0.0.1:{port}");
        let mut all: Vec<(&str, &str)> = vec![("BIND_ADDR", &bind), ("NOTES_URL", &notes.base)];
        all.extend_from_slice(settings);
        Ok((ServerProcess::start(&all)?, notes))
    })
}

#[tokio::test]
async fn the_notes_page_keeps_notes_in_a_service_that_only_has_the_public_keys() {
    let _turn = exclusive().await;
    let keys = tempfile::tempdir().unwrap();
    let keys_dir = keys.path().to_str().unwrap().to_owned();
    let (server, _notes) =
        start_both(&[("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", &keys_dir)]).expect("both start");
    with_browser("notes", async |browser| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Notes").await?;
        browser.wait_for_path("/notes").await?;
        browser
            .text_of("notes-empty", |t| t == "No notes yet.")
            .await?;
        let key = browser
            .text_of("notes-key", |t| t.contains("names the key"))
            .await?;

        browser
            .fill("note-text", "written through the second service")
            .await?;
        browser.click("add-note").await?;
        let listed = browser
            .text_of("notes-list", |t| {
                t.contains("written through the second service")
            })
            .await?;
        browser.driver.refresh().await?;
        let reloaded = browser
            .text_of("notes-list", |t| {
                t.contains("written through the second service")
            })
            .await?;

        ensure!(
            listed == reloaded,
            "after a reload the list is {reloaded:?}, not {listed:?}"
        );
        let kid = std::fs::read_to_string(keys.path().join("current"))?;
        ensure!(key.ends_with(&format!("{}.", kid.trim())), "{key}");
        save_for_book(browser, "notes").await
    })
    .await;
}

#[tokio::test]
async fn with_hmac_the_notes_page_shows_only_why_and_the_command_that_makes_it_work() {
    let _turn = exclusive().await;
    let (server, _notes) = start_both(&[]).expect("both start");
    with_browser("notes-hmac", async |browser| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Notes").await?;

        let notice = browser
            .text_of("notes-no-keys", |t| t.contains("HS256"))
            .await?;

        ensure!(notice.contains("cargo xtask serve --es256"), "{notice}");
        ensure!(notice.contains("public key"), "{notice}");
        for refused_part in ["notes-load-error", "notes-heading", "note-text", "add-note"] {
            let found = browser.driver.find_all(By::Id(refused_part)).await?;
            ensure!(
                found.is_empty(),
                "#{refused_part} is shown beside the notice"
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_notes_time_is_local_and_a_long_key_id_wraps_on_a_phone() {
    let _turn = exclusive().await;
    let keys = tempfile::tempdir().unwrap();
    let keys_dir = keys.path().to_str().unwrap().to_owned();
    let (server, _notes) =
        start_both(&[("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", &keys_dir)]).expect("both start");
    with_browser("notes-phone", async |browser| {
        browser.driver.set_window_rect(0, 0, 375, 800).await?;
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Notes").await?;
        browser.fill("note-text", "a note").await?;
        browser.click("add-note").await?;
        browser
            .text_of("notes-list", |t| t.contains("a note"))
            .await?;

        let time = browser
            .driver
            .find(By::Css("#notes-list time"))
            .await?
            .text()
            .await?;
        ensure!(
            !time.contains('T') && !time.ends_with('Z'),
            "the time is shown as written in the JSON: {time}"
        );
        let widths: (u32, u32) = browser
            .driver
            .execute(
                "return [window.innerWidth, document.documentElement.scrollWidth]",
                vec![],
            )
            .await?
            .convert()?;
        ensure!(
            widths.0 <= 375,
            "the window is {} px wide, not 375",
            widths.0
        );
        ensure!(
            widths.1 <= widths.0,
            "the page is {} px wide on a {} px screen",
            widths.1,
            widths.0
        );
        Ok(())
    })
    .await;
}
