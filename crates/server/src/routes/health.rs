//! `GET /healthz`: for load balancers and container health checks; `GET /ping/`: the cheapest
//! answer the API gives, the baseline the benchmarks compare `/hello/` with.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::http::error::ApiError;
use crate::services::{AppState, ServiceError};

/// 200 `{"status": "ok"}` when the database answers; 503 when it does not.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.db.ping().await.map_err(ServiceError::from)?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

/// 200 `{"message": "pong"}`, with no authentication and no database.
pub async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(json!({"message": "pong"}))
}
