//! The actix-web JWT API of the tutorial: simplejwt's endpoints, rebuilt in Rust.
//!
//! Read it in this order: [`configuration`] (the settings), [`startup`] (how the server is put
//! together), [`routes`] (the URL map and the thin handlers), [`auth`] (tokens, passwords and
//! the flows behind each endpoint), [`db`] (tables and queries), [`error`] (every error answer).

pub mod accounts;
pub mod auth;
pub mod cli;
pub mod configuration;
pub mod db;
pub mod error;
pub mod input;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
