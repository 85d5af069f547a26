//! Accounts: the checks on a new username and password, and creating the user. Behind
//! `POST /api/register/` ([`register`]) and the `createuser` command ([`create_user`]).

use chrono::NaiveDateTime;
use claims::{Credentials, RegisteredUser};

use crate::auth::datetime;
use crate::auth::password::{PasswordHasher, password_problems};
use crate::db::users::{self, NewUser, User};
use crate::db::{AnyConnection, DbError};
use crate::services::{AppState, FieldErrors, ServiceError};

/// Django's `AbstractUser.username` maximum length.
pub const MAX_USERNAME_CHARS: usize = 150;

/// The message for a username that exists already.
pub const USERNAME_TAKEN: &str = "A user with that username already exists.";

/// `POST /api/register/`: creates an account at `now`. Validation and the taken-username check
/// come first, then bcrypt (on the hashing pool, holding no connection), then the insert.
///
/// Like Django's registration forms, it says when a username is taken, and it answers that
/// before spending time on bcrypt: registration reveals which usernames exist, by its words and
/// by its timing. Logging in does not (see [`crate::services::tokens::obtain_pair`]).
pub async fn register(
    state: &AppState,
    credentials: Credentials,
    now: i64,
) -> Result<RegisteredUser, ServiceError> {
    let Credentials { username, password } = credentials;
    let problems = new_account_problems(&username, &password);
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
        .hash(move |hasher| hasher.hash(&password))
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

/// Checks, hashes and inserts in one go, holding the connection throughout: for the
/// `createuser` command. The API spreads these steps out so that hashing holds no connection.
pub fn create_user(
    conn: &mut AnyConnection,
    hasher: &PasswordHasher,
    credentials: &Credentials,
    is_staff: bool,
    now: i64,
) -> Result<User, ServiceError> {
    let Credentials { username, password } = credentials;
    let problems = new_account_problems(username, password);
    if !problems.is_empty() {
        return Err(ServiceError::Invalid(problems));
    }
    if users::find_by_username(conn, username)?.is_some() {
        return Err(username_taken());
    }
    let hash = hasher.hash(password).map_err(ServiceError::internal)?;
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
