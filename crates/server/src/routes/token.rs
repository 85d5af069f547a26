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
use crate::services::{AppState, tokens};

/// `POST /api/token/` `{"username", "password"}` → 200 `{"refresh", "access"}`.
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
pub async fn refresh(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let refreshed = tokens::refresh(&state, data.read()?, state.clock.now()).await?;
    Ok(no_store(&refreshed))
}

/// `POST /api/token/verify/` `{"token"}` → 200 `{}`.
pub async fn verify(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    tokens::verify(&state, data.read()?, state.clock.now()).await?;
    Ok(no_store(&json!({})))
}

/// `POST /api/token/blacklist/` `{"refresh"}` → 200 `{}`. A valid access token in the
/// `Authorization` header is refused from then on, too.
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
