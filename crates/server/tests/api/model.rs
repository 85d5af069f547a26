//! The server against a model: random sequences of what users and their clients do to sessions
//! (register, log in, refresh, retry a refresh, refresh twice at once, verify, call the
//! protected endpoint, log out, log out everywhere, change the password, be deactivated and
//! reactivated, and time passing lifetimes) run against the real API on both databases, every
//! answer compared with what a small model of users, families and tokens says it must be.
//!
//! The server reads a [`ManualClock`]: time moves only when a step moves it (or when the server
//! waits for the next second, which a manual clock jumps to), so a sequence can outlive an
//! access token, a refresh token and a family without waiting a second. The model works out
//! each answer as of the second its request is sent.
//!
//! `MODEL_SEQUENCES` sets how many sequences run (256 by default; `cargo xtask faults --long`
//! runs 10,000). A sequence the server answers differently is shrunk to its shortest form and
//! its seed kept in `model.proptest-regressions`, which proptest replays first on every run.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use reqwest::Response;
use serde_json::{Value, json};
use server::clock::ManualClock;

use crate::helpers::*;

const ACCESS_LIFETIME: i64 = 300;
const REFRESH_LIFETIME: i64 = 3600;
const FAMILY_LIFETIME: i64 = 3 * 3600;
const REUSE_GRACE: i64 = 10;

/// The project's defaults (rotation, blacklisting, families), with lifetimes short enough for
/// a sequence to outlive, a reuse grace, and the throttles out of the way: the model is of
/// sessions, not of the limiter.
const SETTINGS: &[(&str, &str)] = &[
    ("JWT_ACCESS_TOKEN_LIFETIME", "300"),
    ("JWT_REFRESH_TOKEN_LIFETIME", "3600"),
    ("JWT_REFRESH_FAMILY_LIFETIME", "10800"),
    ("JWT_REFRESH_REUSE_GRACE", "10"),
    ("LOGIN_THROTTLE_FAILURES", "100000"),
    ("PASSWORD_CHANGE_THROTTLE_FAILURES", "100000"),
];

/// How far time moves in one step: each side of the grace, of each lifetime, and on it, and
/// the gaps between a client's refreshes that keep a session going until its family ends.
const WAITS: &[i64] = &[
    1, 9, 10, 11, 299, 300, 301, 1800, 2400, 3000, 3599, 3600, 10800,
];

/// The two passwords a user changes between (both pass Django's rules).
const PASSWORDS: [&str; 2] = ["correct-horse-battery", "lantern-orbit-staple"];

/// How many users a sequence has.
const USERS: usize = 2;

const NO_ACTIVE_ACCOUNT: &str = "No active account found with the given credentials";
const NO_ACTIVE_ACCOUNT_FOR_TOKEN: &str = "No active account found for the given token.";
const OLD_PASSWORD_WRONG: &str =
    "Your old password was entered incorrectly. Please enter it again.";
const USERNAME_TAKEN: &str = "A user with that username already exists.";

every_database!(the_server_answers_every_sequence_as_the_model_does);

/// One thing a user, a client or time does. A token is picked by an [`Index`] into the tokens
/// the sequence has been given so far (a step with none to pick is skipped).
#[derive(Debug, Clone)]
enum Step {
    Register {
        user: usize,
    },
    LogIn {
        user: usize,
        right_password: bool,
    },
    Refresh {
        token: Index,
    },
    /// A family's current refresh token, as a client that keeps its session going does.
    RefreshCurrent {
        family: Index,
    },
    /// A client keeping its session going for hours: `rounds` times, time passes by `gap`
    /// seconds and the family's current token is refreshed (so sessions meet their family's
    /// end, which no rotation carries them past).
    KeepSessionAlive {
        family: Index,
        rounds: u8,
        gap: i64,
    },
    /// The same refresh token twice in a row, as a client whose answer was lost.
    RefreshRetried {
        token: Index,
    },
    /// The same refresh token twice at once, as two tabs.
    RefreshInParallel {
        token: Index,
    },
    Verify {
        token: Index,
        refresh: bool,
    },
    Hello {
        token: Index,
    },
    LogOut {
        token: Index,
        with_access: Option<Index>,
    },
    LogOutEverywhere {
        token: Index,
    },
    ChangePassword {
        token: Index,
        right_old: bool,
    },
    Deactivate {
        user: usize,
    },
    Reactivate {
        user: usize,
    },
    Wait {
        seconds: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        1 => (0..USERS).prop_map(|user| Step::Register { user }),
        3 => (0..USERS, prop::bool::weighted(0.85))
            .prop_map(|(user, right_password)| Step::LogIn { user, right_password }),
        3 => any::<Index>().prop_map(|token| Step::Refresh { token }),
        3 => any::<Index>().prop_map(|family| Step::RefreshCurrent { family }),
        2 => (any::<Index>(), 1..6u8, prop::sample::select(&[1800i64, 2400, 3000, 3599][..]))
            .prop_map(|(family, rounds, gap)| Step::KeepSessionAlive { family, rounds, gap }),
        1 => any::<Index>().prop_map(|token| Step::RefreshRetried { token }),
        1 => any::<Index>().prop_map(|token| Step::RefreshInParallel { token }),
        2 => (any::<Index>(), any::<bool>())
            .prop_map(|(token, refresh)| Step::Verify { token, refresh }),
        3 => any::<Index>().prop_map(|token| Step::Hello { token }),
        2 => (any::<Index>(), proptest::option::of(any::<Index>()))
            .prop_map(|(token, with_access)| Step::LogOut { token, with_access }),
        1 => any::<Index>().prop_map(|token| Step::LogOutEverywhere { token }),
        1 => (any::<Index>(), prop::bool::weighted(0.7))
            .prop_map(|(token, right_old)| Step::ChangePassword { token, right_old }),
        1 => (0..USERS).prop_map(|user| Step::Deactivate { user }),
        1 => (0..USERS).prop_map(|user| Step::Reactivate { user }),
        3 => prop::sample::select(WAITS).prop_map(|seconds| Step::Wait { seconds }),
    ]
}

async fn the_server_answers_every_sequence_as_the_model_does(backend: Backend) {
    let sequences = std::env::var("MODEL_SEQUENCES")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(256);
    let hand = ManualClock::starting_at(now());
    let app = Arc::new(TestApp::spawn_with_clock(&backend, SETTINGS, &hand));
    // The runner waits for each sequence, which the server's runtime (this test's) must not:
    // it runs on a thread of its own, the sequences on a runtime of their own, and this test
    // awaits the outcome.
    let (outcome, finished) = tokio::sync::oneshot::channel();
    let runner_app = app.clone();
    std::thread::spawn(move || {
        let run = AssertUnwindSafe(|| run_sequences(&runner_app, &hand, sequences));
        outcome.send(std::panic::catch_unwind(run))
    });
    let (steps, tally) = finished
        .await
        .expect("the runner reports")
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    let database = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres { .. } => "PostgreSQL",
    };
    eprintln!(
        "model, {database}: {sequences} sequences, {steps} steps, every answer as the model's:\n{tally}"
    );
}

/// Runs `sequences` random sequences against `app`; returns how many steps they had and what
/// the server answered.
fn run_sequences(app: &TestApp, hand: &ManualClock, sequences: u32) -> (usize, Arc<Tally>) {
    let steps = AtomicUsize::new(0);
    let tally = Arc::default();
    let config = Config {
        cases: sequences,
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let result = runner.run(&prop::collection::vec(step(), 1..40), |sequence| {
        steps.fetch_add(sequence.len(), Ordering::Relaxed);
        runtime.block_on(run(app, hand, &tally, sequence))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    (steps.into_inner(), tally)
}

async fn run(
    app: &TestApp,
    hand: &ManualClock,
    tally: &Arc<Tally>,
    sequence: Vec<Step>,
) -> Result<(), TestCaseError> {
    let mut model = Model::new(hand.clone(), tally.clone());
    model.register(app, 0).await?;
    model.log_in(app, 0, true).await?;
    for step in sequence {
        model.apply(app, step).await?;
    }
    Ok(())
}

/// What the model knows of a user.
#[derive(Debug)]
struct User {
    name: String,
    id: Option<i32>,
    password: usize,
    active: bool,
    /// The second every session of theirs was ended in, if any: every token issued in it or
    /// before is refused from then on.
    sessions_ended: Option<i64>,
}

/// A log in's chain of refresh tokens.
#[derive(Debug)]
struct Family {
    /// Its `family_id` claim.
    id: String,
    user: usize,
    expires: i64,
    current: usize,
    previous: Option<usize>,
    rotated_at: Option<i64>,
    revoked: bool,
}

/// A token the server handed out: its text, whose it is, and its times.
#[derive(Debug)]
struct Token {
    text: String,
    family: usize,
    iat: i64,
    exp: i64,
    /// A refresh token: rotated out (blacklisted, though a retry within the grace is still
    /// answered). An access token: refused by a log out it came with.
    revoked: bool,
}

/// The reference model: users, families and the tokens given out, by a sequence.
struct Model {
    clock: ManualClock,
    /// The time the model expects the server's clock to show: moved by waits, and by a session
    /// that starts after the second its user's sessions ended in.
    now: i64,
    tally: Arc<Tally>,
    users: Vec<User>,
    families: Vec<Family>,
    refresh: Vec<Token>,
    access: Vec<Token>,
}

/// A status and a JSON body.
type Answer = (u16, Value);

/// How many answers of each kind the server gave (status and message), over every sequence of
/// a run: what the model was checked on.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<String, usize>>);

impl Tally {
    /// Counts an answer: a refusal by its status and message, a success by its status.
    fn count(&self, (status, body): &Answer) {
        if *status < 300 {
            return self.note(&status.to_string());
        }
        let message = body["messages"][0]["message"].as_str().map(str::to_owned);
        let message = message.or_else(|| {
            ["detail", "non_field_errors", "old_password", "username"]
                .iter()
                .find_map(|field| body.get(*field))
                .map(|message| message.to_string().replace(['"', '[', ']'], ""))
        });
        self.note(&format!("{status} {}", message.unwrap_or_default()));
    }

    /// Counts one more of `what`.
    fn note(&self, what: &str) {
        let mut counts = self.0.lock().expect("not poisoned");
        *counts.entry(what.to_owned()).or_default() += 1;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (answer, count) in self.0.lock().expect("not poisoned").iter() {
            writeln!(f, "  {count:>7}  {answer}")?;
        }
        Ok(())
    }
}

impl Model {
    fn new(clock: ManualClock, tally: Arc<Tally>) -> Self {
        static SEQUENCE: AtomicUsize = AtomicUsize::new(0);
        let sequence = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let users = (0..USERS)
            .map(|user| User {
                name: format!("model{sequence}u{user}"),
                id: None,
                password: 0,
                active: true,
                sessions_ended: None,
            })
            .collect();
        Self {
            now: clock.now(),
            clock,
            tally,
            users,
            families: Vec::new(),
            refresh: Vec::new(),
            access: Vec::new(),
        }
    }

    fn now(&self) -> i64 {
        self.now
    }

    /// The status and JSON body of `response`, counted in the run's tally.
    async fn answer(&self, response: Response) -> Answer {
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({"not JSON": text}));
        let answer = (status, body);
        self.tally.count(&answer);
        answer
    }

    /// Takes `step` on the server and on the model, and checks that the server's clock shows
    /// what the model expects after it (it moves only where the model says it does).
    async fn apply(&mut self, app: &TestApp, step: Step) -> Result<(), TestCaseError> {
        self.take(app, step).await?;
        prop_assert_eq!(
            self.clock.now(),
            self.now,
            "the server's clock moved unexpectedly"
        );
        Ok(())
    }

    async fn take(&mut self, app: &TestApp, step: Step) -> Result<(), TestCaseError> {
        match step {
            Step::Register { user } => self.register(app, user).await,
            Step::LogIn {
                user,
                right_password,
            } => self.log_in(app, user, right_password).await,
            Step::Refresh { token } => self.refresh(app, token).await,
            Step::RefreshCurrent { family } => match self.pick(&self.families, family) {
                Some(family) => self.refresh_token(app, self.families[family].current).await,
                None => Ok(()),
            },
            Step::KeepSessionAlive {
                family,
                rounds,
                gap,
            } => {
                let Some(family) = self.pick(&self.families, family) else {
                    return Ok(());
                };
                for _ in 0..rounds {
                    self.clock.advance(gap);
                    self.now += gap;
                    self.refresh_token(app, self.families[family].current)
                        .await?;
                }
                Ok(())
            }
            Step::RefreshRetried { token } => {
                self.refresh(app, token).await?;
                self.refresh(app, token).await
            }
            Step::RefreshInParallel { token } => self.refresh_in_parallel(app, token).await,
            Step::Verify { token, refresh } => self.verify(app, token, refresh).await,
            Step::Hello { token } => self.hello(app, token).await,
            Step::LogOut { token, with_access } => self.log_out(app, token, with_access).await,
            Step::LogOutEverywhere { token } => self.log_out_everywhere(app, token).await,
            Step::ChangePassword { token, right_old } => {
                self.change_password(app, token, right_old).await
            }
            Step::Deactivate { user } => {
                if let Some(name) = self.registered(user) {
                    app.deactivate_at(&name, self.now());
                    self.users[user].active = false;
                    self.users[user].sessions_ended = Some(self.now());
                }
                Ok(())
            }
            Step::Reactivate { user } => {
                if let Some(name) = self.registered(user) {
                    app.set_active(&name, true);
                    self.users[user].active = true;
                }
                Ok(())
            }
            Step::Wait { seconds } => {
                self.clock.advance(seconds);
                self.now += seconds;
                Ok(())
            }
        }
    }

    /// The item `index` picks, if there are any (a step with none to pick is counted as
    /// skipped).
    fn pick<T>(&self, items: &[T], index: Index) -> Option<usize> {
        let picked = pick(items, &index);
        if picked.is_none() {
            self.tally.note("skipped: nothing to pick");
        }
        picked
    }

    fn registered(&self, user: usize) -> Option<String> {
        let user = &self.users[user];
        user.id.map(|_| user.name.clone())
    }

    async fn register(&mut self, app: &TestApp, user: usize) -> Result<(), TestCaseError> {
        let (name, password) = (&self.users[user].name, PASSWORDS[self.users[user].password]);
        let (status, body) = self.answer(app.register(name, password).await).await;
        if self.users[user].id.is_some() {
            prop_assert_eq!((status, body), (400, json!({"username": [USERNAME_TAKEN]})));
            return Ok(());
        }
        prop_assert_eq!(status, 201, "{}", body);
        let id = body["id"].as_i64();
        prop_assert!(id.is_some(), "{}", body);
        prop_assert_eq!(&body, &json!({"id": id, "username": name}));
        self.users[user].id = id.map(|id| id as i32);
        Ok(())
    }

    async fn log_in(
        &mut self,
        app: &TestApp,
        user: usize,
        right_password: bool,
    ) -> Result<(), TestCaseError> {
        let model = &self.users[user];
        let password = if right_password {
            PASSWORDS[model.password]
        } else {
            "not-the-password"
        };
        let (status, body) = self.answer(app.obtain(&model.name, password).await).await;
        if model.id.is_none() || !right_password || !model.active {
            prop_assert_eq!((status, body), (401, json!({"detail": NO_ACTIVE_ACCOUNT})));
            return Ok(());
        }
        prop_assert_eq!(status, 200, "{}", body);
        self.learn_session(user, &body)
    }

    /// The second a session starting now for `user` is issued in: a log in in the very second
    /// their sessions ended waits for the next (the server's manual clock jumps to it).
    fn session_start(&self, user: usize) -> i64 {
        let now = self.now();
        match self.users[user].sessions_ended {
            Some(ended) if ended >= now => ended + 1,
            _ => now,
        }
    }

    /// A fresh family's pair, as a log in or a password change answers it.
    fn learn_session(&mut self, user: usize, body: &Value) -> Result<(), TestCaseError> {
        prop_assert_eq!(fields(body), ["access", "refresh"]);
        // The server's clock jumped to the session's second, if it had to wait for it.
        let at = self.session_start(user);
        self.now = at;
        let refresh = body["refresh"].as_str();
        prop_assert!(refresh.is_some(), "a refresh token: {}", body);
        let id = payload_of(refresh.unwrap_or_default())["family_id"].clone();
        prop_assert!(id.is_string(), "a family id: {}", body);
        let id = id.as_str().unwrap_or_default().to_owned();
        prop_assert!(
            self.families.iter().all(|family| family.id != id),
            "a new family"
        );
        let expires = at + FAMILY_LIFETIME;
        let family = self.families.len();
        self.families.push(Family {
            id,
            user,
            expires,
            current: self.refresh.len(),
            previous: None,
            rotated_at: None,
            revoked: false,
        });
        self.learn_refresh(family, &body["refresh"])?;
        self.learn_access(family, &body["access"])
    }

    /// Checks a refresh token the server just issued in `family`, and remembers it.
    fn learn_refresh(&mut self, family: usize, token: &Value) -> Result<(), TestCaseError> {
        let token = self.issued(family, token, "refresh", REFRESH_LIFETIME)?;
        self.refresh.push(token);
        Ok(())
    }

    /// Checks an access token the server just issued in `family`, and remembers it.
    fn learn_access(&mut self, family: usize, token: &Value) -> Result<(), TestCaseError> {
        let token = self.issued(family, token, "access", ACCESS_LIFETIME)?;
        self.access.push(token);
        Ok(())
    }

    fn issued(
        &self,
        family: usize,
        token: &Value,
        token_type: &str,
        lifetime: i64,
    ) -> Result<Token, TestCaseError> {
        let text = token.as_str();
        prop_assert!(text.is_some(), "a {} token: {}", token_type, token);
        let text = text.unwrap_or_default().to_owned();
        let (iat, exp) = (
            self.now(),
            (self.now() + lifetime).min(self.families[family].expires),
        );
        if exp < iat + lifetime {
            self.tally
                .note("issued: a token cut short by its family's end");
        }
        let claims = payload_of(&text);
        let user = &self.users[self.families[family].user];
        let user_id = user.id.map(|id| id.to_string());
        prop_assert_eq!(&claims["token_type"], token_type);
        prop_assert_eq!(&claims["iat"], &json!(iat), "{}", claims);
        prop_assert_eq!(&claims["exp"], &json!(exp), "{}", claims);
        prop_assert_eq!(&claims["user_id"], &json!(user_id), "{}", claims);
        prop_assert_eq!(
            &claims["family_id"],
            &json!(self.families[family].id),
            "{}",
            claims
        );
        Ok(Token {
            text,
            family,
            iat,
            exp,
            revoked: false,
        })
    }

    /// Why a refresh token is refused now, in the order the server checks: its expiry, its
    /// user, the user's ended sessions, its family.
    fn refresh_refusal(&self, token: usize) -> Option<Answer> {
        let token = &self.refresh[token];
        let family = &self.families[token.family];
        let user = &self.users[family.user];
        if token.exp <= self.now() {
            Some((401, token_not_valid("Token is expired")))
        } else if !user.active {
            Some((401, json!({"detail": NO_ACTIVE_ACCOUNT_FOR_TOKEN})))
        } else if user.sessions_ended.is_some_and(|ended| token.iat <= ended) || family.revoked {
            Some((401, token_not_valid("Token is blacklisted")))
        } else {
            None
        }
    }

    /// Why an access token is refused now, in the order the server's guard checks.
    fn access_refusal(&self, token: usize) -> Option<Answer> {
        let token = &self.access[token];
        let family = &self.families[token.family];
        let user = &self.users[family.user];
        if token.exp <= self.now() {
            Some((401, access_token_refused("Token is expired")))
        } else if token.revoked || family.revoked {
            Some((401, access_token_refused("Token is blacklisted")))
        } else if !user.active {
            Some((
                401,
                json!({"detail": "User is inactive", "code": "user_inactive"}),
            ))
        } else if user.sessions_ended.is_some_and(|ended| token.iat <= ended) {
            Some((401, access_token_refused("Token is blacklisted")))
        } else {
            None
        }
    }

    /// What a refresh with `token` does to the model, and what its answer must be: a rotation,
    /// a retry answered with the current token, reuse (the family revoked), or a refusal.
    fn expect_refresh(&mut self, token: usize) -> Refreshed {
        if let Some(refusal) = self.refresh_refusal(token) {
            return Refreshed::Refused(refusal);
        }
        let now = self.now();
        let family_index = self.refresh[token].family;
        let family = &mut self.families[family_index];
        if family.current == token {
            family.previous = Some(token);
            family.rotated_at = Some(now);
            self.refresh[token].revoked = true;
            Refreshed::Rotated(family_index)
        } else if family.previous == Some(token)
            && family.rotated_at.is_some_and(|at| now - at <= REUSE_GRACE)
        {
            Refreshed::Retried(family_index, family.current)
        } else {
            family.revoked = true;
            self.tally.note("refresh: reuse detected, family revoked");
            Refreshed::Refused((401, token_not_valid("Token is blacklisted")))
        }
    }

    /// Checks a refresh's answer against what [`Model::expect_refresh`] said, and learns the
    /// tokens it gave.
    fn check_refresh(&mut self, expected: Refreshed, actual: Answer) -> Result<(), TestCaseError> {
        match expected {
            Refreshed::Refused(refusal) => prop_assert_eq!(actual, refusal),
            Refreshed::Rotated(family) => {
                prop_assert_eq!(actual.0, 200, "{}", actual.1);
                prop_assert_eq!(fields(&actual.1), ["access", "refresh"]);
                self.tally.note("refresh: rotated");
                self.families[family].current = self.refresh.len();
                self.learn_refresh(family, &actual.1["refresh"])?;
                self.learn_access(family, &actual.1["access"])?;
            }
            Refreshed::Retried(family, current) => {
                prop_assert_eq!(actual.0, 200, "{}", actual.1);
                prop_assert_eq!(fields(&actual.1), ["access", "refresh"]);
                prop_assert_eq!(&actual.1["refresh"], &json!(self.refresh[current].text));
                self.tally
                    .note("refresh: a retry within the grace, given the current token");
                self.learn_access(family, &actual.1["access"])?;
            }
        }
        Ok(())
    }

    async fn refresh(&mut self, app: &TestApp, token: Index) -> Result<(), TestCaseError> {
        match self.pick(&self.refresh, token) {
            Some(token) => self.refresh_token(app, token).await,
            None => Ok(()),
        }
    }

    async fn refresh_token(&mut self, app: &TestApp, token: usize) -> Result<(), TestCaseError> {
        let expected = self.expect_refresh(token);
        let actual = self
            .answer(app.refresh(&self.refresh[token].text).await)
            .await;
        self.check_refresh(expected, actual)
    }

    /// Two refreshes with one token at once: whichever the server takes first, the answers are
    /// those of the two in a row (a rotation and its retry, two refusals, ...).
    async fn refresh_in_parallel(
        &mut self,
        app: &TestApp,
        token: Index,
    ) -> Result<(), TestCaseError> {
        let Some(token) = self.pick(&self.refresh, token) else {
            return Ok(());
        };
        let text = self.refresh[token].text.clone();
        let (one, other) = tokio::join!(app.refresh(&text), app.refresh(&text));
        let (one, other) = (self.answer(one).await, self.answer(other).await);
        // The rotation's answer first: it carries the token the retry is answered with.
        let rotated = |answer: &Answer| answer.1["refresh"] != json!(text) && answer.0 == 200;
        let (first, second) = match (rotated(&one), rotated(&other)) {
            (false, true) => (other, one),
            _ => (one, other),
        };
        let expected = self.expect_refresh(token);
        self.check_refresh(expected, first)?;
        let expected = self.expect_refresh(token);
        self.check_refresh(expected, second)
    }

    async fn verify(
        &mut self,
        app: &TestApp,
        token: Index,
        refresh: bool,
    ) -> Result<(), TestCaseError> {
        let tokens = if refresh { &self.refresh } else { &self.access };
        let Some(index) = self.pick(tokens, token) else {
            return Ok(());
        };
        let token = &tokens[index];
        let user = &self.users[self.families[token.family].user];
        let expected = if token.exp <= self.now() {
            (401, token_not_valid("Token is expired"))
        } else if token.revoked
            || self.families[token.family].revoked
            || user.sessions_ended.is_some_and(|ended| token.iat <= ended)
        {
            (400, json!({"non_field_errors": ["Token is blacklisted"]}))
        } else {
            (200, json!({}))
        };
        prop_assert_eq!(self.answer(app.verify(&token.text).await).await, expected);
        Ok(())
    }

    async fn hello(&mut self, app: &TestApp, token: Index) -> Result<(), TestCaseError> {
        let Some(token) = self.pick(&self.access, token) else {
            return Ok(());
        };
        let expected = self
            .access_refusal(token)
            .unwrap_or((200, json!({"message": "Hello, World!"})));
        let actual = self
            .answer(app.get_as("/hello/", &self.access[token].text).await)
            .await;
        prop_assert_eq!(actual, expected);
        Ok(())
    }

    /// `POST /api/token/blacklist/`: the family ends (whatever its user's state), and an access
    /// token of the same user sent with it is refused from then on.
    async fn log_out(
        &mut self,
        app: &TestApp,
        token: Index,
        with_access: Option<Index>,
    ) -> Result<(), TestCaseError> {
        let Some(token) = self.pick(&self.refresh, token) else {
            return Ok(());
        };
        let access = with_access.and_then(|access| self.pick(&self.access, access));
        let refresh = &self.refresh[token];
        let mut request = app
            .client
            .post(app.url("/api/token/blacklist/"))
            .json(&json!({"refresh": refresh.text}));
        if let Some(access) = access {
            request = request.bearer_auth(&self.access[access].text);
        }
        let actual = self
            .answer(request.send().await.expect("request sent"))
            .await;
        if refresh.exp <= self.now() {
            prop_assert_eq!(actual, (401, token_not_valid("Token is expired")));
            return Ok(());
        }
        let owner = self.families[refresh.family].user;
        if let Some(access) = access {
            let access = &mut self.access[access];
            if access.exp > self.now && self.families[access.family].user == owner {
                access.revoked = true;
            }
        }
        let family = &mut self.families[self.refresh[token].family];
        if family.revoked {
            prop_assert_eq!(actual, (401, token_not_valid("Token is blacklisted")));
        } else {
            family.revoked = true;
            prop_assert_eq!(actual, (200, json!({})));
        }
        Ok(())
    }

    /// Ends every session of a user in second `at`: each family revoked, each token issued in
    /// that second or before refused.
    fn end_sessions(&mut self, user: usize, at: i64) {
        self.users[user].sessions_ended = Some(at);
        for family in &mut self.families {
            if family.user == user {
                family.revoked = true;
            }
        }
    }

    async fn log_out_everywhere(
        &mut self,
        app: &TestApp,
        token: Index,
    ) -> Result<(), TestCaseError> {
        let Some(token) = self.pick(&self.access, token) else {
            return Ok(());
        };
        let refused = self.access_refusal(token);
        let actual = self
            .answer(app.log_out_everywhere(&self.access[token].text).await)
            .await;
        if let Some(refusal) = refused {
            prop_assert_eq!(actual, refusal);
            return Ok(());
        }
        prop_assert_eq!(actual, (200, json!({})));
        self.end_sessions(self.families[self.access[token].family].user, self.now());
        Ok(())
    }

    /// A password change: every session ends, and a fresh pair goes on from the next second.
    async fn change_password(
        &mut self,
        app: &TestApp,
        token: Index,
        right_old: bool,
    ) -> Result<(), TestCaseError> {
        let Some(token) = self.pick(&self.access, token) else {
            return Ok(());
        };
        let user = self.families[self.access[token].family].user;
        let current = self.users[user].password;
        let old = if right_old {
            PASSWORDS[current]
        } else {
            "not-the-password"
        };
        let new = PASSWORDS[1 - current];
        let (asked_at, refused) = (self.now(), self.access_refusal(token));
        let actual = self
            .answer(
                app.change_password(&self.access[token].text, old, new)
                    .await,
            )
            .await;
        if let Some(refusal) = refused {
            prop_assert_eq!(actual, refusal);
            return Ok(());
        }
        if !right_old {
            prop_assert_eq!(actual, (400, json!({"old_password": [OLD_PASSWORD_WRONG]})));
            return Ok(());
        }
        prop_assert_eq!(actual.0, 200, "{}", actual.1);
        self.end_sessions(user, asked_at);
        self.users[user].password = 1 - current;
        self.learn_session(user, &actual.1)
    }
}

/// What a refresh must answer.
enum Refreshed {
    Refused(Answer),
    /// A new pair in this family.
    Rotated(usize),
    /// A new access token in this family, and its current refresh token again.
    Retried(usize, usize),
}

/// The names of a JSON object's fields, sorted.
fn fields(body: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = body
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}

/// The token `index` picks, if there are any.
fn pick<T>(tokens: &[T], index: &Index) -> Option<usize> {
    (!tokens.is_empty()).then(|| index.index(tokens.len()))
}
