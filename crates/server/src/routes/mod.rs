//! The URL map, one module per resource. Every path answers other methods with DRF's 405.

mod health;
mod hello;
mod register;
mod token;
mod users;

use actix_web::http::Method;
use actix_web::{HttpRequest, Resource, web};

use crate::error::ApiError;

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
        .service(get("/healthz").to(health::healthz));
}

/// Anything no route matches: DRF's 404.
pub async fn not_found() -> ApiError {
    ApiError::NotFound
}

fn post(path: &str) -> ResourceRoute {
    ResourceRoute {
        resource: web::resource(path).default_service(web::to(|req: HttpRequest| async move {
            method_not_allowed(req.method(), "POST, OPTIONS")
        })),
        method: Method::POST,
    }
}

fn get(path: &str) -> ResourceRoute {
    ResourceRoute {
        resource: web::resource(path).default_service(web::to(|req: HttpRequest| async move {
            method_not_allowed(req.method(), "GET, HEAD, OPTIONS")
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
            web::route().method(Method::GET).method(Method::HEAD)
        } else {
            web::route().method(self.method)
        };
        self.resource.route(route.to(handler))
    }
}

fn method_not_allowed(method: &Method, allowed: &'static str) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.clone(),
        allowed,
    }
}
