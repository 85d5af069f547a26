//! End-to-end tests with real processes: the `server` binary serving the built frontend,
//! headless Chromium, and the project's nginx config in front of two replicas.

mod harness;
#[path = "../support/nginx_config.rs"]
mod nginx_config;
#[path = "../support/postgres.rs"]
mod postgres;

mod account;
mod browser;
mod deployment;
mod docs;
mod exercises;
mod inspector;
mod lab;
mod notes;
mod openapi;
mod session_endings;
mod stack;
