//! simplejwt's `JWTAuthentication` (`get_validated_token` then `get_user`): the user an access
//! token belongs to. The HTTP layer finds the token in the `Authorization` header and calls
//! [`authenticate`].

use claims::TokenType;

use crate::auth::UserIdClaim;
use crate::auth::mint::{REVOKE_TOKEN_CLAIM, password_fingerprint};
use crate::db::users::{self, User};
use crate::services::{AppState, ServiceError};

/// Checks an access token at time `now` and loads its user: the signature and claims, the
/// token type, then the user, who must exist, be active and (with `JWT_CHECK_REVOKE_TOKEN`)
/// not have changed their password since the token was issued.
pub async fn authenticate(state: &AppState, token: &str, now: i64) -> Result<User, ServiceError> {
    let settings = state.tokens.settings();
    let payload = state
        .tokens
        .decode(token, now)
        .map_err(ServiceError::AccessTokenRefused)?;
    payload
        .verify(Some(TokenType::Access))
        .map_err(ServiceError::AccessTokenRefused)?;
    let user_id = match payload.user_id(&settings.user_id_claim) {
        None => return Err(ServiceError::NoUserIdentification),
        Some(UserIdClaim::Unusable) => return Err(ServiceError::UserNotFound),
        Some(UserIdClaim::Id(id)) => id,
    };
    let user = state
        .db
        .run(move |conn| users::find_by_id(conn, user_id))
        .await?
        .ok_or(ServiceError::UserNotFound)?;
    if !user.is_active {
        return Err(ServiceError::UserInactive);
    }
    if settings.check_revoke_token {
        let carried = payload.get(REVOKE_TOKEN_CLAIM).and_then(|v| v.as_str());
        if carried != Some(password_fingerprint(&user.password).as_str()) {
            return Err(ServiceError::PasswordChanged);
        }
    }
    Ok(user)
}
