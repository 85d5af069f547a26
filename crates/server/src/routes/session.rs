//! `/api/session/...`: log in, refresh, log out and change the password, for browsers. The
//! same flows as `/api/token/...`, but the refresh token travels only in an HttpOnly cookie, so
//! the page's JavaScript never sees it; the JSON body carries the access token, and when the
//! session's refresh token and the session end.

use actix_web::cookie::Cookie;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use apikit::bearer::access_token;
use apikit::log::client_of;
use apikit::{AuthenticatedBody, HttpError, RequestData};
use claims::{RefreshRequest, SessionResponse};
use serde::Serialize;
use serde_json::json;

use crate::http::HttpSettings;
use crate::http::error::ApiError;
use crate::http::extractor::AuthenticatedUser;
use crate::http::session::{
    SameOrigin, check_same_origin, cleared_cookie, refresh_cookie, refresh_from_cookie,
};
use crate::routes::openapi::{SessionRefused, Throttled, Unavailable, WrongCredentials};
use crate::routes::token::no_store;
use crate::services::{AppState, ServiceError, accounts, tokens};

/// `POST /api/session/` `{"username", "password"}` → 200 `{"access", "refresh_expires",
/// "session_expires"}` and the refresh cookie.
#[utoipa::path(
    post,
    path = "/api/session/",
    operation_id = "session_log_in",
    summary = "Log a browser in: the access token in the body, the refresh token in an HttpOnly cookie",
    request_body = claims::Credentials,
    responses(
        (status = 200, description = "Logged in; the refresh token is in the `refresh` cookie (HttpOnly, SameSite=Strict, path `/api/session/`).", body = claims::SessionResponse,
            headers(("Set-Cookie" = String, description = "The `refresh` cookie."))),
        (status = 401, response = WrongCredentials),
        (status = 429, response = Throttled),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn log_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    check_same_origin(&req)?;
    let now = state.clock.now();
    let user = tokens::check_credentials(&state, data.read()?, client_of(&req), now).await?;
    let pair = tokens::start_session(&state, &user, now).await?;
    let body = session_response(&state, pair.access, &pair.refresh).await?;
    let lifetime = state.tokens.settings().refresh_token_lifetime;
    let cookie = refresh_cookie(&req, pair.refresh, lifetime);
    Ok(no_store_with_cookie(&body, cookie))
}

/// `POST /api/session/refresh/` (with the cookie) → 200 `{"access", "refresh_expires",
/// "session_expires"}` and the rotated cookie; a refused refresh says why in `reason`.
#[utoipa::path(
    post,
    path = "/api/session/refresh/",
    operation_id = "session_refresh",
    summary = "A new access token for the session cookie, which is rotated",
    responses(
        (status = 200, description = "A new access token; the cookie holds the rotated refresh token.", body = claims::SessionResponse),
        (status = 401, response = SessionRefused),
        (status = 503, response = Unavailable),
    ),
    security((), ("session_cookie" = [])),
)]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_same_origin(&req)?;
    let refresh = match refresh_from_cookie(&req) {
        Ok(Some(refresh)) => refresh,
        Ok(None) => return Err(ApiError::Http(HttpError::NotAuthenticated)),
        Err(two) => return Ok(clearing_cookie(&req, two)),
    };
    let now = state.clock.now();
    let request = RefreshRequest {
        refresh: refresh.clone(),
    };
    let refreshed = match tokens::refresh(&state, request, now).await {
        Ok(refreshed) => refreshed,
        Err(refused) => return Err(with_session_end(&state, &refresh, refused, now).await),
    };
    // Without rotation the cookie keeps the token it has.
    let in_cookie = refreshed.refresh.as_deref().unwrap_or(&refresh);
    let body = session_response(&state, refreshed.access, in_cookie).await?;
    Ok(match refreshed.refresh {
        Some(rotated) => {
            let lifetime = state.tokens.settings().refresh_token_lifetime;
            no_store_with_cookie(&body, refresh_cookie(&req, rotated, lifetime))
        }
        None => no_store(&body),
    })
}

/// The session endpoints' 200: `access`, and when the session of the cookie's `refresh` ends.
async fn session_response(
    state: &AppState,
    access: String,
    refresh: &str,
) -> Result<SessionResponse, ApiError> {
    let (refresh_expires, session_expires) = tokens::session_times(state, refresh).await?;
    Ok(SessionResponse {
        access,
        refresh_expires,
        session_expires,
    })
}

/// `POST /api/session/logout/` → 200 `{}`: the session's family is revoked, the access token
/// in the `Authorization` header (if any) refused from now on, and the cookie cleared. Logging
/// out without a session is not an error: the cookie is cleared all the same.
#[utoipa::path(
    post,
    path = "/api/session/logout/",
    operation_id = "session_log_out",
    summary = "End the browser session and clear its cookie",
    responses(
        (status = 200, description = "The session's family is revoked (if there was one) and the cookie cleared.", body = inline(crate::routes::openapi::Empty)),
        (status = 401, response = SessionRefused),
        (status = 503, response = Unavailable),
    ),
    security((), ("session_cookie" = [])),
)]
pub async fn log_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    http: web::Data<HttpSettings>,
) -> Result<HttpResponse, ApiError> {
    check_same_origin(&req)?;
    let now = state.clock.now();
    let access = access_token(&req, &http.auth_header_types).ok();
    let refresh = match refresh_from_cookie(&req) {
        Ok(refresh) => refresh,
        Err(two) => return Ok(clearing_cookie(&req, two)),
    };
    if let Some(refresh) = refresh {
        let request = RefreshRequest { refresh };
        match tokens::blacklist(&state, request, access.as_deref(), now).await {
            // A refresh token already revoked or expired has no session left to end.
            Ok(()) | Err(ServiceError::TokenRefused(_)) => {}
            Err(other) => return Err(other.into()),
        }
    } else if let Some(access) = access {
        tokens::deny_access_token(&state, &access, now).await?;
    }
    Ok(no_store_with_cookie(&json!({}), cleared_cookie(&req)))
}

/// A refused refresh, with why the session ended when the refusal is a 401 and the reason can
/// be told.
async fn with_session_end(
    state: &AppState,
    refresh: &str,
    refused: ServiceError,
    now: i64,
) -> ApiError {
    let refused = ApiError::from(refused);
    if refused.status_code() != StatusCode::UNAUTHORIZED {
        return refused;
    }
    match tokens::session_end(state, refresh, now).await {
        Ok(Some(reason)) => ApiError::SessionEnded {
            refused: Box::new(refused),
            reason,
        },
        // The refusal stands without a reason; a database that cannot say why is no worse.
        Ok(None) | Err(_) => refused,
    }
}

/// `POST /api/session/password/` `{"old_password", "new_password"}` with the access token →
/// 200 `{"access", "refresh_expires", "session_expires"}` and a new cookie: the password change
/// of `/api/password/change/` for the browser, whose page never holds a refresh token. Every
/// other session ends, this browser's old cookie included; the new cookie carries on.
#[utoipa::path(
    post,
    path = "/api/session/password/",
    operation_id = "session_change_password",
    summary = "Change the password from a browser: every other session ends",
    request_body = claims::PasswordChange,
    responses(
        (status = 200, description = "Changed; this browser carries on in a new session (a new cookie).", body = claims::SessionResponse),
        (status = 429, response = Throttled),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn change_password(
    _: SameOrigin,
    req: HttpRequest,
    state: web::Data<AppState>,
    AuthenticatedBody(AuthenticatedUser(user), data): AuthenticatedBody<AuthenticatedUser>,
) -> Result<HttpResponse, ApiError> {
    let request = data.read_keeping_whitespace(&["old_password", "new_password"])?;
    let now = state.clock.now();
    let pair = accounts::change_password(&state, &user, request, now).await?;
    let body = session_response(&state, pair.access, &pair.refresh).await?;
    let lifetime = state.tokens.settings().refresh_token_lifetime;
    Ok(no_store_with_cookie(
        &body,
        refresh_cookie(&req, pair.refresh, lifetime),
    ))
}

/// `error`'s answer, clearing this host's session cookie.
fn clearing_cookie(req: &HttpRequest, error: ApiError) -> HttpResponse {
    let mut response = error.error_response();
    let _ = response.add_cookie(&cleared_cookie(req));
    response
}

/// A 200 that no cache may keep, setting `cookie`.
fn no_store_with_cookie(body: &impl Serialize, cookie: Cookie<'static>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, CacheControl(vec![CacheDirective::NoStore])))
        .cookie(cookie)
        .json(body)
}
