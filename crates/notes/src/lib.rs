//! `notes`: a second service that trusts the auth server's tokens through its published keys
//! (JWKS) alone. It has no secret, no users table and no way to ask the auth server anything
//! but `GET /.well-known/jwks.json`; what a token says is all it knows of a caller.
//!
//! - [`settings`]: `AUTH_JWKS_URL`, `AUTH_ISSUER`, `AUTH_AUDIENCE`, ...
//! - [`jwks`]: the auth server's keys, fetched, cached, refetched on an unknown `kid`.
//! - [`auth`]: checking `Authorization: Bearer ...` with them.
//! - [`store`]: its own table of notes, on SQLite or PostgreSQL.
//! - [`input`], [`routes`], [`error`]: the API, in the auth API's (DRF's) shapes.
//! - [`startup`]: building the service (its errors, body reader and request log line are the
//!   auth server's, from `apikit`).

pub mod auth;
pub mod error;
pub mod input;
pub mod jwks;
pub mod routes;
pub mod settings;
pub mod startup;
pub mod store;
