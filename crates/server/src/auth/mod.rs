//! Authentication: passwords, tokens, keys, the flows behind the token endpoints, and the
//! extractor that guards protected endpoints.

pub mod extractor;
pub mod flows;
pub mod hashing;
pub mod keys;
pub mod password;
pub mod tokens;

/// The current time in whole seconds since the Unix epoch, the unit of `exp` and `iat`.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
