//! The OpenAPI 3.1 document of the API, served at `GET /api/schema/`.
//!
//! It is made from the same list the router serves ([`super::endpoints`]): each handler's
//! `#[utoipa::path]` gives its path, method, body and own answers, and [`Document`] adds what
//! the request pipeline answers on every path of a kind (DRF's 405, 406 and 431; 400, 413 and
//! 415 where a body is read; 401 and the bearer scheme on protected views). The error answers
//! are written once here, in DRF's shapes, and referenced by name.

use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use claims::{SessionEnd, TokenMessage};
use serde_json::json;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContactBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
    Required, Response, ResponseBuilder, SecurityRequirement, Tag,
};
use utoipa::{PartialSchema, ToResponse, ToSchema};

use super::{Access, PARSES};
use crate::http::session::{COOKIE, COOKIE_PATH, REQUESTED_WITH};

/// The name of the bearer security scheme (`Authorization: Bearer <access token>`).
pub const BEARER: &str = "bearer";
/// The name of the session cookie's security scheme (utoipa's `security(...)` takes the name
/// as a literal: `the_security_schemes_operations_name_exist` checks they agree).
pub const SESSION_COOKIE: &str = "session_cookie";

/// `GET /api/schema/`: the OpenAPI document, built once at start.
#[utoipa::path(
    get,
    path = "/api/schema/",
    summary = "This document",
    responses((status = 200, description = "The OpenAPI 3.1 document of the API.", content_type = "application/json")),
)]
pub async fn schema(document: web::Data<Rendered>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document.0.clone())
}

/// The document as JSON, rendered once when the server starts.
pub struct Rendered(String);

impl Rendered {
    /// Renders [`super::document`].
    pub fn new() -> Result<Self, serde_json::Error> {
        serde_json::to_string(&super::document()).map(Self)
    }
}

/// The document, from the operations the router serves.
#[derive(Default)]
pub struct Document {
    paths: Paths,
}

impl Document {
    /// Adds one operation: its own `#[utoipa::path]`, and what the pipeline answers on a path
    /// of its kind.
    pub fn add(&mut self, path: &str, method: &Method, mut operation: Operation, access: Access) {
        let reads_body = operation.request_body.is_some();
        if path.starts_with(COOKIE_PATH) {
            same_origin_only(&mut operation);
        }
        let answers = &mut operation.responses.responses;
        let mut pipeline: Vec<(&str, RefOr<Response>)> = vec![
            ("405", reference::<MethodNotAllowed>()),
            ("406", reference::<NotAcceptable>()),
            ("431", reference::<HeaderFieldsTooLarge>()),
        ];
        if reads_body {
            pipeline.extend([
                ("400", reference::<BadRequest>()),
                ("413", reference::<PayloadTooLarge>()),
                ("415", reference::<UnsupportedMediaType>()),
            ]);
        }
        if access == Access::Authenticated {
            pipeline.push(("401", reference::<Unauthorized>()));
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
        }
        for (status, answer) in pipeline {
            answers.entry(status.to_owned()).or_insert(answer);
        }
        if reads_body && let Some(body) = operation.request_body.as_mut() {
            accept_every_body_media_type(body);
        }
        let method = if method == Method::GET {
            HttpMethod::Get
        } else {
            HttpMethod::Post
        };
        self.paths.add_path_operation(path, vec![method], operation);
    }

    /// The whole document: the operations, the schemas and answers they name, the security
    /// schemes.
    pub fn finish(self) -> OpenApi {
        let components = ComponentsBuilder::new()
            .schema_from::<claims::Credentials>()
            .schema_from::<claims::TokenPair>()
            .schema_from::<claims::RefreshRequest>()
            .schema_from::<claims::RefreshResponse>()
            .schema_from::<claims::VerifyRequest>()
            .schema_from::<claims::SessionResponse>()
            .schema_from::<claims::PasswordChange>()
            .schema_from::<claims::RegisteredUser>()
            .schema_from::<claims::UserProfile>()
            .schema_from::<claims::HelloResponse>()
            .schema_from::<TokenMessage>()
            .schema_from::<SessionEnd>()
            .schema("ErrorDetail", error_detail())
            .schema("FieldErrors", field_errors())
            .response_from::<BadRequest>()
            .response_from::<Unauthorized>()
            .response_from::<TokenRefused>()
            .response_from::<SessionRefused>()
            .response_from::<WrongCredentials>()
            .response_from::<CsrfFailed>()
            .response_from::<MethodNotAllowed>()
            .response_from::<NotAcceptable>()
            .response_from::<PayloadTooLarge>()
            .response_from::<UnsupportedMediaType>()
            .response_from::<Throttled>()
            .response_from::<HeaderFieldsTooLarge>()
            .response_from::<Unavailable>()
            .security_scheme(
                BEARER,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "The `access` token of `POST /api/token/`, as `Authorization: Bearer <token>`.",
                        ))
                        .build(),
                ),
            )
            .security_scheme(
                SESSION_COOKIE,
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    COOKIE,
                    "The HttpOnly refresh cookie `POST /api/session/` sets, which the browser sends to `/api/session/` alone and no script can read: log in with `POST /api/session/` here, and the session endpoints that follow carry it.",
                ))),
            )
            .build();
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("JWT authentication API")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(DESCRIPTION))
                    .contact(Some(
                        ContactBuilder::new().name(Some("The book, docs/")).build(),
                    ))
                    .build(),
            )
            .paths(self.paths)
            .components(Some(components))
            .tags(Some(tags()))
            .build()
    }
}

const DESCRIPTION: &str = "djangorestframework-simplejwt's API (`/api/token/`, `refresh/`, \
`verify/`, `blacklist/`) with the tutorial's protected `/hello/`, and this project's own: \
registration, browser sessions whose refresh token lives in an HttpOnly cookie, log out \
everywhere, password change. Every path also answers `OPTIONS` with DRF's metadata (a \
protected one once authenticated), and every `GET` path `HEAD`. Errors \
are DRF's shapes: `{\"detail\"}`, `{\"detail\", \"code\"}`, simplejwt's `messages`, or field \
errors `{\"field\": [\"...\"]}`.";

fn tags() -> Vec<Tag> {
    [
        ("tokens", "simplejwt's token endpoints, for API clients."),
        (
            "session",
            "Browser sessions: the refresh token travels only in an HttpOnly cookie. Each needs `X-Requested-With: XMLHttpRequest`.",
        ),
        ("account", "Registration and what a user does to their own account."),
        ("protected", "Views behind the access token."),
        ("operations", "Health, keys, and this document."),
    ]
    .into_iter()
    .map(|(name, description)| TagBuilder::new().name(name).description(Some(description)).build())
    .collect()
}

/// A session endpoint answers only requests a page of this site made: it needs
/// `X-Requested-With: XMLHttpRequest`, or it is a 403 (`http::session::check_same_origin`).
fn same_origin_only(operation: &mut Operation) {
    let (name, value) = REQUESTED_WITH;
    let header = ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some("A form or link on another site cannot send it."))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value])),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(header);
    operation
        .responses
        .responses
        .insert("403".to_owned(), reference::<CsrfFailed>());
}

/// JSON bodies are also accepted form-encoded, with the same fields.
fn accept_every_body_media_type(body: &mut RequestBody) {
    let Some(json) = body.content.get(PARSES[0]).cloned() else {
        return;
    };
    for media_type in PARSES {
        body.content
            .entry(media_type.to_owned())
            .or_insert_with(|| json.clone());
    }
}

fn reference<'r, A: ToResponse<'r>>() -> RefOr<Response> {
    RefOr::Ref(Ref::from_response_name(A::response().0))
}

/// `{"detail", "code"?, "messages"?, "reason"?}`: every error answer that is not about fields.
fn error_detail() -> Schema {
    ObjectBuilder::new()
        .description(Some("An error that is not about one field, in DRF's shape."))
        .property(
            "detail",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What went wrong, for a person.")),
        )
        .required("detail")
        .property(
            "code",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("For a program: `token_not_valid`, `user_inactive`, `bad_authorization_header`, ...")),
        )
        .property(
            "messages",
            ArrayBuilder::new()
                .items(Ref::from_schema_name(TokenMessage::name()))
                .description(Some("Why each token class refused the token (a protected view's 401).")),
        )
        .property("reason", Ref::from_schema_name(SessionEnd::name()))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

/// `{"field": ["message", ...]}`, `non_field_errors` for the body as a whole.
fn field_errors() -> Schema {
    ObjectBuilder::new()
        .description(Some(
            "Field errors: each field that failed, with its messages.",
        ))
        .additional_properties(Some(
            ArrayBuilder::new()
                .items(String::schema())
                .min_items(Some(1)),
        ))
        .into()
}

/// An error answer: `description`, the body `schema`, an `example`, and `headers`.
fn answer(
    description: &str,
    schema: RefOr<Schema>,
    example: serde_json::Value,
    headers: &[(&str, &str)],
) -> RefOr<Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(schema))
            .example(Some(example))
            .build(),
    );
    for (name, description) in headers {
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(String::schema())
                .description(Some(*description))
                .build(),
        );
    }
    response.build().into()
}

fn detail() -> RefOr<Schema> {
    Ref::from_schema_name("ErrorDetail").into()
}

fn detail_or_fields() -> RefOr<Schema> {
    OneOfBuilder::new()
        .item(Ref::from_schema_name("ErrorDetail"))
        .item(Ref::from_schema_name("FieldErrors"))
        .into()
}

/// `{}`: what a POST that has nothing to say answers.
pub struct Empty;
impl ToSchema for Empty {}
impl PartialSchema for Empty {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

/// `{"status": "ok"}`.
pub struct Status;
impl ToSchema for Status {}
impl PartialSchema for Status {
    fn schema() -> RefOr<Schema> {
        one_string_property("status", "ok")
    }
}

/// `{"message": "pong"}`.
pub struct Pong;
impl ToSchema for Pong {}
impl PartialSchema for Pong {
    fn schema() -> RefOr<Schema> {
        one_string_property("message", "pong")
    }
}

fn one_string_property(name: &str, value: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property(
            name,
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([value])),
        )
        .required(name)
        .additional_properties(Some(AdditionalProperties::FreeForm(false)))
        .into()
}

/// `{"keys": [JWK, ...]}`, RFC 7517's key set, public members only.
pub struct KeySet;
impl ToSchema for KeySet {}
impl PartialSchema for KeySet {
    fn schema() -> RefOr<Schema> {
        let mut key = ObjectBuilder::new().description(Some("A public key (RFC 7517)."));
        for member in ["kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"] {
            key = key.property(member, String::schema());
        }
        ObjectBuilder::new()
            .property("keys", ArrayBuilder::new().items(key.required("kty")))
            .required("keys")
            .into()
    }
}

const CHALLENGE: (&str, &str) = (
    "WWW-Authenticate",
    "`Bearer realm=\"api\"`, as every 401 carries.",
);

/// 400: a body that is not JSON, or fields that fail their checks.
pub struct BadRequest;
impl<'r> ToResponse<'r> for BadRequest {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"username": ["This field is required."]});
        let description = "The body could not be parsed (`{\"detail\": \"JSON parse error - ...\"}`), or its fields failed their checks (`{\"field\": [\"...\"]}`).";
        (
            "BadRequest",
            answer(description, detail_or_fields(), example, &[]),
        )
    }
}

/// 401 from a protected view: no token, a malformed header, a refused token or user.
pub struct Unauthorized;
impl<'r> ToResponse<'r> for Unauthorized {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({
            "detail": "Given token not valid for any token type",
            "code": "token_not_valid",
            "messages": [{"token_class": "AccessToken", "token_type": "access", "message": "Token is expired"}],
        });
        let description = "No access token (`Authentication credentials were not provided.`), or one refused: why, per token class, in `messages`; a refused user (`user_inactive`, `user_not_found`, `password_changed`) has its own `code`.";
        (
            "Unauthorized",
            answer(description, detail(), example, &[CHALLENGE]),
        )
    }
}

/// 401 from a token endpoint: the token in the body was refused.
pub struct TokenRefused;
impl<'r> ToResponse<'r> for TokenRefused {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Token is blacklisted", "code": "token_not_valid"});
        let description = "The token was refused: expired, blacklisted, of the wrong type, badly signed, or its user inactive.";
        (
            "TokenRefused",
            answer(description, detail(), example, &[CHALLENGE]),
        )
    }
}

/// 401 from a session endpoint: no session, or it ended, with why.
pub struct SessionRefused;
impl<'r> ToResponse<'r> for SessionRefused {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Token is blacklisted", "code": "token_not_valid", "reason": "logged_out"});
        let description =
            "No session cookie, or its session ended; `reason` says why when the server can tell.";
        (
            "SessionRefused",
            answer(description, detail(), example, &[CHALLENGE]),
        )
    }
}

/// 401: wrong username or password.
pub struct WrongCredentials;
impl<'r> ToResponse<'r> for WrongCredentials {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "No active account found with the given credentials"});
        (
            "WrongCredentials",
            answer(
                "Wrong username or password, or an inactive account.",
                detail(),
                example,
                &[CHALLENGE],
            ),
        )
    }
}

/// 403: a session request without `X-Requested-With`, or from another origin.
pub struct CsrfFailed;
impl<'r> ToResponse<'r> for CsrfFailed {
    fn response() -> (&'r str, RefOr<Response>) {
        let (name, value) = REQUESTED_WITH;
        let example =
            json!({"detail": format!("CSRF Failed: the {name}: {value} header is missing.")});
        let description = "A request another site may have made: no `X-Requested-With: XMLHttpRequest`, or an `Origin` that is not this server's.";
        ("CsrfFailed", answer(description, detail(), example, &[]))
    }
}

/// 405: another method on this path.
pub struct MethodNotAllowed;
impl<'r> ToResponse<'r> for MethodNotAllowed {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Method \"PUT\" not allowed."});
        let allow = ("Allow", "The methods the path answers.");
        (
            "MethodNotAllowed",
            answer(
                "A method this path does not answer.",
                detail(),
                example,
                &[allow],
            ),
        )
    }
}

/// 406: an `Accept` header that admits no JSON.
pub struct NotAcceptable;
impl<'r> ToResponse<'r> for NotAcceptable {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Could not satisfy the request Accept header."});
        (
            "NotAcceptable",
            answer(
                "The `Accept` header admits no media type the API renders (JSON).",
                detail(),
                example,
                &[],
            ),
        )
    }
}

/// 413: a body larger than the API reads.
pub struct PayloadTooLarge;
impl<'r> ToResponse<'r> for PayloadTooLarge {
    fn response() -> (&'r str, RefOr<Response>) {
        let limit = apikit::input::MAX_BODY_BYTES;
        let example =
            json!({"detail": format!("Request body is too large. The limit is {limit} bytes.")});
        (
            "PayloadTooLarge",
            answer(
                "The body is larger than the API reads.",
                detail(),
                example,
                &[],
            ),
        )
    }
}

/// 415: a body in a media type no parser reads.
pub struct UnsupportedMediaType;
impl<'r> ToResponse<'r> for UnsupportedMediaType {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Unsupported media type \"text/plain\" in request."});
        (
            "UnsupportedMediaType",
            answer(
                "The body is neither JSON nor form-encoded.",
                detail(),
                example,
                &[],
            ),
        )
    }
}

/// 429: too many failed attempts.
pub struct Throttled;
impl<'r> ToResponse<'r> for Throttled {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Request was throttled. Expected available in 60 seconds."});
        let retry = ("Retry-After", "Seconds until a request may be made again.");
        (
            "Throttled",
            answer(
                "Too many failed password checks for this account and address.",
                detail(),
                example,
                &[retry],
            ),
        )
    }
}

/// 431: a header line longer than the API reads.
pub struct HeaderFieldsTooLarge;
impl<'r> ToResponse<'r> for HeaderFieldsTooLarge {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Request header fields too large."});
        (
            "HeaderFieldsTooLarge",
            answer(
                "A header line is longer than the API reads.",
                detail(),
                example,
                &[],
            ),
        )
    }
}

/// 503: the database cannot be reached, or the password hashing queue is full.
pub struct Unavailable;
impl<'r> ToResponse<'r> for Unavailable {
    fn response() -> (&'r str, RefOr<Response>) {
        let example = json!({"detail": "Service temporarily unavailable."});
        (
            "Unavailable",
            answer(
                "The database cannot be reached, or the server is too busy hashing passwords: try again later.",
                detail(),
                example,
                &[],
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_in_json_is_documented_form_encoded_too() {
        let mut body = RequestBody::new();
        body.content.insert(
            "application/json".to_owned(),
            ContentBuilder::new().schema(Some(String::schema())).build(),
        );
        accept_every_body_media_type(&mut body);
        let types: Vec<&str> = body.content.keys().map(String::as_str).collect();
        assert_eq!(
            types,
            ["application/json", "application/x-www-form-urlencoded"]
        );
    }
}
