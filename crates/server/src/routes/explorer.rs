//! `GET /api/docs/`: Swagger UI, to read the OpenAPI document (`/api/schema/`) and try each
//! endpoint from the browser. Its files are compiled into the server (`utoipa-swagger-ui`'s
//! `vendored` feature): nothing comes from a CDN. Swagger UI sets inline styles, so its pages
//! carry a Content-Security-Policy of their own that allows them; the rest of the site keeps
//! the strict one.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use apikit::HttpError;
use utoipa_swagger_ui::Config;

use crate::http::error::ApiError;

/// Where the explorer is served.
pub const PATH: &str = "/api/docs/";

/// The explorer's Content-Security-Policy: the site's, but for inline styles (Swagger UI
/// writes `style` attributes) and no WebAssembly.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// Registers the explorer's page and files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let config = web::Data::new(Explorer(Arc::new(
        Config::new(["/api/schema/"])
            // Swagger UI's default sends the document to validator.swagger.io.
            .validator_url("none")
            .try_it_out_enabled(true)
            .display_request_duration(true),
    )));
    cfg.service(
        web::resource(PATH)
            .app_data(config.clone())
            .route(web::get().to(index)),
    )
    .service(
        web::resource(format!("{PATH}{{file}}"))
            .app_data(config)
            .route(web::get().to(file)),
    );
}

/// Swagger UI's settings: where the document is, and what to show.
struct Explorer(Arc<Config<'static>>);

async fn index(explorer: web::Data<Explorer>) -> Result<HttpResponse, ApiError> {
    serve("index.html", &explorer)
}

async fn file(
    name: web::Path<String>,
    explorer: web::Data<Explorer>,
) -> Result<HttpResponse, ApiError> {
    serve(&name, &explorer)
}

/// One of Swagger UI's files, with the explorer's policy; a name it does not have is DRF's 404.
fn serve(name: &str, explorer: &Explorer) -> Result<HttpResponse, ApiError> {
    let file = utoipa_swagger_ui::serve(name, explorer.0.clone())
        .map_err(|error| {
            tracing::error!(%error, file = name, "cannot render a Swagger UI file");
            ApiError::Http(HttpError::Internal)
        })?
        .ok_or(ApiError::Http(HttpError::NotFound))?;
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(file.bytes.into_owned()))
}
