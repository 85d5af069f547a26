//! The URL map, one module per resource, and what every path does besides its handler: DRF's
//! `OPTIONS` metadata, its 405 for other methods, and for protected views authentication first
//! (an unauthenticated `POST /hello/` is a 401, as in DRF, where `APIView` authenticates before
//! it looks at the method). Content negotiation (406) runs before all of it, in
//! [`crate::http::middleware::negotiate`].

mod account;
pub mod frontend;
mod health;
mod hello;
mod keys;
pub mod notes;
mod register;
mod session;
mod token;
mod users;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, Resource, guard, web};
use apikit::HttpError;
use apikit::input::field_names;
use claims::{Credentials, PasswordChange, RefreshRequest, VerifyRequest};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::http::error::ApiError;
use crate::http::extractor::AuthenticatedUser;

/// The media types the API renders and parses, as `OPTIONS` lists them.
const RENDERS: [&str; 1] = ["application/json"];
const PARSES: [&str; 2] = ["application/json", "application/x-www-form-urlencoded"];

// ANCHOR: routes
/// Registers every API route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(post::<Credentials>("/api/token/", &TOKEN_OBTAIN_PAIR).to(token::obtain_pair))
        .service(post::<RefreshRequest>("/api/token/refresh/", &TOKEN_REFRESH).to(token::refresh))
        .service(post::<VerifyRequest>("/api/token/verify/", &TOKEN_VERIFY).to(token::verify))
        .service(
            post::<RefreshRequest>("/api/token/blacklist/", &TOKEN_BLACKLIST).to(token::blacklist),
        )
        .service(post::<Credentials>("/api/register/", &REGISTER).to(register::register))
        .service(post::<Credentials>("/api/session/", &SESSION).to(session::log_in))
        .service(post::<()>("/api/session/refresh/", &SESSION_REFRESH).to(session::refresh))
        .service(post::<()>("/api/session/logout/", &SESSION_LOGOUT).to(session::log_out))
        .service(
            protected_post::<PasswordChange>("/api/session/password/", &SESSION_PASSWORD)
                .to(session::change_password),
        )
        .service(
            protected_post::<()>("/api/logout/all/", &LOGOUT_ALL).to(account::log_out_everywhere),
        )
        .service(
            protected_post::<PasswordChange>("/api/password/change/", &PASSWORD_CHANGE)
                .to(account::change_password),
        )
        .service(protected_get("/hello/", &HELLO).to(hello::hello))
        .service(protected_get("/api/hello/", &HELLO).to(hello::hello))
        .service(protected_get("/api/me/", &ME).to(users::me))
        .service(get("/healthz", &HEALTH).to(health::healthz))
        .service(get("/ping/", &PING).to(health::ping))
        .service(get("/.well-known/jwks.json", &JWKS).to(keys::jwks));
}
// ANCHOR_END: routes

/// Anything no route matches: DRF's 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Http(HttpError::NotFound))
}

/// What `OPTIONS` says of a view: its name and docstring, as DRF's `SimpleMetadata` shows
/// them, and the response fields that are read-only.
struct View {
    name: &'static str,
    description: &'static str,
    read_only: &'static [&'static str],
}

const TOKEN_OBTAIN_PAIR: View = View {
    name: "Token Obtain Pair",
    description: "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
    read_only: &[],
};
const TOKEN_REFRESH: View = View {
    name: "Token Refresh",
    description: "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
    read_only: &["access"],
};
const TOKEN_VERIFY: View = View {
    name: "Token Verify",
    description: "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
    read_only: &[],
};
const TOKEN_BLACKLIST: View = View {
    name: "Token Blacklist",
    description: "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
    read_only: &[],
};
const REGISTER: View = View {
    name: "Register",
    description: "Creates an account from a username and a password that passes Django's\npassword validators.",
    read_only: &["id"],
};
const SESSION: View = View {
    name: "Session",
    description: "Logs a browser in: the access token in the answer, the refresh token in an\nHttpOnly cookie. Needs X-Requested-With: XMLHttpRequest.",
    read_only: &["access", "refresh_expires", "session_expires"],
};
const SESSION_REFRESH: View = View {
    name: "Session Refresh",
    description: "Trades the session cookie's refresh token for a new access token, and\nrotates the cookie.",
    read_only: &["access", "refresh_expires", "session_expires"],
};
const SESSION_LOGOUT: View = View {
    name: "Session Logout",
    description: "Ends the browser session: its token family is revoked and the cookie\ncleared.",
    read_only: &[],
};
const SESSION_PASSWORD: View = View {
    name: "Session Password",
    description: "Changes the password for the browser; every other session ends, and this\none goes on in a new cookie.",
    read_only: &["access", "refresh_expires", "session_expires"],
};
const LOGOUT_ALL: View = View {
    name: "Logout All",
    description: "Ends every session of the user, on every device.",
    read_only: &[],
};
const PASSWORD_CHANGE: View = View {
    name: "Password Change",
    description: "Changes the password; every other session ends, and this one goes on\nwith a fresh pair.",
    read_only: &["refresh", "access"],
};
const HELLO: View = View {
    name: "Hello",
    description: "",
    read_only: &[],
};
const ME: View = View {
    name: "Me",
    description: "The user the access token belongs to.",
    read_only: &[],
};
const HEALTH: View = View {
    name: "Health",
    description: "Answers 200 while the database answers, 503 while it does not.",
    read_only: &[],
};
const JWKS: View = View {
    name: "Jwks",
    description: "The public keys tokens are verified with (empty with HMAC).",
    read_only: &[],
};
const PING: View = View {
    name: "Ping",
    description: "Answers without a token and without the database.",
    read_only: &[],
};

/// A `POST` view whose body is `Body`: `OPTIONS` lists `Body`'s fields.
fn post<Body: DeserializeOwned>(path: &str, view: &View) -> Route {
    Route::new(
        path,
        Method::POST,
        post_metadata::<Body>(view),
        Access::Anyone,
    )
}

/// A `POST` view behind authentication.
fn protected_post<Body: DeserializeOwned>(path: &str, view: &View) -> Route {
    Route::new(
        path,
        Method::POST,
        post_metadata::<Body>(view),
        Access::Authenticated,
    )
}

/// A `GET` view anyone may call.
fn get(path: &str, view: &View) -> Route {
    Route::new(path, Method::GET, metadata(view, None), Access::Anyone)
}

/// A `GET` view behind authentication.
fn protected_get(path: &str, view: &View) -> Route {
    Route::new(
        path,
        Method::GET,
        metadata(view, None),
        Access::Authenticated,
    )
}

fn post_metadata<Body: DeserializeOwned>(view: &View) -> Value {
    let mut fields = Map::new();
    for &name in field_names::<Body>() {
        fields.insert(name.to_owned(), field_info(name, false));
    }
    for &name in view.read_only {
        fields.insert(name.to_owned(), field_info(name, true));
    }
    metadata(view, Some(json!({ "POST": fields })))
}

fn metadata(view: &View, actions: Option<Value>) -> Value {
    let mut metadata = json!({
        "name": view.name,
        "description": view.description,
        "renders": RENDERS,
        "parses": PARSES,
    });
    if let Some(actions) = actions {
        metadata["actions"] = actions;
    }
    metadata
}

/// DRF's description of a `CharField`: every field of this API is a string.
fn field_info(name: &str, read_only: bool) -> Value {
    json!({
        "type": "string",
        "required": !read_only,
        "read_only": read_only,
        "label": label(name),
    })
}

/// DRF's default label: `old_password` is "Old password".
fn label(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map_or_else(String::new, |first| {
        first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect()
    })
}

/// Who may call a view. DRF authenticates before it looks at the method, so for a protected
/// view an unauthenticated `OPTIONS` or wrong method is a 401, not metadata or a 405.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Anyone,
    Authenticated,
}

/// A path that answers one method (GET also answers HEAD), `OPTIONS` with its metadata, and
/// any other method with a 405.
struct Route {
    resource: Resource,
    method: Method,
}

impl Route {
    fn new(path: &str, method: Method, metadata: Value, access: Access) -> Self {
        let allowed = if method == Method::GET {
            "GET, HEAD, OPTIONS"
        } else {
            "POST, OPTIONS"
        };
        let resource = web::resource(path);
        let resource = match access {
            Access::Anyone => resource.default_service(web::to(move |req: HttpRequest| {
                let metadata = metadata.clone();
                async move { other_method(req.method(), allowed, metadata) }
            })),
            Access::Authenticated => resource.default_service(web::to(
                move |req: HttpRequest, user: Result<AuthenticatedUser, ApiError>| {
                    let metadata = metadata.clone();
                    async move {
                        user?;
                        other_method(req.method(), allowed, metadata)
                    }
                },
            )),
        };
        Self { resource, method }
    }

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

/// `OPTIONS` describes the view, as DRF's metadata does; any other method is a 405.
fn other_method(
    method: &Method,
    allowed: &'static str,
    metadata: Value,
) -> Result<HttpResponse, ApiError> {
    if method == Method::OPTIONS {
        return Ok(HttpResponse::Ok()
            .insert_header((header::ALLOW, allowed))
            .json(metadata));
    }
    Err(ApiError::Http(HttpError::MethodNotAllowed {
        method: method.clone(),
        allowed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_drfs() {
        assert_eq!(label("refresh"), "Refresh");
        assert_eq!(label("old_password"), "Old password");
        assert_eq!(label(""), "");
    }
}
