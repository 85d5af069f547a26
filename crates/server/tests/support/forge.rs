//! Tokens an attacker would make, and a listener that counts who connects to it: for the tests
//! of the header tricks, shared by the auth server's and the notes service's tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

/// A compact JWS of `claims` under a header the test wrote, signed by `key` as `algorithm`.
pub fn sign_raw(header: &Value, claims: &Value, key: &EncodingKey, algorithm: Algorithm) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap())
    );
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm).unwrap();
    format!("{input}.{signature}")
}

/// An ES256 key nobody gave the server.
pub fn attacker_key() -> EncodingKey {
    let pem = server::auth::keyset::generate_private_key(Algorithm::ES256).unwrap();
    EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()
}

/// A listener on a free port that accepts connections and counts them: where a token's `jku`
/// or `x5u` points, to prove nobody fetches from there.
pub struct CountingListener {
    /// `http://127.0.0.1:PORT/jwks.json`.
    pub url: String,
    connections: Arc<AtomicUsize>,
}

impl CountingListener {
    /// Starts one on the current runtime.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        actix_web::rt::spawn(async move {
            while listener.accept().await.is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { url, connections }
    }

    /// How many connections it has had.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}
