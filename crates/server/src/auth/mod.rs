//! Layer 2, the leaves: minting and checking tokens, the keys they are signed with, password
//! rules and hashing. Nothing here knows about HTTP or the database; everything is a plain
//! function of the settings and its input, so it is unit-tested without a server.
//!
//! - [`codec`]: [`TokenCodec`], the settings, rules, keys and cache both halves share;
//!   [`mint`]: how a token is made ([`TokenCodec::mint`]).
//! - [`check`]: how a token is read and checked ([`TokenCodec::decode`], with the `claims`
//!   crate's checks).
//! - [`keys`]: where the signing and verifying keys come from; [`keyset`]: a set of them, named
//!   by `kid`, rotating in a directory, published as JWKS.
//! - [`password`]: Django's password rules and bcrypt; [`hashing`]: the threads bcrypt runs on;
//!   [`throttle`]: the limits on guessing passwords.

pub mod check;
pub mod codec;
pub mod hashing;
pub mod key_strength;
pub mod keys;
pub mod keyset;
pub mod mint;
pub mod password;
pub mod throttle;

pub use check::{UserIdClaim, user_id};
pub use codec::{Payload, TokenCodec};
pub use mint::MintedToken;

use chrono::{DateTime, NaiveDateTime};

/// Seconds since the epoch as a UTC date and time, the form the database stores. Times beyond
/// what a date can hold (they are refused as token claims anyway) become the epoch.
pub fn datetime(seconds: i64) -> NaiveDateTime {
    DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .naive_utc()
}
