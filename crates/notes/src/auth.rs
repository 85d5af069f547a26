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
use actix_web::{FromRequest, HttpRequest, web};
use apikit::HttpError;
use apikit::bearer::access_token;
use claims::{Claims, Header, Refusal, Rules, TokenType, UserId, compact};
use serde_json::Value;

use crate::error::NotesError;
use crate::jwks::KeyCache;
use crate::settings::Settings;

/// The user a valid access token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The `user_id` claim (or `AUTH_USER_ID_CLAIM`), as text.
    pub user_id: String,
}

/// What checking a token needs: the settings, the contract's rules and the keys.
pub struct Verifier {
    /// The settings tokens are checked against.
    pub settings: Settings,
    /// The token contract's rules, from the settings.
    rules: Rules,
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
            &settings.jwks_extra_roots,
        );
        Self {
            rules: settings.rules(),
            settings,
            keys,
        }
    }

    /// The caller an access token names, at `now` (seconds since the epoch), or why not: the
    /// signature with the published key its `kid` names, then the token contract's checks, the
    /// same the auth server runs.
    pub async fn caller(&self, token: &str, now: i64) -> Result<Caller, NotesError> {
        let invalid = || NotesError::from(HttpError::AccessRefused(Refusal::Invalid));
        let parts = compact::split(token).map_err(|_| invalid())?;
        let header: Header = serde_json::from_slice(&parts.header).map_err(|_| invalid())?;
        // The auth server publishes a key set: the kid selects among its keys, never a key
        // the token brings or points to.
        let kid = header.kid.as_deref().ok_or_else(invalid)?;
        let key = self
            .keys
            .key(kid)
            .await
            .map_err(|error| NotesError::Unavailable(error.to_string()))?
            .ok_or_else(invalid)?;
        let signed = jsonwebtoken::crypto::verify(
            parts.signature,
            parts.signing_input.as_bytes(),
            &key,
            self.settings.algorithm,
        );
        if !signed.unwrap_or(false) {
            return Err(invalid());
        }
        let claims: Claims<Value> =
            serde_json::from_slice(&parts.payload).map_err(|_| invalid())?;
        self.rules
            .check(&header, &claims, now)
            .and_then(|()| claims.verify(Some(TokenType::Access)))
            .map_err(HttpError::AccessRefused)?;
        caller(&claims, &self.settings.user_id_claim)
    }
}

/// The user a checked token names, under `user_id_claim`. This service knows no users, but it
/// knows an id no user can have, and refuses it as the auth server does.
fn caller(claims: &Claims<Value>, user_id_claim: &str) -> Result<Caller, NotesError> {
    match claims.user_id(user_id_claim) {
        Some(UserId::Id(user_id)) => Ok(Caller { user_id }),
        Some(UserId::Unusable) => Err(HttpError::AccessRefused(Refusal::UserNotFound).into()),
        None => Err(HttpError::AccessRefused(Refusal::NoUserId).into()),
    }
}

impl FromRequest for Caller {
    type Error = NotesError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, NotesError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let verifier = req.app_data::<web::Data<Verifier>>().cloned();
        let token = access_token(req, &["Bearer"]).map_err(NotesError::from);
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Claims<Value> {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_token_names_its_user_by_the_configured_claim() {
        let caller = caller(&claims(json!({"user_id": "7", "uid": 8})), "uid");
        assert_eq!(
            caller.unwrap(),
            Caller {
                user_id: "8".into()
            }
        );
    }

    #[test]
    fn a_token_without_a_user_id_names_nobody() {
        let error = caller(&claims(json!({})), "user_id").unwrap_err();
        assert!(matches!(
            error,
            NotesError::Http(HttpError::AccessRefused(Refusal::NoUserId))
        ));
    }

    #[test]
    fn a_user_id_no_user_can_have_is_a_user_not_found() {
        for id in [json!(true), json!(""), json!(1.5), json!(["1"])] {
            let error = caller(&claims(json!({ "user_id": id })), "user_id").unwrap_err();
            assert!(matches!(
                error,
                NotesError::Http(HttpError::AccessRefused(Refusal::UserNotFound))
            ));
        }
    }

    #[test]
    fn a_user_id_is_the_one_django_would_look_up() {
        let caller = caller(&claims(json!({"user_id": "01"})), "user_id").unwrap();
        assert_eq!(caller.user_id, "1");
    }
}
