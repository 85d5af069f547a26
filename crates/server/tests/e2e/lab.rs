//! The attack lab in a real browser against the real server: "Run all attacks" forges every
//! attack from the user's token (WebCrypto signing included) and the server refuses each one,
//! with an HMAC key (where the key-pair attacks do not apply) and with ES256 keys (where they
//! all do).

use std::time::Duration;

use anyhow::{Result, ensure};
use thirtyfour::By;

use crate::browser::{PASSWORD, register_and_log_in, save_for_book};
use crate::harness::{Browser, ServerProcess, run, wait_until};

/// The attacks that need a key pair on the server; with HMAC they are not applicable.
const KEY_PAIR_ONLY: [&str; 2] = ["algorithm-confusion", "psychic-signature"];

/// Every card's id, as the page names them (`card-<id>`).
async fn card_ids(browser: &Browser) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for card in browser
        .driver
        .find_all(By::Css("article.attack-card"))
        .await?
    {
        let id = card.id().await?.unwrap_or_default();
        ids.push(id.trim_start_matches("card-").to_owned());
    }
    Ok(ids)
}

/// Logs in, gets the lab's pair, runs every attack; returns the summary line.
async fn run_every_attack(browser: &Browser, server: &ServerProcess) -> Result<String> {
    register_and_log_in(browser, &server.base, "mallory").await?;
    browser.click_link("Attack lab").await?;
    browser.wait_for_path("/lab").await?;
    browser.fill("lab-password", PASSWORD).await?;
    browser.click("lab-pair-button").await?;
    browser
        .text_of("lab-pair-status", |t| t.contains("a pair of its own"))
        .await?;
    browser.click("run-all").await?;
    wait_until(
        "every attack to be run",
        Duration::from_secs(60),
        || async {
            let summary = browser
                .driver
                .find(By::Id("lab-summary"))
                .await
                .map_err(|e| e.to_string())?
                .text()
                .await
                .map_err(|e| e.to_string())?;
            if summary.contains(" of ") {
                Ok(summary)
            } else {
                Err(format!("summary {summary:?}"))
            }
        },
    )
    .await
}

/// Each card's verdict and status, as the page marks them.
async fn verdict(browser: &Browser, id: &str) -> Result<(String, String)> {
    let result = browser.element(By::Id(format!("result-{id}"))).await?;
    Ok((
        result.attr("data-verdict").await?.unwrap_or_default(),
        result.attr("data-status").await?.unwrap_or_default(),
    ))
}

#[tokio::test]
async fn with_an_hmac_key_every_attack_that_applies_is_refused() {
    run("lab", &[], async |browser, server| {
        let summary = run_every_attack(browser, server).await?;

        let ids = card_ids(browser).await?;
        ensure!(ids.len() >= 21, "only {} cards", ids.len());
        let applicable = ids.len() - KEY_PAIR_ONLY.len();
        ensure!(
            summary
                == format!(
                    "{applicable} of {applicable} refused ({} not applicable here)",
                    KEY_PAIR_ONLY.len()
                ),
            "summary: {summary}"
        );
        for id in &ids {
            let (verdict, status) = verdict(browser, id).await?;
            if KEY_PAIR_ONLY.contains(&id.as_str()) {
                ensure!(verdict == "not-applicable", "{id}: {verdict}");
            } else {
                ensure!(
                    (verdict.as_str(), status.as_str()) == ("refused", "401"),
                    "{id}: {verdict} {status}"
                );
            }
        }
        browser
            .driver
            .execute(
                "document.getElementById('attacks-heading').scrollIntoView()",
                vec![],
            )
            .await?;
        save_for_book(browser, "lab").await
    })
    .await;
}

#[tokio::test]
async fn with_es256_keys_every_attack_applies_and_is_refused() {
    let keys = tempfile::tempdir().unwrap();
    let keys_dir = keys.path().to_str().unwrap().to_owned();
    let settings = [
        ("JWT_ALGORITHM", "ES256"),
        ("JWT_KEYS_DIR", keys_dir.as_str()),
    ];
    run("lab-es256", &settings, async |browser, server| {
        let summary = run_every_attack(browser, server).await?;

        let ids = card_ids(browser).await?;
        let all = ids.len();
        ensure!(
            summary == format!("{all} of {all} refused (0 not applicable here)"),
            "summary: {summary}"
        );
        for id in &ids {
            let (verdict, status) = verdict(browser, id).await?;
            ensure!(
                (verdict.as_str(), status.as_str()) == ("refused", "401"),
                "{id}: {verdict} {status}"
            );
        }
        Ok(())
    })
    .await;
}
