//! Take a token apart: its three parts, the decoded header and payload, what each claim means,
//! a countdown to `exp`, and the server's verdict.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api;
use crate::jwt::{self, DecodedToken};
use crate::session::Session;

/// The token inspector page.
#[component]
pub fn Inspector() -> impl IntoView {
    let session = Session::get();
    let text = RwSignal::new(session.access().unwrap_or_default());
    // Fill in the access token once a reload has restored the session.
    Effect::new(move |_| {
        if let Some(access) = session.access()
            && text.get_untracked().is_empty()
        {
            text.set(access);
        }
    });
    let decoded = Memo::new(move |_| {
        let text = text.get();
        (!text.trim().is_empty()).then(|| jwt::decode(&text))
    });

    let now = RwSignal::new(js_sys::Date::now());
    if let Ok(ticker) = set_interval_with_handle(
        move || now.set(js_sys::Date::now()),
        Duration::from_millis(250),
    ) {
        on_cleanup(move || ticker.clear());
    }

    let verdict = RwSignal::new(None::<Result<(), String>>);
    Effect::new(move |_| {
        text.track();
        verdict.set(None);
    });
    let verify = move |_| {
        let token = text.get_untracked().trim().to_owned();
        spawn_local(async move {
            verdict.set(Some(api::verify(&token).await.map_err(|e| e.message())));
        });
    };

    view! {
        <h1>"Token inspector"</h1>
        <p>
            "Paste any JWT, or look at your own. Decoding needs no key: anyone holding a token "
            "can read it. Only the server, holding the key, can check the signature."
        </p>
        <div class="token-sources">
            <button id="use-access" type="button" disabled=move || session.access().is_none()
                on:click=move |_| text.set(session.access().unwrap_or_default())>
                "My access token"
            </button>
            <button id="use-refresh" type="button" disabled=move || session.refresh_token().is_none()
                on:click=move |_| text.set(session.refresh_token().unwrap_or_default())>
                "My refresh token"
            </button>
        </div>
        <label for="token-input">"Token"</label>
        <textarea id="token-input" rows="5" spellcheck="false"
            prop:value=move || text.get()
            on:input=move |ev| text.set(event_target_value(&ev))
        ></textarea>
        {move || match decoded.get() {
            None => view! { <p class="hint">"Paste a token above, or log in to see yours."</p> }.into_any(),
            Some(Err(message)) => view! { <p id="inspector-error" class="form-error" role="alert">{message}</p> }.into_any(),
            Some(Ok(token)) => view! { <Decoded token=token now=now/> }.into_any(),
        }}
        <div class="verify">
            <button id="verify-button" type="button" disabled=move || text.get().trim().is_empty() on:click=verify>
                "Verify with the server"
            </button>
            <p id="verify-result" role="status">
                {move || verdict.get().map(|v| match v {
                    Ok(()) => "The server accepts this token: the signature and expiry check out.".to_owned(),
                    Err(message) => format!("The server refuses this token: {message}"),
                })}
            </p>
        </div>
        <aside class="where">
            <h2>"Where this page keeps your tokens"</h2>
            <p>
                "The access token lives only in this page's memory. The refresh token is kept in "
                <code>"sessionStorage"</code> " so that reloading does not log you out; it ends "
                "with the tab. Any script running in this page could read it, which is why the "
                "server rotates it on every refresh and blacklists it when you log out."
            </p>
        </aside>
    }
}

/// A decoded token: parts, header, claims and countdown.
#[component]
fn Decoded(token: DecodedToken, now: RwSignal<f64>) -> impl IntoView {
    let [header_part, payload_part, signature_part] = token.parts.clone();
    let exp = token.payload.get("exp").and_then(Value::as_i64);
    let header_rows = token
        .header
        .iter()
        .map(|(name, value)| {
            view! {
                <tr>
                    <th scope="row"><code>{name.clone()}</code></th>
                    <td><code>{value.to_string()}</code></td>
                    <td>{jwt::explain_header(name)}</td>
                </tr>
            }
        })
        .collect_view();
    let claim_rows = token
        .payload
        .iter()
        .map(|(name, value)| {
            let when = matches!(name.as_str(), "exp" | "iat" | "nbf")
                .then(|| value.as_f64().map(local_time))
                .flatten()
                .map(|time| format!(" ({time})"));
            let shown = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            view! {
                <tr data-claim=name.clone()>
                    <th scope="row"><code>{name.clone()}</code></th>
                    <td class="claim-value"><code>{shown}</code>{when}</td>
                    <td>{jwt::explain(name)}</td>
                </tr>
            }
        })
        .collect_view();
    let countdown = move || {
        let exp = exp?;
        let left = exp - (now.get() / 1000.0).floor() as i64;
        Some((left, describe_remaining(left)))
    };

    view! {
        <p class="token-parts" aria-label="The token's three parts">
            <span class="part-text header-text">{header_part}</span>
            <span class="dot">"."</span>
            <span class="part-text payload-text">{payload_part}</span>
            <span class="dot">"."</span>
            <span class="part-text signature-text">{signature_part}</span>
        </p>
        <p id="countdown" class="countdown" role="timer"
            data-seconds=move || countdown().map(|(left, _)| left.to_string())>
            {move || countdown().map_or_else(|| "This token has no exp claim: it never expires.".to_owned(), |(_, text)| text)}
        </p>
        <div class="decoded">
            <section aria-labelledby="header-heading">
                <h2 id="header-heading" class="header-text">"Header"</h2>
                <pre id="header-json">{jwt::pretty(&token.header)}</pre>
                <table><tbody>{header_rows}</tbody></table>
            </section>
            <section aria-labelledby="payload-heading">
                <h2 id="payload-heading" class="payload-text">"Payload (claims)"</h2>
                <pre id="payload-json">{jwt::pretty(&token.payload)}</pre>
                <table><tbody>{claim_rows}</tbody></table>
            </section>
        </div>
        <p class="hint">
            <span class="signature-text">"Signature"</span>
            ": an HMAC-SHA256 of the first two parts under the server's secret key. Change one "
            "character of the header or payload and the server refuses the token."
        </p>
    }
}

fn describe_remaining(left: i64) -> String {
    let (minutes, seconds) = (left.abs() / 60, left.abs() % 60);
    if left > 0 {
        format!("Expires in {minutes}m {seconds:02}s.")
    } else {
        format!("Expired {minutes}m {seconds:02}s ago.")
    }
}

fn local_time(seconds: f64) -> String {
    js_sys::Date::new(&(seconds * 1000.0).into())
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}
