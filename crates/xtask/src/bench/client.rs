//! What the benchmark asks of the servers besides load: logging in, minting refresh tokens,
//! and the raw bcrypt rate that bounds logins.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{BCRYPT_COST, PASSWORD, SECRET, USERNAME};

/// Valid refresh tokens for user 1, signed with the server's key, each used once by the
/// rotating-refresh run (the server records a token it never issued and blacklists it).
pub(super) fn mint_refresh_tokens(
    path: &Path,
    run: u64,
    count: usize,
    user_id: i64,
) -> Result<(), String> {
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let mut lines = String::with_capacity(count * 300);
    for index in 0..count {
        let claims = json!({
            "token_type": "refresh",
            "exp": now + 86_400,
            "iat": now,
            "jti": format!("{run:08x}{index:024x}"),
            "user_id": user_id.to_string(),
        });
        let token = jsonwebtoken::encode(&header, &claims, &key).map_err(|e| e.to_string())?;
        lines.push_str(&token);
        lines.push('\n');
    }
    fs::write(path, lines).map_err(|e| e.to_string())
}

/// bcrypt verifications per second at cost 12 with every core busy: the ceiling for logins.
pub(super) fn raw_bcrypt_rate(cores: usize, duration: Duration) -> f64 {
    let hash = bcrypt::hash(PASSWORD, BCRYPT_COST).unwrap_or_default();
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let done: u64 = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    let mut count = 0u64;
                    while Instant::now() < deadline {
                        let _ = bcrypt::verify(PASSWORD, &hash);
                        count += 1;
                    }
                    count
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
    });
    done as f64 / started.elapsed().as_secs_f64()
}

pub(super) fn login(base: &str) -> Result<Value, String> {
    let (status, body) = http_post_json(
        base,
        "/api/token/",
        &json!({"username": USERNAME, "password": PASSWORD}),
    )?;
    if status != 200 {
        return Err(format!("logging in on {base}: {status} {body}"));
    }
    serde_json::from_str(&body).map_err(|e| e.to_string())
}

/// The id of the user an access token belongs to (`GET /api/me/`).
pub(super) fn user_id(base: &str, access: &str) -> Result<i64, String> {
    let (status, body) = http(
        base,
        &format!(
            "GET /api/me/ HTTP/1.0\r\nHost: localhost\r\nAuthorization: Bearer {access}\r\n\r\n"
        ),
    )?;
    let me: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    me["id"]
        .as_i64()
        .ok_or_else(|| format!("GET /api/me/ answered {status} {body}"))
}

pub(super) fn http_get(base: &str, path: &str) -> Result<(u16, String), String> {
    http(
        base,
        &format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n"),
    )
}

pub(super) fn http_post_json(
    base: &str,
    path: &str,
    body: &Value,
) -> Result<(u16, String), String> {
    let body = body.to_string();
    http(
        base,
        &format!(
            "POST {path} HTTP/1.0\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// One HTTP/1.0 exchange (the xtask needs no HTTP client crate for a few set-up calls).
pub(super) fn http(base: &str, request: &str) -> Result<(u16, String), String> {
    exchange(base, request, Duration::from_secs(60))
}

/// One HTTP/1.0 exchange that gives up when connecting, sending or any one read takes longer
/// than `deadline`.
pub(crate) fn exchange(
    base: &str,
    request: &str,
    deadline: Duration,
) -> Result<(u16, String), String> {
    use std::io::{Read, Write};
    use std::net::ToSocketAddrs;
    let addr = base
        .trim_start_matches("http://")
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("no address")?;
    let mut stream =
        std::net::TcpStream::connect_timeout(&addr, deadline).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(deadline))
        .and_then(|()| stream.set_write_timeout(Some(deadline)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no HTTP status")?;
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}
