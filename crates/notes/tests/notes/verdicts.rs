//! One contract, one verdict: the same crafted tokens, correctly signed with the auth server's
//! own ES256 key, sent to the auth server's `/hello/` and to the notes service. Both check
//! through the `claims` crate, so both must answer alike, status and body.

use std::path::Path;

use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::forge::sign_raw;
use crate::helpers::*;

const ISSUER: &str = "https://auth.test";
const AUDIENCE: &str = "tutorial";

/// An auth server with an issuer and an audience, a notes service expecting both, a user's
/// genuine access token, and the private key that signed it.
struct Bench {
    _keys: tempfile::TempDir,
    auth: AuthServer,
    notes: NotesService,
    genuine: String,
    key: EncodingKey,
}

impl Bench {
    async fn start() -> Self {
        let keys = tempfile::tempdir().expect("a temporary directory");
        let auth = AuthServer::start(
            keys.path(),
            &[("JWT_ISSUER", ISSUER), ("JWT_AUDIENCE", AUDIENCE)],
        );
        let notes = NotesService::start(
            &auth.jwks_url(),
            &[("AUTH_ISSUER", ISSUER), ("AUTH_AUDIENCE", AUDIENCE)],
        );
        let genuine = auth.access_token_for("ada").await;
        let kid = header_of(&genuine)["kid"].as_str().unwrap().to_owned();
        let key = private_key(keys.path(), &kid);
        Self {
            _keys: keys,
            auth,
            notes,
            genuine,
            key,
        }
    }

    /// The genuine token's header and claims, changed by `change` and signed again.
    fn forge(&self, change: impl FnOnce(&mut Value, &mut Value)) -> String {
        let mut header = header_of(&self.genuine);
        let mut claims = payload_of(&self.genuine);
        change(&mut header, &mut claims);
        sign_raw(&header, &claims, &self.key, Algorithm::ES256)
    }

    /// The status and body of `/hello/` and of the notes list for `token`.
    async fn verdicts(&self, token: &str) -> ((u16, Value), (u16, Value)) {
        let hello = reqwest::Client::new()
            .get(format!("{}/hello/", self.auth.address))
            .bearer_auth(token)
            .send()
            .await
            .expect("the auth server answers");
        let notes = self.notes.list(token).await;
        (answer(hello).await, answer(notes).await)
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

fn private_key(keys: &Path, kid: &str) -> EncodingKey {
    let pem = std::fs::read(keys.join(format!("{kid}.pem"))).expect("the key file");
    EncodingKey::from_ec_pem(&pem).expect("an EC private key")
}

type Change = fn(&mut Value, &mut Value);

/// Each crafted token and the status both services must answer.
const CASES: &[(&str, Change, u16)] = &[
    ("genuine", |_, _| {}, 200),
    (
        "future nbf",
        |_, c| c["nbf"] = json!(c["iat"].as_i64().unwrap() + 600),
        401,
    ),
    (
        "future iat",
        |_, c| c["iat"] = json!(c["iat"].as_i64().unwrap() + 600),
        401,
    ),
    (
        "float exp",
        |_, c| c["exp"] = json!(c["exp"].as_f64().unwrap() + 0.5),
        200,
    ),
    (
        "string exp",
        |_, c| c["exp"] = json!(c["exp"].to_string()),
        401,
    ),
    ("huge exp", |_, c| c["exp"] = json!(1e300), 401),
    (
        "past exp",
        |_, c| c["exp"] = json!(c["iat"].as_i64().unwrap() - 1),
        401,
    ),
    (
        "no exp",
        |_, c| drop(c.as_object_mut().unwrap().remove("exp")),
        401,
    ),
    (
        "no jti",
        |_, c| drop(c.as_object_mut().unwrap().remove("jti")),
        401,
    ),
    ("numeric jti", |_, c| c["jti"] = json!(42), 401),
    ("numeric sub", |_, c| c["sub"] = json!(42), 401),
    ("string sub", |_, c| c["sub"] = json!("42"), 200),
    (
        "numeric user_id",
        |_, c| c["user_id"] = json!(c["user_id"].as_str().unwrap().parse::<i64>().unwrap()),
        200,
    ),
    (
        "user_id with a leading zero",
        |_, c| c["user_id"] = json!(format!("0{}", c["user_id"].as_str().unwrap())),
        200,
    ),
    (
        "no user_id",
        |_, c| drop(c.as_object_mut().unwrap().remove("user_id")),
        401,
    ),
    (
        "user_id no user can have",
        |_, c| c["user_id"] = json!(true),
        401,
    ),
    ("empty user_id", |_, c| c["user_id"] = json!(""), 401),
    (
        "refresh as access",
        |_, c| c["token_type"] = json!("refresh"),
        401,
    ),
    (
        "no token_type",
        |_, c| drop(c.as_object_mut().unwrap().remove("token_type")),
        401,
    ),
    ("wrong aud", |_, c| c["aud"] = json!("another-service"), 401),
    (
        "aud in a list",
        |_, c| c["aud"] = json!(["another-service", AUDIENCE]),
        200,
    ),
    (
        "no aud",
        |_, c| drop(c.as_object_mut().unwrap().remove("aud")),
        401,
    ),
    (
        "wrong iss",
        |_, c| c["iss"] = json!("https://evil.test"),
        401,
    ),
    (
        "no iss",
        |_, c| drop(c.as_object_mut().unwrap().remove("iss")),
        401,
    ),
    ("crit", |h, _| h["crit"] = json!(["exp"]), 401),
    ("alg none", |h, _| h["alg"] = json!("none"), 401),
    ("alg ES384", |h, _| h["alg"] = json!("ES384"), 401),
    ("alg HS256", |h, _| h["alg"] = json!("HS256"), 401),
    (
        "unknown kid",
        |h, _| h["kid"] = json!("an-unknown-key"),
        401,
    ),
    (
        "no kid",
        |h, _| drop(h.as_object_mut().unwrap().remove("kid")),
        401,
    ),
    (
        "jku ignored",
        |h, _| h["jku"] = json!("http://127.0.0.1:9/jwks.json"),
        200,
    ),
];

#[actix_web::test]
async fn the_auth_server_and_the_notes_service_give_one_verdict_on_every_crafted_token() {
    let bench = Bench::start().await;
    let mut disagreements = Vec::new();
    for (name, change, expected) in CASES {
        let token = bench.forge(*change);
        let (hello, notes) = bench.verdicts(&token).await;
        // Success bodies differ by endpoint; refusals must match word for word.
        let agree = match expected {
            200 => notes.0 == 200,
            _ => notes == hello,
        };
        if hello.0 != *expected || !agree {
            disagreements.push(format!(
                "{name}: expected {expected}, /hello/ {hello:?}, notes {notes:?}"
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[actix_web::test]
async fn a_token_not_yet_valid_is_refused_by_the_notes_service_as_by_the_auth_server() {
    let bench = Bench::start().await;
    let token = bench.forge(|_, c| c["nbf"] = json!(c["iat"].as_i64().unwrap() + 600));
    let (hello, notes) = bench.verdicts(&token).await;
    assert_eq!(hello, (401, access_token_refused("Token is invalid")));
    assert_eq!(notes, hello);
}

#[actix_web::test]
async fn a_float_exp_is_accepted_by_the_notes_service_as_by_the_auth_server() {
    let bench = Bench::start().await;
    let token = bench.forge(|_, c| c["exp"] = json!(c["exp"].as_f64().unwrap() + 0.5));
    let (hello, notes) = bench.verdicts(&token).await;
    assert_eq!(hello, (200, json!({"message": "Hello, World!"})));
    assert_eq!(notes, (200, json!([])));
}
