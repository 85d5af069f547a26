//! `/api/token/...`: simplejwt's `TokenObtainPairView`, `TokenRefreshView`, `TokenVerifyView`
//! and `TokenBlacklistView`. Each reads its body into the `claims` request type and hands it to
//! the service.

use actix_web::http::header::{CACHE_CONTROL, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use apikit::RequestData;
use apikit::bearer::access_token;
use apikit::log::client_of;
use serde::Serialize;
use serde_json::json;

use crate::http::HttpSettings;
use crate::http::error::ApiError;
use crate::routes::openapi::{Empty, Throttled, TokenRefused, Unavailable, WrongCredentials};
use crate::services::{AppState, tokens};

/// `POST /api/token/` `{"username", "password"}` → 200 `{"refresh", "access"}`.
#[utoipa::path(
    post,
    path = "/api/token/",
    summary = "Log in: a token pair for a username and password",
    request_body = claims::Credentials,
    responses(
        (status = 200, description = "A new pair, the start of a new refresh-token family.", body = claims::TokenPair),
        (status = 401, response = WrongCredentials),
        (status = 429, response = Throttled),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn obtain_pair(
    req: HttpRequest,
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let pair =
        tokens::obtain_pair(&state, data.read()?, client_of(&req), state.clock.now()).await?;
    Ok(no_store(&pair))
}

/// `POST /api/token/refresh/` `{"refresh"}` → 200 `{"access"}` (+ `"refresh"` when rotating).
#[utoipa::path(
    post,
    path = "/api/token/refresh/",
    summary = "A new access token (and, rotating, a new refresh token) for a refresh token",
    request_body = claims::RefreshRequest,
    responses(
        (status = 200, description = "The new access token; with rotation, the refresh token that replaces the one sent.", body = claims::RefreshResponse),
        (status = 401, response = TokenRefused),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn refresh(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let refreshed = tokens::refresh(&state, data.read()?, state.clock.now()).await?;
    Ok(no_store(&refreshed))
}

/// `POST /api/token/verify/` `{"token"}` → 200 `{}`.
#[utoipa::path(
    post,
    path = "/api/token/verify/",
    summary = "Whether a token (access or refresh) is valid",
    request_body = claims::VerifyRequest,
    responses(
        (status = 200, description = "The token is valid.", body = inline(Empty)),
        (status = 401, response = TokenRefused),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn verify(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    tokens::verify(&state, data.read()?, state.clock.now()).await?;
    Ok(no_store(&json!({})))
}

/// `POST /api/token/blacklist/` `{"refresh"}` → 200 `{}`. A valid access token in the
/// `Authorization` header is refused from then on, too.
#[utoipa::path(
    post,
    path = "/api/token/blacklist/",
    summary = "Log out: revoke a refresh token and its family",
    request_body = claims::RefreshRequest,
    responses(
        (status = 200, description = "Revoked, with every token of its family; an access token sent in `Authorization` is refused from now on, too.", body = inline(Empty)),
        (status = 401, response = TokenRefused),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn blacklist(
    req: HttpRequest,
    state: web::Data<AppState>,
    http: web::Data<HttpSettings>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let access = access_token(&req, &http.auth_header_types).ok();
    tokens::blacklist(&state, data.read()?, access.as_deref(), state.clock.now()).await?;
    Ok(no_store(&json!({})))
}

/// A 200 that no cache may keep: it carries tokens.
pub fn no_store(body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, CacheControl(vec![CacheDirective::NoStore])))
        .json(body)
}
