//! The URL map, one module per resource. Every path answers other methods with DRF's 405.

pub mod frontend;
mod health;
mod hello;
mod register;
mod token;
mod users;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, Resource, guard, web};
use serde_json::json;

use crate::error::ApiError;

/// Where the API's paths live; every path [`configure`] registers starts with one of these.
/// The frontend's single-page-app fallback never answers under them (nginx's config keeps the
/// same list in its `location` blocks).
pub const API_PREFIXES: [&str; 4] = ["/api", "/hello/", "/ping/", "/healthz"];

/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post("/api/token/").to(token::obtain_pair))
        .service(post("/api/token/refresh/").to(token::refresh))
        .service(post("/api/token/verify/").to(token::verify))
        .service(post("/api/token/blacklist/").to(token::blacklist))
        .service(post("/api/register/").to(register::register))
        .service(get("/hello/").to(hello::hello))
        .service(get("/api/hello/").to(hello::hello))
        .service(get("/api/me/").to(users::me))
        .service(get("/healthz").to(health::healthz))
        .service(get("/ping/").to(health::ping));
}

/// Anything no route matches: DRF's 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

fn post(path: &str) -> ResourceRoute {
    ResourceRoute {
        resource: web::resource(path).default_service(web::to(|req: HttpRequest| async move {
            other_method(req.method(), "POST, OPTIONS")
        })),
        method: Method::POST,
    }
}

fn get(path: &str) -> ResourceRoute {
    ResourceRoute {
        resource: web::resource(path).default_service(web::to(|req: HttpRequest| async move {
            other_method(req.method(), "GET, HEAD, OPTIONS")
        })),
        method: Method::GET,
    }
}

/// A path that answers one method (GET also answers HEAD).
struct ResourceRoute {
    resource: Resource,
    method: Method,
}

impl ResourceRoute {
    fn to<F, Args>(self, handler: F) -> Resource
    where
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let route = if self.method == Method::GET {
            web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
        } else {
            web::route().method(self.method)
        };
        self.resource.route(route.to(handler))
    }
}

/// `OPTIONS` describes the path, as DRF's metadata does; any other method is a 405.
fn other_method(method: &Method, allowed: &'static str) -> Result<HttpResponse, ApiError> {
    if method == Method::OPTIONS {
        return Ok(HttpResponse::Ok()
            .insert_header((header::ALLOW, allowed))
            .json(json!({
                "renders": ["application/json"],
                "parses": ["application/json", "application/x-www-form-urlencoded"],
            })));
    }
    Err(ApiError::MethodNotAllowed {
        method: method.clone(),
        allowed,
    })
}
