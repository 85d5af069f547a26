//! The logged-in session: where each token lives and how it is kept fresh.
//!
//! The access token lives in memory only (a signal here), so nothing on disk can leak it and
//! it dies with the page. The refresh token is kept in `sessionStorage` so that reloading the
//! page does not log you out. The trade-off: script running in this page (an XSS bug) could read
//! it, as it could read anything the page holds; `sessionStorage` at least ends with the tab,
//! is never sent automatically like a cookie, and a stolen refresh token is revoked by logging
//! out (the server blacklists it) or by rotation (each refresh blacklists the previous one).
//! An HttpOnly cookie would hide it from scripts but brings CSRF into play; the book discusses
//! both.
//!
//! The access token is refreshed shortly before it expires and once after a 401; a failed
//! refresh ends the session with a message.

use std::future::Future;
use std::time::Duration;

use claims::TokenPair;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::jwt;

/// The `sessionStorage` key of the refresh token.
pub const REFRESH_KEY: &str = "jwt-tutorial.refresh";

/// The message shown on the login page when refreshing failed.
pub const SESSION_ENDED: &str = "Your session ended. Please log in again.";

/// Shared, copyable handle to the session; provided as context by the app.
#[derive(Clone, Copy)]
pub struct Session {
    access: RwSignal<Option<String>>,
    refresh: RwSignal<Option<String>>,
    username: RwSignal<Option<String>>,
    /// A message for the next page to show, e.g. that the session ended.
    pub notice: RwSignal<Option<String>>,
    /// True while a reload restores the session from the stored refresh token.
    pub restoring: RwSignal<bool>,
    timer: StoredValue<Option<TimeoutHandle>>,
}

impl Session {
    /// A session restored from `sessionStorage` when a refresh token is stored there.
    pub fn start() -> Self {
        let stored = storage().and_then(|s| s.get_item(REFRESH_KEY).ok().flatten());
        let session = Self {
            access: RwSignal::new(None),
            refresh: RwSignal::new(stored.clone()),
            username: RwSignal::new(None),
            notice: RwSignal::new(None),
            restoring: RwSignal::new(stored.is_some()),
            timer: StoredValue::new(None),
        };
        if stored.is_some() {
            spawn_local(async move {
                if session.refresh_now().await.is_ok() {
                    session.load_username().await;
                }
                session.restoring.set(false);
            });
        }
        session
    }

    /// The session from context.
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// Whether someone is logged in.
    pub fn is_logged_in(&self) -> bool {
        self.refresh.get().is_some()
    }

    /// Whether someone is logged in, without subscribing to changes.
    pub fn is_logged_in_untracked(&self) -> bool {
        self.refresh.get_untracked().is_some()
    }

    /// Whether the session just ended because refreshing failed.
    pub fn has_ended(&self) -> bool {
        self.notice.get().as_deref() == Some(SESSION_ENDED) && !self.is_logged_in()
    }

    /// The logged-in user's name, once known.
    pub fn username(&self) -> Option<String> {
        self.username.get()
    }

    /// The current access token.
    pub fn access(&self) -> Option<String> {
        self.access.get()
    }

    /// The current refresh token.
    pub fn refresh_token(&self) -> Option<String> {
        self.refresh.get()
    }

    /// Begins a session with a freshly obtained pair.
    pub async fn begin(self, pair: TokenPair) {
        self.notice.set(None);
        self.store(pair.access, Some(pair.refresh));
        self.load_username().await;
    }

    /// Calls the API with the access token; after a 401, refreshes once and tries again.
    pub async fn authorized<T, F, Fut>(self, call: F) -> Result<T, ApiError>
    where
        F: Fn(String) -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let access = match self.access.get_untracked() {
            Some(access) => access,
            None => self.refresh_now().await?,
        };
        match call(access).await {
            Err(error) if error.status() == Some(401) => call(self.refresh_now().await?).await,
            other => other,
        }
    }

    /// Trades the refresh token for a new access token (and a rotated refresh token).
    pub async fn refresh_now(self) -> Result<String, ApiError> {
        let Some(used) = self.refresh.get_untracked() else {
            return Err(ended());
        };
        let outcome = api::refresh(&used).await;
        // Another refresh (the timer, or a retry after a 401) may have rotated the token while
        // this one was in flight; its result is as good as ours.
        if self.refresh.get_untracked().as_deref() != Some(used.as_str())
            && let Some(access) = self.access.get_untracked()
        {
            return Ok(access);
        }
        match outcome {
            Ok(response) => {
                self.store(response.access.clone(), response.refresh);
                Ok(response.access)
            }
            Err(error) if error.status() == Some(401) => {
                self.clear();
                self.notice.set(Some(SESSION_ENDED.to_owned()));
                Err(error)
            }
            Err(error) => Err(error),
        }
    }

    /// Logs out: the server blacklists the refresh token, then the tokens are forgotten.
    pub async fn log_out(self) {
        if let Some(refresh) = self.refresh.get_untracked() {
            // Even if the server cannot be reached, the tokens are dropped here.
            let _ = api::blacklist(&refresh).await;
        }
        self.clear();
    }

    async fn load_username(self) {
        if let Ok(profile) = self.authorized(api::me).await {
            self.username.set(Some(profile.username));
        }
    }

    fn store(self, access: String, refresh: Option<String>) {
        self.schedule_refresh(&access);
        self.access.set(Some(access));
        if let Some(refresh) = refresh {
            if let Some(storage) = storage() {
                let _ = storage.set_item(REFRESH_KEY, &refresh);
            }
            self.refresh.set(Some(refresh));
        }
    }

    fn clear(self) {
        self.cancel_timer();
        if let Some(storage) = storage() {
            let _ = storage.remove_item(REFRESH_KEY);
        }
        self.access.set(None);
        self.refresh.set(None);
        self.username.set(None);
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
        let handle = set_timeout_with_handle(
            move || {
                spawn_local(async move {
                    let _ = self.refresh_now().await;
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
}

fn ended() -> ApiError {
    ApiError::Refused {
        status: 401,
        body: claims::ErrorBody {
            detail: Some(SESSION_ENDED.to_owned()),
            ..claims::ErrorBody::default()
        },
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}
