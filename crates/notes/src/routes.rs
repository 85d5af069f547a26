//! The notes API, under `/notes/` so that nginx (or the auth server in development) can route
//! it beside the auth API on one origin.
//!
//! - `GET /notes/api/notes/`: the caller's notes, oldest first.
//! - `POST /notes/api/notes/` `{"text": "..."}`: 201 and the note.
//! - `GET /notes/healthz`: 200 while the database answers.

use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use apikit::{AuthenticatedBody, HttpError};
use claims::Note;
use serde_json::json;

use crate::auth::Caller;
use crate::error::NotesError;
use crate::input::new_note_text;
use crate::startup::State;
use crate::store::{DbError, StoredNote};

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/notes/api/notes/")
            .route(web::get().to(list))
            .route(web::head().to(list))
            .route(web::post().to(create))
            .default_service(web::to(other_method)),
    )
    .service(web::resource("/notes/healthz").route(web::get().to(healthz)))
    .default_service(web::to(not_found));
}

async fn list(caller: Caller, state: web::Data<State>) -> Result<HttpResponse, NotesError> {
    let notes = state
        .store
        .notes_of(caller.user_id)
        .await
        .map_err(unavailable)?;
    let notes: Vec<Note> = notes.into_iter().map(shown).collect();
    Ok(HttpResponse::Ok().json(notes))
}

/// As DRF's views: the caller is authenticated before the body is read.
async fn create(
    AuthenticatedBody(caller, data): AuthenticatedBody<Caller>,
    state: web::Data<State>,
) -> Result<HttpResponse, NotesError> {
    let text = new_note_text(&data)?;
    let now = chrono::Utc::now().naive_utc();
    let note = state
        .store
        .add(caller.user_id, text, now)
        .await
        .map_err(unavailable)?;
    Ok(HttpResponse::Created().json(shown(note)))
}

/// As DRF's views: authentication first, then the method.
async fn other_method(
    caller: Result<Caller, NotesError>,
    req: HttpRequest,
) -> Result<HttpResponse, NotesError> {
    caller?;
    if req.method() == Method::OPTIONS {
        return Ok(HttpResponse::Ok().json(json!({
            "name": "Note List",
            "description": "The caller's notes; POST adds one.",
            "renders": ["application/json"],
            "parses": ["application/json", "application/x-www-form-urlencoded"],
        })));
    }
    Err(HttpError::MethodNotAllowed {
        method: req.method().clone(),
        allowed: "GET, POST, HEAD, OPTIONS",
    }
    .into())
}

async fn healthz(state: web::Data<State>) -> Result<HttpResponse, NotesError> {
    state.store.ping().await.map_err(unavailable)?;
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "keys": state.verifier.keys.held_keys(),
    })))
}

async fn not_found() -> Result<HttpResponse, NotesError> {
    Err(HttpError::NotFound.into())
}

fn unavailable(error: DbError) -> NotesError {
    NotesError::Unavailable(error.to_string())
}

fn shown(note: StoredNote) -> Note {
    Note {
        id: note.id,
        text: note.text,
        created: note.created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    }
}
