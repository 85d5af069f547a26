//! Why a service said no. The messages are simplejwt's and Django's; how each becomes an HTTP
//! answer is decided once, in [`crate::http::error`].

use claims::Refusal;

use crate::db::DbError;

/// Field name to messages, in the order the fields were checked (DRF keeps that order).
pub type FieldErrors = Vec<(String, Vec<String>)>;

/// A failure of one of the flows behind the endpoints.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A token sent to a token endpoint was refused.
    #[error("{0}")]
    TokenRefused(Refusal),
    /// The access token of a request to a protected endpoint was refused.
    #[error("{}", claims::NOT_VALID_FOR_ANY_TOKEN_TYPE)]
    AccessTokenRefused(Refusal),
    /// The access token names no user.
    #[error("{}", Refusal::NoUserId)]
    NoUserIdentification,
    /// The access token's user does not exist.
    #[error("{}", Refusal::UserNotFound)]
    UserNotFound,
    /// The access token's user is inactive.
    #[error("{}", Refusal::UserInactive)]
    UserInactive,
    /// The token was issued before the user's password changed (`JWT_CHECK_REVOKE_TOKEN`).
    #[error("{}", Refusal::PasswordChanged)]
    PasswordChanged,
    /// Log in: a wrong password, an unknown user and an inactive user alike.
    #[error("No active account found with the given credentials")]
    NoActiveAccount,
    /// Refresh: the token's user is gone or inactive.
    #[error("{}", Refusal::NoActiveAccount)]
    NoActiveAccountForToken,
    /// Refresh with `JWT_CHECK_REVOKE_TOKEN`: the user's password changed since the refresh
    /// token was issued (simplejwt's `password_changed` on its main branch).
    #[error("{}", Refusal::PasswordChanged)]
    PasswordChangedSinceLogin,
    /// Fields that failed validation.
    #[error("invalid fields")]
    Invalid(FieldErrors),
    /// Too many failed password checks: try again in `retry_after` seconds.
    #[error("Request was throttled.")]
    Throttled {
        /// Seconds until the limit lifts.
        retry_after: u64,
    },
    /// Too many passwords are waiting to be checked: try again in a moment.
    #[error("the password hashing queue is full")]
    Overloaded,
    /// The database cannot be reached right now.
    #[error("the database is unavailable")]
    Unavailable(#[source] DbError),
    /// A bug: kept with its cause for the log, never shown to a client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ServiceError {
    /// A validation failure of one field.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![(name.to_owned(), vec![message.into()])])
    }

    /// An internal error from any error value.
    pub fn internal(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(error))
    }
}

impl From<DbError> for ServiceError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::Unavailable { .. } => Self::Unavailable(error),
            // A constraint a flow does not handle where it can happen, or a failed query, is a
            // bug: a 500, logged with its cause, rather than a misleading "try again later".
            other => Self::internal(other),
        }
    }
}

impl From<crate::auth::throttle::Throttled> for ServiceError {
    fn from(throttled: crate::auth::throttle::Throttled) -> Self {
        Self::Throttled {
            retry_after: throttled.retry_after,
        }
    }
}

impl From<Refusal> for ServiceError {
    fn from(error: Refusal) -> Self {
        Self::TokenRefused(error)
    }
}
