//! The protected endpoint: `GET /hello/` with the access token, and the curl command that
//! does the same from a terminal.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::session::Session;

/// The Hello page.
#[component]
pub fn Hello() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let answer = RwSignal::new(None::<Result<String, String>>);
    // Which call the answer shown belongs to (the tests wait for a given one).
    let calls = RwSignal::new(0_u32);
    let copied = RwSignal::new(None::<&'static str>);

    let call = move || {
        answer.set(None);
        calls.update(|n| *n += 1);
        let this_call = calls.get_untracked();
        spawn_local(async move {
            let outcome = session.authorized(api::hello).await;
            // An answer to a call that a newer one replaced is not shown.
            if calls.get_untracked() == this_call {
                answer.set(Some(
                    outcome
                        .map(|hello| hello.message)
                        .map_err(|error| error.message()),
                ));
            }
        })
    };

    // Once the session is known: call, or without a session, send you to log in. This runs
    // once; a session that ends later (log out, failed refresh) is handled by the navigation.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) || session.restoring.get() {
            return done.unwrap_or(false);
        }
        if session.is_logged_in_untracked() {
            call();
        } else {
            session
                .notice
                .set(Some("Log in to call the protected endpoint.".to_owned()));
            navigate("/login", Default::default());
        }
        true
    });

    let curl = move || {
        let origin = window().location().origin().unwrap_or_default();
        let token = session.access().unwrap_or_else(|| "<access token>".into());
        format!("curl -H \"Authorization: Bearer {token}\" {origin}/hello/")
    };
    let copy = move |_| {
        let text = curl();
        spawn_local(async move {
            let promise = window().navigator().clipboard().write_text(&text);
            copied.set(Some(match JsFuture::from(promise).await {
                Ok(_) => "Copied.",
                Err(_) => "Copying failed: select the command and copy it by hand.",
            }));
        });
    };

    view! {
        <h1>"Hello, protected endpoint"</h1>
        <p>
            "This page sends " <code>"GET /hello/"</code> " with your access token in the "
            <code>"Authorization"</code> " header. Without a valid token the server answers 401."
        </p>
        <section aria-labelledby="answer-heading">
            <h2 id="answer-heading">"The server says"</h2>
            {move || match answer.get() {
                None => view! { <p class="pending">"Calling…"</p> }.into_any(),
                Some(Ok(message)) => view! {
                    <p id="hello-message" class="message" data-call=calls.get_untracked()>{message}</p>
                }.into_any(),
                Some(Err(message)) => view! {
                    <p id="hello-error" class="form-error" role="alert" data-call=calls.get_untracked()>{message}</p>
                }.into_any(),
            }}
            <button id="call-again" type="button" on:click=move |_| call()>"Call again"</button>
        </section>
        <section aria-labelledby="curl-heading">
            <h2 id="curl-heading">"The same call with curl"</h2>
            <pre><code id="curl-command">{curl}</code></pre>
            <button id="copy-curl" type="button" on:click=copy>"Copy"</button>
            <span class="copied" role="status">{move || copied.get()}</span>
            <p class="hint">"The access token expires in minutes; this command stops working then."</p>
        </section>
    }
}
