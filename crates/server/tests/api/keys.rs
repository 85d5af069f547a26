//! Published keys: `GET /.well-known/jwks.json`, tokens naming their key by `kid`, rotation in
//! `JWT_KEYS_DIR` while the server runs, and the header tricks that must not pick a key.

use std::path::Path;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;
use serde_json::{Value, json};
use server::auth::keyset;

use crate::forge::{CountingListener, attacker_key, sign_raw};
use crate::helpers::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

/// An app signing with ES256 keys from `dir`.
async fn es256_app(dir: &Path) -> TestApp {
    let dir = dir.to_str().expect("a UTF-8 path");
    TestApp::spawn_with(
        &Backend::Sqlite,
        &[("JWT_ALGORITHM", "ES256"), ("JWT_KEYS_DIR", dir)],
    )
    .await
}

async fn jwks(app: &TestApp) -> Value {
    json_body(app.get("/.well-known/jwks.json", None).await, 200).await
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .expect("a list of keys")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

/// Polls the published set until it lists exactly `expected` (in any order).
async fn published_within(app: &TestApp, expected: &[&str], deadline: Duration) {
    let started = Instant::now();
    loop {
        let mut published = kids(&jwks(app).await);
        published.sort();
        let mut wanted: Vec<String> = expected.iter().map(|k| k.to_string()).collect();
        wanted.sort();
        if published == wanted {
            return;
        }
        assert!(
            started.elapsed() < deadline,
            "the set is still {published:?}, not {wanted:?}, after {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `kid` a token's header names.
fn kid_of(token: &str) -> String {
    header_of(token)["kid"].as_str().expect("a kid").to_owned()
}

/// The private key of `kid` in the key directory.
fn directory_key(dir: &Path, kid: &str) -> jsonwebtoken::EncodingKey {
    let pem = std::fs::read(dir.join(format!("{kid}.pem"))).expect("the key file");
    jsonwebtoken::EncodingKey::from_ec_pem(&pem).expect("an EC key")
}

#[actix_web::test]
async fn with_hmac_the_published_set_is_empty_and_never_holds_the_secret() {
    let app = TestApp::spawn_with(&Backend::Sqlite, &[]).await;
    // The hazard: the library's JWK of an HMAC key is the secret itself, as an `oct` key.
    let leaked = Jwk::from_encoding_key(
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    let secret_as_jwk = URL_SAFE_NO_PAD.encode(SECRET);
    assert!(
        serde_json::to_string(&leaked)
            .unwrap()
            .contains(&secret_as_jwk)
    );

    let response = app.get("/.well-known/jwks.json", None).await;

    assert_eq!(
        response.headers()["Cache-Control"],
        "public, max-age=300",
        "a cacheable set"
    );
    let text = response.text().await.unwrap();
    assert_eq!(text, r#"{"keys":[]}"#);
}

#[actix_web::test]
async fn a_fresh_token_names_the_current_key_of_the_published_set() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;

    let pair = app.user_with_tokens().await;
    let set = jwks(&app).await;

    let key = &set["keys"][0];
    assert_eq!(set["keys"].as_array().unwrap().len(), 1);
    assert_eq!(
        header_of(&pair.access),
        json!({"alg": "ES256", "kid": key["kid"], "typ": "JWT"})
    );
    assert_eq!(header_of(&pair.refresh)["kid"], key["kid"]);
    let mut members: Vec<&str> = key
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["alg", "crv", "kid", "kty", "use", "x", "y"]);
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (
            &json!("EC"),
            &json!("P-256"),
            &json!("ES256"),
            &json!("sig")
        )
    );
    assert_json(
        app.get_as("/hello/", &pair.access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
}

#[actix_web::test]
async fn openssl_verifies_a_fresh_token_with_the_published_key_alone() {
    let Some(openssl) = tool("openssl") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let pair = app.user_with_tokens().await;
    let key = jwks(&app).await["keys"][0].clone();
    let work = tempfile::tempdir().unwrap();
    let (input, signature) = pair.access.rsplit_once('.').unwrap();
    std::fs::write(work.path().join("input"), input).unwrap();
    std::fs::write(work.path().join("sig.der"), der_signature(signature)).unwrap();
    std::fs::write(work.path().join("key.pem"), p256_public_pem(&key)).unwrap();

    let output = std::process::Command::new(openssl)
        .current_dir(work.path())
        .args([
            "dgst",
            "-sha256",
            "-verify",
            "key.pem",
            "-signature",
            "sig.der",
            "input",
        ])
        .output()
        .unwrap();

    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        "Verified OK",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[actix_web::test]
async fn a_single_configured_pair_is_published_and_named_in_tokens() {
    let app = TestApp::spawn_with(
        &Backend::Sqlite,
        &[
            ("JWT_ALGORITHM", "RS256"),
            ("JWT_SIGNING_KEY", &format!("{FIXTURES}/rsa_private.pem")),
            ("JWT_VERIFYING_KEY", &format!("{FIXTURES}/rsa_public.pem")),
        ],
    )
    .await;

    let pair = app.user_with_tokens().await;
    let set = jwks(&app).await;

    let key = &set["keys"][0];
    assert_eq!(
        (&key["kty"], &key["alg"], &key["e"]),
        (&json!("RSA"), &json!("RS256"), &json!("AQAB"))
    );
    assert!(
        key.get("d").is_none() && key.get("p").is_none(),
        "a private member: {key}"
    );
    assert_eq!(header_of(&pair.access)["kid"], key["kid"]);
}

#[actix_web::test]
async fn a_token_of_a_key_another_replica_made_current_verifies_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let pair = app.user_with_tokens().await;
    let user_id: i32 = payload_of(&pair.access)["user_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // As `server keys generate` on another replica's host would.
    let new = keyset::add_key(dir.path(), Algorithm::ES256).unwrap();
    let token = sign_raw(
        &json!({"alg": "ES256", "kid": new, "typ": "JWT"}),
        &claims_for("access", user_id),
        &directory_key(dir.path(), &new),
        Algorithm::ES256,
    );

    assert_json(
        app.get_as("/hello/", &token).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
}

#[actix_web::test]
async fn a_rotation_signs_with_the_new_key_and_old_tokens_verify_until_it_is_retired() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let before = app.user_with_tokens().await;
    let old = kid_of(&before.access);

    let new = keyset::add_key(dir.path(), Algorithm::ES256).unwrap();
    published_within(&app, &[&old, &new], Duration::from_secs(10)).await;
    let after = app.obtain_pair("ada", PASSWORD).await;

    assert_eq!(header_of(&after.access)["kid"], json!(new));
    assert_json(
        app.get_as("/hello/", &before.access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;

    keyset::retire_key(dir.path(), &old).unwrap();
    published_within(&app, &[&new], Duration::from_secs(10)).await;

    assert_json(
        app.get_as("/hello/", &before.access).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
    assert_json(
        app.get_as("/hello/", &after.access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
}

#[actix_web::test]
async fn a_running_server_refuses_a_retired_keys_tokens_within_the_reload_period() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let before = app.user_with_tokens().await;
    let old = kid_of(&before.access);
    keyset::add_key(dir.path(), Algorithm::ES256).unwrap();

    keyset::retire_key(dir.path(), &old).unwrap();
    let retired = Instant::now();

    // Only the old token is presented: it names a key the server knows, so nothing but the
    // periodic reading of the directory can tell the server of the retirement. The slack is
    // for a loaded machine, whose threads wake late.
    let deadline = server::auth::codec::RELOAD_EVERY + Duration::from_secs(5);
    loop {
        let answer = app.get_as("/hello/", &before.access).await;
        if answer.status() == 401 {
            assert_json(answer, 401, access_token_refused("Token is invalid")).await;
            break;
        }
        assert!(
            retired.elapsed() < deadline,
            "the retired key's token still works after {deadline:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn key_urls_in_a_header_are_never_fetched_nor_an_embedded_key_used() {
    let listener = CountingListener::start().await;
    let url = listener.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    app.create_user("ada", PASSWORD);
    let attacker = attacker_key();
    let attacker_jwk =
        serde_json::to_value(Jwk::from_encoding_key(&attacker, Algorithm::ES256).unwrap()).unwrap();
    let header = json!({
        "alg": "ES256",
        "typ": "JWT",
        "jku": url,
        "x5u": url,
        "jwk": attacker_jwk,
        "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"],
    });
    let forged = sign_raw(
        &header,
        &claims_for("access", 1),
        &attacker,
        Algorithm::ES256,
    );

    assert_json(
        app.get_as("/hello/", &forged).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
    assert_json(
        app.verify(&forged).await,
        401,
        token_not_valid("Token is invalid"),
    )
    .await;
    assert_eq!(listener.connections(), 0, "the server fetched a key URL");
}

#[actix_web::test]
async fn a_kid_that_looks_like_a_path_or_sql_is_just_an_unknown_kid() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    app.create_user("ada", PASSWORD);
    let attacker = attacker_key();

    for kid in [
        "../../dev/null",
        "/etc/passwd",
        "current",
        "' OR '1'='1",
        "x'; DROP TABLE users; --",
    ] {
        let forged = sign_raw(
            &json!({"alg": "ES256", "kid": kid, "typ": "JWT"}),
            &claims_for("access", 1),
            &attacker,
            Algorithm::ES256,
        );
        assert_json(
            app.get_as("/hello/", &forged).await,
            401,
            access_token_refused("Token is invalid"),
        )
        .await;
    }
    app.obtain_pair("ada", PASSWORD).await;
}

#[actix_web::test]
async fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let pair = app.user_with_tokens().await;
    let kid = kid_of(&pair.access);
    let public_pem = p256_public_pem(&jwks(&app).await["keys"][0]);
    let claims = payload_of(&pair.access);

    // The classic confusion: a verifier that takes `alg` from the token would check this
    // HMAC with the public key's PEM text as the secret, and anyone can compute that.
    for secret in [public_pem.as_bytes(), public_pem.trim_end().as_bytes()] {
        let forged = sign_raw(
            &json!({"alg": "HS256", "kid": kid, "typ": "JWT"}),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
            Algorithm::HS256,
        );
        assert_json(
            app.get_as("/hello/", &forged).await,
            401,
            access_token_refused("Token is invalid"),
        )
        .await;
        assert_json(
            app.verify(&forged).await,
            401,
            token_not_valid("Token is invalid"),
        )
        .await;
    }
}

#[actix_web::test]
async fn a_token_without_a_kid_is_refused_by_a_key_directory() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let pair = app.user_with_tokens().await;
    let kid = kid_of(&pair.access);
    let token = sign_raw(
        &json!({"alg": "ES256", "typ": "JWT"}),
        &payload_of(&pair.access),
        &directory_key(dir.path(), &kid),
        Algorithm::ES256,
    );

    assert_json(
        app.get_as("/hello/", &token).await,
        401,
        access_token_refused("Token is invalid"),
    )
    .await;
}

/// The path of `name` on `PATH`; `None` after a note when it is missing, unless
/// `E2E_REQUIRE=1` (as in CI), where a missing tool fails the test.
fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(
            !crate::postgres::required(),
            "{name} is not installed, and E2E_REQUIRE=1 requires it"
        );
        eprintln!("note: {name} is not installed; the test that needs it is skipped");
    }
    found
}

/// The P-256 public key of a JWK, as PEM: the fixed DER prefix of a P-256
/// SubjectPublicKeyInfo, then the uncompressed point `04 || x || y`.
fn p256_public_pem(jwk: &Value) -> String {
    let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
    let mut der = hex::decode("3059301306072a8648ce3d020106082a8648ce3d030107034200").unwrap();
    der.push(0x04);
    der.extend(coordinate("x"));
    der.extend(coordinate("y"));
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n")
}

/// A JWS ES256 signature (`r || s`, 32 bytes each) as the DER `ECDSA-Sig-Value` openssl reads.
fn der_signature(jws_signature: &str) -> Vec<u8> {
    let raw = URL_SAFE_NO_PAD.decode(jws_signature).unwrap();
    let integer = |bytes: &[u8]| {
        let mut value: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
        if value.first().is_none_or(|b| b & 0x80 != 0) {
            value.insert(0, 0);
        }
        let mut encoded = vec![0x02, value.len() as u8];
        encoded.extend(value);
        encoded
    };
    let mut body = integer(&raw[..32]);
    body.extend(integer(&raw[32..]));
    let mut der = vec![0x30, body.len() as u8];
    der.extend(body);
    der
}

/// `token` signed again with the test secret under a header naming `kid`.
fn with_kid(token: &str, kid: &str) -> String {
    let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
    header.kid = Some(kid.to_owned());
    sign_with_header(&header, &payload_of(token))
}

every_database_and_mode!(a_kid_is_ignored_with_one_configured_key_as_simplejwt_ignores_it);

async fn a_kid_is_ignored_with_one_configured_key_as_simplejwt_ignores_it(setup: Setup) {
    let app = TestApp::spawn(&setup).await;
    let pair = app.user_with_tokens().await;
    let access = with_kid(&pair.access, "a-key-nobody-has");
    let refresh = with_kid(&pair.refresh, "../../dev/null");

    assert_json(
        app.get_as("/hello/", &access).await,
        200,
        json!({"message": "Hello, World!"}),
    )
    .await;
    assert_json(app.verify(&access).await, 200, json!({})).await;
    let refreshed = json_body(app.refresh(&refresh).await, 200).await;
    assert!(refreshed["access"].is_string(), "{refreshed}");
}

/// The other valid ECDSA signature of the same token: `(r, n - s)` for `(r, s)`.
fn high_s_twin(token: &str) -> String {
    use p256::elliptic_curve::PrimeField;
    let (input, signature) = token.rsplit_once('.').unwrap();
    let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let (r, s) = bytes.split_at(32);
    let mut repr = p256::FieldBytes::default();
    repr.copy_from_slice(s);
    let s = p256::Scalar::from_repr(repr).unwrap();
    let twin = [r, &(-s).to_repr()[..]].concat();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(twin))
}

#[actix_web::test]
async fn revoking_an_es256_token_also_refuses_its_malleable_twin() {
    let dir = tempfile::tempdir().unwrap();
    let app = es256_app(dir.path()).await;
    let pair = app.user_with_tokens().await;
    let twin = high_s_twin(&pair.access);
    assert_ne!(twin, pair.access);
    // ECDSA signatures are malleable: the twin verifies too...
    assert_eq!(app.get_as("/hello/", &twin).await.status(), 200);

    let logout = app
        .client
        .post(app.url("/api/token/blacklist/"))
        .bearer_auth(&pair.access)
        .json(&json!({"refresh": pair.refresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 200);

    // ...but revocation is keyed by the jti, which the twin shares.
    assert_json(
        app.get_as("/hello/", &twin).await,
        401,
        access_token_refused("Token is blacklisted"),
    )
    .await;
}
