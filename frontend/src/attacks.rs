//! The attack lab's attacks: each forges a token from the logged-in user's real access token
//! (or the lab's own pair) as an attacker would, sends it to the real server, and reads what
//! came back. The server must refuse every one; [`Attack::stopped_by`] names the check that does.
//!
//! Sources: PortSwigger's JWT labs, RFC 8725 (JWT Best Current Practices), jwt_tool's exploits
//! and the CVEs named on each card.

use claims::TokenPair;
use claims::compact;
use serde_json::{Map, Value, json};

use crate::api::{self, Answer};
use crate::jwt::{self, DecodedToken, encode_part};
use crate::webcrypto;

/// One card of the lab.
pub struct Attack {
    /// The card's id (`card-<id>` in the page).
    pub id: &'static str,
    /// Its title.
    pub name: &'static str,
    /// What the attacker tries.
    pub tries: &'static str,
    /// Where the attack is described.
    pub source: &'static str,
    /// The check of the server that refuses it: file and function.
    pub stopped_by: &'static str,
}

const SIGNATURE_CHECK: &str = "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs): the signature is computed again with the server's own key and its one configured algorithm, and no longer matches.";

/// Every attack, in the order the page shows them.
pub const ATTACKS: &[Attack] = &[
    Attack {
        id: "other-user",
        name: "Unverified signature: another user",
        tries: "Change user_id to another user's and keep the signature, hoping the server decodes the token without checking it.",
        source: "PortSwigger lab \"JWT authentication bypass via unverified signature\"; RFC 8725 §2.1",
        stopped_by: SIGNATURE_CHECK,
    },
    Attack {
        id: "long-life",
        name: "Unverified signature: a year to live",
        tries: "Move exp a year ahead and keep the signature.",
        source: "PortSwigger lab \"JWT authentication bypass via unverified signature\"",
        stopped_by: SIGNATURE_CHECK,
    },
    Attack {
        id: "spliced",
        name: "A signature spliced from another token",
        tries: "Keep this token's header and payload, and put the signature of another token the server really signed (the lab's own access token) after them.",
        source: "jwt_tool, \"signature from another token\"",
        stopped_by: SIGNATURE_CHECK,
    },
    Attack {
        id: "alg-none",
        name: "alg: none",
        tries: "Say the token is unsigned (\"alg\": \"none\") and drop the signature, hoping the server believes the header.",
        source: "PortSwigger lab \"JWT authentication bypass via flawed signature verification\"; RFC 8725 §2.1, §3.1",
        stopped_by: "TokenCodec::decode (crates/server/src/auth/check.rs) verifies with the configured algorithm, never the token's alg, so an empty signature never matches; Rules::violations (crates/claims/src/check.rs) refuses none in any letter case as well.",
    },
    Attack {
        id: "alg-none-capitalised",
        name: "alg: None",
        tries: "The same, capitalised, for a check that compares with \"none\" exactly.",
        source: "jwt_tool's alg:none variants",
        stopped_by: "As for none: the token's alg never chooses the algorithm (TokenCodec::decode, crates/server/src/auth/check.rs), and Rules::violations (crates/claims/src/check.rs) compares without letter case.",
    },
    Attack {
        id: "alg-none-upper",
        name: "alg: NONE",
        tries: "The same, in capitals.",
        source: "jwt_tool's alg:none variants",
        stopped_by: "As for none: the token's alg never chooses the algorithm (TokenCodec::decode, crates/server/src/auth/check.rs), and Rules::violations (crates/claims/src/check.rs) compares without letter case.",
    },
    Attack {
        id: "alg-none-mixed",
        name: "alg: nOnE",
        tries: "The same, in mixed case.",
        source: "jwt_tool's alg:none variants",
        stopped_by: "As for none: the token's alg never chooses the algorithm (TokenCodec::decode, crates/server/src/auth/check.rs), and Rules::violations (crates/claims/src/check.rs) compares without letter case.",
    },
    Attack {
        id: "null-signature",
        name: "A null signature",
        tries: "Keep the header and payload and send an empty signature, for a library that treats an empty signature as a valid one.",
        source: "CVE-2020-28042",
        stopped_by: SIGNATURE_CHECK,
    },
    Attack {
        id: "weak-key",
        name: "A weak signing key",
        tries: "Sign with a dictionary word, then crack it from a word list in this page, as hashcat would offline. The server's own key is never the target.",
        source: "PortSwigger lab \"JWT authentication bypass via weak signing key\"; RFC 8725 §3.5",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs): the server's key is 256 random bits (.secret_key, or JWT_SIGNING_KEY, which the server refuses when short), not a word of any list.",
    },
    Attack {
        id: "jwk-injection",
        name: "jwk header injection",
        tries: "Make a key pair here, sign with its private half, and put the public half in the header's jwk, hoping the server verifies with the key the token brings.",
        source: "CVE-2018-0114; PortSwigger lab \"JWT authentication bypass via jwk header injection\"",
        stopped_by: "TokenCodec::decode (crates/server/src/auth/check.rs) takes the key from the server's own set (KeySet::verifying, crates/server/src/auth/keyset.rs); the header's jwk is never read (claims::Header has no such member).",
    },
    Attack {
        id: "jku",
        name: "jku to a key set the attacker made",
        tries: "Publish a key set of the attacker's (here a blob: URL of this page) and point the header's jku at it.",
        source: "PortSwigger lab \"JWT authentication bypass via jku header injection\"",
        stopped_by: "The server never fetches a URL from a token: jku is never read (claims::Header), and the key comes from KeySet::verifying (crates/server/src/auth/keyset.rs).",
    },
    Attack {
        id: "kid-traversal",
        name: "kid path traversal",
        tries: "Point kid at /dev/null and sign with the key an empty file gives (64 zero bytes: WebCrypto refuses an empty HMAC key, and HMAC pads a short key with zeros).",
        source: "PortSwigger lab \"JWT authentication bypass via kid header path traversal\"",
        stopped_by: "KeySet::verifying (crates/server/src/auth/keyset.rs): kid only ever selects among the server's own keys, never a file; with one HMAC key it is not even read. Then the signature check refuses.",
    },
    Attack {
        id: "kid-sql",
        name: "kid SQL injection",
        tries: "Put SQL in kid that would make a key lookup return a key the attacker chose, and sign with that key.",
        source: "jwt_tool, kid injection",
        stopped_by: "KeySet::verifying (crates/server/src/auth/keyset.rs): kid is a key in a map of the server's own keys, never part of a query. Then the signature check refuses.",
    },
    Attack {
        id: "algorithm-confusion",
        name: "Algorithm confusion",
        tries: "Sign with HS256 using the server's published public key as the HMAC secret, for a server that lets the token's alg pick the algorithm.",
        source: "PortSwigger labs \"JWT authentication bypass via algorithm confusion\" (and \"with no exposed key\"); CVE-2016-10555; RFC 8725 §2.1",
        stopped_by: "TokenCodec::decode (crates/server/src/auth/check.rs) verifies with the configured algorithm: configured with a key pair it never computes an HMAC, so neither the published key nor one recovered from two tokens would help.",
    },
    Attack {
        id: "psychic-signature",
        name: "ECDSA psychic signature",
        tries: "Send r = s = 0 as the ES256 signature, which some ECDSA verifiers accept for any message.",
        source: "CVE-2022-21449",
        stopped_by: "jsonwebtoken's ECDSA verification (the p256 crate), called from TokenCodec::decode (crates/server/src/auth/check.rs), refuses a zero r or s.",
    },
    Attack {
        id: "crit",
        name: "An unknown crit",
        tries: "Mark a header extension critical (\"crit\": [\"lab\"]) that the server does not understand.",
        source: "RFC 7515 §4.1.11",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs) refuses it first (the header changed); a token the server signed with a crit would be refused by Rules::violations (crates/claims/src/check.rs), which understands no extension.",
    },
    Attack {
        id: "expired",
        name: "An expired token",
        tries: "Send a token whose exp has passed (here: moved an hour back).",
        source: "RFC 7519 §4.1.4",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs) refuses it first (the payload changed); once the server's own token reaches its exp, Rules::violations (crates/claims/src/check.rs) refuses it as \"Token is expired\" (the inspector shows that check).",
    },
    Attack {
        id: "not-yet-valid",
        name: "A future nbf",
        tries: "Send a token that says it is not valid before tomorrow.",
        source: "RFC 7519 §4.1.5",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs) refuses it first (the payload changed); a signed nbf in the future is refused by Rules::violations (crates/claims/src/check.rs).",
    },
    Attack {
        id: "refresh-as-access",
        name: "A refresh token as an access token",
        tries: "Send the lab's refresh token, which the server really signed, to a protected view.",
        source: "RFC 8725 §3.11 (explicit typing); simplejwt's token_type",
        stopped_by: "Claims::verify (crates/claims/src/check.rs): a protected view takes access tokens only, \"Token has wrong type\".",
    },
    Attack {
        id: "access-as-refresh",
        name: "An access token as a refresh token",
        tries: "Trade your access token for new tokens at POST /api/token/refresh/.",
        source: "RFC 8725 §3.11 (explicit typing)",
        stopped_by: "Claims::verify (crates/claims/src/check.rs): the refresh endpoint takes refresh tokens only, \"Token has wrong type\".",
    },
    Attack {
        id: "replay",
        name: "A replayed refresh token",
        tries: "Refresh the lab's pair once, then replay the refresh token that rotation replaced, as a thief holding an old copy would.",
        source: "RFC 9700 §4.14.2 (refresh token rotation); Auth0's reuse detection",
        stopped_by: "tokens::refresh (crates/server/src/services/tokens.rs): a rotated-out token presented again is reuse, and its whole family is revoked; the browser's own session, another family, carries on.",
    },
];

/// What the attacks start from.
pub struct Ground {
    /// The logged-in user's access token.
    pub access: String,
    /// The lab's own pair (`POST /api/token/` with the user's password), when asked for.
    pub pair: Option<TokenPair>,
    /// The server's first published public key (none with HMAC).
    pub public_key: Option<Value>,
}

/// A forged token and which of its parts the attacker changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Forged {
    /// Header, payload and signature, base64url.
    pub parts: [String; 3],
    /// Whether each part differs from the token it was made from.
    pub changed: [bool; 3],
}

impl Forged {
    /// The token, as sent.
    pub fn token(&self) -> String {
        self.parts.join(".")
    }
}

/// What running an attack showed.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Sent; `refused` says whether the server refused it as it must.
    Sent {
        /// The token sent, when one was forged.
        forged: Option<Forged>,
        /// What was sent where: `GET /hello/`.
        request: &'static str,
        /// The answer.
        answer: Answer,
        /// More the card shows: a cracking time, the second half of a replay.
        note: Option<String>,
        /// Whether the server refused the attack.
        refused: bool,
    },
    /// The attack needs another setup than this server's, which the string names.
    NotApplicable(String),
    /// The lab could not run it (no pair yet, WebCrypto refused): why.
    CouldNotRun(String),
}

/// Words a cracker tries first; the weak key is one of them.
const WORD_LIST: [&str; 12] = [
    "password", "123456", "qwerty", "letmein", "admin", "welcome", "jwt", "changeme", "django",
    "key", "secret1", "secret",
];
/// The weak key the attacker signs with.
const WEAK_KEY: &str = "secret";

/// Runs `attack` from `ground` against the server.
pub async fn run(attack: &Attack, ground: &Ground) -> Verdict {
    let Ok(token) = jwt::decode(&ground.access) else {
        return Verdict::CouldNotRun("The session's access token is not a JWT.".into());
    };
    match attack.id {
        "other-user" => {
            let other = match token.payload.get("user_id") {
                Some(Value::Number(id)) => json!(id.as_i64().unwrap_or(0) + 1),
                _ => json!(2),
            };
            hello(kept_signature(&token, |payload| {
                payload.insert("user_id".into(), other);
            }))
            .await
        }
        "long-life" => {
            let exp = claim(&token, "exp") + 365 * 24 * 3600;
            hello(kept_signature(&token, |payload| {
                payload.insert("exp".into(), json!(exp));
            }))
            .await
        }
        "expired" => {
            let exp = claim(&token, "exp") - 3600;
            hello(kept_signature(&token, |payload| {
                payload.insert("exp".into(), json!(exp));
            }))
            .await
        }
        "not-yet-valid" => {
            let iat = claim(&token, "iat");
            hello(kept_signature(&token, |payload| {
                payload.insert("nbf".into(), json!(iat + 24 * 3600));
            }))
            .await
        }
        "spliced" => {
            let Some(pair) = &ground.pair else {
                return needs_pair();
            };
            let Ok(other) = jwt::decode(&pair.access) else {
                return Verdict::CouldNotRun("The lab's access token is not a JWT.".into());
            };
            let mut forged = unchanged(&token);
            forged.parts[2] = other.parts[2].clone();
            hello(made_from(&token, forged.parts)).await
        }
        "alg-none" => hello(unsigned(&token, "none")).await,
        "alg-none-capitalised" => hello(unsigned(&token, "None")).await,
        "alg-none-upper" => hello(unsigned(&token, "NONE")).await,
        "alg-none-mixed" => hello(unsigned(&token, "nOnE")).await,
        "null-signature" => {
            let mut forged = unchanged(&token);
            forged.parts[2] = String::new();
            hello(made_from(&token, forged.parts)).await
        }
        "weak-key" => weak_key(&token).await,
        "jwk-injection" => jwk_injection(&token).await,
        "jku" => jku(&token).await,
        "kid-traversal" => {
            let header = header_with(
                &token,
                &[
                    ("alg", json!("HS256")),
                    ("kid", json!("../../../../../../dev/null")),
                ],
            );
            hmac_signed(&token, header, &[0; 64]).await
        }
        "kid-sql" => {
            let key = "lab-key";
            let kid = format!("x' UNION SELECT '{key}' -- ");
            let header = header_with(&token, &[("alg", json!("HS256")), ("kid", json!(kid))]);
            hmac_signed(&token, header, key.as_bytes()).await
        }
        "algorithm-confusion" => algorithm_confusion(&token, ground).await,
        "psychic-signature" => psychic_signature(&token, ground).await,
        "crit" => {
            let mut forged = unchanged(&token);
            let header = header_with(&token, &[("crit", json!(["lab"])), ("lab", json!(true))]);
            forged.parts[0] = encode_part(&header);
            hello(made_from(&token, forged.parts)).await
        }
        "refresh-as-access" => {
            let Some(pair) = &ground.pair else {
                return needs_pair();
            };
            let answer = api::hello_answer(&pair.refresh).await;
            sent(None, "GET /hello/ with the refresh token", answer, None)
        }
        "access-as-refresh" => {
            let answer = api::refresh_answer(&ground.access).await;
            sent(
                None,
                "POST /api/token/refresh/ with the access token",
                answer,
                None,
            )
        }
        "replay" => replay(ground).await,
        _ => Verdict::CouldNotRun(format!("No attack is called {}.", attack.id)),
    }
}

fn needs_pair() -> Verdict {
    Verdict::CouldNotRun(
        "This attack needs the lab's own pair: enter your password above first.".into(),
    )
}

fn claim(token: &DecodedToken, name: &str) -> i64 {
    token.payload.get(name).and_then(Value::as_i64).unwrap_or(0)
}

fn unchanged(token: &DecodedToken) -> Forged {
    Forged {
        parts: token.parts.clone(),
        changed: [false; 3],
    }
}

/// `parts` as a forgery of `token`: each part marked changed where it differs.
fn made_from(token: &DecodedToken, parts: [String; 3]) -> Forged {
    let changed = [0, 1, 2].map(|index| parts[index] != token.parts[index]);
    Forged { parts, changed }
}

/// The payload changed by `change`, the header and signature kept.
fn kept_signature(token: &DecodedToken, change: impl FnOnce(&mut Map<String, Value>)) -> Forged {
    let mut payload = token.payload.clone();
    change(&mut payload);
    let mut forged = unchanged(token);
    forged.parts[1] = encode_part(&payload);
    made_from(token, forged.parts)
}

/// The token's header with `members` set.
fn header_with(token: &DecodedToken, members: &[(&str, Value)]) -> Map<String, Value> {
    let mut header = token.header.clone();
    for (name, value) in members {
        header.insert((*name).to_owned(), value.clone());
    }
    header
}

/// `alg` set to `none` as written, and no signature.
fn unsigned(token: &DecodedToken, none: &str) -> Forged {
    let header = header_with(token, &[("alg", json!(none))]);
    made_from(
        token,
        [encode_part(&header), token.parts[1].clone(), String::new()],
    )
}

/// `header` and the token's payload, signed with HMAC-SHA-256 and `key`, sent to `/hello/`.
async fn hmac_signed(token: &DecodedToken, header: Map<String, Value>, key: &[u8]) -> Verdict {
    let header = encode_part(&header);
    let input = format!("{header}.{}", token.parts[1]);
    match webcrypto::hmac_sha256(key, input.as_bytes()).await {
        Ok(signature) => {
            let forged = made_from(
                token,
                [header, token.parts[1].clone(), compact::encode(&signature)],
            );
            hello(forged).await
        }
        Err(error) => Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    }
}

async fn weak_key(token: &DecodedToken) -> Verdict {
    let header = header_with(token, &[("alg", json!("HS256"))]);
    let input = format!("{}.{}", encode_part(&header), token.parts[1]);
    let signature = match webcrypto::hmac_sha256(WEAK_KEY.as_bytes(), input.as_bytes()).await {
        Ok(signature) => signature,
        Err(error) => return Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    };
    let started = webcrypto::now_ms();
    let mut found = None;
    for (tried, word) in WORD_LIST.iter().enumerate() {
        if webcrypto::hmac_sha256(word.as_bytes(), input.as_bytes())
            .await
            .ok()
            == Some(signature.clone())
        {
            found = Some((word, tried + 1));
            break;
        }
    }
    let took = webcrypto::now_ms() - started;
    let note = match found {
        Some((word, tried)) => format!(
            "Cracked in {took:.1} ms: the key is \"{word}\", the {tried}th of {} words tried. \
             A GPU tries billions a second; 256 random bits would take longer than the universe has existed.",
            WORD_LIST.len()
        ),
        None => "The word list did not hold the key.".to_owned(),
    };
    let forged = made_from(
        token,
        [
            encode_part(&header),
            token.parts[1].clone(),
            compact::encode(&signature),
        ],
    );
    let answer = api::hello_answer(&forged.token()).await;
    sent(Some(forged), "GET /hello/", answer, Some(note))
}

async fn jwk_injection(token: &DecodedToken) -> Verdict {
    let pair = match webcrypto::ec_key_pair().await {
        Ok(pair) => pair,
        Err(error) => return Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    };
    let header = header_with(
        token,
        &[("alg", json!("ES256")), ("jwk", pair.public_jwk.clone())],
    );
    es256_signed(token, header, &pair, None).await
}

async fn jku(token: &DecodedToken) -> Verdict {
    let pair = match webcrypto::ec_key_pair().await {
        Ok(pair) => pair,
        Err(error) => return Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    };
    let mut key = pair.public_jwk.clone();
    key["kid"] = json!("lab");
    let set = json!({ "keys": [key] }).to_string();
    let url = blob_url(&set).unwrap_or_else(|| "https://attacker.example/jwks.json".into());
    let header = header_with(
        token,
        &[
            ("alg", json!("ES256")),
            ("kid", json!("lab")),
            ("jku", json!(url)),
        ],
    );
    let note = format!("The key set the header points at: {set}");
    es256_signed(token, header, &pair, Some(note)).await
}

/// A `blob:` URL of this page holding `text`, as an attacker's server would publish it.
fn blob_url(text: &str) -> Option<String> {
    let parts: js_sys::Array = std::iter::once(wasm_bindgen::JsValue::from_str(text)).collect();
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
    web_sys::Url::create_object_url_with_blob(&blob).ok()
}

async fn es256_signed(
    token: &DecodedToken,
    header: Map<String, Value>,
    pair: &webcrypto::EcKeyPair,
    note: Option<String>,
) -> Verdict {
    let header = encode_part(&header);
    let input = format!("{header}.{}", token.parts[1]);
    match webcrypto::es256_sign(pair, input.as_bytes()).await {
        Ok(signature) => {
            let forged = made_from(
                token,
                [header, token.parts[1].clone(), compact::encode(&signature)],
            );
            let answer = api::hello_answer(&forged.token()).await;
            sent(Some(forged), "GET /hello/", answer, note)
        }
        Err(error) => Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    }
}

/// Whether the server signs with a key pair, by the algorithm its own token names.
fn key_pair_algorithm(token: &DecodedToken) -> Option<String> {
    let alg = token.header.get("alg")?.as_str()?;
    claims::KEY_PAIR_ALGORITHMS
        .contains(&alg)
        .then(|| alg.to_owned())
}

async fn algorithm_confusion(token: &DecodedToken, ground: &Ground) -> Verdict {
    let (Some(_), Some(public)) = (key_pair_algorithm(token), &ground.public_key) else {
        return Verdict::NotApplicable(
            "This server signs with an HMAC secret (HS256), so it publishes no public key to confuse it with. Start it with a key pair (cargo xtask serve --es256) to run this attack.".into(),
        );
    };
    let kid = public.get("kid").cloned().unwrap_or(Value::Null);
    let header = header_with(token, &[("alg", json!("HS256")), ("kid", kid)]);
    let secret = public.to_string();
    let mut payload_changed = token.clone();
    payload_changed
        .payload
        .insert("exp".into(), json!(claim(token, "exp") + 365 * 24 * 3600));
    let header = encode_part(&header);
    let payload = encode_part(&payload_changed.payload);
    let input = format!("{header}.{payload}");
    match webcrypto::hmac_sha256(secret.as_bytes(), input.as_bytes()).await {
        Ok(signature) => {
            let forged = made_from(token, [header, payload, compact::encode(&signature)]);
            let answer = api::hello_answer(&forged.token()).await;
            let note =
                "The HMAC secret: the server's published key, as /.well-known/jwks.json gives it.";
            sent(Some(forged), "GET /hello/", answer, Some(note.into()))
        }
        Err(error) => Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    }
}

async fn psychic_signature(token: &DecodedToken, ground: &Ground) -> Verdict {
    if key_pair_algorithm(token).as_deref() != Some("ES256") || ground.public_key.is_none() {
        return Verdict::NotApplicable(
            "This server does not sign with ES256, so an ECDSA signature is never checked here. Start it with cargo xtask serve --es256 to run this attack.".into(),
        );
    }
    let forged = kept_signature(token, |payload| {
        payload.insert("exp".into(), json!(claim(token, "exp") + 365 * 24 * 3600));
    });
    let forged = made_from(
        token,
        [
            forged.parts[0].clone(),
            forged.parts[1].clone(),
            compact::encode(&[0; 64]),
        ],
    );
    hello(forged).await
}

async fn replay(ground: &Ground) -> Verdict {
    let Some(pair) = &ground.pair else {
        return needs_pair();
    };
    let first = api::refresh_answer(&pair.refresh).await;
    if first.status != 200 {
        return Verdict::CouldNotRun(format!(
            "The lab's refresh token no longer works ({} {}): a replay ended its family. Get a new pair above.",
            first.status, first.body
        ));
    }
    let refreshed: Value = serde_json::from_str(&first.body).unwrap_or_default();
    let (Some(_), Some(access)) = (refreshed["refresh"].as_str(), refreshed["access"].as_str())
    else {
        return Verdict::NotApplicable(
            "This server does not rotate refresh tokens (JWT_ROTATE_REFRESH_TOKENS is off), so no token was replaced to replay.".into(),
        );
    };
    let replayed = api::refresh_answer(&pair.refresh).await;
    let family = api::hello_answer(access).await;
    let own = api::hello_answer(&ground.access).await;
    let refused = replayed.status == 401 && family.status == 401 && own.status == 200;
    let note = format!(
        "Then the access token the rotation gave, of the same family: GET /hello/ answered {} {}. \
         This page's own session, another family: {} {}.",
        family.status, family.body, own.status, own.body
    );
    Verdict::Sent {
        forged: None,
        request: "POST /api/token/refresh/ with the replaced refresh token",
        answer: replayed,
        note: Some(note),
        refused,
    }
}

async fn hello(forged: Forged) -> Verdict {
    let answer = api::hello_answer(&forged.token()).await;
    sent(Some(forged), "GET /hello/", answer, None)
}

fn sent(
    forged: Option<Forged>,
    request: &'static str,
    answer: Answer,
    note: Option<String>,
) -> Verdict {
    let refused = answer.status == 401;
    Verdict::Sent {
        forged,
        request,
        answer,
        note,
        refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> DecodedToken {
        let part = |value: Value| compact::encode(&serde_json::to_vec(&value).unwrap());
        let text = format!(
            "{}.{}.c2lnbmF0dXJl",
            part(json!({"alg": "HS256", "typ": "JWT"})),
            part(json!({"user_id": 1, "exp": 2000, "iat": 1000}))
        );
        jwt::decode(&text).unwrap()
    }

    #[test]
    fn every_card_has_a_unique_id_and_names_what_stops_it() {
        let mut ids: Vec<&str> = ATTACKS.iter().map(|a| a.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), ATTACKS.len());
        assert!(ATTACKS.iter().all(|a| a.stopped_by.contains("crates/")));
    }

    #[test]
    fn a_kept_signature_marks_only_the_payload_changed() {
        let forged = kept_signature(&token(), |payload| {
            payload.insert("user_id".into(), json!(2));
        });

        assert_eq!(forged.changed, [false, true, false]);
        assert_eq!(forged.parts[2], "c2lnbmF0dXJl");
        let decoded = jwt::decode(&forged.token()).unwrap();
        assert_eq!(decoded.payload["user_id"], json!(2));
    }

    #[test]
    fn an_unsigned_token_says_none_as_written_and_has_no_signature() {
        let forged = unsigned(&token(), "nOnE");

        assert!(forged.token().ends_with('.'));
        assert_eq!(jwt::decode(&forged.token()).unwrap().header["alg"], "nOnE");
    }

    #[test]
    fn an_hmac_server_has_no_key_to_confuse_and_no_ecdsa_to_fool() {
        assert_eq!(key_pair_algorithm(&token()), None);
    }
}
