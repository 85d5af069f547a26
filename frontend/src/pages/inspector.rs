//! Take a token apart: its three parts, the decoded header and payload, what each claim means,
//! a countdown to `exp`, what can be seen without the key, and the server's verdict in words.
//!
//! The page follows the session's current access token (so it shows the new one after a
//! silent refresh) until you paste or edit one of your own.

use std::time::Duration;

use claims::{ErrorBody, Refusal};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::Value;

use crate::api::{self, ApiError};
use crate::app::page;
use crate::jwt::{self, DecodedToken, Finding};
use crate::session::Session;

/// The example token on jwt.io, which every JWT tutorial shows.
const JWT_IO_EXAMPLE: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

/// Whose token the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// The session's current access token, whichever it is now.
    Session,
    /// A token pasted, typed or edited here.
    Own(String),
}

/// What the server said of a token, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Checking,
    Accepted,
    AcceptedForRefreshOnly,
    Refused(String),
    /// The server refused a token this page changed one claim of: the lesson of the signature.
    Tampered(String),
    Unreachable(String),
}

impl Verdict {
    fn of(outcome: Result<(), ApiError>, is_refresh: bool, changed: Option<&str>) -> Self {
        match outcome {
            Ok(()) if is_refresh => Self::AcceptedForRefreshOnly,
            Ok(()) => Self::Accepted,
            Err(ApiError::Refused { body, .. })
                if Refusal::of_body(&body) == Some(Refusal::Invalid) && changed.is_some() =>
            {
                Self::Tampered(changed.unwrap_or_default().to_owned())
            }
            Err(ApiError::Refused { body, .. }) => Self::Refused(explain_refusal(&body)),
            Err(error) => Self::Unreachable(error.message()),
        }
    }

    fn text(&self) -> String {
        match self {
            Self::Checking => "Asking the server…".to_owned(),
            Self::Accepted => "The server accepts this token: the signature, the expiry and the \
                               claims check out, and it was not revoked."
                .to_owned(),
            Self::AcceptedForRefreshOnly => "Valid, but only for refreshing: the server accepts \
                                             the signature and claims, yet /hello/ needs an \
                                             access token and refuses this one."
                .to_owned(),
            Self::Tampered(claim) => format!(
                "The server refuses it: \"Token is invalid\". You changed {claim}; the signature \
                 was made over the old payload, so it no longer matches. Only the holder of the \
                 key can sign a new one."
            ),
            Self::Refused(why) | Self::Unreachable(why) => why.clone(),
        }
    }
}

/// The server's refusal, read with the token contract's parser, and what it covers.
fn explain_refusal(body: &ErrorBody) -> String {
    let Some(refusal) = Refusal::of_body(body) else {
        return format!("The server refuses this token: \"{}\".", body.summary());
    };
    let covers = match refusal {
        Refusal::Invalid => {
            "simplejwt gives that one answer for several causes: a signature that does not \
             match (the header or payload was changed, or another key signed it), another \
             algorithm, a malformed claim, or a wrong issuer or audience. The checks above say \
             which ones this page can see."
        }
        Refusal::Expired => "Its exp has passed by the server's clock.",
        Refusal::Blacklisted => {
            "It was revoked: logged out, rotated out by a refresh, or its whole session ended."
        }
        Refusal::NoId => "It has no jti claim, which simplejwt requires.",
        Refusal::NoExp => "It has no exp claim, so it would never expire.",
        _ => "",
    };
    format!("The server refuses this token: \"{refusal}\". {covers}")
        .trim_end()
        .to_owned()
}

/// The token inspector page.
#[component]
pub fn Inspector() -> impl IntoView {
    page("Token inspector");
    let session = Session::get();
    let source = RwSignal::new(Source::Session);
    let text = Memo::new(move |_| match source.get() {
        Source::Session => session.access().unwrap_or_default(),
        Source::Own(token) => token,
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

    // The algorithm the server uses, as its own tokens show it.
    let server_alg = Memo::new(move |_| {
        let access = session.access()?;
        let token = jwt::decode(&access).ok()?;
        token.header.get("alg")?.as_str().map(str::to_owned)
    });
    // Whole seconds: the checks run again as the clock passes exp or nbf, not every tick.
    let second = Memo::new(move |_| (now.get() / 1000.0) as i64);
    let found = Memo::new(move |_| match decoded.get() {
        Some(Ok(token)) => jwt::findings(&token, second.get(), server_alg.get().as_deref()),
        _ => Vec::new(),
    });
    // The claim "Change a claim" changed, while its token is the one shown.
    let changed = RwSignal::new(None::<(String, String)>);
    let changed_claim = Memo::new(move |_| {
        changed
            .get()
            .filter(|(token, _)| *token == text.get())
            .map(|(_, claim)| claim)
    });

    let verdict = RwSignal::new(None::<Verdict>);
    Effect::new(move |_| {
        text.track();
        verdict.set(None);
    });
    let verify = move || {
        let token = text.get_untracked().trim().to_owned();
        let is_refresh = found.get_untracked().contains(&Finding::RefreshToken);
        let changed = changed_claim.get_untracked();
        verdict.set(Some(Verdict::Checking));
        spawn_local(async move {
            let outcome = api::verify(&token).await;
            verdict.set(Some(Verdict::of(outcome, is_refresh, changed.as_deref())));
        });
    };
    let tamper = move |_| {
        if let Some(Ok(token)) = decoded.get_untracked() {
            let other_user = match token.payload.get("user_id") {
                Some(Value::String(id)) => Value::String(format!("{id}0")),
                _ => Value::String("2".to_owned()),
            };
            let forged = jwt::tampered(&token, "user_id", other_user);
            source.set(Source::Own(forged.clone()));
            changed.set(Some((forged, "user_id".to_owned())));
            verify();
        }
    };

    view! {
        <h1 tabindex="-1">"Token inspector"</h1>
        <p>
            "Paste any JWT, or look at your own. Decoding needs no key: anyone holding a token "
            "can read it. Only the server, holding the key, can check the signature."
        </p>
        <div class="token-sources">
            <button id="use-access" type="button" disabled=move || session.access().is_none()
                on:click=move |_| source.set(Source::Session)>
                "My access token"
            </button>
            <button id="use-example" type="button"
                on:click=move |_| source.set(Source::Own(JWT_IO_EXAMPLE.to_owned()))>
                "The jwt.io example"
            </button>
        </div>
        <p id="source" class="hint" role="status">
            {move || match source.get() {
                Source::Session if session.access().is_some() => {
                    "Showing your session's current access token (it follows each refresh)."
                }
                Source::Session => "Log in to see your own token, or paste one.",
                Source::Own(_) => "Showing the token in the box.",
            }}
        </p>
        <label for="token-input">"Token"</label>
        <textarea id="token-input" rows="5" spellcheck="false"
            prop:value=move || text.get()
            on:input=move |ev| source.set(Source::Own(event_target_value(&ev)))
        ></textarea>
        <div class="verify">
            <button id="verify-button" type="button" disabled=move || text.get().trim().is_empty()
                on:click=move |_| verify()>
                "Verify with the server"
            </button>
            <button id="tamper-button" type="button" disabled=move || !matches!(decoded.get(), Some(Ok(_)))
                on:click=tamper>
                "Change a claim (user_id) and verify"
            </button>
            <p id="verify-result" role="status">{move || verdict.get().map(|v| v.text())}</p>
        </div>
        {move || match decoded.get() {
            None => ().into_any(),
            Some(Err(not_a_jwt)) => view! {
                <p id="inspector-error" class="form-error" role="alert">{not_a_jwt.explain()}</p>
            }.into_any(),
            Some(Ok(token)) => view! { <Decoded token=token now=now changed=changed_claim/> }.into_any(),
        }}
        <section class="checks" aria-labelledby="checks-heading"
            hidden=move || !matches!(decoded.get(), Some(Ok(_)))>
            <h2 id="checks-heading">"What this page sees without the key"</h2>
            <ul id="findings">
                {move || {
                    let found = found.get();
                    if found.is_empty() {
                        view! { <li class="ok">"Nothing wrong that shows without the key."</li> }.into_any()
                    } else {
                        found.into_iter().map(|f| view! { <li>{f.explain()}</li> }).collect_view().into_any()
                    }
                }}
            </ul>
        </section>
        <aside class="where">
            <h2>"Where this page keeps your tokens"</h2>
            <p>
                "The access token lives only in this page's memory. The refresh token lives in "
                "an HttpOnly cookie the server set for " <code>"/api/session/"</code>
                ": no script of this page can read it, which is why there is no button for it "
                "here. A reload trades the cookie for a new access token; the server rotates the "
                "cookie on every refresh and ends the whole session if an old one comes back."
            </p>
        </aside>
    }
}

/// A decoded token: parts, header, claims and countdown.
#[component]
fn Decoded(
    token: DecodedToken,
    now: RwSignal<f64>,
    changed: Memo<Option<String>>,
) -> impl IntoView {
    let alg = token
        .header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
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
            let claim = name.clone();
            let is_changed = move || changed.get().as_deref() == Some(claim.as_str());
            view! {
                <tr data-claim=name.clone() class:changed=is_changed>
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
            {move || countdown().map_or_else(
                || "No exp claim: nothing in the token ends it, so the server refuses it.".to_owned(),
                |(_, text)| text,
            )}
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
        <p id="signature-hint" class="hint">
            <span class="signature-text">"Signature"</span>
            ": " {jwt::explain_signature(&alg)} " "
            "Change one character of the header or payload and the signature no longer matches."
        </p>
    }
}

fn describe_remaining(left: i64) -> String {
    if left > 0 {
        format!("Expires in {}.", jwt::duration(left))
    } else {
        format!("Expired {} ago.", jwt::duration(left))
    }
}

fn local_time(seconds: f64) -> String {
    js_sys::Date::new(&(seconds * 1000.0).into())
        .to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED)
        .into()
}
