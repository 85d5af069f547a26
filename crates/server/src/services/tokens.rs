//! The token endpoints' flows, each a simplejwt serializer: `TokenObtainPairSerializer`,
//! `TokenRefreshSerializer`, `TokenVerifySerializer` and `TokenBlacklistSerializer`.
//!
//! Each takes the time once (`now`) and uses it for every claim and row it writes. Tokens are
//! minted before any database work, and each database step is one call to [`crate::db`].

use claims::{Credentials, RefreshRequest, RefreshResponse, TokenPair, TokenType, VerifyRequest};

use crate::auth::{MintedToken, Payload, TokenCodec, TokenError, UserIdClaim, datetime};
use crate::db::tokens::{self as token_store, OutstandingToken, Revocation};
use crate::db::users::{self, User};
use crate::services::{AppState, ServiceError};

/// `POST /api/token/`: checks the credentials and issues a pair. A wrong password, an unknown
/// user and an inactive user are the same refusal, and take the same time (one bcrypt check).
pub async fn obtain_pair(
    state: &AppState,
    credentials: Credentials,
    now: i64,
) -> Result<TokenPair, ServiceError> {
    let Credentials { username, password } = credentials;
    let user = state
        .db
        .run(move |conn| users::find_by_username(conn, &username))
        .await?;
    let user = state
        .hash(move |hasher| match user {
            Some(user) if hasher.verify(&password, &user.password) => Some(user),
            Some(_) => None,
            None => {
                hasher.verify_dummy(&password);
                None
            }
        })
        .await?
        .filter(|user| user.is_active)
        .ok_or(ServiceError::NoActiveAccount)?;

    let (pair, outstanding) = mint_pair(&state.tokens, &user, now)?;
    let update_last_login = state.tokens.settings().update_last_login;
    state
        .db
        .run(move |conn| {
            token_store::record_outstanding(conn, &outstanding)?;
            if update_last_login {
                users::touch_last_login(conn, user.id, datetime(now))?;
            }
            Ok(())
        })
        .await?;
    Ok(pair)
}

/// Mints a refresh token and its access token for `user` at `now`, and the outstanding-token
/// row that records the refresh token (for the caller to store).
pub fn mint_pair(
    tokens: &TokenCodec,
    user: &User,
    now: i64,
) -> Result<(TokenPair, OutstandingToken), ServiceError> {
    let carried = tokens.user_claims(user.id, &user.password);
    let refresh = tokens
        .mint(TokenType::Refresh, &carried, now)
        .map_err(ServiceError::internal)?;
    let access = tokens
        .mint(TokenType::Access, &carried, now)
        .map_err(ServiceError::internal)?;
    let row = issued(&refresh, Some(user.id), now);
    let pair = TokenPair {
        refresh: refresh.token,
        access: access.token,
    };
    Ok((pair, row))
}

/// `POST /api/token/refresh/`: a new access token for a valid refresh token, carrying the
/// refresh token's claims; with rotation a new refresh token too, and with
/// blacklist-after-rotation the old one is revoked in the same transaction. Of concurrent
/// refreshes with one token under rotation and blacklisting, exactly one succeeds.
pub async fn refresh(
    state: &AppState,
    request: RefreshRequest,
    now: i64,
) -> Result<RefreshResponse, ServiceError> {
    let token = request.refresh;
    let payload = checked_refresh_token(state, &token, now).await?;
    let settings = state.tokens.settings();

    let user_id = match payload.user_id(&settings.user_id_claim) {
        None => None,
        Some(UserIdClaim::Unusable) => return Err(ServiceError::NoActiveAccountForToken),
        Some(UserIdClaim::Id(id)) => {
            let user = state
                .db
                .run(move |conn| users::find_by_id(conn, id))
                .await?;
            if !user.is_some_and(|user| user.is_active) {
                return Err(ServiceError::NoActiveAccountForToken);
            }
            Some(id)
        }
    };

    let access = mint(&state.tokens, TokenType::Access, &payload, now)?;
    if !settings.rotate_refresh_tokens {
        return Ok(RefreshResponse {
            access: access.token,
            refresh: None,
        });
    }

    let rotated = mint(&state.tokens, TokenType::Refresh, &payload, now)?;
    let old = presented(&payload, &token, user_id, now);
    let new = issued(&rotated, user_id, now);
    let blacklist_old = settings.blacklist_after_rotation;
    let outcome = state
        .db
        .run(move |conn| token_store::rotate(conn, &old, &new, blacklist_old, datetime(now)))
        .await?;
    match outcome {
        Revocation::Revoked => Ok(RefreshResponse {
            access: access.token,
            refresh: Some(rotated.token),
        }),
        Revocation::AlreadyRevoked => Err(TokenError::Blacklisted.into()),
    }
}

/// `POST /api/token/verify/`: any valid token, access or refresh. A blacklisted token is a 400
/// `non_field_errors` when blacklist-after-rotation is on, as in simplejwt.
pub async fn verify(
    state: &AppState,
    request: VerifyRequest,
    now: i64,
) -> Result<(), ServiceError> {
    let payload = state.tokens.decode(&request.token, now)?;
    payload.verify(None)?;
    if state.tokens.settings().blacklist_after_rotation
        && let Some(jti) = payload.jti().map(str::to_owned)
        && state
            .db
            .run(move |conn| token_store::is_blacklisted(conn, &jti))
            .await?
    {
        return Err(ServiceError::field(
            "non_field_errors",
            TokenError::Blacklisted.to_string(),
        ));
    }
    Ok(())
}

/// `POST /api/token/blacklist/`: revokes a refresh token (log out). Revoking it again is
/// "Token is blacklisted"; a token of a user deleted since is revoked all the same.
pub async fn blacklist(
    state: &AppState,
    request: RefreshRequest,
    now: i64,
) -> Result<(), ServiceError> {
    let token = request.refresh;
    let payload = checked_refresh_token(state, &token, now).await?;
    let user_id = match payload.user_id(&state.tokens.settings().user_id_claim) {
        Some(UserIdClaim::Id(id)) => Some(id),
        _ => None,
    };
    let row = presented(&payload, &token, user_id, now);
    let outcome = state
        .db
        .run(move |conn| token_store::blacklist(conn, &row, datetime(now)))
        .await?;
    match outcome {
        Revocation::Revoked => Ok(()),
        Revocation::AlreadyRevoked => Err(TokenError::Blacklisted.into()),
    }
}

/// simplejwt's `RefreshToken(token)`: decoded, not blacklisted, then verified as a refresh token.
async fn checked_refresh_token(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Payload, ServiceError> {
    let payload = state.tokens.decode(token, now)?;
    if let Some(jti) = payload.jti().map(str::to_owned)
        && state
            .db
            .run(move |conn| token_store::is_blacklisted(conn, &jti))
            .await?
    {
        return Err(TokenError::Blacklisted.into());
    }
    payload.verify(Some(TokenType::Refresh))?;
    Ok(payload)
}

fn mint(
    tokens: &TokenCodec,
    token_type: TokenType,
    from: &Payload,
    now: i64,
) -> Result<MintedToken, ServiceError> {
    tokens
        .mint(token_type, from.claims(), now)
        .map_err(ServiceError::internal)
}

/// The row for a token this server just minted.
fn issued(token: &MintedToken, user_id: Option<i32>, now: i64) -> OutstandingToken {
    OutstandingToken {
        user_id,
        jti: token.jti.clone(),
        token: token.token.clone(),
        created_at: Some(datetime(now)),
        expires_at: datetime(token.exp),
    }
}

/// The row for a verified refresh token a client presented (it may never have been recorded,
/// if another database issued it).
fn presented(payload: &Payload, token: &str, user_id: Option<i32>, now: i64) -> OutstandingToken {
    OutstandingToken {
        user_id,
        jti: payload.jti().unwrap_or_default().to_owned(),
        token: token.trim().to_owned(),
        created_at: Some(datetime(now)),
        expires_at: datetime(payload.exp().unwrap_or(now)),
    }
}
