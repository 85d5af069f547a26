//! The browser test of the book's frontend exercise, compiled with every run and ignored until
//! the exercise is solved (`cargo test -p server --test e2e exercises -- --ignored`).

use anyhow::{Result, ensure};

use crate::browser::register_and_log_in;
use crate::harness::run;

// ANCHOR: session_clock
#[tokio::test]
#[ignore = "an exercise of the book: it fails until you solve it"]
async fn the_navigation_bar_tells_when_the_session_ends() {
    // Two servers with sessions of different lengths: a hard-coded text cannot pass both.
    let lifetimes = [
        (
            "7200",
            ["Session ends in 1 h 59 min", "Session ends in 2 h 0 min"],
        ),
        (
            "90000",
            ["Session ends in 1 d 0 h", "Session ends in 1 d 1 h"],
        ),
    ];
    for (lifetime, expected) in lifetimes {
        let settings = [("JWT_REFRESH_FAMILY_LIFETIME", lifetime)];
        run(
            "session-clock",
            &settings,
            async |browser, server| -> Result<()> {
                register_and_log_in(browser, &server.base, "ada").await?;
                let shown = browser.text_of("nav-session", |t| !t.is_empty()).await?;
                ensure!(
                    expected.contains(&shown.as_str()),
                    "{shown:?}, not {expected:?}"
                );
                Ok(())
            },
        )
        .await;
    }
}
// ANCHOR_END: session_clock
