//! `/api/token/...`: simplejwt's `TokenObtainPairView`, `TokenRefreshView`, `TokenVerifyView`
//! and `TokenBlacklistView`.

use actix_web::http::header::{CACHE_CONTROL, CacheControl, CacheDirective};
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use crate::auth::flows;
use crate::error::ApiError;
use crate::input::{Fields, RequestData};
use crate::state::AppState;

/// `POST /api/token/` `{"username", "password"}` → 200 `{"refresh", "access"}`.
pub async fn obtain_pair(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let username = fields.take("username", data.char_field("username"));
    let password = fields.take("password", data.char_field("password"));
    let (Some(username), Some(password)) = (username, password) else {
        return Err(fields.into_error());
    };
    let pair = flows::obtain_pair(&state, username, password).await?;
    Ok(no_store(&pair))
}

/// `POST /api/token/refresh/` `{"refresh"}` → 200 `{"access"}` (+ `"refresh"` when rotating).
pub async fn refresh(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let token = single_field(&data, "refresh")?;
    let response = flows::refresh(&state, token).await?;
    Ok(no_store(&response))
}

/// `POST /api/token/verify/` `{"token"}` → 200 `{}`.
pub async fn verify(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let token = single_field(&data, "token")?;
    flows::verify(&state, token).await?;
    Ok(no_store(&json!({})))
}

/// `POST /api/token/blacklist/` `{"refresh"}` → 200 `{}`.
pub async fn blacklist(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let token = single_field(&data, "refresh")?;
    flows::blacklist(&state, token).await?;
    Ok(no_store(&json!({})))
}

fn single_field(data: &RequestData, name: &str) -> Result<String, ApiError> {
    data.char_field(name)
        .map_err(|message| ApiError::field(name, message))
}

/// A 200 that no cache may keep: it carries tokens.
fn no_store(body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, CacheControl(vec![CacheDirective::NoStore])))
        .json(body)
}
