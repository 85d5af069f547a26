//! The notes service against a real auth server, both started on port 0 in the same test:
//! tokens minted there, checked here with nothing but the published keys.

// Shared with the auth server's tests, which use every helper; these tests, not all.
#[allow(dead_code)]
#[path = "../../../server/tests/support/answers.rs"]
mod answers;
#[path = "../../../server/tests/support/forge.rs"]
mod forge;
mod helpers;
#[path = "../../../server/tests/support/postgres.rs"]
mod postgres;

mod api;
mod bad_input;
mod keys;
mod parity;
mod verdicts;
