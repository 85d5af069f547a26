//! The production shape, natively: the project's own `nginx/nginx.conf.template`, rendered for
//! loopback, in front of two `server` replicas sharing one PostgreSQL database.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::browser::register_and_log_in;
use crate::harness::{
    NotesProcess, ServerProcess, drain, exclusive, find_tool, missing, post_mortem, start_twice,
    wait_until, wait_until_blocking, with_browser, workspace_root,
};
use crate::nginx_config::render_for_loopback;
use crate::postgres::{self, ScratchDatabase};

const PASSWORD: &str = "correct-horse-battery";

/// nginx in front of two replicas on one database, signing with ES256 keys from one shared
/// key directory (as the compose stack's volume), and the notes service.
struct Stack {
    /// nginx: `http://127.0.0.1:PORT`.
    base: String,
    replicas: Vec<ServerProcess>,
    nginx: Child,
    dir: tempfile::TempDir,
    _notes: NotesProcess,
    _keys: tempfile::TempDir,
    _database: ScratchDatabase,
}

impl Stack {
    /// Starts the stack, or `None` (after saying why) without nginx or PostgreSQL.
    fn start() -> Result<Option<Self>> {
        let Some(nginx) = find_tool("NGINX", &["nginx"]) else {
            missing("nginx (NGINX)");
            return Ok(None);
        };
        let Some(admin_url) = postgres::admin_url() else {
            missing("PostgreSQL for the two replicas (TEST_DATABASE_URL)");
            return Ok(None);
        };
        let database = ScratchDatabase::create(&admin_url);
        let keys = tempfile::tempdir()?;
        let keys_dir = keys.path().to_string_lossy().into_owned();
        let settings = [
            ("DATABASE_URL", database.url.as_str()),
            ("JWT_ALGORITHM", "ES256"),
            ("JWT_KEYS_DIR", keys_dir.as_str()),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ];
        let replicas = vec![
            ServerProcess::start(&settings)?,
            ServerProcess::start(&settings)?,
        ];
        let notes = NotesProcess::start(&replicas[0].url("/.well-known/jwks.json"))?;
        let upstreams: String = replicas
            .iter()
            .map(|r| {
                format!(
                    "server 127.0.0.1:{} max_fails=1 fail_timeout=10s; ",
                    r.port()
                )
            })
            .collect();
        let notes_upstream = format!("server {};", notes.base.trim_start_matches("http://"));
        let (nginx, dir, port) =
            start_twice("nginx", || start_nginx(&nginx, &upstreams, &notes_upstream))?;
        Ok(Some(Self {
            base: format!("http://127.0.0.1:{port}"),
            replicas,
            nginx,
            dir,
            _notes: notes,
            _keys: keys,
            _database: database,
        }))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// nginx's access log so far.
    fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.nginx.kill();
        let _ = self.nginx.wait();
    }
}

/// Starts nginx on a free port in a fresh directory, and waits until it listens. Everything it
/// reads (its config and the built frontend) is copied into that directory, which nginx's
/// unprivileged workers can enter wherever the checkout lies.
fn start_nginx(
    nginx: &Path,
    upstreams: &str,
    notes_upstream: &str,
) -> Result<(Child, tempfile::TempDir, u16)> {
    let dir = tempfile::tempdir()?;
    set_mode(dir.path(), 0o755)?;
    copy_readable(&workspace_root().join("dist"), &dir.path().join("dist"))?;
    let port = free_port()?;
    render_config(dir.path(), port, upstreams, notes_upstream)?;
    let mut child = Command::new(nginx)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting nginx")?;
    let output = Arc::new(Mutex::new(String::new()));
    drain(child.stderr.take().expect("piped"), output.clone());
    let listening = wait_until_blocking(
        &format!("nginx to listen on {port}"),
        Duration::from_secs(10),
        || match child.try_wait() {
            Ok(Some(status)) => Err(format!("it exited with {status}")),
            _ => std::net::TcpStream::connect(("127.0.0.1", port))
                .map(drop)
                .map_err(|e| e.to_string()),
        },
    );
    if let Err(error) = listening {
        let why = post_mortem(&mut child, &output);
        let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
        let _ = child.kill();
        let _ = child.wait();
        bail!("{error:#}; nginx {why}\nits error log:\n{log}");
    }
    Ok((child, dir, port))
}

/// Copies the directory tree `from` to `to`, readable by everyone (directories 0755, files
/// 0644), whatever the permissions of the folders above `from`.
fn copy_readable(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    set_mode(to, 0o755)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_readable(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
            set_mode(&target, 0o644)?;
        }
    }
    Ok(())
}

/// Fills the template's placeholders for loopback; the same file the `web` image renders.
fn render_config(dir: &Path, port: u16, upstreams: &str, notes_upstream: &str) -> Result<()> {
    let nginx_dir = workspace_root().join("nginx");
    let template = std::fs::read_to_string(nginx_dir.join("nginx.conf.template"))?;
    let rendered = render_for_loopback(&template, dir, port, upstreams, notes_upstream)
        .map_err(anyhow::Error::msg)?;
    std::fs::write(dir.join("nginx.conf"), rendered)?;
    std::fs::copy(
        nginx_dir.join("proxy_params.conf"),
        dir.join("proxy_params.conf"),
    )?;
    Ok(())
}

/// A free port whose successor is free too: nginx's, and its redirect server's.
fn free_port() -> Result<u16> {
    loop {
        let first = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = first.local_addr()?.port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Runs `test` on a fresh stack, one at a time; skips without nginx or PostgreSQL.
async fn on_stack<F>(test: F)
where
    F: AsyncFnOnce(&mut Stack) -> Result<()>,
{
    let _turn = exclusive().await;
    let Some(mut stack) = Stack::start().expect("the stack starts") else {
        return;
    };
    if let Err(error) = test(&mut stack).await {
        let log = std::fs::read_to_string(stack.dir.path().join("error.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(10).collect();
        panic!(
            "{error:#}\nlast lines of nginx's error log:\n{}",
            tail.join("\n")
        );
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// Registers `username` through `base` and returns a fresh token pair.
async fn user_with_tokens(base: &str, username: &str) -> Result<Value> {
    let credentials = json!({"username": username, "password": PASSWORD});
    let created = client()
        .post(format!("{base}/api/register/"))
        .json(&credentials)
        .send()
        .await?;
    ensure!(created.status() == 201, "register: {}", created.status());
    let pair = client()
        .post(format!("{base}/api/token/"))
        .json(&credentials)
        .send()
        .await?;
    ensure!(pair.status() == 200, "obtain: {}", pair.status());
    Ok(pair.json().await?)
}

#[tokio::test]
async fn the_browser_flow_works_through_nginx() {
    on_stack(async |stack| {
        let base = stack.base.clone();
        with_browser("stack-browser", async |browser| {
            register_and_log_in(browser, &base, "ada").await?;
            browser.click("logout-button").await?;
            browser.wait_for_path("/login").await
        })
        .await;
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_token_from_one_replica_works_on_the_other_and_logout_holds_on_both() {
    on_stack(async |stack| {
        let (a, b) = (
            stack.replicas[0].base.clone(),
            stack.replicas[1].base.clone(),
        );
        let pair = user_with_tokens(&a, "ada").await?;
        let access = pair["access"].as_str().context("access")?;

        let hello_on_b = client()
            .get(format!("{b}/hello/"))
            .bearer_auth(access)
            .send()
            .await?;
        ensure!(
            hello_on_b.status() == 200,
            "hello on B: {}",
            hello_on_b.status()
        );

        let logout_on_a = client()
            .post(format!("{a}/api/token/blacklist/"))
            .json(&json!({"refresh": pair["refresh"]}))
            .send()
            .await?;
        ensure!(
            logout_on_a.status() == 200,
            "logout on A: {}",
            logout_on_a.status()
        );
        let refresh_on_b = client()
            .post(format!("{b}/api/token/refresh/"))
            .json(&json!({"refresh": pair["refresh"]}))
            .send()
            .await?;
        let status = refresh_on_b.status();
        let body: Value = refresh_on_b.json().await?;
        ensure!(
            status == 401
                && body == json!({"detail": "Token is blacklisted", "code": "token_not_valid"}),
            "refresh on B after logout on A: {status} {body}"
        );
        println!("minted on A, accepted on B: 200; blacklisted on A, refused on B: 401");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_notes_service_behind_nginx_trusts_tokens_of_both_replicas_through_jwks() {
    on_stack(async |stack| {
        let (a, b) = (
            stack.replicas[0].base.clone(),
            stack.replicas[1].base.clone(),
        );
        let from_a = user_with_tokens(&a, "ada").await?["access"].clone();
        let from_b = user_with_tokens(&b, "bob").await?["access"].clone();
        let jwks = client()
            .get(stack.url("/.well-known/jwks.json"))
            .send()
            .await?;
        ensure!(
            jwks.headers()["cache-control"] == "public, max-age=300",
            "JWKS through nginx: {:?}",
            jwks.headers()
                .get_all("cache-control")
                .iter()
                .collect::<Vec<_>>()
        );
        let published: Value = jwks.json().await?;
        ensure!(
            published["keys"]
                .as_array()
                .is_some_and(|keys| keys.len() == 1),
            "{published}"
        );

        for (token, text) in [(&from_a, "minted by A"), (&from_b, "minted by B")] {
            let created = client()
                .post(stack.url("/notes/api/notes/"))
                .bearer_auth(token.as_str().context("access")?)
                .json(&json!({"text": text}))
                .send()
                .await?;
            ensure!(
                created.status() == 201,
                "notes through nginx: {}",
                created.status()
            );
        }
        let listed: Value = client()
            .get(stack.url("/notes/api/notes/"))
            .bearer_auth(from_b.as_str().context("access")?)
            .send()
            .await?
            .json()
            .await?;
        ensure!(
            listed[0]["text"] == "minted by B" && listed.as_array().map(Vec::len) == Some(1),
            "{listed}"
        );
        println!("one key set shared by both replicas; the notes service took tokens of each");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn plain_http_is_redirected_to_https() {
    on_stack(async |stack| {
        let port: u16 = stack.base.rsplit(':').next().context("a port")?.parse()?;
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;

        // The client's Host header never makes it into the redirect.
        let answer = client
            .get(format!("http://127.0.0.1:{}/hello?x=1", port + 1))
            .header("Host", "evil.example")
            .send()
            .await?;

        ensure!(answer.status() == 308, "status {}", answer.status());
        let location = answer.headers()["location"].to_str()?;
        ensure!(
            location == format!("https://127.0.0.1:{port}/hello?x=1"),
            "Location: {location}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_hello_page_is_the_app_not_a_redirect_to_the_api() {
    on_stack(async |stack| {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;

        let page = client.get(stack.url("/hello")).send().await?;

        ensure!(page.status() == 200, "GET /hello: {}", page.status());
        let body = page.text().await?;
        ensure!(body.contains("<html"), "GET /hello is not the app: {body}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn killing_a_replica_mid_traffic_fails_no_request() {
    on_stack(async |stack| {
        let pair = user_with_tokens(&stack.base, "ada").await?;
        let access = pair["access"].as_str().context("access")?.to_owned();
        let client = client();
        let mut failures = Vec::new();
        for i in 0..200 {
            if i == 50 {
                stack.replicas[0].kill();
            }
            let response = client
                .get(stack.url("/hello/"))
                .bearer_auth(&access)
                .send()
                .await;
            match response {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => failures.push(format!("#{i}: {}", r.status())),
                Err(e) => failures.push(format!("#{i}: {e}")),
            }
        }
        println!(
            "200 GETs of /hello/ through nginx, replica A killed (SIGKILL) before #50: {} failed",
            failures.len()
        );
        ensure!(failures.is_empty(), "failed requests: {failures:?}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_login_flood_over_the_limit_gets_429_in_json_while_hello_answers() {
    on_stack(async |stack| {
        let pair = user_with_tokens(&stack.base, "ada").await?;
        let access = pair["access"].as_str().context("access")?.to_owned();
        let credentials = json!({"username": "ada", "password": PASSWORD});
        let client = client();

        let logins = join_all((0..60).map(|_| {
            client
                .post(stack.url("/api/token/"))
                .json(&credentials)
                .send()
        }));
        let hellos = async {
            let mut statuses = Vec::new();
            for _ in 0..20 {
                let response = client
                    .get(stack.url("/hello/"))
                    .bearer_auth(&access)
                    .send()
                    .await;
                statuses.push(response.map_or(0, |r| r.status().as_u16()));
            }
            statuses
        };
        let (logins, hellos) = tokio::join!(logins, hellos);

        let mut throttled = 0;
        let mut accepted = 0;
        for response in logins {
            let response = response?;
            match response.status().as_u16() {
                429 => {
                    throttled += 1;
                    let kind = response.headers()["Content-Type"].to_str()?.to_owned();
                    let body: Value = response.json().await?;
                    ensure!(kind == "application/json", "429 content type {kind}");
                    ensure!(body == json!({"detail": "Request was throttled."}), "429 body {body}");
                }
                200 => accepted += 1,
                other => bail!("a login answered {other}"),
            }
        }
        println!("60 concurrent logins: {accepted} accepted, {throttled} throttled (429); /hello/ meanwhile: {hellos:?}");
        ensure!(throttled >= 30, "only {throttled} of 60 were throttled");
        ensure!(hellos.iter().all(|s| *s == 200), "/hello/ during the flood: {hellos:?}");
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn guessing_the_old_password_through_nginx_is_throttled_on_every_replica() {
    on_stack(async |stack| {
        let pair = user_with_tokens(&stack.base, "guessed").await?;
        let access = pair["access"].as_str().context("access")?.to_owned();
        let change = |old: &'static str| {
            client()
                .post(stack.url("/api/password/change/"))
                .bearer_auth(&access)
                .json(&json!({"old_password": old, "new_password": "a-brand-new-horse-battery"}))
                .send()
        };
        // Five wrong guesses per replica are allowed; spaced out, so that nginx's own rate
        // limit stays out of it and the 429s are the replicas' own.
        let mut in_a_row = 0;
        for attempt in 1..=14 {
            let answer = change("not-the-password").await?;
            let status = answer.status().as_u16();
            let body: Value = answer.json().await?;
            match status {
                400 => in_a_row = 0,
                429 => {
                    let detail = body["detail"].as_str().unwrap_or_default();
                    ensure!(
                        detail.starts_with("Request was throttled. Expected available in"),
                        "429 {body}"
                    );
                    in_a_row += 1;
                }
                other => bail!("guess {attempt}: {other} {body}"),
            }
            if in_a_row == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        ensure!(
            in_a_row == 2,
            "14 wrong guesses, and not every replica refused"
        );
        let right = change(PASSWORD).await?;
        ensure!(
            right.status() == 429,
            "the right password after the limit: {}",
            right.status()
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn with_every_replica_down_the_api_answers_502_in_json() {
    on_stack(async |stack| {
        for replica in &mut stack.replicas {
            replica.kill();
        }

        let response = client().get(stack.url("/hello/")).send().await?;

        let status = response.status();
        let kind = response.headers()["Content-Type"].to_str()?.to_owned();
        let body: Value = response.json().await?;
        println!("every replica down: {status} {body}");
        ensure!(status == 502, "status {status}");
        ensure!(kind == "application/json", "content type {kind}");
        ensure!(
            body == json!({"detail": "The API is unreachable. Try again shortly."}),
            "body {body}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_2mb_body_gets_413_in_json() {
    on_stack(async |stack| {
        let huge = format!("{{\"username\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
        let response = client()
            .post(stack.url("/api/register/"))
            .header("Content-Type", "application/json")
            .body(huge)
            .send()
            .await?;
        let status = response.status();
        let kind = response.headers()["Content-Type"].to_str()?.to_owned();
        let body: Value = response.json().await?;
        println!("2 MB body: {status} {body}");
        ensure!(status == 413, "status {status}");
        ensure!(kind == "application/json", "content type {kind}");
        ensure!(
            body == json!({"detail": "Request body is too large."}),
            "body {body}"
        );
        Ok(())
    })
    .await;
}

const SECURITY_HEADERS: [&str; 4] = [
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "X-Frame-Options",
    "Referrer-Policy",
];

#[tokio::test]
async fn security_headers_are_on_every_response_errors_included() {
    on_stack(async |stack| {
        let client = client();
        let requests = [
            ("GET /", client.get(stack.url("/"))),
            ("GET /login (app fallback)", client.get(stack.url("/login"))),
            (
                "GET /hello/ without a token (401)",
                client.get(stack.url("/hello/")),
            ),
            (
                "GET /api/nothing/ (404 from the API)",
                client.get(stack.url("/api/nothing/")),
            ),
            (
                "GET a missing hashed asset (404)",
                client.get(stack.url("/app-0123456789abcdef.js")),
            ),
            (
                "POST 2 MB (413)",
                client
                    .post(stack.url("/api/token/"))
                    .header("Content-Type", "application/json")
                    .body(vec![b' '; 2 * 1024 * 1024]),
            ),
        ];
        for (label, request) in requests {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers();
            let missing: Vec<&str> = SECURITY_HEADERS
                .iter()
                .copied()
                .filter(|name| !headers.contains_key(*name))
                .collect();
            let server = headers
                .get("Server")
                .map(|v| v.to_str().unwrap_or("?").to_owned());
            println!(
                "{label}: {status}, security headers missing: {missing:?}, Server: {server:?}"
            );
            ensure!(missing.is_empty(), "{label}: missing {missing:?}");
            ensure!(
                server.as_deref() == Some("nginx"),
                "{label}: Server {server:?} shows a version"
            );
        }
        let csp = client.get(stack.url("/")).send().await?.headers()["Content-Security-Policy"]
            .to_str()?
            .to_owned();
        ensure!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "CSP: {csp}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn the_api_explorer_keeps_its_own_policy_behind_nginx_and_the_app_the_strict_one() {
    on_stack(async |stack| {
        let client = client();
        let policies = |response: &reqwest::Response| -> Vec<String> {
            response
                .headers()
                .get_all("Content-Security-Policy")
                .iter()
                .map(|v| v.to_str().unwrap_or("?").to_owned())
                .collect()
        };
        let explorer = client.get(stack.url("/api/docs/")).send().await?;
        let app = client.get(stack.url("/")).send().await?;
        // Answers under /api/docs/ that are not the explorer's files keep the strict policy.
        for request in [
            client.get(stack.url("/api/docs/no-such-file.js")),
            client.get(stack.url("/api/docs/x-0123456789abcdef.js")),
            client.get(stack.url("/api/docs/%2fproc%2fself%2fexe")),
            client.post(stack.url("/api/docs/")),
        ] {
            let answer = request.send().await?;
            let found = policies(&answer);
            println!("{} {}: {found:?}", answer.url().path(), answer.status());
            ensure!(
                found.len() == 1 && found[0].contains("'wasm-unsafe-eval'"),
                "{}: {found:?}",
                answer.url()
            );
        }

        let (explorer, app) = (policies(&explorer), policies(&app));
        println!("/api/docs/: {explorer:?}\n/: {app:?}");
        ensure!(
            explorer == ["default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"],
            "the explorer's policies: {explorer:?}"
        );
        ensure!(
            app.len() == 1 && app[0].contains("style-src 'self';") && !app[0].contains("unsafe-inline"),
            "the app's policies: {app:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn a_missing_hashed_asset_is_a_404_no_one_keeps() {
    on_stack(async |stack| {
        let missing = client()
            .get(stack.url("/frontend-lab-0000000000000000.wasm"))
            .send()
            .await?;
        ensure!(
            missing.status() == 404 && missing.headers()["Cache-Control"] == "no-store",
            "{} {:?}",
            missing.status(),
            missing.headers()
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn static_files_are_cached_by_name_and_compressed() {
    on_stack(async |stack| {
        let client = client();
        let index = client.get(stack.url("/")).send().await?;
        ensure!(
            index.headers()["Cache-Control"] == "no-cache",
            "index: {:?}",
            index.headers()
        );
        let html = index.text().await?;
        let script = html
            .split("src=\"/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("index.html names its script")?
            .to_owned();
        let wasm = std::fs::read_dir(workspace_root().join("dist"))?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .find(|name| name.ends_with(".wasm"))
            .context("dist has a wasm file")?;

        let js = client.get(stack.url(&format!("/{script}"))).send().await?;
        ensure!(
            js.headers()["Cache-Control"] == "public, max-age=31536000, immutable",
            "{script}: {:?}",
            js.headers()
        );
        let compressed = client
            .get(stack.url(&format!("/{wasm}")))
            .header("Accept-Encoding", "gzip")
            .send()
            .await?;
        let headers = compressed.headers();
        ensure!(
            headers["Content-Type"] == "application/wasm",
            "{wasm}: {headers:?}"
        );
        ensure!(
            headers.get("Content-Encoding").is_some_and(|v| v == "gzip"),
            "{wasm}: {headers:?}"
        );
        // The .gz twin the build wrote, as it is (gzip_static), not compressed again.
        let twin = std::fs::read(workspace_root().join("dist").join(format!("{wasm}.gz")))?;
        ensure!(
            compressed.bytes().await? == twin,
            "{wasm} was not sent as its .gz twin"
        );
        Ok(())
    })
    .await;
}

#[tokio::test]
async fn nginx_and_the_backend_log_the_same_request_id() {
    on_stack(async |stack| {
        let response = client().get(stack.url("/healthz")).send().await?;
        ensure!(response.status() == 200, "healthz: {}", response.status());

        // nginx writes its access log line after the answer has gone out: wait for it.
        let id = wait_until(
            "nginx's access log line",
            Duration::from_secs(10),
            || async {
                let log = stack.access_log();
                log.lines()
                    .filter(|line| line.contains("/healthz"))
                    .find_map(|line| line.split("request_id=").nth(1))
                    .map(|id| id.trim().to_owned())
                    .ok_or_else(|| format!("access log: {log:?}"))
            },
        )
        .await?;
        let wanted = format!("request_id={id}");
        wait_until(
            "a replica's log line with nginx's request id",
            Duration::from_secs(10),
            || async {
                let found = stack
                    .replicas
                    .iter()
                    .any(|replica| !replica.log_lines(&[&wanted]).is_empty());
                if found {
                    Ok(())
                } else {
                    Err(format!("no replica logged {wanted}"))
                }
            },
        )
        .await
    })
    .await;
}

#[tokio::test]
async fn sigterm_stops_a_replica_gracefully() {
    let _turn = exclusive().await;
    let mut server = ServerProcess::start(&[]).expect("the server starts");

    let status = server.terminate(Duration::from_secs(15)).expect("it exits");

    assert!(status.success(), "exit status after SIGTERM: {status}");
}
