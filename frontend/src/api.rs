//! One function per API endpoint, using the request and response types of `crates/claims`.
//! Paths are relative to the page's origin: the server (or nginx) serves both.

use claims::{
    Credentials, ErrorBody, HelloResponse, RefreshRequest, RefreshResponse, RegisteredUser,
    TokenPair, UserProfile, VerifyRequest,
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
    /// No usable answer: the server is unreachable or answered something unexpected.
    Network(String),
}

impl ApiError {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Refused { status, .. } => Some(*status),
            Self::Network(_) => None,
        }
    }

    /// One line for a person.
    pub fn message(&self) -> String {
        match self {
            Self::Refused { body, .. } => body.summary(),
            Self::Network(reason) => format!("Cannot reach the server ({reason})."),
        }
    }

    /// The messages for one form field, joined, when the server named that field.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            Self::Refused { body, .. } => body.fields.get(name).map(|messages| messages.join(" ")),
            Self::Network(_) => None,
        }
    }

    /// The message that is not about a field: `detail` or `non_field_errors`.
    pub fn general(&self) -> Option<String> {
        match self {
            Self::Refused { body, .. } => body
                .detail
                .clone()
                .or_else(|| body.fields.get("non_field_errors").map(|m| m.join(" "))),
            Self::Network(_) => Some(self.message()),
        }
    }
}

/// `POST /api/token/`: log in.
pub async fn obtain_pair(credentials: &Credentials) -> Result<TokenPair, ApiError> {
    post("/api/token/", credentials).await
}

/// `POST /api/register/`: make an account.
pub async fn register(credentials: &Credentials) -> Result<RegisteredUser, ApiError> {
    post("/api/register/", credentials).await
}

/// `POST /api/token/refresh/`: a new access token (and, with rotation, a new refresh token).
pub async fn refresh(refresh: &str) -> Result<RefreshResponse, ApiError> {
    let body = RefreshRequest {
        refresh: refresh.to_owned(),
    };
    post("/api/token/refresh/", &body).await
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

/// `POST /api/token/blacklist/`: revoke the refresh token (log out).
pub async fn blacklist(refresh: &str) -> Result<(), ApiError> {
    let body = RefreshRequest {
        refresh: refresh.to_owned(),
    };
    post::<_, serde_json::Value>("/api/token/blacklist/", &body)
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

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    let request = Request::post(path)
        .json(body)
        .map_err(|error| ApiError::Network(error.to_string()))?;
    read(request.send().await).await
}

async fn get_with_token<T: DeserializeOwned>(path: &str, access: &str) -> Result<T, ApiError> {
    let request = Request::get(path).header("Authorization", &format!("Bearer {access}"));
    read(request.send().await).await
}

async fn read<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = response.map_err(|error| ApiError::Network(error.to_string()))?;
    let status = response.status();
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|error| ApiError::Network(error.to_string()));
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
