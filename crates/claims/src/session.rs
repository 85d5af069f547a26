//! Why a browser session ended. simplejwt's endpoints answer every revoked refresh token
//! "Token is blacklisted"; the session endpoints (`/api/session/...`) are this project's own,
//! so their 401s add a machine-readable `reason`, which the frontend reads instead of
//! sentences.

use serde::{Deserialize, Serialize};

/// The `reason` of a session endpoint's 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionEnd {
    /// The password was changed (in another browser, or with `server changepassword`).
    PasswordChanged,
    /// The user logged out everywhere.
    LoggedOutEverywhere,
    /// This session logged out (in another tab of the same browser, say).
    LoggedOut,
    /// The session reached its longest life (`JWT_REFRESH_FAMILY_LIFETIME`).
    SessionTooOld,
    /// A refresh token the session had rotated out was presented again: stolen, most likely,
    /// so the whole session was ended.
    Replayed,
    /// The account was deactivated.
    Deactivated,
    /// A reason this reader does not know (a newer server's).
    #[serde(other)]
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_written_in_snake_case_and_unknown_ones_are_read_as_other() {
        assert_eq!(
            serde_json::to_string(&SessionEnd::LoggedOutEverywhere).unwrap(),
            r#""logged_out_everywhere""#
        );
        assert_eq!(
            serde_json::from_str::<SessionEnd>(r#""session_too_old""#).unwrap(),
            SessionEnd::SessionTooOld
        );
        assert_eq!(
            serde_json::from_str::<SessionEnd>(r#""a_reason_of_tomorrow""#).unwrap(),
            SessionEnd::Other
        );
    }
}
