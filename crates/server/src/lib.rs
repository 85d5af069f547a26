//! The actix-web JWT API of the tutorial: simplejwt's endpoints, rebuilt in Rust.
//!
//! The crate is a house of floors; each module imports only from its own floor and the floors
//! below it (the `layers` test checks every `use crate::...` line):
//!
//! | floor | modules | knows about |
//! |---|---|---|
//! | 1. ground | [`configuration`], [`clock`] (the time, movable in tests), [`memo`] (the bounded maps the token check reads) (and the `claims` crate: the token's contract) | nothing of the crate |
//! | 2. leaves | [`auth`]: minting and checking tokens, keys, passwords, the hashing pool | settings and claims |
//! | 3. storage | [`db`]: connection, migrations, queries, the in-memory view | settings |
//! | 4. services | [`services`]: the flows behind each endpoint (obtain, refresh, verify, blacklist, register, authenticate) | everything below, nothing of HTTP |
//! | 5. HTTP | [`http`]: errors, the guard, the browser session, middleware (with the `apikit` crate: bodies, error answers, the request log line) | everything below |
//! | 6. routes | [`routes`]: the URL map and the thin handlers | everything below |
//! | 7. startup | [`startup`]: the server put together | everything below |
//! | 8. command line | [`cli`] | everything |
//!
//! Read it in this order: [`configuration`] (the settings), [`startup`] (how the server is put
//! together), [`routes`] (the URL map and the thin handlers), [`services`] (what each endpoint
//! does), [`auth`] (tokens and passwords), [`db`] (tables and queries), [`http::error`] (every
//! error answer).

pub mod auth;
pub mod cli;
pub mod clock;
pub mod configuration;
pub mod db;
pub mod http;
pub mod memo;
pub mod routes;
pub mod services;
pub mod startup;
