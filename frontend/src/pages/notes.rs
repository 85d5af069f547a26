//! Notes, kept by a second service: the auth server's access token, checked there with the
//! public keys the auth server publishes, and nothing else. Only shown with a session.

use claims::{NOTE_MAX_CHARS, Note};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::app::page;
use crate::clock;
use crate::jwt;
use crate::session::Session;

/// The Notes page.
#[component]
pub fn Notes() -> impl IntoView {
    page("Notes");
    let session = Session::get();
    let notes = RwSignal::new(None::<Result<Vec<Note>, ApiError>>);
    // None until the key set is read; then how many keys it lists, if it could be read.
    let published = RwSignal::new(None::<Option<usize>>);
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);

    spawn_local(async move {
        let keys = api::published_keys().await.ok();
        published.set(Some(keys));
        // With no published key, every call would only be refused: the notice says why.
        if keys != Some(0) {
            notes.set(Some(session.authorized(api::notes).await));
        }
    });
    let without_keys = move || published.get() == Some(Some(0));

    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        spawn_local(async move {
            let written = text.get_untracked();
            let outcome = session
                .authorized(move |access| api::add_note(access, written.clone()))
                .await;
            match outcome {
                Ok(note) => {
                    text.set(String::new());
                    error.set(None);
                    notes.update(|list| match list {
                        Some(Ok(list)) => list.push(note),
                        other => *other = Some(Ok(vec![note])),
                    });
                }
                Err(refused) => error.set(Some(refused)),
            }
            busy.set(false);
        });
    };

    // The key the current access token names: the one the notes service looks up.
    let kid = move || {
        session
            .access()
            .and_then(|token| jwt::decode(&token).ok())
            .and_then(|token| {
                token
                    .header
                    .get("kid")
                    .and_then(|kid| kid.as_str().map(str::to_owned))
            })
    };

    view! {
        <h1 tabindex="-1">"Notes, from a second service"</h1>
        <p>
            "These notes are kept by the " <strong>"notes"</strong> " service, not by the auth "
            "server. It has no secret and no users table: it checks your access token with the "
            "public keys the auth server publishes at " <code>"/.well-known/jwks.json"</code> "."
        </p>
        <p id="notes-key">
            {move || match kid() {
                Some(kid) => format!("Your access token names the key {kid}."),
                None => "Your access token names no key (kid): it is signed with a shared secret.".to_owned(),
            }}
        </p>
        <Show when=without_keys>
            <div id="notes-no-keys" class="notice" role="status">
                <p>
                    "The notes service checks tokens with the public keys the auth server "
                    "publishes. This server signs with HS256, the tutorial's choice: one shared "
                    "secret, which it cannot publish, so there is no public key to check your "
                    "token with."
                </p>
                <p>
                    "To see Notes work, stop the server (Ctrl-C) and start it with "
                    <code>"cargo xtask serve --es256"</code>
                    ": it signs with an ES256 key pair and publishes the public half. (The "
                    "compose stack signs with ES256 too.)"
                </p>
            </div>
        </Show>
        <Show when=move || published.get().is_some() && !without_keys()>
            <section aria-labelledby="notes-heading">
                <h2 id="notes-heading">"Your notes"</h2>
                {move || match notes.get() {
                    None => view! { <p class="pending">"Loading…"</p> }.into_any(),
                    Some(Err(refused)) => view! {
                        <p id="notes-load-error" class="form-error" role="alert">{refused.message()}</p>
                    }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p id="notes-empty">"No notes yet."</p>
                    }.into_any(),
                    Some(Ok(list)) => view! {
                        <ul id="notes-list">
                            {list.into_iter().map(|note| view! {
                                <li data-id=note.id>
                                    <time datetime=note.created.clone()>{clock::from_iso(&note.created)}</time>
                                    " "{note.text}
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }}
            </section>
            <form on:submit=add aria-labelledby="add-heading">
                <h2 id="add-heading">"Add a note"</h2>
                <label for="note-text">"Text"</label>
                <input id="note-text" type="text" maxlength=NOTE_MAX_CHARS
                    prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    aria-describedby="note-error"/>
                <p id="note-error" class="form-error" role="alert">
                    {move || error.get().map(|refused| refused.field("text").unwrap_or_else(|| refused.message()))}
                </p>
                <button id="add-note" type="submit" disabled=move || busy.get()>"Add"</button>
            </form>
        </Show>
    }
}
