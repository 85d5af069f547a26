//! How guessable an HMAC key is (RFC 8725 §3.5). Anyone holding one token can try keys against
//! it offline, as fast as their hardware computes HMACs, and they try the likely keys first:
//! words, `1234`, `abcd`, years, repeats. So a key is scored by the cheapest way to spell it
//! from those pieces, the way password-strength estimators such as zxcvbn score passwords, and
//! refused below [`MIN_KEY_BITS`].
//!
//! It is an estimate, not a proof: it knows Django's 19,640 common passwords and the words
//! keys are made of (`secret`, `jwt`, `signing`, ...), not every English word, name, keyboard
//! walk or letter-for-digit swap. A key it passes can still be weak; a random one never fails.

use crate::auth::password::common_password_rank;

/// The fewest estimated bits of entropy accepted in an HMAC key. 32 random bytes, as
/// `openssl rand -hex 32` or `openssl rand -base64 32` write them, score over 170 (the estimate
/// counts a character by its class, so it undercounts random keys; 16 random bytes can fall
/// short).
pub const MIN_KEY_BITS: f64 = 128.0;

/// Keys published as examples in documentation and tutorials, which a guesser tries first:
/// jwt.io's default HS256 secret, FastAPI's documentation's key, and the passphrase of xkcd's
/// "password strength" (the key look-alike of this book's sample password).
const PUBLISHED_KEYS: &[&str] = &[
    "a-string-secret-at-least-256-bits-long",
    "your-256-bit-secret",
    "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    "correct-horse-battery-staple-correct-horse",
];

/// The words people build keys from, which a guesser tries right after the common passwords.
const KEY_WORDS: &[&str] = &[
    "api",
    "app",
    "auth",
    "change",
    "changeme",
    "default",
    "demo",
    "dev",
    "development",
    "django",
    "example",
    "flask",
    "hmac",
    "insecure",
    "jwt",
    "key",
    "keys",
    "local",
    "my",
    "please",
    "private",
    "prod",
    "production",
    "rails",
    "sample",
    "secret",
    "secrets",
    "server",
    "sign",
    "signing",
    "staging",
    "test",
    "testing",
    "tests",
    "token",
    "tokens",
    "your",
];

// Longer than this, only the start is scored: the scoring is cubic in the length, and a key
// whose first 256 characters are guessable is guessable.
const SCORED_CHARS: usize = 256;

/// Why a key of enough length could still be guessed, if it could.
pub fn guessable(key: &str) -> Option<String> {
    if PUBLISHED_KEYS.contains(&key) {
        return Some("was published as an example, so everyone has it".into());
    }
    let chars: Vec<char> = key.chars().collect();
    let repeats = (1..=chars.len() / 2).any(|period| {
        chars.len().is_multiple_of(period)
            && chars
                .iter()
                .enumerate()
                .all(|(i, c)| *c == chars[i % period])
    });
    if repeats {
        return Some("repeats a shorter pattern".into());
    }
    let mut distinct = chars.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 10 {
        return Some("uses fewer than 10 different characters".into());
    }
    let bits = estimated_bits(key);
    (bits < MIN_KEY_BITS).then(|| {
        format!(
            "is estimated at {bits:.0} bits, fewer than {MIN_KEY_BITS:.0} (common words, runs \
             such as 1234 or abcd, years and repeats are cheap to guess)"
        )
    })
}

/// The estimated bits an attacker must guess to find `key`: the cheapest way to write it as
/// a sequence of common words, runs, years, repeats of an earlier part, and single characters
/// (each costing the size of its own class; a separator used before costs one bit).
pub fn estimated_bits(key: &str) -> f64 {
    let chars: Vec<char> = key.chars().take(SCORED_CHARS).collect();
    let lower: Vec<char> = chars.iter().map(char::to_ascii_lowercase).collect();
    // cheapest[i]: the fewest bits that spell the first i characters.
    let mut cheapest = vec![f64::INFINITY; chars.len() + 1];
    cheapest[0] = 0.0;
    for start in 0..chars.len() {
        let so_far = cheapest[start];
        let mut relax = |end: usize, bits: f64| {
            if so_far + bits < cheapest[end] {
                cheapest[end] = so_far + bits;
            }
        };
        relax(start + 1, character_bits(&chars, start));
        for end in start + 2..=chars.len().min(start + 20) {
            if let Some(bits) = word_bits(&lower[start..end]) {
                relax(end, bits);
            }
        }
        let run = run_length(&chars[start..]);
        for end in start + 3..=start + run {
            relax(
                end,
                class_bits(chars[start]) + ((end - start) as f64).log2() + 1.0,
            );
        }
        if let Some(bits) = year_bits(&chars[start..]) {
            relax(start + 4, bits);
        }
        for end in start + 3..=chars.len() {
            if !occurs_before(&chars, start, end) {
                break;
            }
            relax(end, (start as f64).log2() + ((end - start) as f64).log2());
        }
    }
    cheapest[chars.len()]
}

/// A single character: the size of its class, or one bit for a separator seen before.
fn character_bits(chars: &[char], at: usize) -> f64 {
    let c = chars[at];
    if !c.is_alphanumeric() && chars[..at].contains(&c) {
        1.0
    } else {
        class_bits(c)
    }
}

fn class_bits(c: char) -> f64 {
    let class_size: f64 = if c.is_ascii_digit() {
        10.0
    } else if c.is_ascii_alphabetic() {
        26.0
    } else if c.is_ascii() {
        33.0
    } else {
        // Other scripts: a guesser has to pick among many characters.
        1000.0
    };
    class_size.log2()
}

/// A word of the key vocabulary or the common passwords: the log of its rank, plus one bit
/// for its capitalization.
fn word_bits(word: &[char]) -> Option<f64> {
    if !word.iter().all(char::is_ascii_alphabetic) {
        return None;
    }
    let word: String = word.iter().collect();
    let rank = match KEY_WORDS.iter().position(|known| *known == word) {
        Some(_) => KEY_WORDS.len(),
        None if word.len() >= 3 => common_password_rank(&word)?,
        None => return None,
    };
    Some((rank as f64).log2() + 1.0)
}

/// How many characters from the first go up (or down) by one each: `0123`, `abcd`, `zyx`.
fn run_length(chars: &[char]) -> usize {
    let step = |a: char, b: char| b as i64 - a as i64;
    let Some(direction) = chars.get(1).map(|second| step(chars[0], *second)) else {
        return chars.len();
    };
    if direction.abs() != 1 {
        return 1;
    }
    1 + chars
        .windows(2)
        .take_while(|pair| step(pair[0], pair[1]) == direction)
        .count()
}

/// A year from 1900 to 2099 at the start of `chars`: one of 200.
fn year_bits(chars: &[char]) -> Option<f64> {
    let digits: String = chars.get(..4)?.iter().collect();
    let year: u32 = digits.parse().ok()?;
    (digits.chars().all(|c| c.is_ascii_digit()) && (1900..2100).contains(&year))
        .then(|| 200f64.log2())
}

/// Whether `chars[start..end]` also appears starting before `start`.
fn occurs_before(chars: &[char], start: usize, end: usize) -> bool {
    let part = &chars[start..end];
    (0..start).any(|from| chars[from..].starts_with(part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_made_of_common_words_and_runs_are_guessable() {
        for key in [
            "my-super-secret-jwt-signing-key-2024",
            "django-insecure-change-me-in-production-please!",
            "0123456789abcdefghijklmnopqrstuv",
            "correct-horse-battery-staple-correct-horse",
            "password-dragon-monkey-letmein-2026!",
            "Password1Dragon2Monkey3Sunshine4",
        ] {
            let bits = estimated_bits(key);
            assert!(bits < MIN_KEY_BITS, "{key} scored {bits:.0} bits");
            assert!(guessable(key).is_some(), "{key}");
        }
    }

    #[test]
    fn keys_published_as_examples_are_refused_whatever_they_score() {
        assert_eq!(
            guessable("09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7")
                .as_deref(),
            Some("was published as an example, so everyone has it")
        );
        assert!(guessable("a-string-secret-at-least-256-bits-long").is_some());
    }

    #[test]
    fn a_repeated_pattern_and_few_different_characters_are_named_as_such() {
        assert_eq!(
            guessable(&"abcd".repeat(8)).as_deref(),
            Some("repeats a shorter pattern")
        );
        assert_eq!(
            guessable("0101010101010101001010101010101011").as_deref(),
            Some("uses fewer than 10 different characters")
        );
    }

    #[test]
    fn random_keys_pass_with_room_to_spare() {
        use base64::Engine;
        for _ in 0..500 {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            for key in [
                hex::encode(bytes),
                base64::engine::general_purpose::STANDARD.encode(bytes),
            ] {
                assert!(estimated_bits(&key) > 1.3 * MIN_KEY_BITS, "{key}");
                assert_eq!(guessable(&key), None);
            }
        }
    }

    #[test]
    fn the_guess_is_a_lower_bound_of_what_the_characters_alone_would_cost() {
        let key = "Zq7!mW2#rT9$kP4%vB6&nX8*cL3@hJ5^";
        let by_characters: f64 = key.chars().map(class_bits).sum();
        assert!(estimated_bits(key) <= by_characters);
        assert_eq!(guessable(key), None);
    }

    #[test]
    fn a_very_long_key_is_scored_by_its_start_quickly() {
        let key = format!(
            "{}{}",
            "secret-jwt-key-".repeat(20),
            "0123456789abcdef".repeat(10_000)
        );
        assert!(guessable(&key).is_some());
    }
}
