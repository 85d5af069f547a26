//! The built frontend (`FRONTEND_DIR`, default `dist/`), served at `/` as a single-page app:
//! a path that names no file and looks like a page (no extension) gets `index.html`, so the
//! browser's router can take over. API paths never fall back; a missing asset is a 404. A
//! content-hashed asset goes out as its `.gz` twin (which `cargo xtask frontend` writes) to a
//! client that accepts gzip, as nginx's `gzip_static` sends it.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::StatusCode;
use actix_web::http::header::ContentEncoding;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, ResponseError, guard, web};
use apikit::HttpError;

use crate::http::API_PREFIXES;

/// Cache-Control for assets whose name carries a content hash: they never change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control for everything else the frontend serves, `index.html` above all: always
/// revalidate, so a new deployment is picked up at once.
pub const REVALIDATE: &str = "no-cache";

/// Serves the frontend in `dir` at `/` (after the API routes), or a page saying how to build
/// it when there is none.
pub fn configure(cfg: &mut web::ServiceConfig, dir: &Path) {
    match service(dir) {
        Some(files) => {
            cfg.service(
                web::scope("")
                    .wrap(from_fn(set_cache_control))
                    .wrap(from_fn(undecodable_path_is_not_found))
                    .app_data(web::Data::new(AssetDir(dir.to_path_buf())))
                    .route(HASHED_ASSET, web::get().to(hashed_asset))
                    .route(HASHED_ASSET, web::head().to(hashed_asset))
                    .service(files),
            );
        }
        None => {
            let dir = dir.to_path_buf();
            cfg.route("/", web::get().to(move || not_built(dir.clone())));
        }
    }
}

/// actix-files answers a path it cannot take as a file name (an encoded `/`, say) with a
/// plain-text 400; such a path names no file, so it is DRF's 404, as any missing file.
async fn undecodable_path_is_not_found<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    if response.status() == StatusCode::BAD_REQUEST && response.response().error().is_some() {
        let (req, _) = response.into_parts();
        return Ok(ServiceResponse::new(req, not_found()).map_into_right_body());
    }
    Ok(response.map_into_left_body())
}

async fn set_cache_control(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let policy = cache_control(req.path());
    let mut response = next.call(req).await?;
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        response.headers_mut().insert(header::CACHE_CONTROL, policy);
    }
    Ok(response)
}

/// The service for `dir`, or `None` when it holds no `index.html` (the frontend is not built).
pub fn service(dir: &Path) -> Option<Files> {
    let index = dir.join("index.html");
    if !index.is_file() {
        return None;
    }
    Some(
        Files::new("/", dir)
            .index_file("index.html")
            .method_guard(guard::Any(guard::Get()).or(guard::Head()))
            .default_handler(fn_service(move |req: ServiceRequest| {
                let index = index.clone();
                async move {
                    let (req, _) = req.into_parts();
                    let response = if is_page_path(req.path()) {
                        NamedFile::open_async(&index)
                            .await
                            .map(|file| file.into_response(&req))
                            .unwrap_or_else(|_| not_found())
                    } else {
                        not_found()
                    };
                    Ok(ServiceResponse::new(req, response))
                }
            })),
    )
}

/// The route of a content-hashed asset: `/name-0123456789abcdef.ext`.
const HASHED_ASSET: &str = "/{name:[A-Za-z0-9_.]+-[0-9a-f]{16}\\.(?:js|wasm|css)}";

/// Where the built frontend is.
struct AssetDir(PathBuf);

/// A content-hashed asset: its `.gz` twin to a client that accepts gzip, else the file.
async fn hashed_asset(req: HttpRequest, dir: web::Data<AssetDir>) -> HttpResponse {
    let name = req.match_info().query("name");
    // The pattern admits no slash, but the name is checked again as a file name, decoded.
    if !has_content_hash(name) || name.contains(['/', '\\']) || name.starts_with('.') {
        return not_found();
    }
    let plain = dir.0.join(name);
    let gzipped = dir.0.join(format!("{name}.gz"));
    let file = if accepts_gzip(&req) && gzipped.is_file() {
        NamedFile::open_async(&gzipped).await.map(|file| {
            let extension = name.rsplit('.').next().unwrap_or_default();
            file.set_content_type(actix_files::file_extension_to_mime(extension))
                .set_content_encoding(ContentEncoding::Gzip)
        })
    } else {
        NamedFile::open_async(&plain).await
    };
    let Ok(file) = file else {
        return not_found();
    };
    let mut response = file.into_response(&req);
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

/// Whether `Accept-Encoding` admits gzip (by name or `*`, with a quality above zero).
fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|parameter| {
                parameter
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn not_found() -> HttpResponse {
    HttpError::NotFound.error_response()
}

/// What `/` says when the frontend has not been built.
pub async fn not_built(dir: PathBuf) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, REVALIDATE))
        .body(format!(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>JWT tutorial API</title>\
             <h1>The API is running; the frontend is not built</h1>\
             <p>No <code>index.html</code> in <code>{}</code>. Build and serve both with \
             <code>cargo xtask serve</code>, or point <code>FRONTEND_DIR</code> at a built \
             frontend.</p><p>The API is at <code>/api/token/</code>, <code>/hello/</code> and \
             friends; see the README.</p></html>",
            dir.display()
        ))
}

/// Whether a path not found on disk should get `index.html`: not the API, no file extension.
pub fn is_page_path(path: &str) -> bool {
    let api = API_PREFIXES.iter().any(|prefix| path.starts_with(prefix));
    let last = path.rsplit('/').next().unwrap_or_default();
    !api && !last.contains('.')
}

/// The Cache-Control a successful frontend response gets, from its path.
pub fn cache_control(path: &str) -> HeaderValue {
    let name = path.rsplit('/').next().unwrap_or_default();
    if has_content_hash(name) {
        HeaderValue::from_static(IMMUTABLE)
    } else {
        HeaderValue::from_static(REVALIDATE)
    }
}

/// `name-0123456789abcdef.ext` (16 hex digits before the first dot), as `cargo xtask` names
/// the files it builds.
fn has_content_hash(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_fall_back_to_the_app_but_api_paths_and_assets_do_not() {
        assert!(is_page_path("/"));
        assert!(is_page_path("/login"));
        assert!(is_page_path("/inspector/"));
        // The Hello page; the API endpoint is /hello/ with its slash.
        assert!(is_page_path("/hello"));
        assert!(!is_page_path("/api/nothing/"));
        assert!(!is_page_path("/api"));
        assert!(!is_page_path("/hello/"));
        assert!(!is_page_path("/healthz"));
        assert!(!is_page_path("/frontend-0123456789abcdef.js"));
        assert!(!is_page_path("/favicon.ico"));
    }

    #[test]
    fn hashed_assets_are_immutable_and_the_rest_revalidates() {
        assert_eq!(cache_control("/frontend-0123456789abcdef.wasm"), IMMUTABLE);
        assert_eq!(cache_control("/style-fedcba9876543210.css"), IMMUTABLE);
        assert_eq!(cache_control("/index.html"), REVALIDATE);
        assert_eq!(cache_control("/"), REVALIDATE);
        assert_eq!(cache_control("/logo-small.svg"), REVALIDATE);
    }
}
