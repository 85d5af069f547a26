//! The browser's own cryptography (WebCrypto, `crypto.subtle`), for the attack lab to sign
//! forged tokens as an attacker would: HMAC-SHA-256 with a key of its choosing, and ECDSA P-256
//! with a key pair it makes. No crypto crate is compiled into the page.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// An ECDSA P-256 key pair made in the browser: the private half signs, the public half is
/// what an attacker would put in a `jwk` header or a key set.
pub struct EcKeyPair {
    private: CryptoKey,
    /// The public key as a JSON Web Key (RFC 7517).
    pub public_jwk: serde_json::Value,
}

fn subtle() -> Result<SubtleCrypto, String> {
    let window = web_sys::window().ok_or("no window")?;
    let crypto = window
        .crypto()
        .map_err(|_| "this browser has no WebCrypto".to_owned())?;
    Ok(crypto.subtle())
}

/// A plain JavaScript object with these string members.
fn object(members: &[(&str, &str)]) -> Result<Object, String> {
    let object = Object::new();
    for (name, value) in members {
        Reflect::set(&object, &(*name).into(), &(*value).into()).map_err(describe)?;
    }
    Ok(object)
}

fn usages(names: &[&str]) -> Array {
    names.iter().map(|name| JsValue::from_str(name)).collect()
}

fn describe(error: JsValue) -> String {
    error
        .as_string()
        .or_else(|| {
            Reflect::get(&error, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "WebCrypto refused".to_owned())
}

async fn settle(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, String> {
    JsFuture::from(promise.map_err(describe)?)
        .await
        .map_err(describe)
}

fn bytes(buffer: &JsValue) -> Vec<u8> {
    Uint8Array::new(buffer).to_vec()
}

/// HMAC-SHA-256 of `data` with `key` (which WebCrypto refuses when empty).
pub async fn hmac_sha256(key: &[u8], data: &[u8]) -> Result<Vec<u8>, String> {
    let subtle = subtle()?;
    let algorithm = object(&[("name", "HMAC"), ("hash", "SHA-256")])?;
    let key_data = Uint8Array::from(key);
    let key = settle(subtle.import_key_with_object(
        "raw",
        &key_data,
        &algorithm,
        false,
        &usages(&["sign"]),
    ))
    .await?;
    let key: CryptoKey = key.dyn_into().map_err(describe)?;
    let signature = settle(subtle.sign_with_object_and_u8_array(&algorithm, &key, data)).await?;
    Ok(bytes(&signature))
}

/// A new ECDSA P-256 key pair, its public half exported as a JWK.
pub async fn ec_key_pair() -> Result<EcKeyPair, String> {
    let subtle = subtle()?;
    let algorithm = object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?;
    // Not extractable: only the public half is exported, and a public key always may be.
    let pair =
        settle(subtle.generate_key_with_object(&algorithm, false, &usages(&["sign", "verify"])))
            .await?;
    let member = |name: &str| -> Result<CryptoKey, String> {
        Reflect::get(&pair, &name.into())
            .map_err(describe)?
            .dyn_into()
            .map_err(describe)
    };
    let (private, public) = (member("privateKey")?, member("publicKey")?);
    let jwk = settle(subtle.export_key("jwk", &public)).await?;
    let text = js_sys::JSON::stringify(&jwk)
        .map_err(describe)?
        .as_string()
        .unwrap_or_default();
    let mut public_jwk: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| error.to_string())?;
    if let Some(members) = public_jwk.as_object_mut() {
        // WebCrypto's export names what the key may do; a JWS header needs only the key.
        members.remove("key_ops");
        members.remove("ext");
    }
    Ok(EcKeyPair {
        private,
        public_jwk,
    })
}

/// The ES256 signature of `data` (r and s, 32 bytes each, as JWS writes them).
pub async fn es256_sign(pair: &EcKeyPair, data: &[u8]) -> Result<Vec<u8>, String> {
    let subtle = subtle()?;
    let algorithm = object(&[("name", "ECDSA"), ("hash", "SHA-256")])?;
    let signature =
        settle(subtle.sign_with_object_and_u8_array(&algorithm, &pair.private, data)).await?;
    Ok(bytes(&signature))
}

/// `jwk` (a public EC P-256 or RSA key, as a JWKS publishes it) as PEM: its SubjectPublicKeyInfo
/// in base64, the text a vulnerable library reads as an HMAC secret in algorithm confusion.
pub async fn public_key_pem(jwk: &serde_json::Value) -> Result<String, String> {
    let subtle = subtle()?;
    let algorithm = match jwk["kty"].as_str() {
        Some("EC") => object(&[("name", "ECDSA"), ("namedCurve", "P-256")])?,
        Some("RSA") => object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")])?,
        other => return Err(format!("a {other:?} key cannot be read here")),
    };
    let key_data = js_sys::JSON::parse(&jwk.to_string()).map_err(describe)?;
    let key_data: Object = key_data.dyn_into().map_err(describe)?;
    let key = settle(subtle.import_key_with_object(
        "jwk",
        &key_data,
        &algorithm,
        true,
        &usages(&["verify"]),
    ))
    .await?;
    let key: CryptoKey = key.dyn_into().map_err(describe)?;
    let der = bytes(&settle(subtle.export_key("spki", &key)).await?);
    let base64 = base64_of(&der).ok_or("this browser cannot write base64")?;
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .filter_map(|line| std::str::from_utf8(line).ok())
        .collect();
    Ok(format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        lines.join("\n")
    ))
}

/// Standard base64 of `bytes`, by the browser's `btoa`.
fn base64_of(bytes: &[u8]) -> Option<String> {
    let binary: String = bytes.iter().map(|&byte| char::from(byte)).collect();
    web_sys::window()?.btoa(&binary).ok()
}

/// Milliseconds since the page loaded, for timing in the page.
pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|window| window.performance())
        .map_or(0.0, |performance| performance.now())
}
