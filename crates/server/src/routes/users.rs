//! `GET /api/me/`: who the access token belongs to.

use actix_web::web;
use chrono::NaiveDateTime;
use claims::UserProfile;

use crate::http::extractor::AuthenticatedUser;

/// 200 with the user, never the password hash.
#[utoipa::path(
    get,
    path = "/api/me/",
    summary = "The user the access token belongs to",
    responses(
        (status = 200, description = "The user, without the password hash.", body = UserProfile),
        (status = 503, response = crate::routes::openapi::Unavailable),
    ),
)]
pub async fn me(AuthenticatedUser(user): AuthenticatedUser) -> web::Json<UserProfile> {
    web::Json(UserProfile {
        id: user.id,
        username: user.username.clone(),
        is_active: user.is_active,
        is_staff: user.is_staff,
        date_joined: iso8601(user.date_joined),
        last_login: user.last_login.map(iso8601),
    })
}

fn iso8601(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
