//! Who is calling: the access token in `Authorization: Bearer ...`, checked with the auth
//! server's published keys alone.
//!
//! What this service cannot know: it never asks the auth server about a token, so a token it
//! accepts stays accepted until it expires, even after its user logged out or was deactivated
//! there. Short access lifetimes bound that; the auth server's own endpoints, which do check,
//! are the place for anything that must stop at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use jsonwebtoken::Validation;
use serde_json::{Map, Value};

use crate::error::NotesError;
use crate::jwks::KeyCache;
use crate::settings::Settings;

/// The user a valid access token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The `user_id` claim (or `AUTH_USER_ID_CLAIM`), as text.
    pub user_id: String,
}

/// What checking a token needs: the settings and the keys.
pub struct Verifier {
    /// The settings tokens are checked against.
    pub settings: Settings,
    /// The auth server's keys.
    pub keys: KeyCache,
}

impl Verifier {
    /// A verifier fetching keys as `settings` say.
    pub fn new(settings: Settings) -> Self {
        let keys = KeyCache::new(
            settings.jwks_url.clone(),
            settings.algorithm,
            settings.jwks_max_age,
            settings.jwks_timeout,
        );
        Self { settings, keys }
    }

    /// The caller an access token names, at `now` (seconds since the epoch), or why not.
    pub async fn caller(&self, token: &str, now: i64) -> Result<Caller, NotesError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid_token())?;
        // The configured algorithm, never the token's: an HS256 token "signed" with a public
        // key as its secret is refused here.
        if header.alg != self.settings.algorithm || header.crit.is_some() {
            return Err(invalid_token());
        }
        let kid = header.kid.ok_or_else(invalid_token)?;
        let key = self
            .keys
            .key(&kid)
            .await
            .map_err(|error| NotesError::Unavailable(error.to_string()))?
            .ok_or_else(invalid_token)?;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &self.validation())
            .map_err(|_| invalid_token())?
            .claims;
        check_claims(&claims, &self.settings.user_id_claim, now)
    }

    fn validation(&self) -> Validation {
        let mut validation = Validation::new(self.settings.algorithm);
        // `exp` is checked below, as the auth server checks it (expired at `exp`, not after).
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        // A claim that is checked must also be present: the library skips a check whose claim
        // a token simply leaves out.
        match &self.settings.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.required_spec_claims.insert("aud".to_owned());
            }
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &self.settings.issuer {
            validation.set_issuer(&[issuer]);
            validation.required_spec_claims.insert("iss".to_owned());
        }
        validation
    }
}

fn invalid_token() -> NotesError {
    NotesError::TokenRefused("Token is invalid")
}

/// The checks on a payload whose signature verified: not expired, an access token, naming a
/// user.
pub fn check_claims(
    claims: &Map<String, Value>,
    user_id_claim: &str,
    now: i64,
) -> Result<Caller, NotesError> {
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(NotesError::TokenRefused("Token has no exp claim"))?;
    if exp <= now {
        return Err(NotesError::TokenRefused("Token is expired"));
    }
    if claims.get("token_type").and_then(Value::as_str) != Some("access") {
        return Err(NotesError::TokenRefused("Token has wrong type"));
    }
    let user_id = match claims.get(user_id_claim) {
        Some(Value::String(id)) if !id.is_empty() => id.clone(),
        Some(Value::Number(id)) => id.to_string(),
        _ => return Err(NotesError::NoUserIdentification),
    };
    Ok(Caller { user_id })
}

impl FromRequest for Caller {
    type Error = NotesError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, NotesError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>().cloned();
        let token = bearer_token(req);
        Box::pin(async move {
            let verifier: Arc<Verifier> = verifier
                .ok_or_else(|| NotesError::Unavailable("no verifier configured".into()))?
                .into_inner();
            verifier
                .caller(&token?, chrono::Utc::now().timestamp())
                .await
        })
    }
}

/// The token of `Authorization: Bearer <token>`, as simplejwt reads it: another scheme, or no
/// header, is no credentials at all; `Bearer` with nothing or two things after it is a
/// malformed header.
fn bearer_token(req: &HttpRequest) -> Result<String, NotesError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .ok_or(NotesError::NotAuthenticated)?;
    let parts: Vec<&str> = value.split_whitespace().collect();
    match parts.as_slice() {
        ["Bearer", token] => Ok((*token).to_owned()),
        ["Bearer", ..] => Err(NotesError::BadAuthorizationHeader),
        _ => Err(NotesError::NotAuthenticated),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_valid_access_token_names_its_user() {
        let caller = check_claims(
            &claims(json!({"exp": 101, "token_type": "access", "user_id": "7"})),
            "user_id",
            100,
        );
        assert_eq!(
            caller.unwrap(),
            Caller {
                user_id: "7".into()
            }
        );
    }

    #[test]
    fn a_token_is_expired_at_its_exp() {
        let error = check_claims(
            &claims(json!({"exp": 100, "token_type": "access", "user_id": "7"})),
            "user_id",
            100,
        )
        .unwrap_err();
        assert!(matches!(
            error,
            NotesError::TokenRefused("Token is expired")
        ));
    }

    #[test]
    fn a_refresh_token_is_the_wrong_type() {
        let error = check_claims(
            &claims(json!({"exp": 200, "token_type": "refresh", "user_id": "7"})),
            "user_id",
            100,
        )
        .unwrap_err();
        assert!(matches!(
            error,
            NotesError::TokenRefused("Token has wrong type")
        ));
    }

    #[test]
    fn a_token_without_a_user_names_nobody() {
        let error = check_claims(
            &claims(json!({"exp": 200, "token_type": "access", "user_id": true})),
            "user_id",
            100,
        )
        .unwrap_err();
        assert!(matches!(error, NotesError::NoUserIdentification));
    }
}
