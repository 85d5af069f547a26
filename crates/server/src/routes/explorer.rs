//! `GET /api/docs/`: Swagger UI, to read the OpenAPI document (`/api/schema/`) and try each
//! endpoint from the browser. Its files are compiled into the server, debug builds included
//! (`utoipa-swagger-ui`'s `vendored` and `debug-embed` features): nothing comes from a CDN or
//! from the disk. Only the files its page loads are served, each at a path of its own. Swagger
//! UI sets inline styles, so its files carry a Content-Security-Policy of their own that allows
//! them; every other answer keeps the site's strict one.

use std::sync::Arc;

use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};
use apikit::HttpError;
use utoipa_swagger_ui::Config;

use super::{Access, Route, View, no_body};
use crate::http::error::ApiError;

/// Where the explorer is served.
const PATH: &str = crate::http::EXPLORER;

/// The files its page loads, served under [`PATH`] (`index.html` at [`PATH`] itself).
const FILES: [&str; 8] = [
    "index.html",
    "swagger-ui.css",
    "index.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "swagger-initializer.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
];

/// The explorer's Content-Security-Policy: the site's, but for inline styles (Swagger UI
/// writes `style` attributes) and no WebAssembly.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const EXPLORER: View = View {
    name: "Explorer",
    description: "Swagger UI, reading the OpenAPI document of this API.",
    tag: "operations",
    body: no_body,
    read_only: &[],
};

/// Registers the explorer's page and files.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::Data::new(Explorer(Arc::new(
        Config::new(["/api/schema/"])
            // Swagger UI's default sends the document to validator.swagger.io.
            .validator_url("none")
            .try_it_out_enabled(true)
            .display_request_duration(true),
    ))));
    for file in FILES {
        let path = match file {
            "index.html" => PATH.to_owned(),
            _ => format!("{PATH}{file}"),
        };
        let metadata = EXPLORER.metadata(&Method::GET);
        cfg.service(
            Route::new(&path, Method::GET, metadata, Access::Anyone)
                .to(move |explorer: web::Data<Explorer>| async move { serve(file, &explorer) }),
        );
    }
}

/// Swagger UI's settings: where the document is, and what to show.
struct Explorer(Arc<Config<'static>>);

/// One of Swagger UI's files, with the explorer's policy.
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
