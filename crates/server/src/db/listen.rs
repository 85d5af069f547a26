//! The listener: one PostgreSQL connection per process that waits for the events other
//! processes announce ([`crate::db::events`]) and tells this process's [`AuthView`].
//!
//! It runs on a thread of its own for as long as the view is in use. When the connection
//! drops, everything the view knew is forgotten (events may have been missed), and the
//! listener connects again.

use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};
use secrecy::{ExposeSecret, SecretString};

use super::events::{CHANNEL, Event};
use super::view::{AuthView, WeakView};

/// How often the connection is read for notifications: reading is a non-blocking syscall,
/// no round trip, and bounds how late another process's write is seen here.
const POLL: Duration = Duration::from_millis(20);

/// How often the connection is proved alive with a query.
const PING: Duration = Duration::from_secs(5);

/// The listener connection's `application_name`, as `pg_stat_activity` shows it.
pub const APPLICATION_NAME: &str = "auth-events";

/// How long to wait before connecting again.
const RECONNECT: Duration = Duration::from_secs(1);

/// Starts listening on the PostgreSQL database at `url` for the events of every process; the
/// thread ends once nobody uses `view` any more.
pub fn spawn(url: SecretString, view: &AuthView) -> std::io::Result<()> {
    let view = view.downgrade();
    std::thread::Builder::new()
        .name("auth-events".into())
        .spawn(move || run(&url, &view))?;
    Ok(())
}

fn run(url: &SecretString, view: &WeakView) {
    while view.get().is_some() {
        if let Err(error) = listen(url, view) {
            tracing::warn!(%error, "the auth event listener lost its connection; reconnecting");
            if let Some(view) = view.get() {
                view.forget_all();
            }
            std::thread::sleep(RECONNECT);
        }
    }
}

/// Listens until the connection fails or nobody uses the view any more.
fn listen(url: &SecretString, view: &WeakView) -> Result<(), String> {
    let mut conn = PgConnection::establish(url.expose_secret()).map_err(|e| e.to_string())?;
    // Named, so that `pg_stat_activity` tells the listener from the pooled connections.
    diesel::sql_query(format!("SET application_name = '{APPLICATION_NAME}'"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    let mut pinged = Instant::now();
    // Whatever happened before this moment was not heard.
    let mut forget_first = true;
    while let Some(view) = view.get() {
        if std::mem::take(&mut forget_first) {
            view.forget_all();
        }
        for notification in conn.notifications_iter() {
            let notification = notification.map_err(|e| e.to_string())?;
            if let Some(event) = Event::parse(&notification.payload) {
                view.learn(&event);
            }
        }
        if pinged.elapsed() > PING {
            diesel::sql_query("SELECT 1")
                .execute(&mut conn)
                .map_err(|e| e.to_string())?;
            pinged = Instant::now();
        }
        drop(view);
        std::thread::sleep(POLL);
    }
    Ok(())
}
