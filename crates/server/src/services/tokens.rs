//! The token endpoints' flows, each a simplejwt serializer: `TokenObtainPairSerializer`,
//! `TokenRefreshSerializer`, `TokenVerifySerializer` and `TokenBlacklistSerializer`, plus what
//! simplejwt leaves out: token families with reuse detection, and access-token revocation.
//!
//! Each takes the time once (`now`) and uses it for every claim and row it writes. Tokens are
//! minted before any database work, and each database step is one call to [`crate::db`].
//!
//! With reuse detection (`JWT_REFRESH_REUSE_DETECTION`, on by default) every log in starts a
//! family, and the family decides each refresh: its current token rotates; its previous one,
//! presented again within `JWT_REFRESH_REUSE_GRACE`, gets the same successor again (a client
//! whose answer was lost); anything else is reuse, and the whole family is revoked.

use std::net::IpAddr;

use claims::{
    Credentials, RefreshRequest, RefreshResponse, Refusal, SessionEnd, TokenPair, TokenType,
    VerifyRequest,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;

use crate::auth::mint::carries_password;
use crate::auth::{MintedToken, Payload, TokenCodec, UserIdClaim, datetime, user_id};
use crate::db::events::Event;
use crate::db::families::{self, Family, Reason, Rotation};
use crate::db::tokens::{self as token_store, DeniedAccessToken, OutstandingToken, Revocation};
use crate::db::users::{self, User};
use crate::services::authenticate;
use crate::services::{AppState, ServiceError};

/// `POST /api/token/`: checks the credentials (from `client`) and issues a pair. A wrong
/// password, an unknown user and an inactive user are the same refusal, and take the same time
/// (one bcrypt check).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn obtain_pair(
    state: &AppState,
    credentials: Credentials<SecretString>,
    client: Option<IpAddr>,
    now: i64,
) -> Result<TokenPair, ServiceError> {
    let user = check_credentials(state, credentials, client, now).await?;
    start_session(state, &user, now).await
}

/// The active user these credentials name, or the one generic refusal. Every log in path
/// checks passwords here, so every one is limited alike: after too many failures for this
/// username from this `client` address, the answer is a 429 without checking the password.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn check_credentials(
    state: &AppState,
    credentials: Credentials<SecretString>,
    client: Option<IpAddr>,
    now: i64,
) -> Result<User, ServiceError> {
    let Credentials { username, password } = credentials;
    // The attempt is counted by a digest of the name: a megabyte of username costs the limit
    // 32 bytes of memory, like any other.
    let attempt = (sha2::Sha256::digest(username.as_bytes()).into(), client);
    state.login_failures.attempt(attempt, now)?;
    let user = state
        .db
        .run(move |conn| users::find_by_username(conn, &username))
        .await?;
    let user = state
        .hash(move |hasher| match user {
            Some(user) if hasher.verify(password.expose_secret(), &user.password) => Some(user),
            Some(_) => None,
            None => {
                hasher.verify_dummy(password.expose_secret());
                None
            }
        })
        .await?
        .filter(|user| user.is_active);
    if user.is_some() {
        state.login_failures.succeed(&attempt);
    }
    user.ok_or(ServiceError::NoActiveAccount)
}

/// Issues a fresh pair for `user` at `now`, in a family of its own when reuse detection is on,
/// and records the refresh token.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start_session(
    state: &AppState,
    user: &User,
    now: i64,
) -> Result<TokenPair, ServiceError> {
    let now = after_sessions_ended(state, user, now).await;
    let settings = state.tokens.settings();
    let family = settings.refresh_reuse_detection.then(|| Family {
        id: uuid::Uuid::new_v4().simple().to_string(),
        user_id: Some(user.id),
        created_at: datetime(now),
        expires_at: datetime(now.saturating_add(settings.refresh_family_lifetime.as_secs() as i64)),
        current_jti: String::new(),
        previous_jti: None,
        rotated_at: None,
        revoked_at: None,
        reason: None,
    });
    let (pair, outstanding, access_jti) = mint_pair(&state.tokens, user, family.as_ref(), now)?;
    state.view.learn_fresh_token(&access_jti);
    let update_last_login = settings.update_last_login;
    let (user_id, checked_hash) = (user.id, user.password.clone());
    let last_login = update_last_login.then(|| datetime(now));
    let recorded = state
        .db
        .run(move |conn| {
            families::record_session(
                conn,
                user_id,
                &checked_hash,
                family.as_ref(),
                &outstanding,
                last_login,
            )
        })
        .await?;
    if !recorded {
        return Err(ServiceError::NoActiveAccount);
    }
    Ok(pair)
}

/// `now`, or, when `user`'s sessions were all ended in `now`'s second, the first second after:
/// a token issued in that second counts as ended (`User::ended_sessions_include`), so a
/// session starting right after a password change or a log out everywhere waits for the
/// second to turn (at most about a second; not at all for a mark another clock put further
/// ahead, whose tokens would be refused however long this waited).
async fn after_sessions_ended(state: &AppState, user: &User, now: i64) -> i64 {
    match second_to_wait_out(user, now) {
        Some(ended) => state.clock.after(ended).await,
        None => now,
    }
}

/// The second a session starting for `user` at `now` must wait out: the one their sessions
/// were all ended in, when that is `now`'s (or, by another clock, the next one).
pub fn second_to_wait_out(user: &User, now: i64) -> Option<i64> {
    let ended = user.sessions_revoked_at?.and_utc().timestamp();
    (now <= ended && ended <= now + 1).then_some(ended)
}

/// Mints a refresh token and its access token for `user` at `now` (in `family`, and ending with
/// it, when there is one); returns them with the row that records the refresh token and the
/// access token's `jti`.
pub fn mint_pair(
    tokens: &TokenCodec,
    user: &User,
    family: Option<&Family>,
    now: i64,
) -> Result<(TokenPair, OutstandingToken, String), ServiceError> {
    let mut carried = tokens.user_claims(user.id, &user.password);
    let mut session_end = i64::MAX;
    if let Some(family) = family {
        carried.family_id = Some(family.id.clone());
        session_end = family.expires_at.and_utc().timestamp();
    }
    let refresh = mint(tokens, TokenType::Refresh, &carried, now, session_end)?;
    let access = mint(tokens, TokenType::Access, &carried, now, session_end)?;
    let row = issued(&refresh, Some(user.id), family.map(|f| f.id.clone()), now);
    let pair = TokenPair {
        refresh: refresh.token,
        access: access.token,
    };
    Ok((pair, row, access.jti))
}

/// `POST /api/token/refresh/`: a new access token for a valid refresh token, carrying the
/// refresh token's claims; with rotation a new refresh token too, and with
/// blacklist-after-rotation the old one is revoked in the same transaction. Of concurrent
/// refreshes with one token under rotation and blacklisting, exactly one succeeds (with a
/// reuse grace, the others get the same successor).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn refresh(
    state: &AppState,
    request: RefreshRequest,
    now: i64,
) -> Result<RefreshResponse, ServiceError> {
    let token = request.refresh;
    let payload = state.tokens.decode(&token, now)?;
    match family_of(state, &payload) {
        Some(family_id) => refresh_in_family(state, &token, &payload, family_id, now).await,
        None => refresh_alone(state, &token, &payload, now).await,
    }
}

/// A refresh as simplejwt does it: blacklist, then rotation (when configured).
#[tracing::instrument(level = "debug", skip_all)]
async fn refresh_alone(
    state: &AppState,
    token: &str,
    payload: &Payload,
    now: i64,
) -> Result<RefreshResponse, ServiceError> {
    let settings = state.tokens.settings();
    checked_refresh_token(state, payload).await?;
    let user_id = token_user(state, payload).await?;
    let access = mint(&state.tokens, TokenType::Access, payload, now, i64::MAX)?;
    state.view.learn_fresh_token(&access.jti);
    if !settings.rotate_refresh_tokens {
        return Ok(RefreshResponse {
            access: access.token,
            refresh: None,
        });
    }
    let rotated = mint(&state.tokens, TokenType::Refresh, payload, now, i64::MAX)?;
    let old = presented(payload, token, user_id, now);
    let new = issued(&rotated, user_id, None, now);
    let blacklist_old = settings.blacklist_after_rotation;
    let old_jti = old.jti.clone();
    let outcome = state
        .db
        .run(move |conn| token_store::rotate(conn, &old, &new, blacklist_old, datetime(now)))
        .await?;
    match outcome {
        Revocation::Revoked => {
            if blacklist_old {
                state.view.learn(&Event::Token(old_jti));
            }
            Ok(RefreshResponse {
                access: access.token,
                refresh: Some(rotated.token),
            })
        }
        Revocation::AlreadyRevoked => Err(Refusal::Blacklisted.into()),
    }
}

/// A refresh decided by the token's family: rotate the current token, repeat a retry within
/// the grace, and revoke the family on any other use.
#[tracing::instrument(level = "debug", skip_all)]
async fn refresh_in_family(
    state: &AppState,
    token: &str,
    payload: &Payload,
    family_id: String,
    now: i64,
) -> Result<RefreshResponse, ServiceError> {
    payload.verify(Some(TokenType::Refresh))?;
    let user_id = token_user(state, payload).await?;
    let jti = payload.jti.clone().unwrap_or_default();
    let mut family = load_family(state, &family_id).await?;
    // A rotation that lost a race reads the family again and decides once more.
    for _ in 0..2 {
        if family.revoked_at.is_some() {
            return Err(Refusal::Blacklisted.into());
        }
        let session_end = family.expires_at.and_utc().timestamp();
        if session_end <= now {
            return Err(Refusal::Expired.into());
        }
        let access = mint(&state.tokens, TokenType::Access, payload, now, session_end)?;
        if jti == family.current_jti {
            let rotated = mint(&state.tokens, TokenType::Refresh, payload, now, session_end)?;
            let old = presented(payload, token, user_id, now);
            let new = issued(&rotated, user_id, Some(family_id.clone()), now);
            let id = family_id.clone();
            let outcome = state
                .db
                .run(move |conn| families::rotate(conn, &id, &old, &new, datetime(now)))
                .await?;
            if outcome == Rotation::Rotated {
                state.view.learn(&Event::Token(jti));
                state.view.learn_fresh_token(&access.jti);
                return Ok(RefreshResponse {
                    access: access.token,
                    refresh: Some(rotated.token),
                });
            }
            family = load_family(state, &family_id).await?;
        } else if is_retry(state, &family, &jti, now) {
            let current = family.clone();
            let successor = state
                .db
                .run(move |conn| families::current_token(conn, &current))
                .await?
                .ok_or(Refusal::Blacklisted)?;
            state.view.learn_fresh_token(&access.jti);
            return Ok(RefreshResponse {
                access: access.token,
                refresh: Some(successor),
            });
        } else {
            revoke_family(state, &family_id, Reason::Reuse, now).await?;
            tracing::warn!(
                user_id = family.user_id,
                family_id = %family_id,
                "refresh_token_reuse_detected"
            );
            return Err(Refusal::Blacklisted.into());
        }
    }
    Err(Refusal::Blacklisted.into())
}

/// Why the session of `refresh`, a refresh token the session endpoints just refused, ended,
/// when it can be told: the family's revocation reason, its lifetime, or the account's
/// deactivation. `None` for a token that names no session this server knows (garbage, forged,
/// merely expired, or from before families).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn session_end(
    state: &AppState,
    refresh: &str,
    now: i64,
) -> Result<Option<SessionEnd>, ServiceError> {
    let payload = match state.tokens.decode(refresh, now) {
        Ok(payload) => payload,
        // A session's last refresh token expires with the session: read it as of just before
        // its expiry (its signature checked all the same) to tell whether the session did.
        Err(Refusal::Expired) => {
            match expiry_of(refresh).and_then(|exp| state.tokens.decode(refresh, exp - 1).ok()) {
                Some(payload) => payload,
                None => return Ok(None),
            }
        }
        Err(_) => return Ok(None),
    };
    let user = match user_id(&payload, &state.tokens.settings().user_id_claim) {
        Some(UserIdClaim::Id(id)) => state.view.user(id).await?,
        _ => None,
    };
    if user.as_ref().is_some_and(|user| !user.is_active) {
        return Ok(Some(SessionEnd::Deactivated));
    }
    let Some(family_id) = family_of(state, &payload) else {
        return Ok(None);
    };
    let id = family_id.clone();
    let Some(family) = state.db.run(move |conn| families::find(conn, &id)).await? else {
        return Ok(None);
    };
    let reason = match family.reason.as_deref().and_then(Reason::from_name) {
        Some(Reason::Reuse) => SessionEnd::Replayed,
        Some(Reason::Logout) => SessionEnd::LoggedOut,
        Some(Reason::LogoutAll) => SessionEnd::LoggedOutEverywhere,
        Some(Reason::PasswordChange) => SessionEnd::PasswordChanged,
        None if family.expires_at.and_utc().timestamp() <= now => SessionEnd::SessionTooOld,
        // A family left alone whose user's sessions were all ended: only a deactivation does
        // that (logging out everywhere and password changes revoke the families too).
        None if user.is_some_and(|user| user.ended_sessions_include(payload.iat)) => {
            SessionEnd::Deactivated
        }
        None => return Ok(None),
    };
    Ok(Some(reason))
}

/// When the session of `refresh` ends: its own expiry, and its family's, which rotation never
/// extends. `refresh` is a token this server has just issued or accepted, so its claims are
/// read as they stand (a one-second lifetime may have run out since).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn session_times(state: &AppState, refresh: &str) -> Result<(i64, i64), ServiceError> {
    let claims = unchecked_claims(refresh).ok_or_else(|| {
        ServiceError::internal(std::io::Error::other(
            "a token of this server is unreadable",
        ))
    })?;
    let refresh_expires = claims["exp"].as_i64().unwrap_or_default();
    let family_id = claims["family_id"].as_str().map(str::to_owned);
    let Some(family_id) = family_id.filter(|_| state.tokens.settings().refresh_reuse_detection)
    else {
        return Ok((refresh_expires, refresh_expires));
    };
    let family = load_family(state, &family_id).await?;
    Ok((refresh_expires, family.expires_at.and_utc().timestamp()))
}

/// The claims of `token`, read without checking anything.
fn unchecked_claims(token: &str) -> Option<serde_json::Value> {
    let parts = claims::compact::split(token).ok()?;
    serde_json::from_slice(&parts.payload).ok()
}

/// The `exp` a token's payload states, read without checking anything.
fn expiry_of(token: &str) -> Option<i64> {
    unchecked_claims(token)?["exp"].as_i64()
}

/// Whether presenting `jti` is a client retrying the rotation that made the family's current
/// token: it is the token just before, and within the grace period.
fn is_retry(state: &AppState, family: &Family, jti: &str, now: i64) -> bool {
    let grace = state.tokens.settings().refresh_reuse_grace.as_secs() as i64;
    let rotated_at = family.rotated_at.map(|at| at.and_utc().timestamp());
    grace > 0
        && family.previous_jti.as_deref() == Some(jti)
        && rotated_at.is_some_and(|at| now - at <= grace)
}

/// `POST /api/token/verify/`: any valid token, access or refresh. A revoked token (blacklisted,
/// denied, of a revoked family, or issued before its user's sessions were all ended) is a 400
/// `non_field_errors` when blacklist-after-rotation is on, as simplejwt answers for a
/// blacklisted one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn verify(
    state: &AppState,
    request: VerifyRequest,
    now: i64,
) -> Result<(), ServiceError> {
    let payload = state.tokens.decode(&request.token, now)?;
    payload.verify(None)?;
    if state.tokens.settings().blacklist_after_rotation
        && (authenticate::is_revoked(state, &payload).await?
            || sessions_ended_since(state, &payload).await?)
    {
        return Err(ServiceError::field(
            "non_field_errors",
            Refusal::Blacklisted.to_string(),
        ));
    }
    Ok(())
}

/// Whether every session of the token's user was ended (log out everywhere, password change,
/// deactivation) after the token was issued: a revocation, which verify reports as one.
async fn sessions_ended_since(state: &AppState, payload: &Payload) -> Result<bool, ServiceError> {
    let Some(UserIdClaim::Id(id)) = user_id(payload, &state.tokens.settings().user_id_claim) else {
        return Ok(false);
    };
    let user = state.view.user(id).await?;
    Ok(user.is_some_and(|user| user.ended_sessions_include(payload.iat)))
}

/// `POST /api/token/blacklist/`: revokes a refresh token (log out): its whole family when it
/// has one. Revoking it again is "Token is blacklisted"; a token of a user deleted since is
/// revoked all the same. A valid access token of the same user given as well (`access`, from
/// the `Authorization` header) is refused from then on; another user's is left alone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn blacklist(
    state: &AppState,
    request: RefreshRequest,
    access: Option<&str>,
    now: i64,
) -> Result<(), ServiceError> {
    let token = request.refresh;
    let payload = state.tokens.decode(&token, now)?;
    if let Some(access) = access {
        let owner = user_id(&payload, &state.tokens.settings().user_id_claim);
        let owner = owner.unwrap_or(UserIdClaim::Unusable);
        deny_access_token_of(state, access, Some(owner), now).await?;
    }
    if let Some(family_id) = family_of(state, &payload) {
        payload.verify(Some(TokenType::Refresh))?;
        let family = load_family(state, &family_id).await?;
        if family.revoked_at.is_some()
            || !revoke_family(state, &family_id, Reason::Logout, now).await?
        {
            return Err(Refusal::Blacklisted.into());
        }
        return Ok(());
    }
    checked_refresh_token(state, &payload).await?;
    let user_id = match user_id(&payload, &state.tokens.settings().user_id_claim) {
        Some(UserIdClaim::Id(id)) => Some(id),
        _ => None,
    };
    let row = presented(&payload, &token, user_id, now);
    let jti = row.jti.clone();
    let outcome = state
        .db
        .run(move |conn| token_store::blacklist(conn, &row, datetime(now)))
        .await?;
    match outcome {
        Revocation::Revoked => {
            state.view.learn(&Event::Token(jti));
            Ok(())
        }
        Revocation::AlreadyRevoked => Err(Refusal::Blacklisted.into()),
    }
}

/// Refuses a valid access token from now on (until its own expiry); anything that is not a
/// valid access token is left alone.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn deny_access_token(
    state: &AppState,
    access: &str,
    now: i64,
) -> Result<(), ServiceError> {
    deny_access_token_of(state, access, None, now).await
}

/// [`deny_access_token`], when `owner` is `None` or names the access token's own user: a
/// logging-out client may revoke its own access token, not another user's.
async fn deny_access_token_of(
    state: &AppState,
    access: &str,
    owner: Option<UserIdClaim>,
    now: i64,
) -> Result<(), ServiceError> {
    let Ok(payload) = state.tokens.decode(access, now) else {
        return Ok(());
    };
    if payload.verify(Some(TokenType::Access)).is_err() {
        return Ok(());
    }
    let user = user_id(&payload, &state.tokens.settings().user_id_claim);
    if owner.is_some_and(|owner| owner == UserIdClaim::Unusable || Some(owner) != user) {
        return Ok(());
    }
    let denied = DeniedAccessToken {
        jti: payload.jti.clone().unwrap_or_default(),
        user_id: match user {
            Some(UserIdClaim::Id(id)) => Some(id),
            _ => None,
        },
        expires_at: datetime(payload.exp.unwrap_or(now)),
        denied_at: datetime(now),
    };
    let event = Event::Token(denied.jti.clone());
    state
        .db
        .run(move |conn| token_store::deny_access(conn, &denied))
        .await?;
    state.view.learn(&event);
    Ok(())
}

/// Revokes a family (and blacklists its tokens); tells this process's view at once and the
/// other processes through the database. Returns whether this call revoked it.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_family(
    state: &AppState,
    family_id: &str,
    reason: Reason,
    now: i64,
) -> Result<bool, ServiceError> {
    let id = family_id.to_owned();
    let revoked = state
        .db
        .run(move |conn| families::revoke(conn, &id, reason, datetime(now)))
        .await?;
    state.view.learn(&Event::Family(family_id.to_owned()));
    Ok(revoked)
}

/// Ends every session of a user: every family revoked, every refresh token blacklisted, and
/// every token issued before `now` refused, of a family or not.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn revoke_all_sessions(
    state: &AppState,
    user_id: i32,
    reason: Reason,
    now: i64,
) -> Result<(), ServiceError> {
    let revoked = state
        .db
        .run(move |conn| families::revoke_all_of_user(conn, user_id, reason, datetime(now)))
        .await?;
    state.view.learn(&Event::User(user_id));
    for family_id in revoked {
        state.view.learn(&Event::Family(family_id));
    }
    Ok(())
}

/// The family a refresh token belongs to, when reuse detection is on and the token has one.
/// A token from before (or without) families is refreshed as simplejwt would.
fn family_of(state: &AppState, payload: &Payload) -> Option<String> {
    if !state.tokens.settings().refresh_reuse_detection {
        return None;
    }
    payload.family_id.clone()
}

async fn load_family(state: &AppState, family_id: &str) -> Result<Family, ServiceError> {
    let id = family_id.to_owned();
    state
        .db
        .run(move |conn| families::find(conn, &id))
        .await?
        .ok_or_else(|| Refusal::Blacklisted.into())
}

/// simplejwt's `RefreshToken(token)` after decoding: not blacklisted, then verified as a
/// refresh token.
async fn checked_refresh_token(state: &AppState, payload: &Payload) -> Result<(), ServiceError> {
    if let Some(jti) = &payload.jti
        && state.view.is_token_revoked(jti).await?
    {
        return Err(Refusal::Blacklisted.into());
    }
    payload.verify(Some(TokenType::Refresh))?;
    Ok(())
}

/// The user a refresh token names, who must exist, be active and (with
/// `JWT_CHECK_REVOKE_TOKEN`) have the password the token was issued under. A token naming no
/// user is refreshed without one, as in simplejwt.
async fn token_user(state: &AppState, payload: &Payload) -> Result<Option<i32>, ServiceError> {
    let settings = state.tokens.settings();
    let id = match user_id(payload, &settings.user_id_claim) {
        None => return Ok(None),
        Some(UserIdClaim::Unusable) => return Err(ServiceError::NoActiveAccountForToken),
        Some(UserIdClaim::Id(id)) => id,
    };
    let user = state
        .view
        .user(id)
        .await?
        .filter(|user| user.is_active)
        .ok_or(ServiceError::NoActiveAccountForToken)?;
    if user.ended_sessions_include(payload.iat) {
        return Err(Refusal::Blacklisted.into());
    }
    if settings.check_revoke_token && !carries_password(payload, &user.password) {
        return Err(ServiceError::PasswordChangedSinceLogin);
    }
    Ok(Some(id))
}

fn mint(
    tokens: &TokenCodec,
    token_type: TokenType,
    carried: &Payload,
    now: i64,
    session_end: i64,
) -> Result<MintedToken, ServiceError> {
    tokens
        .mint(token_type, carried, now, session_end)
        .map_err(ServiceError::internal)
}

/// The row for a token this server just minted.
fn issued(
    token: &MintedToken,
    user_id: Option<i32>,
    family_id: Option<String>,
    now: i64,
) -> OutstandingToken {
    OutstandingToken {
        user_id,
        jti: token.jti.clone(),
        token: token.token.clone(),
        created_at: Some(datetime(now)),
        expires_at: datetime(token.exp),
        family_id,
    }
}

/// The row for a verified refresh token a client presented (it may never have been recorded,
/// if another database issued it).
fn presented(payload: &Payload, token: &str, user_id: Option<i32>, now: i64) -> OutstandingToken {
    OutstandingToken {
        user_id,
        jti: payload.jti.clone().unwrap_or_default(),
        token: token.trim().to_owned(),
        created_at: Some(datetime(now)),
        expires_at: datetime(payload.exp.unwrap_or(now)),
        family_id: payload.family_id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user_whose_sessions_ended_at(second: Option<i64>) -> User {
        User {
            id: 1,
            username: "ada".into(),
            password: String::new(),
            is_active: true,
            is_staff: false,
            date_joined: datetime(0),
            last_login: None,
            sessions_revoked_at: second.map(datetime),
        }
    }

    #[test]
    fn a_session_waits_out_only_the_second_its_users_sessions_ended_in() {
        let now = 1_800_000_000;
        let wait = |ended| second_to_wait_out(&user_whose_sessions_ended_at(ended), now);

        assert_eq!(wait(None), None);
        assert_eq!(wait(Some(now - 1)), None);
        assert_eq!(wait(Some(now)), Some(now));
        // Another replica's clock a little ahead: wait for it too.
        assert_eq!(wait(Some(now + 1)), Some(now + 1));
        // Far ahead: waiting would not help, so it does not.
        assert_eq!(wait(Some(now + 60)), None);
    }
}
