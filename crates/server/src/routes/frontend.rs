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
                    .wrap(from_fn(refusals_in_drf_shape))
                    .wrap(from_fn(whole_file_when_if_range))
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

/// actix-files refuses in plain text: a path it cannot take as a file name (an encoded `/`,
/// say) with a 400, another method than GET or HEAD with a 405. They are DRF's answers here: a
/// 404 (such a path names no file; nor does an API path the API does not have) and a 405.
async fn refusals_in_drf_shape<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = req.method().clone();
    let api = API_PREFIXES
        .iter()
        .any(|prefix| req.path().starts_with(prefix));
    let response = next.call(req).await?;
    let answer = match response.status() {
        StatusCode::BAD_REQUEST if response.response().error().is_some() => not_found(),
        StatusCode::METHOD_NOT_ALLOWED if api => not_found(),
        StatusCode::METHOD_NOT_ALLOWED => HttpError::MethodNotAllowed {
            method,
            allowed: "GET, HEAD",
        }
        .error_response(),
        _ => return Ok(response.map_into_left_body()),
    };
    let (req, _) = response.into_parts();
    Ok(ServiceResponse::new(req, answer).map_into_right_body())
}

/// actix-files does not read `If-Range`, so a range of a file that changed since the client's
/// copy would be spliced into that copy. RFC 9110 (section 14.2) lets a server ignore `Range`:
/// a request with an `If-Range` gets the whole file. (nginx compares the validator instead.)
async fn whole_file_when_if_range(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.headers().contains_key(header::IF_RANGE) {
        req.headers_mut().remove(header::RANGE);
    }
    next.call(req).await
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
const HASHED_ASSET: &str = "/{name:[A-Za-z0-9_.-]+-[0-9a-f]{16}\\.(?:js|wasm|css)}";

/// Where the built frontend is.
struct AssetDir(PathBuf);

/// A content-hashed asset: its `.gz` twin to a client that accepts gzip, else the file. A
/// range request gets the file itself, as from nginx: actix-files would label a range of the
/// twin `identity`.
async fn hashed_asset(req: HttpRequest, dir: web::Data<AssetDir>) -> HttpResponse {
    let name = req.match_info().query("name");
    // The pattern admits no slash, but the name is checked again as a file name, decoded.
    if !has_content_hash(name) || name.contains(['/', '\\']) || name.starts_with('.') {
        return not_found();
    }
    let plain = dir.0.join(name);
    if !plain.is_file() {
        return not_found();
    }
    let gzipped = dir.0.join(format!("{name}.gz"));
    let whole = !req.headers().contains_key(header::RANGE);
    let file = if whole && accepts_gzip(&req) && gzipped.is_file() {
        NamedFile::open_async(&gzipped).await.map(|file| {
            let extension = name.rsplit('.').next().unwrap_or_default();
            file.set_content_type(actix_files::file_extension_to_mime(extension))
                .set_content_encoding(ContentEncoding::Gzip)
                // Named after the twin, it would be a download of `name.gz`.
                .disable_content_disposition()
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

/// Whether `Accept-Encoding` admits gzip (RFC 9110 §12.5.3): `gzip` with a quality above
/// zero, or, when gzip is not named, `*` with one. A quality that is not one is ignored with
/// its entry.
fn accepts_gzip(req: &HttpRequest) -> bool {
    let mut named = None;
    let mut any = None;
    for coding in req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
    {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let Some(quality) = quality(parts) else {
            continue;
        };
        if name.eq_ignore_ascii_case("gzip") {
            named = Some(named.unwrap_or(0.0_f32).max(quality));
        } else if name == "*" {
            any = Some(any.unwrap_or(0.0_f32).max(quality));
        }
    }
    named.or(any).is_some_and(|quality| quality > 0.0)
}

/// The `q` of a coding's parameters (1 without one), or `None` when it is not a quality.
fn quality<'a>(mut parameters: impl Iterator<Item = &'a str>) -> Option<f32> {
    let Some(parameter) = parameters.find(|p| {
        p.get(..2)
            .is_some_and(|name| name.eq_ignore_ascii_case("q="))
    }) else {
        return Some(1.0);
    };
    let value = parameter.get(2..).unwrap_or_default();
    let well_formed = !value.is_empty()
        && value.len() <= 5
        && value.chars().all(|c| c.is_ascii_digit() || c == '.');
    value
        .parse::<f32>()
        .ok()
        .filter(|q| well_formed && (0.0..=1.0).contains(q))
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
