//! The logged-in session: one explicit state, where each token lives, and how it is kept fresh.
//!
//! The refresh token lives only in an HttpOnly cookie that the server sets for `/api/session/`:
//! no script of this page (nor one injected through an XSS bug) can read it, and no other
//! site's page can make the browser send it (`SameSite=Strict`, plus the `X-Requested-With`
//! header the server requires). The access token lives in memory only, and dies with the page;
//! a reload gets a new one through the cookie.
//!
//! Refreshing is single-flight. The timer (shortly before the access token expires), a retry
//! after a 401 and every page share one request: a lock within the tab, and across the tabs of
//! this origin a Web Lock (`navigator.locks`). The tab that refreshed hands the new access token
//! to the others on a `BroadcastChannel`, so two tabs never present one refresh token at once,
//! and never trip the server's reuse detection.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use claims::{Credentials, PasswordChange, Refusal, SessionEnd, SessionResponse};
use futures_util::lock::Mutex;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::api::{self, ApiError};
use crate::{clock, jwt};

/// What a tab of this browser says after its password changed.
const PASSWORD_CHANGED: &str = "Your password was changed. Every other browser and device was \
                                logged out; this browser's tabs carry on.";

/// How long to wait before trying a log out that could not reach the server again.
const LOG_OUT_RETRY: Duration = Duration::from_secs(3);

/// The name of the Web Lock and of the channel the tabs share.
const SHARED_NAME: &str = "jwt-tutorial-session";

/// A `localStorage` hint (no token, no secret) that this browser logged in and has not logged
/// out since: only then is a page load worth asking the server for the session.
const HAD_SESSION: &str = "jwt-tutorial.had-session";

/// Where the session is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Nobody is logged in.
    Anonymous,
    /// The page just loaded and is asking the server whether the cookie still holds a session.
    Restoring,
    /// Logged in: an access token is in memory.
    Active,
    /// The session ended, for this reason.
    Ended(EndReason),
}

/// Why a session ended, to be told in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EndReason {
    /// Logged out in this tab.
    LoggedOut,
    /// Logged out in another tab of this browser (they share the session's cookie).
    LoggedOutElsewhere,
    /// Logged out everywhere, from this browser or another.
    LoggedOutEverywhere,
    /// The refresh token ran out before anything refreshed it; when, if known.
    Expired(Option<i64>),
    /// The session reached its longest life, however often it was refreshed; when, if known.
    TooOld(Option<i64>),
    /// A refresh token the session had rotated out came back: stolen, most likely.
    Replayed,
    /// The server revoked the session and did not say why.
    Revoked,
    /// The account was deactivated or deleted.
    AccountGone,
    /// The password was changed, which ends every other session.
    PasswordChanged,
    /// Another refusal, with the server's words.
    Refused(String),
}

impl EndReason {
    /// The reason in a sentence, for the notice every page shows.
    pub fn explain(&self) -> String {
        let at = |when: &Option<i64>| {
            when.map(|when| format!(" at {}", clock::from_numeric_date(when)))
                .unwrap_or_default()
        };
        match self {
            Self::LoggedOut => "You logged out.".to_owned(),
            Self::LoggedOutElsewhere => "You logged out in another tab.".to_owned(),
            Self::LoggedOutEverywhere => "You logged out everywhere: every session of your \
                                          account ended, this one too."
                .to_owned(),
            Self::Expired(when) => format!(
                "Your session expired{}: its refresh token ran out before the page could use it. \
                 Log in again.",
                at(when)
            ),
            Self::TooOld(when) => format!(
                "Your session reached its longest life{}: however often it is refreshed, a \
                 session ends at the time set when you logged in. Log in again.",
                at(when)
            ),
            Self::Replayed => "Your session was ended because one of its old refresh tokens \
                               was used again, which is what a stolen copy looks like. Every \
                               token of the session is refused now. Log in again, and change \
                               your password if that was not you."
                .to_owned(),
            Self::Revoked => "The server ended your session.".to_owned(),
            Self::AccountGone => "Your account was deactivated.".to_owned(),
            Self::PasswordChanged => "Your password was changed, which ends every session of \
                                      your account but the one that changed it."
                .to_owned(),
            Self::Refused(detail) => format!("The server ended your session: {detail}"),
        }
    }

    /// The reason behind a refused refresh: the session endpoints' `reason`, else the
    /// refusal, read with the token contract's parser. `times` are the session's last known
    /// (refresh token, session) ends.
    fn of(error: &ApiError, times: Option<(i64, i64)>) -> Self {
        let ApiError::Refused { body, .. } = error else {
            return Self::Refused(error.message());
        };
        match body.reason {
            Some(SessionEnd::PasswordChanged) => return Self::PasswordChanged,
            Some(SessionEnd::LoggedOutEverywhere) => return Self::LoggedOutEverywhere,
            Some(SessionEnd::LoggedOut) => return Self::LoggedOutElsewhere,
            Some(SessionEnd::SessionTooOld) => return Self::TooOld(times.map(|t| t.1)),
            Some(SessionEnd::Replayed) => return Self::Replayed,
            Some(SessionEnd::Deactivated) => return Self::AccountGone,
            Some(SessionEnd::Other) | None => {}
        }
        match Refusal::of_body(body) {
            Some(Refusal::Expired) => Self::Expired(times.map(|t| t.0)),
            Some(Refusal::Blacklisted) => Self::Revoked,
            Some(Refusal::NoActiveAccount | Refusal::UserInactive | Refusal::UserNotFound) => {
                Self::AccountGone
            }
            Some(Refusal::PasswordChanged) => Self::PasswordChanged,
            Some(other) => Self::Refused(other.message().to_owned()),
            None if body.detail.as_deref() == Some(claims::NOT_AUTHENTICATED) => {
                Self::LoggedOutElsewhere
            }
            None => Self::Refused(error.message()),
        }
    }
}

/// What one tab tells the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Message {
    /// A log in or a refresh: the new access token, and the session's times.
    Access {
        access: String,
        username: Option<String>,
        times: Option<(i64, i64)>,
    },
    /// The session ended there.
    Ended { reason: EndReason },
    /// The password was changed there: the session goes on with this access token.
    PasswordChanged {
        access: String,
        times: Option<(i64, i64)>,
    },
}

/// Shared, copyable handle to the session; provided as context by the app.
#[derive(Clone, Copy)]
pub struct Session {
    phase: RwSignal<Phase>,
    access: RwSignal<Option<String>>,
    /// Kept after the session ends, for the log-in form.
    username: RwSignal<Option<String>>,
    /// When the refresh token in the cookie and the session end, as the server last said.
    times: RwSignal<Option<(i64, i64)>>,
    /// Why the last log out could not reach the server, while it is retried.
    log_out_failed: RwSignal<Option<String>>,
    /// Something the user should know about their session that did not end it.
    notice: RwSignal<Option<String>>,
    timer: StoredValue<Option<TimeoutHandle>>,
    /// The tab's own refresh lock; the Web Lock covers the other tabs.
    refreshing: StoredValue<Rc<Mutex<()>>, LocalStorage>,
    channel: StoredValue<Option<web_sys::BroadcastChannel>, LocalStorage>,
}

impl Session {
    /// A session that asks the server, through the cookie, whether one is still open.
    pub fn start() -> Self {
        let session = Self {
            phase: RwSignal::new(Phase::Restoring),
            access: RwSignal::new(None),
            username: RwSignal::new(None),
            times: RwSignal::new(None),
            log_out_failed: RwSignal::new(None),
            notice: RwSignal::new(None),
            timer: StoredValue::new(None),
            refreshing: StoredValue::new_local(Rc::new(Mutex::new(()))),
            channel: StoredValue::new_local(None),
        };
        session.listen_to_other_tabs();
        if !had_session() {
            session.phase.set(Phase::Anonymous);
            return session;
        }
        spawn_local(async move {
            match session.refresh(None).await {
                Ok(_) => session.load_username().await,
                // No cookie: nobody was logged in. Anything else ended an old session.
                Err(error) if error.status() == Some(401) => {
                    if EndReason::of(&error, None) == EndReason::LoggedOutElsewhere {
                        session.phase.set(Phase::Anonymous);
                    }
                }
                Err(_) => session.phase.set(Phase::Anonymous),
            }
        });
        session
    }

    /// The session from context.
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Where the session is.
    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Whether someone is logged in.
    pub fn is_active(&self) -> bool {
        self.phase.get() == Phase::Active
    }

    /// The logged-in user's name, once known; after the session ended, the last one.
    pub fn username(&self) -> Option<String> {
        self.username.get()
    }

    /// The current access token.
    pub fn access(&self) -> Option<String> {
        self.access.get()
    }

    /// When the session's refresh token and the session itself end, as the server last said.
    pub fn times(&self) -> Option<(i64, i64)> {
        self.times.get()
    }

    /// Something to know about the session that did not end it (a password changed).
    pub fn notice(&self) -> Option<String> {
        self.notice.get()
    }

    /// Forgets the notice once read.
    pub fn dismiss_notice(&self) {
        self.notice.set(None);
    }

    /// Changes the password. Every other browser and device is logged out; this browser's
    /// session goes on in the new cookie the server sets, its tabs too.
    pub async fn change_password(self, change: PasswordChange) -> Result<(), ApiError> {
        let response = self
            .authorized(move |access| api::session_change_password(access, change.clone()))
            .await?;
        self.learn_times(&response);
        self.activate(response.access.clone());
        self.notice.set(Some(PASSWORD_CHANGED.to_owned()));
        self.tell_other_tabs(&Message::PasswordChanged {
            access: response.access,
            times: self.times.get_untracked(),
        });
        Ok(())
    }

    /// Logs out everywhere: every session of the account ends, on every browser and device,
    /// this one included.
    pub async fn log_out_everywhere(self) -> Result<(), ApiError> {
        self.authorized(api::log_out_everywhere).await?;
        self.end(EndReason::LoggedOutEverywhere);
        self.tell_other_tabs(&Message::Ended {
            reason: EndReason::LoggedOutEverywhere,
        });
        Ok(())
    }

    /// Why logging out has not reached the server yet, while it is being retried.
    pub fn log_out_failed(&self) -> Option<String> {
        self.log_out_failed.get()
    }

    /// Logs in: the server answers the access token and sets the refresh cookie.
    pub async fn log_in(self, credentials: &Credentials) -> Result<(), ApiError> {
        let response = api::session_log_in(credentials).await?;
        self.username.set(Some(credentials.username.clone()));
        self.learn_times(&response);
        self.activate(response.access.clone());
        self.tell_other_tabs(&Message::Access {
            access: response.access,
            username: Some(credentials.username.clone()),
            times: self.times.get_untracked(),
        });
        Ok(())
    }

    /// Logs out: the server revokes the session (and this access token) and clears the
    /// cookie; the other tabs end too. Only the server can end the session: while it cannot be
    /// reached, the session stays (its cookie would still work) and the log out is tried again
    /// every few seconds, saying so, until it gets through or the session ends otherwise.
    /// `confirmed` runs once the server has ended it, just before this tab's session ends (to
    /// go to another page).
    pub async fn log_out(self, confirmed: impl FnOnce()) {
        loop {
            match api::session_log_out(self.access.get_untracked()).await {
                // A 401: the session had already ended there; nothing is left to end.
                Ok(()) => break,
                Err(error) if error.status() == Some(401) => break,
                // Unreachable, overloaded, throttled: the cookie still works there.
                Err(error) => {
                    let why = match error {
                        ApiError::Unreachable => "Could not reach the server".to_owned(),
                        other => format!("The server did not log you out ({})", other.message()),
                    };
                    self.log_out_failed.set(Some(format!(
                        "{why}: your session is still open there. Trying again…"
                    )));
                    sleep(LOG_OUT_RETRY).await;
                    if !self.is_active_untracked() {
                        self.log_out_failed.set(None);
                        return;
                    }
                }
            }
        }
        self.log_out_failed.set(None);
        confirmed();
        self.end(EndReason::LoggedOut);
        self.tell_other_tabs(&Message::Ended {
            reason: EndReason::LoggedOutElsewhere,
        });
    }

    fn is_active_untracked(self) -> bool {
        self.phase.get_untracked() == Phase::Active
    }

    /// Calls the API with the access token; after a 401, refreshes once and tries again.
    pub async fn authorized<T, F, Fut>(self, call: F) -> Result<T, ApiError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let access = match self.access.get_untracked() {
            Some(access) => access,
            None => self.refresh(None).await?,
        };
        match call(access.clone()).await {
            Err(error) if error.status() == Some(401) => {
                call(self.refresh(Some(access)).await?).await
            }
            other => other,
        }
    }

    /// A fresh access token, replacing `stale` (the one that failed or is about to expire).
    /// Of the refreshes this tab and the others start at once, one asks the server; the rest
    /// use its answer.
    pub async fn refresh(self, stale: Option<String>) -> Result<String, ApiError> {
        let lock = self.refreshing.get_value();
        let _mine = lock.lock().await;
        if let Some(fresh) = self.fresher_than(stale.as_deref()) {
            return Ok(fresh);
        }
        let asked = with_web_lock(async move {
            // Another tab may have refreshed while this one waited for the lock.
            match self.fresher_than(stale.as_deref()) {
                Some(fresh) => Ok(fresh),
                None => api::session_refresh().await.map(|response| {
                    self.learn_times(&response);
                    response.access
                }),
            }
        })
        .await;
        match asked {
            Ok(access) => {
                if self.access.get_untracked().as_deref() != Some(access.as_str()) {
                    self.activate(access.clone());
                    self.tell_other_tabs(&Message::Access {
                        access: access.clone(),
                        username: self.username.get_untracked(),
                        times: self.times.get_untracked(),
                    });
                }
                Ok(access)
            }
            Err(error) if error.status() == Some(401) => {
                self.end(EndReason::of(&error, self.times.get_untracked()));
                Err(error)
            }
            // The server cannot be reached: the session stays; the next call tries again.
            Err(error) => Err(error),
        }
    }

    /// The access token in memory, if it is not `stale` and has some life left.
    fn fresher_than(self, stale: Option<&str>) -> Option<String> {
        let access = self.access.get_untracked()?;
        let left = jwt::expiry(&access)? as f64 - js_sys::Date::now() / 1000.0;
        (Some(access.as_str()) != stale && left > 5.0).then_some(access)
    }

    async fn load_username(self) {
        if let Ok(profile) = self.authorized(api::me).await {
            self.username.set(Some(profile.username));
        }
    }

    fn learn_times(self, response: &SessionResponse) {
        self.times
            .set(Some((response.refresh_expires, response.session_expires)));
    }

    fn activate(self, access: String) {
        remember_session(true);
        self.schedule_refresh(&access);
        self.access.set(Some(access));
        self.enter(Phase::Active);
    }

    /// Moves to `phase`; staying in the same one changes nothing (no page is drawn again).
    fn enter(self, phase: Phase) {
        if self.phase.get_untracked() != phase {
            self.phase.set(phase);
        }
    }

    fn end(self, reason: EndReason) {
        remember_session(false);
        self.cancel_timer();
        self.access.set(None);
        self.enter(Phase::Ended(reason));
    }

    /// Refreshes a little before `access` expires: a fifth of its lifetime early, at most 30 s.
    fn schedule_refresh(self, access: &str) {
        self.cancel_timer();
        let (Some(exp), Some(iat)) = (jwt::expiry(access), jwt::issued_at(access)) else {
            return;
        };
        let lifetime_ms = ((exp - iat) * 1000) as f64;
        let margin_ms = (lifetime_ms / 5.0).min(30_000.0);
        let delay_ms = (exp as f64 * 1000.0 - margin_ms - js_sys::Date::now()).max(0.0);
        let stale = access.to_owned();
        let handle = set_timeout_with_handle(
            move || {
                spawn_local(async move {
                    let _ = self.refresh(Some(stale)).await;
                });
            },
            Duration::from_millis(delay_ms as u64),
        );
        self.timer.set_value(handle.ok());
    }

    fn cancel_timer(self) {
        if let Some(handle) = self.timer.get_value() {
            handle.clear();
        }
        self.timer.set_value(None);
    }

    fn tell_other_tabs(self, message: &Message) {
        if let (Some(channel), Ok(text)) =
            (self.channel.get_value(), serde_json::to_string(message))
        {
            let _ = channel.post_message(&text.into());
        }
    }

    fn listen_to_other_tabs(self) {
        let Ok(channel) = web_sys::BroadcastChannel::new(SHARED_NAME) else {
            return;
        };
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |event: web_sys::MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                match serde_json::from_str(&text) {
                    Ok(Message::Access {
                        access,
                        username,
                        times,
                    }) => {
                        if username.is_some() {
                            self.username.set(username);
                        }
                        if times.is_some() {
                            self.times.set(times);
                        }
                        self.activate(access);
                    }
                    Ok(Message::Ended { reason }) => self.end(reason),
                    Ok(Message::PasswordChanged { access, times }) => {
                        self.times.set(times);
                        self.activate(access);
                        self.notice.set(Some(PASSWORD_CHANGED.to_owned()));
                    }
                    Err(_) => {}
                }
            },
        );
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        // The page lives as long as the channel: the handler is never dropped.
        on_message.forget();
        self.channel.set_value(Some(channel));
    }
}

/// Waits `duration` without blocking the page.
async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                duration.as_millis() as i32,
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn had_session() -> bool {
    local_storage().is_some_and(|storage| storage.get_item(HAD_SESSION).ok().flatten().is_some())
}

fn remember_session(had: bool) {
    if let Some(storage) = local_storage() {
        let _ = if had {
            storage.set_item(HAD_SESSION, "1")
        } else {
            storage.remove_item(HAD_SESSION)
        };
    }
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Work waiting for the Web Lock, taken by whoever runs it.
type PendingWork<T> = Rc<RefCell<Option<Pin<Box<dyn Future<Output = T>>>>>>;

/// Runs `work` holding the origin-wide Web Lock (one holder at a time, across every tab of
/// this origin). Without Web Locks (an insecure context), `work` runs as is: the tab's own lock
/// still makes its refreshes single-flight.
async fn with_web_lock<T: 'static>(work: impl Future<Output = T> + 'static) -> T {
    let work: PendingWork<T> = Rc::new(RefCell::new(Some(Box::pin(work))));
    let result = Rc::new(RefCell::new(None));
    if let Some((locks, request)) = web_locks() {
        let (in_lock, slot) = (work.clone(), result.clone());
        let held = Closure::once(move |_lock: JsValue| -> js_sys::Promise {
            wasm_bindgen_futures::future_to_promise(async move {
                let taken = in_lock.borrow_mut().take();
                if let Some(work) = taken {
                    let value = work.await;
                    *slot.borrow_mut() = Some(value);
                }
                Ok(JsValue::UNDEFINED)
            })
        });
        let granted = request
            .call2(&locks, &SHARED_NAME.into(), held.as_ref().unchecked_ref())
            .ok()
            .and_then(|promise| promise.dyn_into::<js_sys::Promise>().ok());
        if let Some(promise) = granted {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
    }
    if let Some(value) = result.borrow_mut().take() {
        return value;
    }
    // No Web Locks, or the request failed before it ran the work: run it here.
    let taken = work.borrow_mut().take();
    match taken {
        Some(work) => work.await,
        None => unreachable!("the work ran under the lock and stored its result"),
    }
}

/// `navigator.locks` and its `request` method, where the browser has them.
fn web_locks() -> Option<(JsValue, js_sys::Function)> {
    let navigator = web_sys::window()?.navigator();
    let locks = js_sys::Reflect::get(&navigator, &"locks".into()).ok()?;
    if locks.is_undefined() {
        return None;
    }
    let request = js_sys::Reflect::get(&locks, &"request".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    Some((locks, request))
}
