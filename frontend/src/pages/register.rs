//! Make an account: `POST /api/register/`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::api;
use crate::pages::form::{Field, FormError, credentials};
use crate::session::Session;

/// The registration page.
#[component]
pub fn Register() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            match api::register(&credentials(username, password)).await {
                Ok(user) => {
                    session.notice.set(Some(format!(
                        "Account \"{}\" created. Log in with it.",
                        user.username
                    )));
                    navigate(
                        &format!(
                            "/login?username={}",
                            js_sys::encode_uri_component(&user.username)
                        ),
                        Default::default(),
                    );
                }
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>"Register"</h1>
        <p>
            "Passwords follow Django's rules: at least 8 characters, not entirely numeric, "
            "not like the username, not a common password, and at most 72 bytes (bcrypt's limit)."
        </p>
        <form on:submit=submit novalidate=true>
            <Field name="username" label="Username" kind="text" autocomplete="username" value=username error=error/>
            <Field name="password" label="Password" kind="password" autocomplete="new-password" value=password error=error/>
            <FormError error=error/>
            <button id="register-submit" type="submit" disabled=move || busy.get()>"Create account"</button>
        </form>
    }
}
