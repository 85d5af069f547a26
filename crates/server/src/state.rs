//! What every request handler shares.

use std::sync::Arc;

use actix_web::http::header::HeaderValue;
use ipnet::IpNet;

use crate::auth::hashing::HashingPool;
use crate::auth::password::PasswordHasher;
use crate::auth::tokens::TokenCodec;
use crate::db::Database;

/// The application state, one per server, shared by all workers.
#[derive(Clone)]
pub struct AppState {
    /// The connection pool.
    pub db: Database,
    /// Signs and checks tokens.
    pub tokens: Arc<TokenCodec>,
    /// Hashes and checks passwords.
    pub hasher: Arc<PasswordHasher>,
    /// The low-priority threads bcrypt runs on.
    pub hashing: Arc<HashingPool>,
    /// The `WWW-Authenticate` value sent with every 401, `Bearer realm="api"` by default.
    pub challenge: HeaderValue,
    /// Proxies whose `X-Forwarded-For` is believed when logging the client address.
    pub trusted_proxies: Vec<IpNet>,
}
