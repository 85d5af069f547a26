//! The error answers every service of the project gives, in Django REST Framework's shapes and
//! with its statuses, rendered in one place: `{"detail": ...}`, `{"detail": ..., "code": ...}`,
//! field errors `{"field": ["..."]}`, and simplejwt's 401s.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use claims::{Refusal, TokenMessage, TokenType};
use serde_json::{Map, Value, json};

/// Field name to messages, in the order the fields were checked (DRF keeps that order).
pub type FieldErrors = Vec<(String, Vec<String>)>;

/// A request refused, or a service that cannot answer, as DRF would say it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// 400 `{"detail": "JSON parse error - ..."}`.
    #[error("JSON parse error - {0}")]
    JsonParse(String),
    /// 400 with the fields that failed validation.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// 401 `{"detail": "Authentication credentials were not provided."}`.
    #[error("{}", claims::NOT_AUTHENTICATED)]
    NotAuthenticated,
    /// 401, code `bad_authorization_header`: `Bearer` with no token, or two.
    #[error("Authorization header must contain two space-delimited values")]
    BadAuthorizationHeader,
    /// 401 from a protected endpoint, as simplejwt's `JWTAuthentication` answers: a refused
    /// token says why in `messages`; a refused user gets its own message and code.
    #[error("{}", access_detail(*.0))]
    AccessRefused(Refusal),
    /// 401 from a token endpoint: `{"detail": "Token is expired", "code": "token_not_valid"}`.
    #[error("{0}")]
    TokenRefused(Refusal),
    /// 401 `{"detail": ...}` without a code: wrong credentials, a refresh token's user gone.
    #[error("{0}")]
    AuthenticationFailed(String),
    /// 403 `{"detail": ...}`.
    #[error("{0}")]
    Forbidden(String),
    /// 404 `{"detail": "Not found."}`.
    #[error("Not found.")]
    NotFound,
    /// 405 `{"detail": "Method \"GET\" not allowed."}`, with `Allow`.
    #[error("Method \"{method}\" not allowed.")]
    MethodNotAllowed {
        /// The method used.
        method: Method,
        /// The methods the path answers.
        allowed: &'static str,
    },
    /// 406: the `Accept` header admits no media type the API renders (JSON).
    #[error("Could not satisfy the request Accept header.")]
    NotAcceptable,
    /// 413: the body is larger than the API reads.
    #[error("Request body is too large. The limit is {limit} bytes.")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415 `{"detail": "Unsupported media type \"text/plain\" in request."}`.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 431: a request header longer than the app server reads (gunicorn's limit).
    #[error("Request header fields too large.")]
    HeaderFieldsTooLarge,
    /// 429 `{"detail": "Request was throttled. Expected available in 60 seconds."}`, with
    /// `Retry-After`, as DRF's throttles answer.
    #[error("Request was throttled. Expected available in {wait} second{}.", if *.wait == 1 { "" } else { "s" })]
    Throttled {
        /// Seconds until the request may be made again.
        wait: u64,
    },
    /// 500; the cause is logged by whoever knew it, never sent.
    #[error("A server error occurred.")]
    Internal,
    /// 503; the cause is logged by whoever knew it, never sent.
    #[error("Service temporarily unavailable.")]
    Unavailable,
}

/// What `detail` says of an access token refused by a protected endpoint.
fn access_detail(refusal: Refusal) -> &'static str {
    if names_the_token(refusal) {
        claims::NOT_VALID_FOR_ANY_TOKEN_TYPE
    } else {
        refusal.message()
    }
}

/// Whether a refusal is about the token itself (simplejwt's `get_validated_token`), rather than
/// about its user (`get_user`).
fn names_the_token(refusal: Refusal) -> bool {
    !matches!(
        refusal,
        Refusal::NoUserId
            | Refusal::UserNotFound
            | Refusal::UserInactive
            | Refusal::PasswordChanged
            | Refusal::NoActiveAccount
    )
}

impl HttpError {
    /// The JSON body of the answer.
    pub fn body(&self) -> Value {
        let detail = self.to_string();
        match self {
            Self::Invalid(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(field, messages)| (field.clone(), json!(messages)))
                    .collect::<Map<_, _>>(),
            ),
            Self::AccessRefused(refusal) if names_the_token(*refusal) => json!({
                "detail": detail,
                "code": refusal.code(),
                "messages": [TokenMessage {
                    token_class: TokenType::Access.token_class().to_owned(),
                    token_type: TokenType::Access.as_str().to_owned(),
                    message: refusal.message().to_owned(),
                }],
            }),
            Self::AccessRefused(refusal) | Self::TokenRefused(refusal) => {
                json!({"detail": detail, "code": refusal.code()})
            }
            Self::BadAuthorizationHeader => {
                json!({"detail": detail, "code": "bad_authorization_header"})
            }
            _ => json!({ "detail": detail }),
        }
    }
}

impl ResponseError for HttpError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::JsonParse(_) | Self::Invalid(_) => StatusCode::BAD_REQUEST,
            Self::NotAuthenticated
            | Self::BadAuthorizationHeader
            | Self::AccessRefused(_)
            | Self::TokenRefused(_)
            | Self::AuthenticationFailed(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::HeaderFieldsTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::MethodNotAllowed { allowed, .. } => {
                response.insert_header((header::ALLOW, *allowed));
            }
            Self::Throttled { wait } => {
                response.insert_header((header::RETRY_AFTER, wait.to_string()));
            }
            _ => {}
        }
        // Every 401 gets its `WWW-Authenticate` challenge from [`www_authenticate`].
        response.json(self.body())
    }
}

/// The `WWW-Authenticate` value every 401 carries (DRF's `authenticate_header`): `Bearer
/// realm="api"` unless a service registers another as app data.
#[derive(Debug, Clone)]
pub struct Challenge(pub HeaderValue);

impl Default for Challenge {
    fn default() -> Self {
        Self(HeaderValue::from_static("Bearer realm=\"api\""))
    }
}

/// Middleware: adds the [`Challenge`] to every 401, as DRF does.
pub async fn www_authenticate(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let challenge = req
        .app_data::<actix_web::web::Data<Challenge>>()
        .map_or_else(Challenge::default, |challenge| challenge.as_ref().clone());
    let mut response = next.call(req).await?;
    if response.status() == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, challenge.0);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use actix_web::body::to_bytes;

    use super::*;

    async fn rendered(error: HttpError) -> (u16, Value) {
        let response = error.error_response();
        let status = response.status().as_u16();
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap())
    }

    #[actix_web::test]
    async fn a_refused_access_token_says_why_in_its_messages() {
        assert_eq!(
            rendered(HttpError::AccessRefused(Refusal::Expired)).await,
            (
                401,
                json!({
                    "detail": "Given token not valid for any token type",
                    "code": "token_not_valid",
                    "messages": [{"token_class": "AccessToken", "token_type": "access",
                                  "message": "Token is expired"}]
                })
            )
        );
    }

    #[actix_web::test]
    async fn a_refused_user_has_its_own_message_and_code() {
        assert_eq!(
            rendered(HttpError::AccessRefused(Refusal::UserInactive)).await,
            (
                401,
                json!({"detail": "User is inactive", "code": "user_inactive"})
            )
        );
        assert_eq!(
            rendered(HttpError::AccessRefused(Refusal::NoUserId)).await,
            (
                401,
                json!({"detail": "Token contained no recognizable user identification",
                       "code": "token_not_valid"})
            )
        );
    }

    #[actix_web::test]
    async fn a_token_endpoint_refusal_is_a_detail_and_a_code() {
        assert_eq!(
            rendered(HttpError::TokenRefused(Refusal::Blacklisted)).await,
            (
                401,
                json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
            )
        );
    }

    #[actix_web::test]
    async fn field_errors_keep_their_order() {
        let fields = vec![
            (
                "username".to_owned(),
                vec!["This field is required.".to_owned()],
            ),
            (
                "password".to_owned(),
                vec!["This field may not be blank.".to_owned()],
            ),
        ];
        let (status, body) = rendered(HttpError::Invalid(fields)).await;
        assert_eq!(status, 400);
        let names: Vec<&String> = body.as_object().unwrap().keys().collect();
        assert_eq!(names, ["username", "password"]);
    }

    #[actix_web::test]
    async fn a_throttled_request_says_when_to_come_back() {
        let response = HttpError::Throttled { wait: 42 }.error_response();
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "42");
        assert_eq!(
            rendered(HttpError::Throttled { wait: 42 }).await,
            (
                429,
                json!({"detail": "Request was throttled. Expected available in 42 seconds."})
            )
        );
        assert_eq!(
            HttpError::Throttled { wait: 1 }.to_string(),
            "Request was throttled. Expected available in 1 second."
        );
    }

    #[actix_web::test]
    async fn a_method_not_allowed_names_the_allowed_ones() {
        let response = HttpError::MethodNotAllowed {
            method: Method::DELETE,
            allowed: "GET, OPTIONS",
        }
        .error_response();
        assert_eq!(response.status(), 405);
        assert_eq!(
            response.headers().get(header::ALLOW).unwrap(),
            "GET, OPTIONS"
        );
    }
}
