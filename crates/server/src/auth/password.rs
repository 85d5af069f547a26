//! Password hashing with bcrypt, and the checks Django's default password validators make.
//!
//! bcrypt reads at most 72 bytes of a password and most libraries silently drop the rest, so
//! two long passwords sharing their first 72 bytes would be the same password. This module
//! refuses such passwords instead, and uses bcrypt's non-truncating functions.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The most bytes bcrypt uses of a password.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Django's `MinimumLengthValidator` default.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The message for a password bcrypt cannot use in full.
pub const TOO_LONG: &str =
    "This password is too long. It must contain at most 72 bytes (bcrypt's limit).";

// Each password with its rank: the list is ordered from the most common.
static COMMON_PASSWORDS: LazyLock<HashMap<&'static str, usize>> = LazyLock::new(|| {
    include_str!("common_passwords.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .zip(1..)
        .collect()
});

/// Whether `word` (lowercase) is on Django's list of common passwords.
pub fn is_common_password(word: &str) -> bool {
    COMMON_PASSWORDS.contains_key(word)
}

/// Where `word` (lowercase) stands on Django's list of common passwords, 1 for the most
/// common, if it is on it.
pub fn common_password_rank(word: &str) -> Option<usize> {
    COMMON_PASSWORDS.get(word).copied()
}

/// Hashes and checks passwords at one bcrypt cost.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    cost: u32,
    // Checked against when the username is unknown, so that an unknown user costs one bcrypt
    // verification at the current cost, like a wrong password does.
    dummy_hash: String,
}

impl PasswordHasher {
    /// A hasher at `cost` (4 to 31). Computes one hash, so it takes as long as a login.
    pub fn new(cost: u32) -> Result<Self, bcrypt::BcryptError> {
        let dummy_hash = bcrypt::non_truncating_hash("not a real password", cost)?;
        Ok(Self { cost, dummy_hash })
    }

    /// The bcrypt hash of `password`. Fails for passwords over [`MAX_PASSWORD_BYTES`].
    pub fn hash(&self, password: &str) -> Result<String, bcrypt::BcryptError> {
        bcrypt::non_truncating_hash(password, self.cost)
    }

    /// Whether `password` matches `hash`. A malformed hash or an over-long password is a
    /// mismatch.
    pub fn verify(&self, password: &str, hash: &str) -> bool {
        bcrypt::non_truncating_verify(password, hash).unwrap_or(false)
    }

    /// Spends the time of one verification, for a username that does not exist.
    pub fn verify_dummy(&self, password: &str) {
        let _ = self.verify(password, &self.dummy_hash);
    }
}

/// The reasons a new password is refused, in the order Django's validators report them;
/// empty when it is acceptable.
pub fn password_problems(password: &str, username: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if password.len() > MAX_PASSWORD_BYTES {
        problems.push(TOO_LONG.to_owned());
    }
    if password.trim() != password {
        problems.push("The password may not start or end with whitespace.".to_owned());
    }
    if is_too_similar(password, username) {
        problems.push("The password is too similar to the username.".to_owned());
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        problems.push(format!(
            "This password is too short. It must contain at least {MIN_PASSWORD_CHARS} characters."
        ));
    }
    if is_common_password(password.to_lowercase().trim()) {
        problems.push("This password is too common.".to_owned());
    }
    if !password.is_empty() && password.chars().all(|c| c.is_numeric()) {
        problems.push("This password is entirely numeric.".to_owned());
    }
    problems
}

/// Django's `UserAttributeSimilarityValidator` for the username: the password is too similar
/// when its `SequenceMatcher.quick_ratio()` against the username, or against any part of the
/// username split at non-word characters, is 0.7 or more.
fn is_too_similar(password: &str, username: &str) -> bool {
    const MAX_SIMILARITY: f64 = 0.7;
    let password = password.to_lowercase();
    let username = username.to_lowercase();
    let mut parts: Vec<&str> = username
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|part| !part.is_empty())
        .collect();
    parts.push(&username);
    parts.iter().any(|part| {
        let password_len = password.chars().count() as f64;
        let part_len = part.chars().count() as f64;
        // Django skips parts far shorter than the password: they cannot make it guessable.
        let much_shorter =
            password_len >= 10.0 * part_len && part_len < MAX_SIMILARITY / 2.0 * password_len;
        !much_shorter && quick_ratio(&password, part) >= MAX_SIMILARITY
    })
}

/// Python's `difflib.SequenceMatcher(a, b).quick_ratio()`: twice the number of characters the
/// two strings have in common (as multisets), over their total length.
fn quick_ratio(a: &str, b: &str) -> f64 {
    let total = a.chars().count() + b.chars().count();
    if total == 0 {
        return 1.0;
    }
    let mut available: std::collections::HashMap<char, usize> = std::collections::HashMap::new();
    for c in b.chars() {
        *available.entry(c).or_default() += 1;
    }
    let mut matches = 0;
    for c in a.chars() {
        if let Some(count) = available.get_mut(&c).filter(|count| **count > 0) {
            *count -= 1;
            matches += 1;
        }
    }
    2.0 * matches as f64 / total as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_password_has_no_problems() {
        assert!(password_problems("correct horse battery", "alice").is_empty());
    }

    #[test]
    fn short_common_and_numeric_are_reported_in_djangos_order() {
        assert_eq!(
            password_problems("1234567", "alice"),
            vec![
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ]
        );
    }

    #[test]
    fn common_passwords_are_matched_without_regard_to_case() {
        assert_eq!(
            password_problems("PassWord123", "alice"),
            vec!["This password is too common."]
        );
    }

    #[test]
    fn a_password_like_the_username_is_too_similar() {
        assert_eq!(
            password_problems("alice2026!", "alice2026"),
            vec!["The password is too similar to the username."]
        );
        assert_eq!(
            password_problems("smithjohn", "john.smith"),
            vec!["The password is too similar to the username."]
        );
    }

    #[test]
    fn a_long_password_is_not_similar_to_a_short_username_part() {
        assert!(password_problems("al-was-here-in-the-garden", "al").is_empty());
    }

    #[test]
    fn quick_ratio_matches_pythons_difflib() {
        // difflib.SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert!((quick_ratio("abcd", "bcde") - 0.75).abs() < 1e-9);
        assert!((quick_ratio("", "") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn a_password_over_72_bytes_is_refused_not_truncated() {
        let long = "é".repeat(37); // 74 bytes, 37 characters
        assert!(password_problems(&long, "alice").contains(&TOO_LONG.to_owned()));
        let hasher = PasswordHasher::new(4).unwrap();
        assert!(hasher.hash(&long).is_err());
    }

    #[test]
    fn leading_or_trailing_whitespace_is_refused() {
        assert_eq!(
            password_problems(" correct horse battery", "alice"),
            vec!["The password may not start or end with whitespace."]
        );
    }

    #[test]
    fn hashes_verify_and_differ_per_salt() {
        let hasher = PasswordHasher::new(4).unwrap();
        let first = hasher.hash("correct horse battery").unwrap();
        let second = hasher.hash("correct horse battery").unwrap();
        assert_ne!(first, second);
        assert!(first.starts_with("$2b$04$"));
        assert!(hasher.verify("correct horse battery", &first));
        assert!(!hasher.verify("correct horse batterY", &first));
        assert!(!hasher.verify("anything", "not a hash"));
    }
}
