//! The guard of protected endpoints: simplejwt's `JWTAuthentication` plus DRF's
//! `IsAuthenticated`, as an actix extractor. A handler that takes an [`AuthenticatedUser`]
//! argument only runs for a request with a valid access token of an active user.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload as ActixPayload, web};
use claims::TokenType;

use crate::auth::now;
use crate::auth::tokens::{REVOKE_TOKEN_CLAIM, TokenCodec, UserIdClaim, revoke_hash};
use crate::db::users::{self, User};
use crate::error::ApiError;
use crate::state::AppState;

/// The user a valid access token belongs to.
#[derive(Debug, Clone)]
pub struct AuthenticatedUser(pub User);

/// The raw token of an `Authorization` header, simplejwt's `get_raw_token`: `None` when there
/// is no header or it is of another scheme (the request is then unauthenticated).
pub fn raw_token<'a>(
    header: Option<&'a str>,
    header_types: &[String],
) -> Result<Option<&'a str>, ApiError> {
    let Some(header) = header else {
        return Ok(None);
    };
    let parts: Vec<&str> = header.split_whitespace().collect();
    match parts.as_slice() {
        [] => Ok(None),
        [scheme, ..] if !header_types.iter().any(|t| t == scheme) => Ok(None),
        [_, token] => Ok(Some(token)),
        _ => Err(ApiError::BadAuthorizationHeader),
    }
}

/// Authenticates a request from its `Authorization` header value.
pub async fn authenticate(state: &AppState, header: Option<&str>) -> Result<User, ApiError> {
    let tokens: &TokenCodec = &state.tokens;
    let settings = tokens.settings();
    let token =
        raw_token(header, &settings.auth_header_types)?.ok_or(ApiError::NotAuthenticated)?;
    let payload = tokens
        .decode(token, now())
        .map_err(ApiError::AccessTokenRefused)?;
    payload
        .verify(Some(TokenType::Access))
        .map_err(ApiError::AccessTokenRefused)?;
    let user_id = match payload.user_id(&settings.user_id_claim) {
        None => return Err(ApiError::NoUserIdentification),
        Some(UserIdClaim::Unusable) => return Err(ApiError::UserNotFound),
        Some(UserIdClaim::Id(id)) => id,
    };
    let user = state
        .db
        .run(move |conn| users::find_by_id(conn, user_id))
        .await?
        .ok_or(ApiError::UserNotFound)?;
    if !user.is_active {
        return Err(ApiError::UserInactive);
    }
    if settings.check_revoke_token {
        let carried = payload.get(REVOKE_TOKEN_CLAIM).and_then(|v| v.as_str());
        if carried != Some(revoke_hash(&user.password).as_str()) {
            return Err(ApiError::PasswordChanged);
        }
    }
    Ok(user)
}

impl FromRequest for AuthenticatedUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut ActixPayload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        // Header bytes that are not UTF-8 cannot hold a valid token; read them lossily so they
        // fail as an invalid token rather than as a missing header.
        let header = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("AppState missing".into()))?;
            authenticate(&state, header.as_deref())
                .await
                .map(AuthenticatedUser)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer() -> Vec<String> {
        vec!["Bearer".to_owned()]
    }

    #[test]
    fn no_header_or_another_scheme_is_unauthenticated() {
        assert_eq!(raw_token(None, &bearer()).unwrap(), None);
        assert_eq!(raw_token(Some(""), &bearer()).unwrap(), None);
        assert_eq!(raw_token(Some("Basic YTpi"), &bearer()).unwrap(), None);
        // The scheme is compared exactly, as simplejwt does.
        assert_eq!(raw_token(Some("bearer abc"), &bearer()).unwrap(), None);
    }

    #[test]
    fn bearer_needs_exactly_one_token() {
        assert!(matches!(
            raw_token(Some("Bearer"), &bearer()),
            Err(ApiError::BadAuthorizationHeader)
        ));
        assert!(matches!(
            raw_token(Some("Bearer a b"), &bearer()),
            Err(ApiError::BadAuthorizationHeader)
        ));
        assert_eq!(
            raw_token(Some("Bearer abc"), &bearer()).unwrap(),
            Some("abc")
        );
    }

    #[test]
    fn configured_header_types_are_all_accepted() {
        let types = vec!["Bearer".to_owned(), "JWT".to_owned()];
        assert_eq!(raw_token(Some("JWT abc"), &types).unwrap(), Some("abc"));
    }
}
