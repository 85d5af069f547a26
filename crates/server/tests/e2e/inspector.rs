//! The inspector's key moment: the server's verdict beside the token box, the signature
//! explained for the token's own algorithm, and the checks that follow the clock.

use anyhow::{Result, ensure};
use serde_json::{Value, json};

use crate::browser::{register_and_log_in, shown_jti};
use crate::harness::{Browser, run};

/// A token with this header and payload, and a signature nobody checks here.
fn token(header: Value, payload: Value) -> String {
    let part = |value: &Value| claims::compact::encode(&serde_json::to_vec(value).unwrap());
    format!("{}.{}.c2lnbmF0dXJl", part(&header), part(&payload))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64)
}

/// Where the element `id` ends, in CSS pixels from the top of the window.
async fn bottom_of(browser: &Browser, id: &str) -> Result<f64> {
    let rect = browser
        .element(thirtyfour::By::Id(id))
        .await?
        .rect()
        .await?;
    Ok(rect.y + rect.height)
}

#[tokio::test]
async fn the_verdict_sits_beside_the_token_box_on_a_1280_by_800_screen() {
    run("inspector-verdict-visible", &[], async |browser, server| {
        browser.driver.set_window_rect(0, 0, 1280, 800).await?;
        register_and_log_in(browser, &server.base, "ada").await?;
        browser.click_link("Token inspector").await?;
        shown_jti(browser).await?;

        browser.click("verify-button").await?;

        browser
            .text_of("verify-result", |t| {
                t.starts_with("The server accepts this token")
            })
            .await?;
        let height: f64 = browser
            .driver
            .execute("return window.innerHeight", vec![])
            .await?
            .convert()?;
        let scrolled: f64 = browser
            .driver
            .execute("return window.scrollY", vec![])
            .await?
            .convert()?;
        ensure!(scrolled == 0.0, "the page scrolled by {scrolled} px");
        for id in ["token-input", "verify-button", "verify-result"] {
            let bottom = bottom_of(browser, id).await?;
            ensure!(
                bottom <= height,
                "#{id} ends at {bottom} px, below the {height} px window"
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_signature_is_explained_for_the_tokens_own_algorithm() {
    run("inspector-signature", &[], async |browser, server| {
        browser.open(&server.url("/inspector")).await?;
        let payload =
            json!({"token_type": "access", "exp": now() + 300, "jti": "j", "user_id": "1"});
        for (alg, expected) in [
            ("HS256", "an HMAC-SHA256"),
            ("ES256", "an ECDSA signature (P-256, SHA-256)"),
            ("RS256", "an RSA signature (SHA-256)"),
            ("EdDSA", "an Ed25519 signature"),
        ] {
            let pasted = token(json!({"alg": alg, "typ": "JWT"}), payload.clone());
            browser.fill("token-input", &pasted).await?;
            browser
                .text_of("signature-hint", |t| t.contains(expected))
                .await?;
        }
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_checks_run_again_as_the_clock_passes_exp() {
    run("inspector-clock", &[], async |browser, server| {
        browser.open(&server.url("/inspector")).await?;
        let exp = now() + 3;
        let payload = json!({"token_type": "access", "exp": exp, "iat": exp - 300, "jti": "j", "user_id": "1"});
        browser
            .fill("token-input", &token(json!({"alg": "HS256", "typ": "JWT"}), payload))
            .await?;
        let before = browser
            .text_of("findings", |t| !t.is_empty())
            .await?;
        ensure!(!before.contains("Expired"), "expired already: {before}");

        browser
            .text_of("findings", |t| t.contains("Expired") && t.contains("ago by this browser's clock"))
            .await?;
        Ok(())
    })
    .await;
}
