//! Log in: `POST /api/session/`, which answers the access token and sets the refresh cookie.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::page;
use crate::pages::form::CredentialsForm;
use crate::router::{Location, own_path};
use crate::session::{EndReason, Phase, Session};

/// The log-in page. `?next=/inspector` says where to go after; `?created=ada` that an account
/// was just made.
#[component]
pub fn Login() -> impl IntoView {
    page("Log in");
    let session = Session::get();
    let location = Location::get();
    // Where to go after, from `?next=` (a path of this app only).
    let next = Memo::new(move |_| location.query("next").and_then(|next| own_path(&next)));
    let created = Memo::new(move |_| location.query("created"));
    let username = created
        .get_untracked()
        .or_else(|| session.username())
        .unwrap_or_default();
    // A notice tells what happened before this page; it goes once the user types.
    let dismissed = RwSignal::new(false);
    let notice = move || {
        if dismissed.get() {
            return None;
        }
        if let Some(name) = created.get() {
            return Some(format!("Account \"{name}\" created. Log in with it."));
        }
        match (session.phase(), next.get()) {
            (Phase::Ended(reason), _) if reason != EndReason::LoggedOut => Some(reason.explain()),
            (_, Some(_)) => Some("Log in to see that page.".to_owned()),
            (Phase::Ended(reason), None) => Some(reason.explain()),
            _ => None,
        }
    };
    Effect::new(move |_| {
        next.track();
        created.track();
        dismissed.set(false);
    });
    let on_submit = move |credentials| {
        let next = next.get_untracked().unwrap_or_else(|| "/hello".to_owned());
        async move {
            session.log_in(&credentials).await?;
            location.leave("/login", &next, true);
            Ok(())
        }
    };
    let log_out = move |_| spawn_local(session.log_out(|| ()));
    view! {
        <h1 tabindex="-1">"Log in"</h1>
        <Show when=move || session.is_active()>
            <p id="already" class="notice" role="status">
                "You are logged in as " <strong>{move || session.username()}</strong> ". "
                <button id="already-logout" type="button" on:click=log_out>"Log out"</button>
                " to log in as someone else."
            </p>
        </Show>
        {move || notice().map(|text| view! { <p id="notice" class="notice" role="status">{text}</p> })}
        <CredentialsForm id="login" submit_label="Log in" password_autocomplete="current-password"
            username=username on_submit=on_submit on_edit=Callback::new(move |()| dismissed.set(true))/>
    }
}
