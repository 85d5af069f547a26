//! `/api/token/...`: simplejwt's `TokenObtainPairView`, `TokenRefreshView`, `TokenVerifyView`
//! and `TokenBlacklistView`. Each reads its body into the `claims` request type and hands it to
//! the service.

use actix_web::http::header::{CACHE_CONTROL, CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use crate::auth::now;
use crate::http::error::ApiError;
use crate::http::input::RequestData;
use crate::services::{AppState, tokens};

/// `POST /api/token/` `{"username", "password"}` → 200 `{"refresh", "access"}`.
pub async fn obtain_pair(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let pair = tokens::obtain_pair(&state, data.read()?, now()).await?;
    Ok(no_store(&pair))
}

/// `POST /api/token/refresh/` `{"refresh"}` → 200 `{"access"}` (+ `"refresh"` when rotating).
pub async fn refresh(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let refreshed = tokens::refresh(&state, data.read()?, now()).await?;
    Ok(no_store(&refreshed))
}

/// `POST /api/token/verify/` `{"token"}` → 200 `{}`.
pub async fn verify(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    tokens::verify(&state, data.read()?, now()).await?;
    Ok(no_store(&json!({})))
}

/// `POST /api/token/blacklist/` `{"refresh"}` → 200 `{}`.
pub async fn blacklist(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    tokens::blacklist(&state, data.read()?, now()).await?;
    Ok(no_store(&json!({})))
}

/// A 200 that no cache may keep: it carries tokens.
fn no_store(body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, CacheControl(vec![CacheDirective::NoStore])))
        .json(body)
}
