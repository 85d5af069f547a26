//! The OpenAPI document as tools from outside the project read it: `openapi-spec-validator`
//! validates it as OpenAPI 3.1, `schemathesis` sends generated requests to every operation and
//! checks each answer against it, and Swagger UI at `/api/docs/` renders it in Chromium and
//! calls a protected endpoint with a token from `/api/token/`.
//!
//! The Python tools are found through `OPENAPI_SPEC_VALIDATOR` and `SCHEMATHESIS`, then `PATH`
//! (`.ci/run` installs both into `target/ci-tools`).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use serde_json::Value;
use thirtyfour::By;

use crate::browser::PASSWORD;
use crate::harness::{
    ServerProcess, drain, exclusive, find_tool, missing, post_mortem, run, wait_until_blocking,
};

/// The checks of schemathesis that compare an answer with the document (and no 5xx).
const CONFORMANCE_CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance";
/// Generated requests per operation and phase.
const EXAMPLES: &str = "40";
/// The operations that would end the token the first pass sends.
const ENDING_THE_TOKEN: &str = "^/api/(logout/all|token/blacklist|session/logout)/$";

/// Runs `program args` in `dir` for at most `limit`; its exit status and its output.
fn run_tool(program: &Path, args: &[&str], dir: &Path, limit: Duration) -> Result<(bool, String)> {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let output = Arc::new(Mutex::new(String::new()));
    drain(child.stdout.take().context("stdout")?, output.clone());
    drain(child.stderr.take().context("stderr")?, output.clone());
    let waited =
        wait_until_blocking(
            &format!("{} to finish", program.display()),
            limit,
            || match child.try_wait() {
                Ok(Some(status)) => Ok(status),
                Ok(None) => Err("still running".to_owned()),
                Err(error) => Err(error.to_string()),
            },
        );
    let status = match waited {
        Ok(status) => status,
        Err(error) => {
            let _ = child.kill();
            return Err(error.context(post_mortem(&mut child, &output)));
        }
    };
    // The threads copying its output finish when the pipes close, just after the exit.
    std::thread::sleep(Duration::from_millis(200));
    let text = output.lock().map(|o| o.clone()).unwrap_or_default();
    Ok((status.success(), text))
}

#[tokio::test]
async fn the_served_document_validates_as_openapi_3_1() {
    let Some(validator) = find_tool("OPENAPI_SPEC_VALIDATOR", &["openapi-spec-validator"]) else {
        missing("openapi-spec-validator (pip install openapi-spec-validator)");
        return;
    };
    let _turn = exclusive().await;
    let server = ServerProcess::start(&[]).expect("the server starts");
    let document = reqwest::get(server.url("/api/schema/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("openapi.json"), &document).unwrap();

    let (passed, output) = run_tool(
        &validator,
        &["openapi.json"],
        dir.path(),
        Duration::from_secs(120),
    )
    .unwrap();

    assert!(
        passed,
        "openapi-spec-validator refused the document:\n{output}"
    );
    assert!(output.trim_end().ends_with("OK"), "{output}");
    let parsed: Value = serde_json::from_str(&document).unwrap();
    assert_eq!(parsed["openapi"], "3.1.0");
}

#[tokio::test]
async fn schemathesis_finds_every_answer_as_the_document_says() {
    let Some(schemathesis) = find_tool("SCHEMATHESIS", &["schemathesis", "st"]) else {
        missing("schemathesis (pip install schemathesis)");
        return;
    };
    let _turn = exclusive().await;
    let server = ServerProcess::start(&[]).expect("the server starts");
    let token = server
        .new_user_access_token("fuzz", PASSWORD)
        .await
        .unwrap();
    let schema = server.url("/api/schema/");
    let bearer = format!("Authorization: Bearer {token}");
    let dir = tempfile::tempdir().unwrap();
    let common = [
        "run",
        schema.as_str(),
        "--checks",
        CONFORMANCE_CHECKS,
        "--seed",
        "1",
        "--max-examples",
        EXAMPLES,
        "--workers",
        "1",
        "--request-timeout",
        "10",
    ];
    // With a valid token (and the session header) first, leaving out what would end it; then
    // every operation without one.
    let passes: [(&str, Vec<&str>); 2] = [
        (
            "with a token",
            [
                &common[..],
                &[
                    "-H",
                    bearer.as_str(),
                    "-H",
                    "X-Requested-With: XMLHttpRequest",
                    "--exclude-path-regex",
                    ENDING_THE_TOKEN,
                ],
            ]
            .concat(),
        ),
        ("without a token", common.to_vec()),
    ];

    for (name, args) in passes {
        let (passed, output) =
            run_tool(&schemathesis, &args, dir.path(), Duration::from_secs(300)).unwrap();

        let summary: Vec<&str> = output
            .lines()
            .skip_while(|line| !line.contains("Test cases:"))
            .take(2)
            .collect();
        eprintln!("schemathesis, {name}: {}", summary.join(" ").trim());
        assert!(
            passed,
            "schemathesis, {name}, found answers the document does not describe:\n{output}"
        );
        let summary = summary.join(" ");
        assert!(
            summary.contains("passed") && !summary.contains("failed"),
            "{output}"
        );
    }
}

#[tokio::test]
async fn the_explorer_loads_nothing_from_elsewhere_and_calls_hello_with_a_token() {
    run("explorer", &[], async |browser, server| {
        let token = server.new_user_access_token("swagger", PASSWORD).await?;
        browser.driver.goto(server.url("/api/docs/")).await?;
        let hello = "#operations-protected-hello";
        browser.element(By::Css(hello)).await?;
        browser
            .driver
            .execute(
                "window.violations = []; document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));",
                vec![],
            )
            .await?;

        browser.element(By::Css("button.authorize")).await?.click().await?;
        let input = browser
            .element(By::Css(".modal-ux input[type='text']"))
            .await?;
        input.send_keys(&token).await?;
        browser
            .element(By::Css(".modal-ux button.modal-btn.auth.authorize"))
            .await?
            .click()
            .await?;
        browser
            .element(By::Css(".modal-ux button.btn-done"))
            .await?
            .click()
            .await?;
        browser
            .element(By::Css(format!("{hello} .opblock-summary")))
            .await?
            .click()
            .await?;
        browser
            .element(By::Css(format!("{hello} button.execute")))
            .await?
            .click()
            .await?;

        let status = browser
            .element(By::Css(format!(
                "{hello} .live-responses-table .response .response-col_status"
            )))
            .await?;
        ensure!(status.text().await?.trim() == "200", "status {}", status.text().await?);
        let body = browser
            .element(By::Css(format!("{hello} .live-responses-table .microlight")))
            .await?
            .text()
            .await?;
        ensure!(body.contains("Hello, World!"), "the answer shown: {body}");

        let loaded: Vec<String> = browser
            .driver
            .execute(
                "return performance.getEntriesByType('resource').map(e => e.name)",
                vec![],
            )
            .await?
            .convert()?;
        ensure!(loaded.len() >= 4, "only {loaded:?} were loaded");
        let elsewhere: Vec<&String> = loaded
            .iter()
            .filter(|url| !url.starts_with(&server.base) && !url.starts_with("data:"))
            .collect();
        ensure!(elsewhere.is_empty(), "loaded from elsewhere: {elsewhere:?}");
        let violations: Vec<String> = browser
            .driver
            .execute("return window.violations", vec![])
            .await?
            .convert()?;
        ensure!(violations.is_empty(), "the policy refused: {violations:?}");
        Ok(())
    })
    .await;
}
