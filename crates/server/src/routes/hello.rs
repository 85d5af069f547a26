//! `GET /hello/`: the tutorial's protected endpoint.

use actix_web::web;
use claims::HelloResponse;

use crate::http::extractor::AuthenticatedUser;

// ANCHOR: hello
/// 200 `{"message": "Hello, World!"}` for a valid access token; 401 otherwise.
#[utoipa::path(
    get,
    path = "/hello/",
    summary = "The tutorial's protected view",
    responses(
        (status = 200, description = "The access token is valid.", body = HelloResponse),
        (status = 503, response = crate::routes::openapi::Unavailable),
    ),
)]
pub async fn hello(_user: AuthenticatedUser) -> web::Json<HelloResponse> {
    web::Json(HelloResponse {
        message: "Hello, World!".to_owned(),
    })
}
// ANCHOR_END: hello

/// The documentation of the same view at `GET /api/hello/`, under the API's prefix.
pub struct ApiHello;

impl utoipa::Path for ApiHello {
    fn methods() -> Vec<utoipa::openapi::path::HttpMethod> {
        __path_hello::methods()
    }

    fn path() -> String {
        "/api/hello/".to_owned()
    }

    fn operation() -> utoipa::openapi::path::Operation {
        let mut operation = __path_hello::operation();
        operation.operation_id = Some("api_hello".to_owned());
        operation
    }
}
