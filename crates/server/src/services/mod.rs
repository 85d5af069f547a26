//! Layer 4, the services: what each endpoint does, as plain async functions of the
//! [`AppState`], the typed request body (from the `claims` crate) and the time. Each mirrors a
//! simplejwt serializer or authentication class. Nothing here knows about HTTP: handlers call
//! these, and tests can too.
//!
//! Database work runs on the blocking pool and bcrypt on the low-priority hashing pool; no
//! database connection is held while bcrypt runs.

pub mod accounts;
pub mod authenticate;
mod error;
mod state;
pub mod tokens;

pub use error::{FieldErrors, ServiceError};
pub use state::AppState;
