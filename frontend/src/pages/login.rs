//! Log in: `POST /api/token/`.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api;
use crate::pages::form::{Field, FormError, credentials};
use crate::session::Session;

/// The log-in page.
#[component]
pub fn Login() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let query = use_query_map();
    let username = RwSignal::new(query.get_untracked().get("username").unwrap_or_default());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None);
    let busy = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let navigate = navigate.clone();
        busy.set(true);
        spawn_local(async move {
            match api::obtain_pair(&credentials(username, password)).await {
                Ok(pair) => {
                    session.begin(pair).await;
                    navigate("/hello", Default::default());
                }
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>"Log in"</h1>
        {move || session.notice.get().map(|notice| view! { <p id="notice" class="notice" role="status">{notice}</p> })}
        <form on:submit=submit novalidate=true>
            <Field name="username" label="Username" kind="text" autocomplete="username" value=username error=error/>
            <Field name="password" label="Password" kind="password" autocomplete="current-password" value=password error=error/>
            <FormError error=error/>
            <button id="login-submit" type="submit" disabled=move || busy.get()>"Log in"</button>
        </form>
    }
}
