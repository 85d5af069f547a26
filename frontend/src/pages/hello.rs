//! The protected endpoint: `GET /hello/` with the access token, and the curl command that
//! does the same from a terminal. Only shown with a session (the app's guard sees to that).

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::api;
use crate::app::page;
use crate::session::Session;
use crate::{clock, jwt};

/// The Hello page.
#[component]
pub fn Hello() -> impl IntoView {
    page("Hello");
    let session = Session::get();
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
    call();

    let curl = move || {
        let token = session.access().unwrap_or_else(|| "<access token>".into());
        format!(
            "curl -H \"Authorization: Bearer {token}\" {}/hello/",
            api::origin()
        )
    };
    let copy = move |_| {
        let text = curl();
        spawn_local(async move {
            copied.set(Some(match copy_to_clipboard(&text).await {
                Ok(()) => "Copied.",
                Err(()) => {
                    select_text("curl-command");
                    "The clipboard is not available here: the command is selected, copy it with Ctrl+C."
                }
            }));
        });
    };

    view! {
        <h1 tabindex="-1">"Hello, protected endpoint"</h1>
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
            <span id="copied" class="copied" role="status">{move || copied.get()}</span>
            <p id="curl-expiry" class="hint">{move || match session.access().as_deref().and_then(jwt::expiry) {
                Some(exp) => format!(
                    "This command works until {}, when the access token it carries expires (its exp); \
                     the page refreshes its own token before then.",
                    clock::from_numeric_date(exp)
                ),
                None => "The command carries the access token, and stops working when it expires.".to_owned(),
            }}</p>
            <p id="session-times" class="hint">{move || session.times().map(|(refresh, session_end)| format!(
                "Your session's refresh token, in a cookie this page cannot read, lasts until {} \
                 and is replaced at each refresh; the session ends at {} however often it is \
                 refreshed.",
                clock::from_numeric_date(refresh),
                clock::from_numeric_date(session_end)
            ))}</p>
        </section>
    }
}

/// Writes `text` to the clipboard, where the page may (a secure context, with permission).
async fn copy_to_clipboard(text: &str) -> Result<(), ()> {
    let navigator = window().navigator();
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).map_err(drop)?;
    if clipboard.is_undefined() {
        return Err(());
    }
    let clipboard: web_sys::Clipboard = clipboard.dyn_into().map_err(drop)?;
    JsFuture::from(clipboard.write_text(text))
        .await
        .map(drop)
        .map_err(drop)
}

/// Selects the text of the element with `id`, for copying by hand.
fn select_text(id: &str) {
    let (Some(element), Some(selection)) = (
        document().get_element_by_id(id),
        window().get_selection().ok().flatten(),
    ) else {
        return;
    };
    if let Ok(range) = document().create_range()
        && range.select_node_contents(&element).is_ok()
    {
        let _ = selection.remove_all_ranges();
        let _ = selection.add_range(&range);
    }
}
