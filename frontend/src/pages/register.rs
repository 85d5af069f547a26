//! Make an account: `POST /api/register/`.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::page;
use crate::pages::form::CredentialsForm;
use crate::router::Location;
use crate::session::Session;

/// The registration page.
#[component]
pub fn Register() -> impl IntoView {
    page("Register");
    let session = Session::get();
    let location = Location::get();
    let on_submit = move |credentials| async move {
        let user = api::register(&credentials).await?;
        let name = js_sys::encode_uri_component(&user.username);
        location.leave("/register", &format!("/login?created={name}"), false);
        Ok(())
    };
    let log_out = move |_| spawn_local(session.log_out(|| ()));
    view! {
        <h1 tabindex="-1">"Register"</h1>
        <Show when=move || session.is_active()>
            <p id="already" class="notice" role="status">
                "You are logged in as " <strong>{move || session.username()}</strong> ". "
                <button id="already-logout" type="button" on:click=log_out>"Log out"</button>
                " to make another account."
            </p>
        </Show>
        <p>
            "Passwords follow Django's rules: at least 8 characters, not entirely numeric, "
            "not like the username, not a common password, and at most 72 bytes (bcrypt's limit)."
        </p>
        <CredentialsForm id="register" submit_label="Create account" password_autocomplete="new-password"
            username="" on_submit=on_submit/>
    }
}
