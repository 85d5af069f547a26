//! simplejwt's `JWTAuthentication` (`get_validated_token` then `get_user`): the user an access
//! token belongs to. The HTTP layer finds the token in the `Authorization` header and calls
//! [`authenticate`].
//!
//! Every check here reads this process's [`crate::db::view::AuthView`], not the database: a
//! protected request costs no database round trip once the user and the token are known.

use std::sync::Arc;

use claims::{Refusal, TokenType};

use crate::auth::mint::carries_password;
use crate::auth::{Payload, UserIdClaim, user_id};
use crate::db::users::User;
use crate::services::{AppState, ServiceError};

// ANCHOR: authenticate
/// Checks an access token at time `now` and loads its user: the signature and claims, the
/// token type, that neither the token nor its family was revoked, then the user, who must
/// exist, be active and (with `JWT_CHECK_REVOKE_TOKEN`) not have changed their password since
/// the token was issued.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn authenticate(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Arc<User>, ServiceError> {
    let settings = state.tokens.settings();
    let payload = state
        .tokens
        .decode(token, now)
        .map_err(ServiceError::AccessTokenRefused)?;
    payload
        .verify(Some(TokenType::Access))
        .map_err(ServiceError::AccessTokenRefused)?;
    if is_revoked(state, &payload).await? {
        return Err(ServiceError::AccessTokenRefused(Refusal::Blacklisted));
    }
    let user_id = match user_id(&payload, &settings.user_id_claim) {
        None => return Err(ServiceError::NoUserIdentification),
        Some(UserIdClaim::Unusable) => return Err(ServiceError::UserNotFound),
        Some(UserIdClaim::Id(id)) => id,
    };
    let user = state
        .view
        .user(user_id)
        .await?
        .ok_or(ServiceError::UserNotFound)?;
    if !user.is_active {
        return Err(ServiceError::UserInactive);
    }
    if user.ended_sessions_include(payload.iat) {
        return Err(ServiceError::AccessTokenRefused(Refusal::Blacklisted));
    }
    if settings.check_revoke_token && !carries_password(&payload, &user.password) {
        return Err(ServiceError::PasswordChanged);
    }
    Ok(user)
}
// ANCHOR_END: authenticate

/// Whether the token (by its `jti`) or its family was revoked.
pub async fn is_revoked(state: &AppState, payload: &Payload) -> Result<bool, ServiceError> {
    if let Some(jti) = &payload.jti
        && state.view.is_token_revoked(jti).await?
    {
        return Ok(true);
    }
    if let Some(family) = &payload.family_id
        && state.view.is_family_revoked(family).await?
    {
        return Ok(true);
    }
    Ok(false)
}
