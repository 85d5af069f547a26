//! The URL map, one module per resource, and what every path does besides its handler: DRF's
//! `OPTIONS` metadata, its 405 for other methods, and for protected views authentication first
//! (an unauthenticated `POST /hello/` is a 401, as in DRF, where `APIView` authenticates before
//! it looks at the method). Content negotiation (406) runs before all of it, in
//! [`crate::http::middleware::negotiate`].

mod account;
mod explorer;
pub mod frontend;
mod health;
mod hello;
mod keys;
pub mod notes;
pub mod openapi;
mod register;
mod session;
mod token;
mod users;

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, Resource, guard, web};
use apikit::HttpError;
use apikit::input::field_names;
use claims::{Credentials, PasswordChange, RefreshRequest, VerifyRequest};
use serde_json::{Map, Value, json};
use utoipa::openapi::path::HttpMethod;

use crate::http::error::ApiError;
use crate::http::extractor::AuthenticatedUser;
use openapi::Document;

/// The media types the API renders and parses, as `OPTIONS` lists them (and the OpenAPI
/// document documents every body in).
const RENDERS: [&str; 1] = ["application/json"];
const PARSES: [&str; 2] = ["application/json", "application/x-www-form-urlencoded"];

// ANCHOR: routes
/// The API, one line per endpoint: its documentation (the handler's `#[utoipa::path]`, which
/// names the path and the method), who may call it, what `OPTIONS` says of it, and the handler.
/// The router serves this list and the OpenAPI document documents it, so neither has a path
/// the other lacks.
fn endpoints(api: &mut impl Endpoints) {
    use Access::{Anyone, Authenticated};
    api.add(
        token::__path_obtain_pair,
        Anyone,
        &TOKEN_OBTAIN_PAIR,
        token::obtain_pair,
    );
    api.add(
        token::__path_refresh,
        Anyone,
        &TOKEN_REFRESH,
        token::refresh,
    );
    api.add(token::__path_verify, Anyone, &TOKEN_VERIFY, token::verify);
    api.add(
        token::__path_blacklist,
        Anyone,
        &TOKEN_BLACKLIST,
        token::blacklist,
    );
    api.add(
        register::__path_register,
        Anyone,
        &REGISTER,
        register::register,
    );
    api.add(session::__path_log_in, Anyone, &SESSION, session::log_in);
    api.add(
        session::__path_refresh,
        Anyone,
        &SESSION_REFRESH,
        session::refresh,
    );
    api.add(
        session::__path_log_out,
        Anyone,
        &SESSION_LOGOUT,
        session::log_out,
    );
    api.add(
        session::__path_change_password,
        Authenticated,
        &SESSION_PASSWORD,
        session::change_password,
    );
    api.add(
        account::__path_log_out_everywhere,
        Authenticated,
        &LOGOUT_ALL,
        account::log_out_everywhere,
    );
    api.add(
        account::__path_change_password,
        Authenticated,
        &PASSWORD_CHANGE,
        account::change_password,
    );
    api.add(hello::__path_hello, Authenticated, &HELLO, hello::hello);
    api.add(hello::ApiHello, Authenticated, &HELLO, hello::hello);
    api.add(users::__path_me, Authenticated, &ME, users::me);
    api.add(health::__path_healthz, Anyone, &HEALTH, health::healthz);
    api.add(health::__path_ping, Anyone, &PING, health::ping);
    api.add(keys::__path_jwks, Anyone, &JWKS, keys::jwks);
    api.add(openapi::__path_schema, Anyone, &SCHEMA, openapi::schema);
}
// ANCHOR_END: routes

/// Registers every API route, and the explorer of its OpenAPI document.
pub fn configure(cfg: &mut web::ServiceConfig) {
    endpoints(&mut Router(cfg));
    explorer::configure(cfg);
}

/// The OpenAPI document of every route [`configure`] registers.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut document = Document::default();
    endpoints(&mut document);
    document.finish()
}

/// What [`endpoints`] adds its endpoints to: the router, or the document.
trait Endpoints {
    /// Adds the endpoint `doc` documents, served by `handler` to whoever `access` admits.
    fn add<P, F, Args>(&mut self, doc: P, access: Access, view: &'static View, handler: F)
    where
        P: utoipa::Path,
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static;
}

/// Registers each endpoint as a [`Route`].
struct Router<'a>(&'a mut web::ServiceConfig);

impl Endpoints for Router<'_> {
    fn add<P, F, Args>(&mut self, _: P, access: Access, view: &'static View, handler: F)
    where
        P: utoipa::Path,
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let method = method_of::<P>();
        let metadata = view.metadata(&method);
        self.0
            .service(Route::new(&P::path(), method, metadata, access).to(handler));
    }
}

impl Endpoints for Document {
    fn add<P, F, Args>(&mut self, _: P, access: Access, view: &'static View, _: F)
    where
        P: utoipa::Path,
        F: actix_web::Handler<Args>,
        Args: actix_web::FromRequest + 'static,
        F::Output: actix_web::Responder + 'static,
    {
        let mut operation = P::operation();
        operation.tags = Some(vec![view.tag.to_owned()]);
        if !view.description.is_empty() {
            operation.description = Some(view.description.replace('\n', " "));
        }
        Document::add(self, &P::path(), &method_of::<P>(), operation, access);
    }
}

/// The one method an endpoint's documentation names: every endpoint answers `GET` or `POST`.
fn method_of<P: utoipa::Path>() -> Method {
    match P::methods().as_slice() {
        [HttpMethod::Get] => Method::GET,
        [HttpMethod::Post] => Method::POST,
        _ => unreachable!("{} must document one method, GET or POST", P::path()),
    }
}

/// Anything no route matches: DRF's 404.
pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::Http(HttpError::NotFound))
}

/// What `OPTIONS` says of a view: its name and docstring, as DRF's `SimpleMetadata` shows
/// them, and the response fields that are read-only.
struct View {
    name: &'static str,
    description: &'static str,
    /// The group the OpenAPI document lists it in.
    tag: &'static str,
    /// The fields of the body a `POST` reads (none for a `GET`).
    body: fn() -> &'static [&'static str],
    read_only: &'static [&'static str],
}

const TOKEN_OBTAIN_PAIR: View = View {
    name: "Token Obtain Pair",
    description: "Takes a set of user credentials and returns an access and refresh JSON web\ntoken pair to prove the authentication of those credentials.",
    tag: "tokens",
    body: field_names::<Credentials>,
    read_only: &[],
};
const TOKEN_REFRESH: View = View {
    name: "Token Refresh",
    description: "Takes a refresh type JSON web token and returns an access type JSON web\ntoken if the refresh token is valid.",
    tag: "tokens",
    body: field_names::<RefreshRequest>,
    read_only: &["access"],
};
const TOKEN_VERIFY: View = View {
    name: "Token Verify",
    description: "Takes a token and indicates if it is valid.  This view provides no\ninformation about a token's fitness for a particular use.",
    tag: "tokens",
    body: field_names::<VerifyRequest>,
    read_only: &[],
};
const TOKEN_BLACKLIST: View = View {
    name: "Token Blacklist",
    description: "Takes a token and blacklists it. Must be used with the\n`rest_framework_simplejwt.token_blacklist` app installed.",
    tag: "tokens",
    body: field_names::<RefreshRequest>,
    read_only: &[],
};
const REGISTER: View = View {
    name: "Register",
    description: "Creates an account from a username and a password that passes Django's\npassword validators.",
    tag: "account",
    body: field_names::<Credentials>,
    read_only: &["id"],
};
const SESSION: View = View {
    name: "Session",
    description: "Logs a browser in: the access token in the answer, the refresh token in an\nHttpOnly cookie. Needs X-Requested-With: XMLHttpRequest.",
    tag: "session",
    body: field_names::<Credentials>,
    read_only: &["access", "refresh_expires", "session_expires"],
};
const SESSION_REFRESH: View = View {
    name: "Session Refresh",
    description: "Trades the session cookie's refresh token for a new access token, and\nrotates the cookie.",
    tag: "session",
    body: no_body,
    read_only: &["access", "refresh_expires", "session_expires"],
};
const SESSION_LOGOUT: View = View {
    name: "Session Logout",
    description: "Ends the browser session: its token family is revoked and the cookie\ncleared.",
    tag: "session",
    body: no_body,
    read_only: &[],
};
const SESSION_PASSWORD: View = View {
    name: "Session Password",
    description: "Changes the password for the browser; every other session ends, and this\none goes on in a new cookie.",
    tag: "session",
    body: field_names::<PasswordChange>,
    read_only: &["access", "refresh_expires", "session_expires"],
};
const LOGOUT_ALL: View = View {
    name: "Logout All",
    description: "Ends every session of the user, on every device.",
    tag: "account",
    body: no_body,
    read_only: &[],
};
const PASSWORD_CHANGE: View = View {
    name: "Password Change",
    description: "Changes the password; every other session ends, and this one goes on\nwith a fresh pair.",
    tag: "account",
    body: field_names::<PasswordChange>,
    read_only: &["refresh", "access"],
};
const HELLO: View = View {
    name: "Hello",
    description: "",
    tag: "protected",
    body: no_body,
    read_only: &[],
};
const ME: View = View {
    name: "Me",
    description: "The user the access token belongs to.",
    tag: "protected",
    body: no_body,
    read_only: &[],
};
const HEALTH: View = View {
    name: "Health",
    description: "Answers 200 while the database answers, 503 while it does not.",
    tag: "operations",
    body: no_body,
    read_only: &[],
};
const JWKS: View = View {
    name: "Jwks",
    description: "The public keys tokens are verified with (empty with HMAC).",
    tag: "operations",
    body: no_body,
    read_only: &[],
};
const SCHEMA: View = View {
    name: "Schema",
    description: "The OpenAPI 3.1 document of this API.",
    tag: "operations",
    body: no_body,
    read_only: &[],
};
const PING: View = View {
    name: "Ping",
    description: "Answers without a token and without the database.",
    tag: "operations",
    body: no_body,
    read_only: &[],
};

/// The fields of a view that reads no body.
fn no_body() -> &'static [&'static str] {
    &[]
}

impl View {
    /// What `OPTIONS` answers: DRF's `SimpleMetadata`, with the body's fields for a `POST`.
    fn metadata(&self, method: &Method) -> Value {
        let mut metadata = json!({
            "name": self.name,
            "description": self.description,
            "renders": RENDERS,
            "parses": PARSES,
        });
        if method == Method::POST {
            let mut fields = Map::new();
            for &name in (self.body)() {
                fields.insert(name.to_owned(), field_info(name, false));
            }
            for &name in self.read_only {
                fields.insert(name.to_owned(), field_info(name, true));
            }
            metadata["actions"] = json!({ "POST": fields });
        }
        metadata
    }
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
pub enum Access {
    /// No token needed.
    Anyone,
    /// A valid access token (`Authorization: Bearer ...`).
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
