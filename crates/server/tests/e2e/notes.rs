//! The Notes page: the frontend served by the `server` binary, which forwards `/notes/api/`
//! to a `notes` process that checks tokens with the server's published keys alone.

use anyhow::{Result, ensure};

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
async fn with_hmac_the_notes_page_says_why_the_notes_service_cannot_check_tokens() {
    let _turn = exclusive().await;
    let (server, _notes) = start_both(&[]).expect("both start");
    with_browser("notes-hmac", async |browser| {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Notes").await?;

        let notice = browser
            .text_of("notes-no-keys", |t| t.contains("HS256"))
            .await?;
        let refused = browser
            .text_of("notes-load-error", |t| !t.is_empty())
            .await?;

        ensure!(notice.contains("cargo xtask serve --es256"), "{notice}");
        ensure!(
            refused == "Given token not valid for any token type",
            "{refused}"
        );
        Ok(())
    })
    .await;
}
