//! What every HTTP service of the project shares, written once: the auth server and the notes
//! service answer errors in the same DRF shapes, read bodies with the same rules, and log each
//! request on the same line.
//!
//! - [`error`]: [`HttpError`], every error answer in Django REST Framework's shape, and the
//!   `WWW-Authenticate` challenge on 401s.
//! - [`bearer`]: the access token of `Authorization: Bearer ...`, read as simplejwt reads it.
//! - [`input`]: [`RequestData`], the request body reader (JSON and forms, DRF's `CharField`).
//! - [`log`]: the log subscriber and the request log line.
//! - [`middleware`]: the header limit and content negotiation, before any handler runs.
//! - [`listen`]: binding the listen address, with an error that names it.
//!
//! The token's own rules are not here but in the `claims` crate, which the browser shares too.

pub mod bearer;
pub mod error;
pub mod input;
pub mod listen;
pub mod log;
pub mod middleware;

pub use error::{Challenge, FieldErrors, HttpError};
pub use input::{AuthenticatedBody, RequestData};
