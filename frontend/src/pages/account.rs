//! Your account: who you are (`GET /api/me/`), logging out everywhere, and changing the
//! password (`POST /api/session/password/`, which keeps this browser's session in a new cookie
//! while every other one ends). Only shown with a session.

use claims::{PasswordChange, UserProfile};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ApiError};
use crate::app::page;
use crate::clock;
use crate::pages::form::Field;
use crate::session::Session;

/// What Django's validators ask of a new password, as the server checks it.
const PASSWORD_RULES: [&str; 5] = [
    "at least 8 characters;",
    "not too similar to your username;",
    "not a commonly used password;",
    "not entirely numeric;",
    "at most 72 bytes (bcrypt reads no more).",
];

/// The Account page.
#[component]
pub fn Account() -> impl IntoView {
    page("Your account");
    let session = Session::get();
    let profile = RwSignal::new(None::<Result<UserProfile, ApiError>>);
    spawn_local(async move {
        profile.set(Some(session.authorized(api::me).await));
    });
    view! {
        <h1 tabindex="-1">"Your account"</h1>
        <section aria-labelledby="who-heading">
            <h2 id="who-heading">"Who you are"</h2>
            <p class="hint">"As " <code>"GET /api/me/"</code> " answers for your access token."</p>
            {move || match profile.get() {
                None => view! { <p class="pending">"Loading…"</p> }.into_any(),
                Some(Err(error)) => view! {
                    <p id="profile-error" class="form-error" role="alert">{error.message()}</p>
                }.into_any(),
                Some(Ok(me)) => view! { <Profile me=me/> }.into_any(),
            }}
        </section>
        <ChangePassword/>
        <LogOutEverywhere/>
    }
}

#[component]
fn Profile(me: UserProfile) -> impl IntoView {
    view! {
        <dl id="profile">
            <dt>"Username"</dt><dd id="profile-username">{me.username}</dd>
            <dt>"Staff"</dt><dd>{if me.is_staff { "yes" } else { "no" }}</dd>
            <dt>"Joined"</dt><dd>{clock::from_iso(&me.date_joined)}</dd>
            <dt>"Last log in"</dt>
            <dd>{me.last_login.as_deref().map_or_else(
                || "not recorded (JWT_UPDATE_LAST_LOGIN is off, as in simplejwt)".to_owned(),
                clock::from_iso,
            )}</dd>
        </dl>
    }
}

#[component]
fn ChangePassword() -> impl IntoView {
    let session = Session::get();
    let old = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let edited = RwSignal::new(Vec::<&'static str>::new());
    let busy = RwSignal::new(false);
    let edit = move |name: &'static str| edited.update(|fields| fields.push(name));
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let change = PasswordChange {
            old_password: old.get_untracked(),
            new_password: new.get_untracked(),
        };
        busy.set(true);
        spawn_local(async move {
            let outcome = session.change_password(change).await;
            if outcome.is_ok() {
                old.set(String::new());
                new.set(String::new());
            }
            edited.set(Vec::new());
            error.set(outcome.err());
            busy.set(false);
        });
    };
    // A message about no field: a throttle, the server being away.
    let general = move || {
        error
            .get()
            .filter(|e| e.field("old_password").is_none() && e.field("new_password").is_none())
            .map(|e| e.message())
    };
    view! {
        <section aria-labelledby="password-heading">
            <h2 id="password-heading">"Change your password"</h2>
            <p>
                "Every other browser and device you are logged in on is logged out; this "
                "browser stays logged in, in all its tabs."
            </p>
            <form on:submit=submit novalidate=true>
                <Field name="old_password" label="Current password" kind="password"
                    autocomplete="current-password" value=old error=error edited=edited on_edit=edit/>
                <Field name="new_password" label="New password" kind="password"
                    autocomplete="new-password" value=new error=error edited=edited on_edit=edit/>
                <p id="password-rules" class="hint">
                    "The new password must be, as Django's validators say: "
                    {PASSWORD_RULES.join(" ")}
                </p>
                <p id="password-error" class="form-error" role="alert">{general}</p>
                <button id="change-password" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { "Please wait…" } else { "Change password" }}
                </button>
            </form>
        </section>
    }
}

#[component]
fn LogOutEverywhere() -> impl IntoView {
    let session = Session::get();
    let asking = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let confirmed = move |_| {
        spawn_local(async move {
            if let Err(refused) = session.log_out_everywhere().await {
                error.set(Some(refused.message()));
            }
        });
    };
    view! {
        <section aria-labelledby="everywhere-heading">
            <h2 id="everywhere-heading">"Log out everywhere"</h2>
            <Show
                when=move || asking.get()
                fallback=move || view! {
                    <button id="logout-all" type="button" on:click=move |_| asking.set(true)>
                        "Log out everywhere…"
                    </button>
                }
            >
                <div id="logout-all-confirm" class="notice" role="alertdialog"
                    aria-labelledby="everywhere-heading" aria-describedby="logout-all-what">
                    <p id="logout-all-what">
                        "This ends every session of your account: on every browser and device, "
                        "this one included. Tokens already issued are refused from now on, and "
                        "you log in again wherever you want to be."
                    </p>
                    <button id="logout-all-confirmed" type="button" on:click=confirmed>
                        "Log out everywhere"
                    </button>
                    " "
                    <button id="logout-all-cancel" type="button" on:click=move |_| asking.set(false)>
                        "Cancel"
                    </button>
                </div>
            </Show>
            <p id="logout-all-error" class="form-error" role="alert">{move || error.get()}</p>
        </section>
    }
}
