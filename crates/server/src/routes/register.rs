//! `POST /api/register/`: create an account.

use actix_web::{HttpResponse, web};
use apikit::RequestData;

use crate::http::error::ApiError;
use crate::routes::openapi::Unavailable;
use crate::services::{AppState, accounts};

/// `{"username", "password"}` → 201 `{"id", "username"}`. The password keeps its surrounding
/// whitespace, so that a password with any is refused rather than silently changed.
#[utoipa::path(
    post,
    path = "/api/register/",
    summary = "Create an account",
    request_body = claims::Credentials,
    responses(
        (status = 201, description = "The account, created; log in with `POST /api/token/`.", body = claims::RegisteredUser),
        (status = 503, response = Unavailable),
    ),
)]
pub async fn register(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let credentials = data.read_keeping_whitespace(&["password"])?;
    let user = accounts::register(&state, credentials, state.clock.now()).await?;
    Ok(HttpResponse::Created().json(user))
}
