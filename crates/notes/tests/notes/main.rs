//! The notes service against a real auth server, both started on port 0 in the same test:
//! tokens minted there, checked here with nothing but the published keys.

mod helpers;
#[path = "../../../server/tests/support/postgres.rs"]
mod postgres;

mod api;
mod bad_input;
mod keys;
