//! Binding a service's listen address.

use std::net::TcpListener;

/// The listen address could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    /// The address asked for.
    pub addr: String,
    /// Why not.
    pub source: std::io::Error,
}

/// A listener on `addr` (`HOST:PORT`; port 0 picks a free one) and the port it got.
pub fn bind(addr: &str) -> Result<(TcpListener, u16), BindError> {
    let failed = |source| BindError {
        addr: addr.to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).map_err(failed)?;
    let port = listener.local_addr().map_err(failed)?.port();
    Ok((listener, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_zero_gets_a_free_port() {
        let (_listener, port) = bind("127.0.0.1:0").unwrap();
        assert_ne!(port, 0);
    }

    #[test]
    fn an_address_in_use_is_named_in_the_error() {
        let (_taken, port) = bind("127.0.0.1:0").unwrap();
        let error = bind(&format!("127.0.0.1:{port}")).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")),
            "{error}"
        );
    }
}
