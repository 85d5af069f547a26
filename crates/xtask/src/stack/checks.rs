//! What `cargo xtask stack` proves of the running stack, each check one line: through nginx
//! over HTTPS, as a user would meet it, and then with replicas and the database misbehaving.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::client::{Answer, Client};
use super::engine::output;
use super::{PROJECT, Stack};
use crate::bench::parse_wrk;

const PASSWORD: &str = "correct-horse-battery";

/// How long the database stays stopped in the restart check.
const DOWN_SECONDS: u64 = 3;

/// The figures the checks measured, for the closing summary.
#[derive(Debug, Default)]
pub struct Measured {
    /// GETs sent while a replica was killed, and how many failed.
    pub kill_gets: u64,
    /// How many of those failed.
    pub kill_failed: u64,
    /// Seconds from the database's start to the first registration that worked again.
    pub recovery_seconds: f64,
    /// Registrations acknowledged (201) around the restart, and how many are not in the
    /// database afterwards.
    pub acknowledged: usize,
    /// Acknowledged registrations missing afterwards.
    pub lost: usize,
    /// 503s answered while the database was down.
    pub unavailable: usize,
}

/// Prints `ok  name: what` or fails with the check's name.
fn check(name: &str, outcome: Result<String, String>) -> Result<(), String> {
    match outcome {
        Ok(what) => {
            println!("ok    {name}: {what}");
            Ok(())
        }
        Err(why) => {
            println!("FAIL  {name}: {why}");
            Err(format!("{name}: {why}"))
        }
    }
}

fn expect(answer: &Answer, status: u16, what: &str) -> Result<(), String> {
    if answer.status == status {
        Ok(())
    } else {
        Err(format!(
            "{what}: expected {status}, got {} {}",
            answer.status, answer.body
        ))
    }
}

/// Every check, in order; returns what was measured.
pub fn all(stack: &Stack, client: &Client) -> Result<Measured, String> {
    let mut measured = Measured::default();
    check("the app page over HTTPS", page(stack, client))?;
    let access = {
        let mut access = String::new();
        check(
            "register, log in, hello, refresh, log out",
            flow(client, &mut access),
        )?;
        access
    };
    check("no token", no_token(client))?;
    check("security headers", headers(client))?;
    check("the notes service, through JWKS", notes(client, &access))?;
    check("a 2 MB body", too_large(client))?;
    check(
        "the backend image with only PORT and DATABASE_URL",
        platform(stack),
    )?;
    check("a flood of the token endpoint", flood(client))?;
    check("--scale backend=3", scale(stack, client))?;
    check(
        "docker kill of a replica under load",
        kill_replica(stack, client, &mut measured),
    )?;
    check(
        "docker stop and start of the database",
        restart_database(stack, client, &mut measured),
    )?;
    Ok(measured)
}

fn page(stack: &Stack, client: &Client) -> Result<String, String> {
    let index = client.get("/", None)?;
    expect(&index, 200, "GET /")?;
    if !index.body.contains("<html") {
        return Err("GET / is not the app's page".into());
    }
    let route = client.get("/hello", None)?;
    expect(&route, 200, "GET /hello (a page of the app)")?;
    let plain = format!("http://localhost:{}/hello?from=http", stack.http_port);
    let redirect = client.send("GET", &plain, None, None)?;
    expect(&redirect, 308, "plain HTTP")?;
    let location = redirect.header("location").unwrap_or_default();
    let wanted = format!("{}/hello?from=http", client.base);
    if location != wanted {
        return Err(format!(
            "plain HTTP redirects to {location:?}, not {wanted:?}"
        ));
    }
    Ok(format!(
        "/ and /hello 200 with a verified certificate; http:// answers 308 to {location}"
    ))
}

fn flow(client: &Client, access_out: &mut String) -> Result<String, String> {
    let credentials = json!({"username": "ada", "password": PASSWORD});
    expect(
        &client.post("/api/register/", None, &credentials)?,
        201,
        "register",
    )?;
    let pair = client.post("/api/token/", None, &credentials)?;
    expect(&pair, 200, "obtain a pair")?;
    let pair = pair.json();
    let access = pair["access"].as_str().unwrap_or_default();
    let hello = client.get("/hello/", Some(access))?;
    expect(&hello, 200, "hello")?;
    if hello.json() != json!({"message": "Hello, World!"}) {
        return Err(format!("hello answered {}", hello.body));
    }
    let refreshed = client.post(
        "/api/token/refresh/",
        None,
        &json!({"refresh": pair["refresh"]}),
    )?;
    expect(&refreshed, 200, "refresh")?;
    let refreshed = refreshed.json();
    let blacklisted = client.post(
        "/api/token/blacklist/",
        None,
        &json!({"refresh": refreshed["refresh"]}),
    )?;
    expect(&blacklisted, 200, "blacklist")?;
    let after = client.post(
        "/api/token/refresh/",
        None,
        &json!({"refresh": refreshed["refresh"]}),
    )?;
    expect(&after, 401, "refresh after logging out")?;
    *access_out = refreshed["access"].as_str().unwrap_or_default().to_owned();
    Ok("201, 200, 200 Hello, World!, 200 (rotated), 200, then 401 Token is blacklisted".into())
}

fn no_token(client: &Client) -> Result<String, String> {
    let answer = client.get("/hello/", None)?;
    expect(&answer, 401, "GET /hello/ without a token")?;
    let challenge = answer.header("www-authenticate").unwrap_or_default();
    if answer.json() != json!({"detail": "Authentication credentials were not provided."})
        || challenge != "Bearer realm=\"api\""
    {
        return Err(format!(
            "{} with WWW-Authenticate {challenge:?}",
            answer.body
        ));
    }
    Ok(format!(
        "401 {} with WWW-Authenticate: {challenge}",
        answer.body
    ))
}

fn headers(client: &Client) -> Result<String, String> {
    let wanted = [
        ("strict-transport-security", "max-age=300"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ];
    for path in ["/", "/api/nothing/"] {
        let answer = client.get(path, None)?;
        for (name, value) in wanted {
            if answer.header(name) != Some(value) {
                return Err(format!("{path}: {name} is {:?}", answer.header(name)));
            }
        }
        let csp = answer.header("content-security-policy").unwrap_or_default();
        if !csp.contains("default-src 'self'") || !csp.contains("frame-ancestors 'none'") {
            return Err(format!("{path}: Content-Security-Policy is {csp:?}"));
        }
    }
    Ok("HSTS, CSP, nosniff, X-Frame-Options, Referrer-Policy on a page and on a 404".into())
}

fn notes(client: &Client, access: &str) -> Result<String, String> {
    let set = client.get("/.well-known/jwks.json", None)?;
    expect(&set, 200, "the JWKS")?;
    let keys = set.json()["keys"].as_array().map_or(0, Vec::len);
    let created = client.post(
        "/notes/api/notes/",
        Some(access),
        &json!({"text": "checked with the published key"}),
    )?;
    expect(&created, 201, "a note")?;
    let listed = client.get("/notes/api/notes/", Some(access))?;
    expect(&listed, 200, "the notes")?;
    Ok(format!(
        "JWKS lists {keys} key; POST /notes/api/notes/ 201, GET lists {}",
        listed.json().as_array().map_or(0, Vec::len)
    ))
}

/// The backend image as a hosting platform runs it: nothing set but `PORT` and
/// `DATABASE_URL` (and what the image sets itself). It must migrate, start and answer its
/// health check on that port.
fn platform(stack: &Stack) -> Result<String, String> {
    let network = format!("{PROJECT}_default");
    let started = Instant::now();
    let id = output(&mut stack.engine.docker(&[
        "run",
        "--detach",
        "--network",
        &network,
        "--env",
        "PORT=9000",
        "--env",
        "DATABASE_URL=postgres://jwt:jwt@db:5432/jwt",
        "jwt-tutorial-backend",
    ]))?;
    let id = id.trim().to_owned();
    let healthy = loop {
        let health = stack
            .engine
            .docker(&[
                "exec",
                &id,
                "server",
                "healthcheck",
                "--addr",
                "127.0.0.1:9000",
            ])
            .output()
            .map_err(|e| e.to_string())?;
        if health.status.success() {
            break Ok(started.elapsed());
        }
        if started.elapsed() > Duration::from_secs(60) {
            let logs = stack.engine.docker(&["logs", &id]).output();
            let logs = logs
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_default();
            break Err(format!(
                "not healthy on port 9000 after 60 s; its log:\n{logs}"
            ));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let _ = stack.engine.docker(&["rm", "--force", &id]).output();
    healthy.map(|after| {
        format!(
            "PORT=9000 and DATABASE_URL only: healthy on 0.0.0.0:9000 after {:.1} s",
            after.as_secs_f64()
        )
    })
}

fn too_large(client: &Client) -> Result<String, String> {
    let body = format!("{{\"username\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let answer = client.post_bytes("/api/token/", body.into_bytes())?;
    expect(&answer, 413, "a 2 MB body")?;
    if answer.json() != json!({"detail": "Request body is too large."}) {
        return Err(format!("413 with {}", answer.body));
    }
    Ok(format!("413 {}", answer.body))
}

fn flood(client: &Client) -> Result<String, String> {
    let wrong = json!({"username": "nobody", "password": "wrong"});
    let answers: Vec<Result<Answer, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|_| scope.spawn(|| client.post("/api/token/", None, &wrong)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a thread panicked".into())))
            .collect()
    });
    let mut throttled = 0;
    for answer in answers {
        let answer = answer?;
        match answer.status {
            // nginx's limit_req, or the server's own limit on failed log ins (its detail also
            // says when to come back).
            429 if answer.json()["detail"]
                .as_str()
                .is_some_and(|detail| detail.starts_with("Request was throttled.")) =>
            {
                throttled += 1
            }
            401 => {}
            other => return Err(format!("{other} {}", answer.body)),
        }
    }
    if throttled == 0 {
        return Err("40 requests at once, none throttled".into());
    }
    // Let the limit's bucket refill before the next checks log in.
    std::thread::sleep(Duration::from_secs(3));
    Ok(format!(
        "40 at once: {throttled} answered 429 \"Request was throttled.\", the rest 401"
    ))
}

fn scale(stack: &Stack, client: &Client) -> Result<String, String> {
    output(&mut stack.compose(&["up", "-d", "--no-build", "--wait", "--scale", "backend=3"]))?;
    // Debian's nginx (before 1.27.3) resolves `backend` when it loads its configuration.
    let reloaded = stack.local_nginx;
    if reloaded {
        output(&mut stack.compose(&[
            "exec",
            "-T",
            "web",
            "nginx",
            "-p",
            "/tmp/nginx",
            "-c",
            "/tmp/nginx/nginx.conf",
            "-s",
            "reload",
        ]))?;
        std::thread::sleep(Duration::from_secs(1));
    }
    for _ in 0..60 {
        expect(&client.get("/ping/", None)?, 200, "GET /ping/")?;
    }
    // Each line starts with the replica's name: `backend-2  | ...`.
    let logs = output(&mut stack.compose(&["logs", "backend"]))?;
    let replicas: BTreeSet<&str> = logs
        .lines()
        .filter(|line| line.contains("/ping/") && line.contains("request_id"))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    if replicas.len() != 3 {
        return Err(format!(
            "60 requests reached {} replicas: {replicas:?}",
            replicas.len()
        ));
    }
    Ok(format!(
        "60 requests reached all 3 replicas (by the request ids in their logs){}",
        if reloaded {
            "; nginx reloaded to resolve them"
        } else {
            ""
        }
    ))
}

fn kill_replica(stack: &Stack, client: &Client, measured: &mut Measured) -> Result<String, String> {
    let credentials = json!({"username": "ada", "password": PASSWORD});
    let pair = client.post("/api/token/", None, &credentials)?;
    expect(&pair, 200, "log in")?;
    let access = pair.json()["access"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let replicas = output(&mut stack.compose(&["ps", "-q", "backend"]))?;
    let victim = replicas
        .lines()
        .next()
        .ok_or("no backend replica running")?
        .to_owned();
    let seconds = 8;
    let wrk = Command::new("wrk")
        .args(["--threads=2", "--connections=16", "--timeout=5s"])
        .arg(format!("--duration={seconds}s"))
        .args(["-H", &format!("Authorization: Bearer {access}")])
        .arg(format!("{}/hello/", client.base))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run wrk (apt install wrk): {e}"))?;
    std::thread::sleep(Duration::from_secs(3));
    output(&mut stack.engine.docker(&["kill", &victim]))?;
    let text = wrk.wait_with_output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&text.stdout);
    let figures = parse_wrk(&text).ok_or_else(|| format!("cannot read wrk's output:\n{text}"))?;
    measured.kill_gets = (figures.requests_per_second * seconds as f64).round() as u64;
    measured.kill_failed = figures.errors;
    if figures.errors > 0 {
        return Err(format!(
            "{} of about {} GETs failed",
            figures.errors, measured.kill_gets
        ));
    }
    Ok(format!(
        "about {} GETs of /hello/ in {seconds} s, one of 3 replicas killed after 3 s: 0 failed",
        measured.kill_gets
    ))
}

fn restart_database(
    stack: &Stack,
    client: &Client,
    measured: &mut Measured,
) -> Result<String, String> {
    let stop = AtomicBool::new(false);
    let (restarted_at, attempts) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut attempts: Vec<(Instant, String, Result<Answer, String>)> = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let username = format!("writer{n}");
                let answer = client.post(
                    "/api/register/",
                    None,
                    &json!({"username": username, "password": PASSWORD}),
                );
                attempts.push((Instant::now(), username, answer));
                std::thread::sleep(Duration::from_millis(100));
            }
            attempts
        });
        std::thread::sleep(Duration::from_secs(2));
        // Stopped for a few seconds, not just restarted: PostgreSQL comes back within a second,
        // faster than a request gives up waiting for a connection, and the point is to see
        // what the API answers while the database is gone.
        let restart = output(&mut stack.compose(&["stop", "db"])).and_then(|_| {
            std::thread::sleep(Duration::from_secs(DOWN_SECONDS));
            output(&mut stack.compose(&["start", "db"]))
        });
        let restarted_at = Instant::now();
        // Long enough after the restart to see the recovery.
        std::thread::sleep(Duration::from_secs(8));
        stop.store(true, Ordering::SeqCst);
        let attempts = writer.join().unwrap_or_default();
        (restart.map(|_| restarted_at), attempts)
    });
    let restarted_at = restarted_at?;
    let mut acknowledged = Vec::new();
    let mut unavailable = 0;
    let mut recovered: Option<Instant> = None;
    for (at, username, answer) in &attempts {
        let answer = answer.as_ref().map_err(|e| format!("{username}: {e}"))?;
        match answer.status {
            201 => {
                acknowledged.push(username.clone());
                if *at > restarted_at && recovered.is_none() {
                    recovered = Some(*at);
                }
            }
            503 if answer.json() == json!({"detail": "Service temporarily unavailable."}) => {
                unavailable += 1;
            }
            other => return Err(format!("{username}: {other} {}", answer.body)),
        }
    }
    let recovered = recovered.ok_or("no registration worked after the restart")?;
    measured.recovery_seconds = recovered.duration_since(restarted_at).as_secs_f64();
    measured.unavailable = unavailable;
    measured.acknowledged = acknowledged.len();
    let stored = output(&mut stack.compose(&[
        "exec",
        "-T",
        "db",
        "psql",
        "-U",
        "jwt",
        "-d",
        "jwt",
        "-At",
        "-c",
        "SELECT username FROM users WHERE username LIKE 'writer%'",
    ]))?;
    let stored: BTreeSet<&str> = stored.lines().map(str::trim).collect();
    measured.lost = acknowledged
        .iter()
        .filter(|name| !stored.contains(name.as_str()))
        .count();
    if unavailable == 0 {
        return Err("no 503 while the database restarted".into());
    }
    if measured.recovery_seconds > 5.0 {
        return Err(format!(
            "recovered only after {:.1} s",
            measured.recovery_seconds
        ));
    }
    if measured.lost > 0 {
        return Err(format!("{} acknowledged registrations lost", measured.lost));
    }
    Ok(format!(
        "stopped for {DOWN_SECONDS} s: {unavailable} answers 503 {{\"detail\":\"Service temporarily unavailable.\"}}; registering worked again {:.1} s after it started; {} registrations acknowledged, 0 lost",
        measured.recovery_seconds, measured.acknowledged
    ))
}
