//! `GET /healthz`: for load balancers and container health checks; `GET /ping/`: the cheapest
//! answer the API gives, the baseline the benchmarks compare `/hello/` with.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::error::ApiError;
use crate::services::{AppState, ServiceError};

/// 200 `{"status": "ok"}` when the database answers; 503 when it does not.
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Whether the server and its database answer",
    responses(
        (status = 200, description = "The database answers.", body = inline(crate::routes::openapi::Status)),
        (status = 503, response = crate::routes::openapi::Unavailable),
    ),
)]
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(ServiceError::from)?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

/// 200 `{"message": "pong"}`, with no authentication and no database.
#[utoipa::path(
    get,
    path = "/ping/",
    summary = "The cheapest answer: no token, no database",
    responses((status = 200, description = "Always.", body = inline(crate::routes::openapi::Pong))),
)]
pub async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(json!({"message": "pong"}))
}
