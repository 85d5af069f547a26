//! One function per API endpoint, using the request and response types of `crates/claims`.
//! Paths are relative to the page's origin: the server (or nginx) serves both.

use claims::{
    Credentials, ErrorBody, HelloResponse, NewNote, Note, PasswordChange, RefreshRequest,
    RegisteredUser, SessionResponse, TokenPair, UserProfile, VerifyRequest,
};
use gloo_net::http::{Request, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The server answered with an error status and a body in DRF's shape.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The error body.
        body: ErrorBody,
    },
    /// No answer: the server cannot be reached.
    Unreachable,
    /// An answer this page cannot read (not the API's JSON).
    Unexpected(String),
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            Self::Unreachable | Self::Unexpected(_) => None,
        }
    }

    /// One line for a person.
    pub fn message(&self) -> String {
        match self {
            Self::Refused { body, .. } => body.summary(),
            Self::Unreachable => {
                format!("The server at {} does not answer. Is it running?", origin())
            }
            Self::Unexpected(what) => format!("The server answered something unexpected: {what}."),
        }
    }

    /// The messages for one form field, joined, when the server named that field.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            Self::Refused { body, .. } => body.fields.get(name).map(|messages| messages.join(" ")),
            Self::Unreachable | Self::Unexpected(_) => None,
        }
    }

    /// The message that is not about a field: `detail` or `non_field_errors`.
    pub fn general(&self) -> Option<String> {
        match self {
            Self::Refused { body, .. } => body
                .detail
                .clone()
                .or_else(|| body.fields.get("non_field_errors").map(|m| m.join(" "))),
            Self::Unreachable | Self::Unexpected(_) => Some(self.message()),
        }
    }
}

/// This page's origin, `http://127.0.0.1:8000` say: the server it talks to.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// `POST /api/session/`: log in; the refresh token comes back as an HttpOnly cookie.
pub async fn session_log_in(credentials: &Credentials) -> Result<SessionResponse, ApiError> {
    session_post("/api/session/", Some(credentials), None).await
}

/// `POST /api/session/refresh/`: a new access token through the cookie (which rotates).
pub async fn session_refresh() -> Result<SessionResponse, ApiError> {
    session_post::<(), _>("/api/session/refresh/", None, None).await
}

/// `POST /api/session/logout/`: the session (and `access`, when given) is revoked, and the
/// cookie cleared.
pub async fn session_log_out(access: Option<String>) -> Result<(), ApiError> {
    session_post::<(), serde_json::Value>("/api/session/logout/", None, access.as_deref())
        .await
        .map(drop)
}

/// `POST /api/session/password/`: change the password with `access`; every other session
/// ends, and this one goes on in a new cookie.
pub async fn session_change_password(
    access: String,
    change: PasswordChange,
) -> Result<SessionResponse, ApiError> {
    session_post("/api/session/password/", Some(&change), Some(&access)).await
}

/// `POST /api/logout/all/`: every session of the user ends, on every device.
pub async fn log_out_everywhere(access: String) -> Result<(), ApiError> {
    let request = Request::post("/api/logout/all/")
        .header("Authorization", &format!("Bearer {access}"))
        .build()
        .map_err(|error| ApiError::Unexpected(error.to_string()))?;
    read::<serde_json::Value>(request.send().await)
        .await
        .map(drop)
}

/// `POST /api/register/`: make an account.
pub async fn register(credentials: &Credentials) -> Result<RegisteredUser, ApiError> {
    post("/api/register/", credentials).await
}

/// `POST /api/token/verify/`: whether the server accepts the token.
pub async fn verify(token: &str) -> Result<(), ApiError> {
    let body = VerifyRequest {
        token: token.to_owned(),
    };
    post::<_, serde_json::Value>("/api/token/verify/", &body)
        .await
        .map(drop)
}

/// `GET /hello/`: the protected endpoint.
pub async fn hello(access: String) -> Result<HelloResponse, ApiError> {
    get_with_token("/hello/", &access).await
}

/// `GET /api/me/`: who the access token belongs to.
pub async fn me(access: String) -> Result<UserProfile, ApiError> {
    get_with_token("/api/me/", &access).await
}

/// `GET /notes/api/notes/`: the caller's notes, from the notes service.
pub async fn notes(access: String) -> Result<Vec<Note>, ApiError> {
    get_with_token("/notes/api/notes/", &access).await
}

/// `POST /notes/api/notes/`: a new note.
pub async fn add_note(access: String, text: String) -> Result<Note, ApiError> {
    let request = Request::post("/notes/api/notes/")
        .header("Authorization", &format!("Bearer {access}"))
        .json(&NewNote { text })
        .map_err(|error| ApiError::Unexpected(error.to_string()))?;
    read(request.send().await).await
}

/// `GET /.well-known/jwks.json`: how many public keys the auth server publishes (none with
/// HMAC).
pub async fn published_keys() -> Result<usize, ApiError> {
    let set: serde_json::Value = read(Request::get("/.well-known/jwks.json").send().await).await?;
    Ok(set["keys"].as_array().map_or(0, Vec::len))
}

/// The first public key `GET /.well-known/jwks.json` publishes, if any (none with HMAC).
pub async fn public_key() -> Option<serde_json::Value> {
    let set: serde_json::Value = read(Request::get("/.well-known/jwks.json").send().await)
        .await
        .ok()?;
    set["keys"].as_array()?.first().cloned()
}

/// An answer as it came, for the attack lab, which shows refusals whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status (0: no answer).
    pub status: u16,
    /// The body, as text.
    pub body: String,
}

/// `POST /api/token/`: a pair of the lab's own, beside the session's.
pub async fn obtain_pair(credentials: &Credentials) -> Result<TokenPair, ApiError> {
    post("/api/token/", credentials).await
}

/// `GET /hello/` with `token` as the access token, answered as it came.
pub async fn hello_answer(token: &str) -> Answer {
    let request = Request::get("/hello/").header("Authorization", &format!("Bearer {token}"));
    answer(request.send().await).await
}

/// `POST /api/token/refresh/` with `refresh`, answered as it came.
pub async fn refresh_answer(refresh: &str) -> Answer {
    post_refresh("/api/token/refresh/", refresh).await
}

/// `POST /api/token/blacklist/` with `refresh`: the token and its family revoked.
pub async fn blacklist_answer(refresh: &str) -> Answer {
    post_refresh("/api/token/blacklist/", refresh).await
}

async fn post_refresh(path: &str, refresh: &str) -> Answer {
    let body = RefreshRequest {
        refresh: refresh.to_owned(),
    };
    match Request::post(path).json(&body) {
        Ok(request) => answer(request.send().await).await,
        Err(error) => Answer {
            status: 0,
            body: error.to_string(),
        },
    }
}

async fn answer(response: Result<Response, gloo_net::Error>) -> Answer {
    match response {
        Ok(response) => Answer {
            status: response.status(),
            body: response.text().await.unwrap_or_default(),
        },
        Err(_) => Answer {
            status: 0,
            body: format!("The server at {} does not answer.", origin()),
        },
    }
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let request = Request::post(path)
        .json(body)
        .map_err(|error| ApiError::Unexpected(error.to_string()))?;
    read(request.send().await).await
}

/// A `POST` to the session endpoints: with the header they require, the cookie the browser
/// sends by itself, and the access token when given.
async fn session_post<B: Serialize, T: DeserializeOwned>(
    path: &str,
    body: Option<&B>,
    access: Option<&str>,
) -> Result<T, ApiError> {
    let mut request = Request::post(path).header("X-Requested-With", "XMLHttpRequest");
    if let Some(access) = access {
        request = request.header("Authorization", &format!("Bearer {access}"));
    }
    let request = match body {
        Some(body) => request.json(body),
        None => request.build(),
    }
    .map_err(|error| ApiError::Unexpected(error.to_string()))?;
    read(request.send().await).await
}

async fn get_with_token<T: DeserializeOwned>(path: &str, access: &str) -> Result<T, ApiError> {
    let request = Request::get(path).header("Authorization", &format!("Bearer {access}"));
    read(request.send().await).await
}

async fn read<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = response.map_err(|_| ApiError::Unreachable)?;
    let status = response.status();
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|error| ApiError::Unexpected(error.to_string()));
    }
    // nginx in front answers 502 in the API's shape when no replica does.
    if status == 502 {
        return Err(ApiError::Unreachable);
    }
    let body = response
        .json::<ErrorBody>()
        .await
        .unwrap_or_else(|_| ErrorBody {
            detail: Some(format!("The server answered {status} without details.")),
            ..ErrorBody::default()
        });
    Err(ApiError::Refused { status, body })
}
