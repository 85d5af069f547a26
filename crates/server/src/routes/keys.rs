//! `GET /.well-known/jwks.json`: the public keys tokens are verified with, as a JSON Web Key
//! Set (RFC 7517), so another service can check this server's tokens holding no secret. With
//! HMAC the set is empty: the only key is the secret, which must never be published.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::services::AppState;

/// How long a client may keep the set, in seconds. Verifiers refetch at once on a `kid` they
/// do not know, so a new key needs no wait; this bounds how long a retired key lingers in
/// their caches.
const MAX_AGE: u32 = 300;

/// 200 `{"keys": [...]}`: every key that verifies, public members only.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    summary = "The public keys that verify this server's tokens (JWKS)",
    responses((status = 200, description = "A JSON Web Key Set (RFC 7517); empty when tokens are signed with an HMAC secret.", body = inline(crate::routes::openapi::KeySet),
        headers(("Cache-Control" = String, description = "`public, max-age=300`.")))),
)]
pub async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, format!("public, max-age={MAX_AGE}")))
        .json(state.tokens.jwks())
}
