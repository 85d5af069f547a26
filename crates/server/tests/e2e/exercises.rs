//! The browser test of the book's frontend exercise, compiled with every run and ignored until
//! the exercise is solved (`cargo test -p server --test e2e exercises -- --ignored`).

use anyhow::Result;

use crate::browser::register_and_log_in;
use crate::harness::run;

// ANCHOR: profile_page
#[tokio::test]
#[ignore = "an exercise of the book: it fails until you solve it"]
async fn the_profile_page_shows_the_user() {
    run("profile", &[], async |browser, server| -> Result<()> {
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Profile").await?;
        browser.wait_for_path("/profile").await?;
        browser.text_of("profile-username", |t| t == "ada").await?;
        Ok(())
    })
    .await;
}
// ANCHOR_END: profile_page
