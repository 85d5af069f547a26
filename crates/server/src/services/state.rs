//! What every service needs, built once per server and shared by all workers.

use std::net::IpAddr;
use std::sync::Arc;

use crate::auth::TokenCodec;
use crate::auth::hashing::{HashingPool, PoolError};
use crate::auth::password::PasswordHasher;
use crate::auth::throttle::Throttle;
use crate::clock::Clock;
use crate::db::Database;
use crate::db::view::AuthView;
use crate::services::ServiceError;

/// The application state: the database and this process's view of it, the token codec and
/// the password hasher, and the clock every request reads the time from.
#[derive(Clone)]
pub struct AppState {
    /// Where "now" comes from: the system's clock, or a test's.
    pub clock: Clock,
    /// The connection pool.
    pub db: Database,
    /// What each request checks (users, revocations), in memory.
    pub view: AuthView,
    /// Signs and checks tokens.
    pub tokens: Arc<TokenCodec>,
    /// Hashes and checks passwords.
    pub hasher: Arc<PasswordHasher>,
    /// The low-priority threads bcrypt runs on.
    pub hashing: Arc<HashingPool>,
    /// Failed log ins, per username (its SHA-256) and client address.
    pub login_failures: Arc<Throttle<([u8; 32], Option<IpAddr>)>>,
    /// Wrong old passwords given to a password change, per user.
    pub password_change_failures: Arc<Throttle<i32>>,
}

impl AppState {
    /// Runs bcrypt work on the low-priority hashing pool, holding no database connection.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn hash<T: Send + 'static>(
        &self,
        work: impl FnOnce(&PasswordHasher) -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        let hasher = self.hasher.clone();
        self.hashing
            .run(move || work(&hasher))
            .await
            .map_err(|error| match error {
                PoolError::Busy => ServiceError::Overloaded,
                PoolError::Stopped => ServiceError::internal(error),
            })
    }
}
