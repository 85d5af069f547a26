//! The actix-web JWT API of the tutorial: simplejwt's endpoints, rebuilt in Rust.
//!
//! The crate is a house of layers; each module imports only from its own layer and the layers
//! below it (the `layers` test checks every `use crate::...` line):
//!
//! | layer | modules | knows about |
//! |---|---|---|
//! | 1. ground | [`configuration`] (and the `claims` crate) | nothing of the crate |
//! | 2. leaves | [`auth`]: minting and checking tokens, keys, passwords, the hashing pool | settings and claims |
//! | 3. storage | [`db`]: connection, migrations, queries | settings |
//! | 4. services | [`services`]: the flows behind each endpoint (obtain, refresh, verify, blacklist, register, authenticate) | everything below, nothing of HTTP |
//! | 5. HTTP | [`http`] (errors, bodies, the guard), [`routes`], [`startup`], [`telemetry`] | everything below |
//! | 6. command line | [`cli`] | everything |
//!
//! Read it in this order: [`configuration`] (the settings), [`startup`] (how the server is put
//! together), [`routes`] (the URL map and the thin handlers), [`services`] (what each endpoint
//! does), [`auth`] (tokens and passwords), [`db`] (tables and queries), [`http::error`] (every
//! error answer).

pub mod auth;
pub mod cli;
pub mod configuration;
pub mod db;
pub mod http;
pub mod routes;
pub mod services;
pub mod startup;
pub mod telemetry;
