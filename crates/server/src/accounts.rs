//! Creating accounts: the checks on a new username and password, and the insert. Used by
//! `POST /api/register/` and by the `createuser` command.

use chrono::Utc;

use crate::auth::password::{PasswordHasher, password_problems};
use crate::db::users::{self, NewUser, User};
use crate::db::{AnyConnection, DbError};
use crate::error::{ApiError, FieldErrors};

/// Django's `AbstractUser.username` maximum length.
pub const MAX_USERNAME_CHARS: usize = 150;

/// The message for a username that exists already.
pub const USERNAME_TAKEN: &str = "A user with that username already exists.";

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username or password was refused; field name to messages.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// bcrypt failed (it does not for a validated password).
    #[error("password hashing failed: {0}")]
    Hashing(#[from] bcrypt::BcryptError),
}

impl From<CreateUserError> for ApiError {
    fn from(error: CreateUserError) -> Self {
        match error {
            CreateUserError::Invalid(fields) => ApiError::Validation(fields),
            CreateUserError::Db(db) => db.into(),
            CreateUserError::Hashing(e) => ApiError::Internal(e.to_string()),
        }
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

/// The error for a taken username.
pub fn username_taken() -> CreateUserError {
    CreateUserError::Invalid(vec![(
        "username".to_owned(),
        vec![USERNAME_TAKEN.to_owned()],
    )])
}

/// Inserts a user whose password is already hashed. When two requests race for one username,
/// the unique index lets one in and the other gets [`username_taken`].
pub fn insert_user(
    conn: &mut AnyConnection,
    username: &str,
    password_hash: &str,
    is_staff: bool,
) -> Result<User, CreateUserError> {
    let new_user = NewUser {
        username,
        password: password_hash,
        is_staff,
        date_joined: Utc::now().naive_utc(),
    };
    match users::insert(conn, &new_user) {
        Err(DbError::UniqueViolation(_)) => Err(username_taken()),
        other => Ok(other?),
    }
}

/// Checks, hashes and inserts in one go, holding the connection throughout: for the
/// `createuser` command. The API spreads these steps out so that hashing holds no connection.
pub fn create_user(
    conn: &mut AnyConnection,
    hasher: &PasswordHasher,
    username: &str,
    password: &str,
    is_staff: bool,
) -> Result<User, CreateUserError> {
    let problems = new_account_problems(username, password);
    if !problems.is_empty() {
        return Err(CreateUserError::Invalid(problems));
    }
    if users::find_by_username(conn, username)?.is_some() {
        return Err(username_taken());
    }
    let hash = hasher.hash(password)?;
    insert_user(conn, username, &hash, is_staff)
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
