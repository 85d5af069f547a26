//! What each token endpoint does, as plain async functions of the state and the validated
//! input, so handlers stay thin and tests can call these directly. Each mirrors a simplejwt
//! serializer: `TokenObtainPairSerializer`, `TokenRefreshSerializer`, `TokenVerifySerializer`,
//! `TokenBlacklistSerializer`, plus registration.
//!
//! Database work runs on the blocking pool and bcrypt on the low-priority hashing pool
//! ([`crate::auth::hashing`]); no database connection is held while bcrypt runs.

use chrono::{NaiveDateTime, Utc};
use claims::{RefreshResponse, RegisteredUser, TokenPair, TokenType};

use crate::accounts::{self, CreateUserError};
use crate::auth::now;
use crate::auth::tokens::{MintedToken, Payload, TokenCodec, TokenError, UserIdClaim};
use crate::db::tokens::{self as token_store, BlacklistOutcome, NewOutstandingToken};
use crate::db::users::{self, User};
use crate::db::{AnyConnection, DbError};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /api/token/`: checks the credentials and issues a pair. A wrong password, an unknown
/// user and an inactive user are the same 401, and take the same time.
pub async fn obtain_pair(
    state: &AppState,
    username: String,
    password: String,
) -> Result<TokenPair, ApiError> {
    let user = state
        .db
        .run(move |conn| users::find_by_username(conn, &username))
        .await?;
    let hasher = state.hasher.clone();
    let user = hashing(state, move || match user {
        Some(user) if hasher.verify(&password, &user.password) => Some(user),
        Some(_) => None,
        None => {
            hasher.verify_dummy(&password);
            None
        }
    })
    .await?;
    let user = user
        .filter(|user| user.is_active)
        .ok_or(ApiError::NoActiveAccount)?;

    let tokens = state.tokens.clone();
    let update_last_login = tokens.settings().update_last_login;
    let pair = state
        .db
        .run(move |conn| {
            let pair = issue_pair(&tokens, conn, &user, now())?;
            if update_last_login {
                users::touch_last_login(conn, user.id, Utc::now().naive_utc())?;
            }
            Ok(pair)
        })
        .await?;
    pair.map_err(ApiError::Internal)
}

/// Mints a refresh token and its access token for `user` and records the refresh token as
/// outstanding. Blocking. The inner `Err` is a signing failure (a bug).
pub fn issue_pair(
    tokens: &TokenCodec,
    conn: &mut AnyConnection,
    user: &User,
    now: i64,
) -> Result<Result<TokenPair, String>, DbError> {
    let base = tokens.user_claims(user.id, &user.password);
    let minted = tokens
        .mint(TokenType::Refresh, &base, now)
        .and_then(|refresh| Ok((tokens.mint(TokenType::Access, &base, now)?, refresh)));
    let (access, refresh) = match minted {
        Ok(pair) => pair,
        Err(error) => return Ok(Err(error.to_string())),
    };
    token_store::record_outstanding(conn, &outstanding(&refresh, Some(user.id)))?;
    Ok(Ok(TokenPair {
        refresh: refresh.token,
        access: access.token,
    }))
}

/// `POST /api/token/refresh/`: a new access token for a valid refresh token; with rotation a
/// new refresh token too, and with blacklist-after-rotation the old one is revoked. Of
/// concurrent refreshes with one token under rotation and blacklisting, exactly one succeeds.
pub async fn refresh(state: &AppState, token: String) -> Result<RefreshResponse, ApiError> {
    let now = now();
    let payload = checked_refresh_token(state, &token, now).await?;
    let settings = state.tokens.settings().clone();

    if let Some(user_id) = payload.user_id(&settings.user_id_claim) {
        let user = match user_id {
            UserIdClaim::Id(id) => {
                state
                    .db
                    .run(move |conn| users::find_by_id(conn, id))
                    .await?
            }
            UserIdClaim::Unusable => None,
        };
        if !user.is_some_and(|user| user.is_active) {
            return Err(ApiError::NoActiveAccountForToken);
        }
    }

    let claims = payload.claims();
    let access = mint(&state.tokens, TokenType::Access, claims, now)?;
    if !settings.rotate_refresh_tokens {
        return Ok(RefreshResponse {
            access: access.token,
            refresh: None,
        });
    }

    let rotated = mint(&state.tokens, TokenType::Refresh, claims, now)?;
    let user_id = match payload.user_id(&settings.user_id_claim) {
        Some(UserIdClaim::Id(id)) => Some(id),
        _ => None,
    };
    let old = OwnedOutstanding::of(&payload, &token, user_id);
    let new = OwnedOutstanding {
        user_id,
        jti: rotated.jti.clone(),
        token: rotated.token.clone(),
        expires_at: rotated.expires_at,
    };
    let blacklist_old = settings.blacklist_after_rotation;
    let outcome = state
        .db
        .run(move |conn| {
            if blacklist_old {
                let outcome = token_store::blacklist(conn, &old.as_new(), Utc::now().naive_utc())?;
                if outcome == BlacklistOutcome::AlreadyRevoked {
                    return Ok(outcome);
                }
            }
            token_store::record_outstanding(conn, &new.as_new())?;
            Ok(BlacklistOutcome::Revoked)
        })
        .await?;
    if outcome == BlacklistOutcome::AlreadyRevoked {
        return Err(ApiError::TokenRefused(TokenError::Blacklisted));
    }
    Ok(RefreshResponse {
        access: access.token,
        refresh: Some(rotated.token),
    })
}

/// `POST /api/token/verify/`: any valid token, access or refresh. A blacklisted token is a 400
/// `non_field_errors` when blacklist-after-rotation is on, as in simplejwt.
pub async fn verify(state: &AppState, token: String) -> Result<(), ApiError> {
    let payload = state
        .tokens
        .decode(&token, now())
        .map_err(ApiError::TokenRefused)?;
    payload.verify(None).map_err(ApiError::TokenRefused)?;
    if state.tokens.settings().blacklist_after_rotation
        && let Some(jti) = payload.jti().map(str::to_owned)
        && state
            .db
            .run(move |conn| token_store::is_blacklisted(conn, &jti))
            .await?
    {
        return Err(ApiError::field(
            "non_field_errors",
            TokenError::Blacklisted.to_string(),
        ));
    }
    Ok(())
}

/// `POST /api/token/blacklist/`: revokes a refresh token (log out). Revoking it again is a 401
/// "Token is blacklisted".
pub async fn blacklist(state: &AppState, token: String) -> Result<(), ApiError> {
    let payload = checked_refresh_token(state, &token, now()).await?;
    let user_id = match payload.user_id(&state.tokens.settings().user_id_claim) {
        Some(UserIdClaim::Id(id)) => Some(id),
        _ => None,
    };
    let record = OwnedOutstanding::of(&payload, &token, user_id);
    let outcome = state
        .db
        .run(move |conn| token_store::blacklist(conn, &record.as_new(), Utc::now().naive_utc()))
        .await?;
    match outcome {
        BlacklistOutcome::Revoked => Ok(()),
        BlacklistOutcome::AlreadyRevoked => Err(ApiError::TokenRefused(TokenError::Blacklisted)),
    }
}

/// `POST /api/register/`: creates an account. Validation and the taken-username check come
/// first, then bcrypt (on the hashing pool, holding no connection), then the insert.
pub async fn register(
    state: &AppState,
    username: String,
    password: String,
) -> Result<RegisteredUser, ApiError> {
    let problems = accounts::new_account_problems(&username, &password);
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    let name = username.clone();
    if state
        .db
        .run(move |conn| users::find_by_username(conn, &name))
        .await?
        .is_some()
    {
        return Err(accounts::username_taken().into());
    }
    let hasher = state.hasher.clone();
    let hash = hashing(state, move || hasher.hash(&password))
        .await?
        .map_err(|e| ApiError::from(CreateUserError::from(e)))?;
    let user = state
        .db
        .run(move |conn| Ok(accounts::insert_user(conn, &username, &hash, false)))
        .await??;
    Ok(RegisteredUser {
        id: user.id,
        username: user.username,
    })
}

/// simplejwt's `RefreshToken(token)`: decoded, not blacklisted, then verified as a refresh token.
async fn checked_refresh_token(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Payload, ApiError> {
    let payload = state
        .tokens
        .decode(token, now)
        .map_err(ApiError::TokenRefused)?;
    if let Some(jti) = payload.jti().map(str::to_owned)
        && state
            .db
            .run(move |conn| token_store::is_blacklisted(conn, &jti))
            .await?
    {
        return Err(ApiError::TokenRefused(TokenError::Blacklisted));
    }
    payload
        .verify(Some(TokenType::Refresh))
        .map_err(ApiError::TokenRefused)?;
    Ok(payload)
}

fn mint(
    tokens: &TokenCodec,
    token_type: TokenType,
    claims: &serde_json::Map<String, serde_json::Value>,
    now: i64,
) -> Result<MintedToken, ApiError> {
    tokens
        .mint(token_type, claims, now)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn outstanding(token: &MintedToken, user_id: Option<i32>) -> NewOutstandingToken<'_> {
    NewOutstandingToken {
        user_id,
        jti: &token.jti,
        token: &token.token,
        created_at: Some(Utc::now().naive_utc()),
        expires_at: token.expires_at,
    }
}

/// An outstanding-token row that can move to the blocking pool.
struct OwnedOutstanding {
    user_id: Option<i32>,
    jti: String,
    token: String,
    expires_at: NaiveDateTime,
}

impl OwnedOutstanding {
    fn of(payload: &Payload, token: &str, user_id: Option<i32>) -> Self {
        Self {
            user_id,
            jti: payload.jti().unwrap_or_default().to_owned(),
            token: token.trim().to_owned(),
            expires_at: payload.expires_at().unwrap_or_default(),
        }
    }

    fn as_new(&self) -> NewOutstandingToken<'_> {
        NewOutstandingToken {
            user_id: self.user_id,
            jti: &self.jti,
            token: &self.token,
            created_at: Some(Utc::now().naive_utc()),
            expires_at: self.expires_at,
        }
    }
}

/// Runs bcrypt work on the low-priority hashing pool.
async fn hashing<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    state
        .hashing
        .run(work)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}
