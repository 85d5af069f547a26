//! A PostgreSQL database of its own for one test, created from `TEST_DATABASE_URL` and dropped
//! when the test ends. Shared by the API and end-to-end tests.

use diesel::{Connection, PgConnection, RunQueryDsl};

/// A freshly created, uniquely named database.
pub struct ScratchDatabase {
    admin_url: String,
    name: String,
    /// Its `DATABASE_URL`.
    pub url: String,
}

impl ScratchDatabase {
    /// Creates one on the server `admin_url` points at.
    pub fn create(admin_url: &str) -> Self {
        let name = format!("jwt_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(admin_url)
            .expect("TEST_DATABASE_URL must point at a reachable PostgreSQL server");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .expect("the test database is created");
        Self {
            url: database_url_for(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&self.admin_url) {
            // FORCE ends the connections a stopped server's pool may still hold.
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// `admin_url` with its database name replaced by `name`.
pub fn database_url_for(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    format!("{server}/{name}{query}")
}

/// Whether `E2E_REQUIRE=1` asks every test to run, none to skip.
pub fn required() -> bool {
    std::env::var("E2E_REQUIRE").is_ok_and(|v| v == "1")
}

/// `TEST_DATABASE_URL`, when set.
pub fn admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
}
