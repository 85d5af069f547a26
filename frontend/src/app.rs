//! The shell: the session, the navigation bar and the routes.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::use_navigate;
use leptos_router::path;

use crate::pages::{
    hello::Hello, home::Home, inspector::Inspector, login::Login, register::Register,
};
use crate::session::Session;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_context(Session::start());
    view! {
        <Router>
            <header>
                <Nav/>
            </header>
            <main id="main">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/register") view=Register/>
                    <Route path=path!("/login") view=Login/>
                    <Route path=path!("/hello") view=Hello/>
                    <Route path=path!("/inspector") view=Inspector/>
                </Routes>
            </main>
            <footer>
                <p>
                    "The API behind this page behaves like djangorestframework-simplejwt. "
                    "Try it with curl too: see the README."
                </p>
            </footer>
        </Router>
    }
}

/// Links, and who is logged in.
#[component]
fn Nav() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    // Wherever you are, a session that could not be refreshed sends you to log in again.
    let to_login = navigate.clone();
    Effect::new(move |_| {
        if session.has_ended() {
            to_login("/login", Default::default());
        }
    });
    let log_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(async move {
            session.log_out().await;
            navigate("/", Default::default());
        });
    };
    view! {
        <nav aria-label="Main">
            <A href="/" attr:class="brand">"JWT tutorial"</A>
            <ul>
                <li><A href="/hello">"Hello"</A></li>
                <li><A href="/inspector">"Token inspector"</A></li>
                <Show
                    when=move || session.is_logged_in()
                    fallback=|| view! {
                        <li><A href="/register">"Register"</A></li>
                        <li><A href="/login">"Log in"</A></li>
                    }
                >
                    <li id="nav-user" class="user">
                        "Logged in as "
                        <strong>{move || session.username().unwrap_or_else(|| "…".into())}</strong>
                    </li>
                    <li>
                        <button id="logout-button" type="button" on:click=log_out.clone()>
                            "Log out"
                        </button>
                    </li>
                </Show>
            </ul>
        </nav>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p><A href="/">"Back to the start"</A></p>
    }
}
