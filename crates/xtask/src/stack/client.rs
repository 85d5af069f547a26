//! HTTPS requests to the stack, through curl (which every machine with rustup has), trusting
//! only the certificate the `web` container generated: the checks speak TLS as a browser would,
//! certificate verification included.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

/// One answer.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Answer {
    /// The first header named `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A client for `https://localhost:PORT`.
#[derive(Debug, Clone)]
pub struct Client {
    /// `https://localhost:PORT`.
    pub base: String,
    /// The certificate to trust.
    pub ca: PathBuf,
}

impl Client {
    /// `GET path`, with `Authorization: Bearer <token>` when given.
    pub fn get(&self, path: &str, token: Option<&str>) -> Result<Answer, String> {
        self.send("GET", &format!("{}{path}", self.base), token, None)
    }

    /// `POST path` with a JSON body.
    pub fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Result<Answer, String> {
        self.send(
            "POST",
            &format!("{}{path}", self.base),
            token,
            Some(body.to_string().into_bytes()),
        )
    }

    /// `POST path` with a raw JSON body.
    pub fn post_bytes(&self, path: &str, body: Vec<u8>) -> Result<Answer, String> {
        self.send("POST", &format!("{}{path}", self.base), None, Some(body))
    }

    /// Any request to any URL (plain `http://` too, for the redirect).
    pub fn send(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, String> {
        let mut command = Command::new("curl");
        command
            .args(["--silent", "--show-error", "--include", "--max-time", "20"])
            .arg("--cacert")
            .arg(&self.ca)
            .args(["--request", method, url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(token) = token {
            command.args(["--header", &format!("Authorization: Bearer {token}")]);
        }
        if body.is_some() {
            command.args([
                "--header",
                "Content-Type: application/json",
                "--data-binary",
                "@-",
            ]);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run curl: {e}"))?;
        let mut stdin = child.stdin.take().expect("piped");
        if let Some(body) = body {
            // nginx may refuse a large body before reading it all.
            let _ = stdin.write_all(&body);
        }
        drop(stdin);
        let output = child.wait_with_output().map_err(|e| e.to_string())?;
        if !output.status.success() {
            return Err(format!(
                "curl {method} {url}: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        parse(&String::from_utf8_lossy(&output.stdout))
    }
}

/// curl's `--include` output: the status line, the headers, a blank line, the body.
fn parse(text: &str) -> Result<Answer, String> {
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP answer: {text:?}"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("no status line in {head:?}"))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Ok(Answer {
        status,
        headers,
        body: body.to_owned(),
    })
}
