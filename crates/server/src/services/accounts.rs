//! Accounts: the checks on a new username and password, and creating the user. Behind
//! `POST /api/register/` ([`register`]) and the `createuser` command ([`create_user`]).

use chrono::NaiveDateTime;
use claims::{Credentials, PasswordChange, RegisteredUser, TokenPair};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::datetime;
use crate::auth::password::{PasswordHasher, password_problems};
use crate::db::events::Event;
use crate::db::families::{self, Reason};
use crate::db::users::{self, NewUser, User};
use crate::db::{AnyConnection, DbError};
use crate::services::tokens::start_session;
use crate::services::{AppState, FieldErrors, ServiceError};

/// Django's `AbstractUser.username` maximum length.
pub const MAX_USERNAME_CHARS: usize = 150;

/// The message for a username that exists already.
pub const USERNAME_TAKEN: &str = "A user with that username already exists.";

/// Django's message for a wrong old password.
pub const OLD_PASSWORD_WRONG: &str =
    "Your old password was entered incorrectly. Please enter it again.";

/// `POST /api/register/`: creates an account at `now`. Validation and the taken-username check
/// come first, then bcrypt (on the hashing pool, holding no connection), then the insert.
///
/// Like Django's registration forms, it says when a username is taken, and it answers that
/// before spending time on bcrypt: registration reveals which usernames exist, by its words and
/// by its timing. Logging in does not (see [`crate::services::tokens::obtain_pair`]).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn register(
    state: &AppState,
    credentials: Credentials<SecretString>,
    now: i64,
) -> Result<RegisteredUser, ServiceError> {
    let Credentials { username, password } = credentials;
    let username = normalize_username(&username);
    let problems = new_account_problems(&username, password.expose_secret());
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    let name = username.clone();
    if state
        .db
        .run(move |conn| users::find_by_username(conn, &name))
        .await?
        .is_some()
    {
        return Err(username_taken());
    }
    let hash = state
        .hash(move |hasher| hasher.hash(password.expose_secret()))
        .await?
        .map_err(ServiceError::internal)?;
    let user = state
        .db
        .run(move |conn| insert_user(conn, &username, &hash, false, datetime(now)))
        .await
        .map_err(taken_or_failed)?;
    Ok(RegisteredUser {
        id: user.id,
        username: user.username,
    })
}

/// `POST /api/password/change/`: replaces `user`'s password at `now`, as Django's
/// `PasswordChangeForm` does (the old password must be right, the new one pass the password
/// rules; both are reported together). Every session of the user ends (each family revoked,
/// each refresh token blacklisted), and a fresh pair goes on with this one.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn change_password(
    state: &AppState,
    user: &User,
    request: PasswordChange<SecretString>,
    now: i64,
) -> Result<TokenPair, ServiceError> {
    let PasswordChange {
        old_password,
        new_password,
    } = request;
    state.password_change_failures.attempt(user.id, now)?;
    let new_problems = password_problems(new_password.expose_secret(), &user.username);
    let acceptable = new_problems.is_empty();
    let current = user.password.clone();
    let (old_is_right, new_hash) = state
        .hash(move |hasher| {
            let right = hasher.verify(old_password.expose_secret(), &current);
            let hash = (right && acceptable).then(|| hasher.hash(new_password.expose_secret()));
            (right, hash)
        })
        .await?;
    if old_is_right {
        state.password_change_failures.succeed(&user.id);
    }
    let mut problems: FieldErrors = Vec::new();
    if !old_is_right {
        problems.push((
            "old_password".to_owned(),
            vec![OLD_PASSWORD_WRONG.to_owned()],
        ));
    }
    if !acceptable {
        problems.push(("new_password".to_owned(), new_problems));
    }
    let Some(new_hash) = new_hash else {
        return Err(ServiceError::Invalid(problems));
    };
    let new_hash = new_hash.map_err(ServiceError::internal)?;
    let (user_id, checked, hash) = (user.id, user.password.clone(), new_hash.clone());
    // Sessions end as the new password is written, not when the request came in: a log in
    // that recorded its session while bcrypt ran here ends too, its access token included.
    let ended_at = state.clock.now().max(now);
    let revoked = state
        .db
        .run(move |conn| set_password_ending_sessions(conn, user_id, &checked, &hash, ended_at))
        .await?
        // Another change came first: the old password checked here is no longer the user's.
        .ok_or_else(|| {
            ServiceError::Invalid(vec![(
                "old_password".to_owned(),
                vec![OLD_PASSWORD_WRONG.to_owned()],
            )])
        })?;
    state.view.learn(&Event::User(user.id));
    for family in revoked {
        state.view.learn(&Event::Family(family));
    }
    // The pair this session goes on with is issued after the second the others ended in.
    let updated = User {
        password: new_hash,
        sessions_revoked_at: Some(datetime(ended_at)),
        ..user.clone()
    };
    start_session(state, &updated, ended_at).await
}

/// Replaces the password hash `old_hash` with `new_hash` and ends every session of the user,
/// in one transaction; returns the families it revoked, or `None` (nothing written) when the
/// hash is no longer `old_hash`. For the API and the `changepassword` command.
pub fn set_password_ending_sessions(
    conn: &mut AnyConnection,
    user_id: i32,
    old_hash: &str,
    new_hash: &str,
    now: i64,
) -> Result<Option<Vec<String>>, DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        if !users::set_password(conn, user_id, old_hash, new_hash)? {
            return Ok(None);
        }
        families::revoke_all_of_user(conn, user_id, Reason::PasswordChange, datetime(now)).map(Some)
    })
}

/// Deactivates a user and ends every session of theirs, in one transaction. While inactive,
/// their tokens are refused as simplejwt refuses them ("User is inactive"); reactivating
/// (`users::set_active`) does not bring those sessions back: every token issued before the
/// deactivation, or in its second, stays refused, and the user logs in again. (simplejwt lets a reactivated
/// user's tokens work again.)
pub fn deactivate(conn: &mut AnyConnection, user_id: i32, now: i64) -> Result<(), DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        users::set_active(conn, user_id, false)?;
        users::end_sessions(conn, user_id, datetime(now))
    })
}

/// Checks, hashes and inserts in one go, holding the connection throughout: for the
/// `createuser` command. The API spreads these steps out so that hashing holds no connection.
pub fn create_user(
    conn: &mut AnyConnection,
    hasher: &PasswordHasher,
    credentials: &Credentials<SecretString>,
    is_staff: bool,
    now: i64,
) -> Result<User, ServiceError> {
    let Credentials { username, password } = credentials;
    let username = &normalize_username(username);
    let problems = new_account_problems(username, password.expose_secret());
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    if users::find_by_username(conn, username)?.is_some() {
        return Err(username_taken());
    }
    let hash = hasher
        .hash(password.expose_secret())
        .map_err(ServiceError::internal)?;
    insert_user(conn, username, &hash, is_staff, datetime(now)).map_err(taken_or_failed)
}

/// Inserts a user whose password is already hashed. When two requests race for one username,
/// the unique index lets one in and refuses the other ([`DbError::UniqueViolation`]).
pub fn insert_user(
    conn: &mut AnyConnection,
    username: &str,
    password_hash: &str,
    is_staff: bool,
    date_joined: NaiveDateTime,
) -> Result<User, DbError> {
    users::insert(
        conn,
        &NewUser {
            username,
            password: password_hash,
            is_staff,
            date_joined,
        },
    )
}

/// A refused insert of a user: the username was taken a moment ago (the only unique column).
fn taken_or_failed(error: DbError) -> ServiceError {
    match error {
        DbError::UniqueViolation(_) => username_taken(),
        other => other.into(),
    }
}

/// Django's `UnicodeUsernameValidator` and length limit: the messages for `username`.
pub fn username_problems(username: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let allowed = |c: char| c.is_alphanumeric() || matches!(c, '@' | '.' | '+' | '-' | '_');
    if !username.chars().all(allowed) {
        problems.push(
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
                .to_owned(),
        );
    }
    if username.chars().count() > MAX_USERNAME_CHARS {
        problems.push(format!(
            "Ensure this field has no more than {MAX_USERNAME_CHARS} characters."
        ));
    }
    problems
}

/// Django's `normalize_username`: the NFKC form, so that `ａｄｍｉｎ` (fullwidth) and `ﬁona` (a
/// ligature) are `admin` and `fiona`, and cannot be registered beside them. Applied when an
/// account is made, not at log in (Django does not normalize there either).
pub fn normalize_username(username: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    username.nfkc().collect()
}

/// The field errors of a new account's username and password (empty when both are fine).
pub fn new_account_problems(username: &str, password: &str) -> FieldErrors {
    let mut fields: FieldErrors = Vec::new();
    let username_errors = username_problems(username);
    if !username_errors.is_empty() {
        fields.push(("username".to_owned(), username_errors));
    }
    let password_errors = password_problems(password, username);
    if !password_errors.is_empty() {
        fields.push(("password".to_owned(), password_errors));
    }
    fields
}

fn username_taken() -> ServiceError {
    ServiceError::field("username", USERNAME_TAKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalized_to_nfkc_as_django_does() {
        assert_eq!(normalize_username("ａｄｍｉｎ"), "admin");
        assert_eq!(normalize_username("ﬁona"), "fiona");
        assert_eq!(normalize_username("Ada"), "Ada");
    }

    #[test]
    fn usernames_take_letters_digits_and_djangos_punctuation() {
        assert!(username_problems("ada.lovelace+1@example-org_x").is_empty());
        assert!(username_problems("Zoë").is_empty());
        assert_eq!(
            username_problems("ada lovelace"),
            vec![
                "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
            ]
        );
    }

    #[test]
    fn usernames_are_at_most_150_characters() {
        assert!(username_problems(&"a".repeat(150)).is_empty());
        assert_eq!(
            username_problems(&"a".repeat(151)),
            vec!["Ensure this field has no more than 150 characters."]
        );
    }
}
