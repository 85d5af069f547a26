//! `/api/logout/all/` and `/api/password/change/`: what an authenticated user does to every
//! session at once.

use actix_web::{HttpResponse, web};
use apikit::AuthenticatedBody;
use serde_json::json;

use crate::db::families::Reason;
use crate::http::error::ApiError;
use crate::http::extractor::AuthenticatedUser;
use crate::routes::token::no_store;
use crate::services::{AppState, accounts, tokens};

/// `POST /api/logout/all/` → 200 `{}`: every session of the user, on every device, ends.
#[utoipa::path(
    post,
    path = "/api/logout/all/",
    summary = "Log out everywhere: every session of the user ends",
    responses(
        (status = 200, description = "Every refresh token and access token of the user is refused from now on.", body = inline(crate::routes::openapi::Empty)),
        (status = 503, response = crate::routes::openapi::Unavailable),
    ),
)]
pub async fn log_out_everywhere(
    state: web::Data<AppState>,
    AuthenticatedUser(user): AuthenticatedUser,
) -> Result<HttpResponse, ApiError> {
    tokens::revoke_all_sessions(&state, user.id, Reason::LogoutAll, state.clock.now()).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /api/password/change/` `{"old_password", "new_password"}` → 200 `{"refresh",
/// "access"}`: a fresh pair for this session; every other one ends. Both passwords keep their
/// surrounding whitespace, as Django's password fields do.
#[utoipa::path(
    post,
    path = "/api/password/change/",
    summary = "Change the password: every other session ends",
    request_body = claims::PasswordChange,
    responses(
        (status = 200, description = "Changed; a fresh pair for this client.", body = claims::TokenPair),
        (status = 429, response = crate::routes::openapi::Throttled),
        (status = 503, response = crate::routes::openapi::Unavailable),
    ),
)]
pub async fn change_password(
    state: web::Data<AppState>,
    AuthenticatedBody(AuthenticatedUser(user), data): AuthenticatedBody<AuthenticatedUser>,
) -> Result<HttpResponse, ApiError> {
    let request = data.read_keeping_whitespace(&["old_password", "new_password"])?;
    let pair = accounts::change_password(&state, &user, request, state.clock.now()).await?;
    Ok(no_store(&pair))
}
