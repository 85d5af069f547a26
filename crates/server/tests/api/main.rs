//! The API, end to end: each test starts the app on port 0 with a database of its own and
//! speaks HTTP to it. Every test runs on SQLite, and on PostgreSQL too when
//! `TEST_DATABASE_URL` is set; most also run under simplejwt's default token settings.

#[path = "../support/answers.rs"]
mod answers;
#[path = "../support/forge.rs"]
mod forge;
mod helpers;
#[path = "../support/postgres.rs"]
mod postgres;
mod proxy;

mod bad_input;
mod cli;
mod exercises;
mod families;
mod frontend;
mod health;
mod keys;
mod model;
mod notes_forward;
mod openapi;
mod parity;
mod propagation;
mod protected;
mod register;
mod revocation;
mod sessions;
mod strict_tokens;
mod throttle;
mod token_blacklist;
mod token_obtain;
mod token_refresh;
mod token_verify;
