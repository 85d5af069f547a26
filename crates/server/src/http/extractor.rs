//! The guard of protected endpoints: simplejwt's `JWTAuthentication` plus DRF's
//! `IsAuthenticated`, as an actix extractor. A handler that takes an [`AuthenticatedUser`]
//! argument only runs for a request with a valid access token of an active user.
//!
//! The `Authorization` header is read by `apikit::bearer::access_token`, as the notes service
//! reads it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::{FromRequest, HttpRequest, dev::Payload as ActixPayload, web};
use apikit::bearer::access_token;

use crate::db::users::User;
use crate::http::HttpSettings;
use crate::http::error::ApiError;
use crate::services::authenticate::authenticate;
use crate::services::{AppState, ServiceError};

/// The user a valid access token belongs to (shared with this process's view of users).
#[derive(Debug, Clone)]
pub struct AuthenticatedUser(pub Arc<User>);

// ANCHOR: extractor
impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut ActixPayload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .app_data::<web::Data<HttpSettings>>()
            .ok_or_else(|| missing("HttpSettings"))
            .and_then(|http| Ok(access_token(req, &http.auth_header_types)?));
        Box::pin(async move {
            let state = state.ok_or_else(|| missing("AppState"))?;
            let user = authenticate(&state, &token?, state.clock.now()).await?;
            Ok(AuthenticatedUser(user))
        })
    }
}
// ANCHOR_END: extractor

fn missing(what: &str) -> ApiError {
    ServiceError::internal(std::io::Error::other(format!("{what} is not registered"))).into()
}
