//! Every reason a token is refused, with simplejwt's message and code. The server renders a
//! [`Refusal`] into its answers; a client turns an answer back into one with
//! [`Refusal::of_body`], so no sentence is matched anywhere but here.

use std::fmt;

use crate::ErrorBody;

/// The `detail` of a 401 from a protected endpoint whose access token was refused; the reason
/// itself is in its `messages`.
pub const NOT_VALID_FOR_ANY_TOKEN_TYPE: &str = "Given token not valid for any token type";

/// The `detail` of a 401 for a request that carried no credentials at all (DRF's
/// `NotAuthenticated`).
pub const NOT_AUTHENTICATED: &str = "Authentication credentials were not provided.";

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Not a JWT, a bad signature, another algorithm, a wrong `iss`/`aud`, a future `iat` or
    /// `nbf`, a malformed claim, a `crit` header, an unknown `kid`...
    Invalid,
    /// `exp <= now - leeway`.
    Expired,
    /// An access token where a refresh token is expected, or the reverse.
    WrongType,
    /// No `token_type` claim.
    NoType,
    /// No `jti` claim.
    NoId,
    /// No `exp` claim.
    NoExp,
    /// A revoked token: logged out, rotated out, or of an ended session.
    Blacklisted,
    /// The token names no user (no user id claim).
    NoUserId,
    /// The token's user does not exist.
    UserNotFound,
    /// The token's user is deactivated.
    UserInactive,
    /// The user's password changed after the token was issued (`JWT_CHECK_REVOKE_TOKEN`).
    PasswordChanged,
    /// Refresh: the token's user is gone or deactivated.
    NoActiveAccount,
}

impl Refusal {
    /// Every refusal.
    pub const ALL: [Refusal; 12] = [
        Refusal::Invalid,
        Refusal::Expired,
        Refusal::WrongType,
        Refusal::NoType,
        Refusal::NoId,
        Refusal::NoExp,
        Refusal::Blacklisted,
        Refusal::NoUserId,
        Refusal::UserNotFound,
        Refusal::UserInactive,
        Refusal::PasswordChanged,
        Refusal::NoActiveAccount,
    ];

    /// simplejwt's message, word for word.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Invalid => "Token is invalid",
            Refusal::Expired => "Token is expired",
            Refusal::WrongType => "Token has wrong type",
            Refusal::NoType => "Token has no type",
            Refusal::NoId => "Token has no id",
            Refusal::NoExp => "Token has no 'exp' claim",
            Refusal::Blacklisted => "Token is blacklisted",
            Refusal::NoUserId => "Token contained no recognizable user identification",
            Refusal::UserNotFound => "User not found",
            Refusal::UserInactive => "User is inactive",
            Refusal::PasswordChanged => "The user's password has been changed.",
            Refusal::NoActiveAccount => "No active account found for the given token.",
        }
    }

    /// The code simplejwt's authentication gives it: `token_not_valid` for what is wrong with
    /// the token itself, a code of its own for what is wrong with its user.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::UserNotFound => "user_not_found",
            Refusal::UserInactive => "user_inactive",
            Refusal::PasswordChanged => "password_changed",
            Refusal::NoActiveAccount => "no_active_account",
            _ => "token_not_valid",
        }
    }

    /// The refusal whose message is `message`.
    pub fn from_message(message: &str) -> Option<Refusal> {
        Refusal::ALL
            .into_iter()
            .find(|refusal| refusal.message() == message)
    }

    /// The refusal an error answer of simplejwt's shape gives: the reason in `messages` (a
    /// protected endpoint), in `detail` (the token endpoints' 401s) or in `non_field_errors`
    /// (verify's 400 for a blacklisted token).
    pub fn of_body(body: &ErrorBody) -> Option<Refusal> {
        let reason = body
            .messages
            .as_ref()
            .and_then(|messages| messages.first())
            .map(|message| message.message.as_str())
            .or(body.detail.as_deref())
            .or_else(|| {
                body.fields
                    .get("non_field_errors")
                    .and_then(|errors| errors.first())
                    .map(String::as_str)
            })?;
        Refusal::from_message(reason)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> ErrorBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn every_message_reads_back_as_its_refusal() {
        for refusal in Refusal::ALL {
            assert_eq!(Refusal::from_message(refusal.message()), Some(refusal));
        }
        assert_eq!(Refusal::from_message("Token is Invalid"), None);
    }

    #[test]
    fn a_protected_endpoints_answer_gives_the_reason_in_its_messages() {
        let answer = body(
            r#"{"detail": "Given token not valid for any token type", "code": "token_not_valid",
                "messages": [{"token_class": "AccessToken", "token_type": "access",
                              "message": "Token is expired"}]}"#,
        );
        assert_eq!(Refusal::of_body(&answer), Some(Refusal::Expired));
    }

    #[test]
    fn a_token_endpoints_answer_gives_the_reason_in_its_detail() {
        let answer = body(r#"{"detail": "Token is blacklisted", "code": "token_not_valid"}"#);
        assert_eq!(Refusal::of_body(&answer), Some(Refusal::Blacklisted));
        let answer = body(r#"{"detail": "No active account found for the given token."}"#);
        assert_eq!(Refusal::of_body(&answer), Some(Refusal::NoActiveAccount));
    }

    #[test]
    fn verifys_answer_gives_the_reason_in_its_non_field_errors() {
        let answer = body(r#"{"non_field_errors": ["Token is blacklisted"]}"#);
        assert_eq!(Refusal::of_body(&answer), Some(Refusal::Blacklisted));
    }

    #[test]
    fn an_answer_about_something_else_is_no_refusal() {
        let answer = body(r#"{"detail": "Authentication credentials were not provided."}"#);
        assert_eq!(Refusal::of_body(&answer), None);
        assert_eq!(Refusal::of_body(&body(r#"{"username": ["x"]}"#)), None);
    }

    #[test]
    fn codes_are_simplejwts() {
        assert_eq!(Refusal::Expired.code(), "token_not_valid");
        assert_eq!(Refusal::NoUserId.code(), "token_not_valid");
        assert_eq!(Refusal::UserNotFound.code(), "user_not_found");
        assert_eq!(Refusal::UserInactive.code(), "user_inactive");
        assert_eq!(Refusal::PasswordChanged.code(), "password_changed");
    }
}
