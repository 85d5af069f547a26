//! `GET /hello/`: the tutorial's protected endpoint.

use actix_web::web;
use claims::HelloResponse;

use crate::http::extractor::AuthenticatedUser;

// ANCHOR: hello
/// 200 `{"message": "Hello, World!"}` for a valid access token; 401 otherwise.
pub async fn hello(_user: AuthenticatedUser) -> web::Json<HelloResponse> {
    web::Json(HelloResponse {
        message: "Hello, World!".to_owned(),
    })
}
// ANCHOR_END: hello
