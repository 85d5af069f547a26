//! The load the scenarios make: blocking HTTP/1.0 exchanges, each with a deadline, each
//! recorded with its status, body and time, so that a scenario can count what came back.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bench::client::exchange;

/// One request's outcome: its status (0 when no answer came: refused, reset or timed out),
/// its body and how long it took.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub(super) status: u16,
    pub(super) body: String,
    pub(super) took: Duration,
}

impl Answer {
    /// The body as JSON (`Null` when it is not).
    pub(super) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    /// A string field of the JSON body.
    pub(super) fn field(&self, name: &str) -> Option<String> {
        self.json()[name].as_str().map(str::to_owned)
    }

    /// Whether this is a 5xx other than the documented 503, or no answer at all.
    pub(super) fn is_failure(&self) -> bool {
        self.status == 0 || (self.status >= 500 && self.status != 503)
    }

    /// Whether this is the documented 503: DRF's `ServiceUnavailable` body.
    pub(super) fn is_documented_503(&self) -> bool {
        self.status == 503
            && self.json() == serde_json::json!({"detail": "Service temporarily unavailable."})
    }
}

/// What the failures among `answers` were: how many got no answer (and the longest wait), and
/// how many another 5xx than 503.
pub(super) fn failures(answers: &[Answer]) -> String {
    let unanswered: Vec<&Answer> = answers.iter().filter(|a| a.status == 0).collect();
    let other = answers.iter().filter(|a| a.is_failure() && a.status != 0);
    let other: Vec<String> = other.map(|a| format!("{} {}", a.status, a.body)).collect();
    let longest = unanswered.iter().map(|a| a.took).max().unwrap_or_default();
    match (unanswered.len(), other.len()) {
        (0, 0) => "0 failed".to_owned(),
        (none, 0) => format!(
            "{none} failed (no answer, the longest wait {:.1} s)",
            longest.as_secs_f64()
        ),
        (none, _) => format!(
            "{} failed ({none} no answer; {})",
            none + other.len(),
            other.join("; ")
        ),
    }
}

/// `GET path` with `token` on `base` from 4 clients, each pausing 5 ms between requests (a
/// steady few hundred a second, not a flood of its own), for `duration`: every answer.
pub(super) fn steady_gets(base: &str, path: &str, token: &str, duration: Duration) -> Vec<Answer> {
    let started = Instant::now();
    std::thread::scope(|scope| {
        let clients: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let mut answers = Vec::new();
                    while started.elapsed() < duration {
                        answers.push(get_as(base, path, token));
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    answers
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|client| client.join().unwrap_or_default())
            .collect()
    })
}

/// The p-th percentile (0–100) of how long `answers` took, in milliseconds.
pub(super) fn percentile_of(answers: &[Answer], p: f64) -> f64 {
    let mut took: Vec<Duration> = answers.iter().map(|a| a.took).collect();
    percentile_ms(&mut took, p)
}

/// `method path` on `base` with an optional bearer token and JSON body, given up after
/// `deadline`.
pub(super) fn send(
    base: &str,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
    deadline: Duration,
) -> Answer {
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: localhost\r\n");
    if let Some(token) = bearer {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    let body = body.map(Value::to_string).unwrap_or_default();
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let started = Instant::now();
    let (status, body) = exchange(base, &request, deadline).unwrap_or((0, String::new()));
    Answer {
        status,
        body,
        took: started.elapsed(),
    }
}

/// `POST path` with a JSON body.
pub(super) fn post(base: &str, path: &str, body: &Value) -> Answer {
    send(base, "POST", path, None, Some(body), DEADLINE)
}

/// `GET path` with a bearer token.
pub(super) fn get_as(base: &str, path: &str, token: &str) -> Answer {
    send(base, "GET", path, Some(token), None, DEADLINE)
}

/// How long any one request may take before it counts as hung.
pub(super) const DEADLINE: Duration = Duration::from_secs(15);

/// The p-th percentile (0–100) of `durations`, in milliseconds.
pub(super) fn percentile_ms(durations: &mut [Duration], p: f64) -> f64 {
    if durations.is_empty() {
        return 0.0;
    }
    durations.sort();
    let rank = ((p / 100.0) * (durations.len() - 1) as f64).round() as usize;
    durations[rank].as_secs_f64() * 1000.0
}
