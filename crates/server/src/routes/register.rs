//! `POST /api/register/`: create an account.

use actix_web::{HttpResponse, web};

use crate::auth::flows;
use crate::error::ApiError;
use crate::input::{Fields, RequestData};
use crate::state::AppState;

/// `{"username", "password"}` → 201 `{"id", "username"}`.
pub async fn register(
    state: web::Data<AppState>,
    data: RequestData,
) -> Result<HttpResponse, ApiError> {
    let mut fields = Fields::default();
    let username = fields.take("username", data.char_field("username"));
    let password = fields.take("password", data.raw_char_field("password"));
    let (Some(username), Some(password)) = (username, password) else {
        return Err(fields.into_error());
    };
    let user = flows::register(&state, username, password).await?;
    Ok(HttpResponse::Created().json(user))
}
