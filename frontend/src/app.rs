//! The shell: the session, the navigation bar, the routes, and what every page shares (its
//! title, focus on its heading, the guard of protected pages).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{SplitLoaderError, wasm_split};
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use leptos_router::{Lazy, LazyRoute};

use crate::pages::{
    account::Account, hello::Hello, home::Home, inspector::Inspector, lab::Lab, login::Login,
    notes::Notes, register::Register,
};
use crate::session::{EndReason, Phase, Session};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_context(Session::start());
    view! {
        <Router>
            <a class="skip-link" id="skip-link" href="#main" on:click=skip_to_content>
                "Skip to content"
            </a>
            <header>
                <Nav/>
            </header>
            <main id="main" tabindex="-1">
                <SessionEnded/>
                <SessionNotice/>
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/register") view={Lazy::<RegisterPage>::new()}/>
                    <Route path=path!("/login") view={Lazy::<LoginPage>::new()}/>
                    <Route path=path!("/hello") view={Lazy::<HelloPage>::new()}/>
                    <Route path=path!("/notes") view={Lazy::<NotesPage>::new()}/>
                    <Route path=path!("/account") view={Lazy::<AccountPage>::new()}/>
                    <Route path=path!("/inspector") view={Lazy::<InspectorPage>::new()}/>
                    <Route path=path!("/lab") view={Lazy::<LabPage>::new()}/>
                </Routes>
            </main>
            <footer>
                <p>
                    "The API behind this page behaves like djangorestframework-simplejwt. "
                    "Try it with curl too: see the "
                    <a id="readme-link" href="/README.txt" rel="external help">"README"</a>
                    "'s walkthrough."
                </p>
            </footer>
        </Router>
    }
}

/// A route whose page is fetched as a wasm module of its own the first time it is opened, so
/// the first load carries only the shell and the home page. The build cuts each one out
/// (wasm-split: `crates/xtask/src/frontend/split.rs`, which names the module's file after
/// `$module`); the router shows the page once its module has arrived, or [`PageUnavailable`]
/// if it cannot (Leptos' own `#[lazy_route]` would panic, which stops the whole app).
macro_rules! lazy_page {
    ($route:ident, $module:ident => $page:expr) => {
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            async fn view(_this: Self) -> AnyView {
                #[wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)]
                fn page() -> Result<AnyView, SplitLoaderError> {
                    Ok($page.into_any())
                }
                page()
                    .await
                    .unwrap_or_else(|_| view! { <PageUnavailable/> }.into_any())
            }
        }
    };
}

lazy_page!(RegisterPage, register => view! { <Register/> });
lazy_page!(LoginPage, login => view! { <Login/> });
lazy_page!(HelloPage, hello => view! { <Protected><Hello/></Protected> });
lazy_page!(NotesPage, notes => view! { <Protected><Notes/></Protected> });
lazy_page!(AccountPage, account => view! { <Protected><Account/></Protected> });
lazy_page!(InspectorPage, inspector => view! { <Inspector/> });
lazy_page!(LabPage, lab => view! { <Protected><Lab/></Protected> });

/// Moves the keyboard focus to the page's content (the router would take `#main` for a
/// navigation).
fn skip_to_content(ev: leptos::ev::MouseEvent) {
    ev.prevent_default();
    if let Ok(Some(main)) = document().query_selector("main")
        && let Ok(main) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(main)
    {
        let _ = main.focus();
    }
}

/// Sets the page's title and, after a navigation (not on the first page load), moves the
/// keyboard focus to its heading, so a screen reader announces the new page.
pub fn page(title: &str) {
    document().set_title(&format!("{title} · JWT tutorial"));
    let first = FIRST_PAGE.with(|first| first.replace(false));
    if !first {
        request_animation_frame(|| {
            if let Ok(Some(heading)) = document().query_selector("main h1")
                && let Ok(heading) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(heading)
            {
                let _ = heading.focus();
            }
        });
    }
}

thread_local! {
    static FIRST_PAGE: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// The guard of every page that needs a session: while the session is restored it says so;
/// without one it sends you to log in (replacing this page in the history, so Back does not
/// bounce you here again), and brings you back after.
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    let location = use_location();
    // Only a change of phase redraws the page, not a refresh that stays active.
    let phase = Memo::new(move |_| session.phase());
    // `mounted` is None on the effect's first run, when the page opens.
    Effect::new(move |mounted: Option<()>| {
        let target = match phase.get() {
            // Logging out from this page: the log-in page, not a way back here.
            Phase::Ended(EndReason::LoggedOut) if mounted.is_some() => "/login".to_owned(),
            Phase::Anonymous | Phase::Ended(_) => {
                let here = location.pathname.get_untracked();
                format!("/login?next={}", js_sys::encode_uri_component(&here))
            }
            Phase::Restoring | Phase::Active => return,
        };
        navigate(
            &target,
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    });
    move || match phase.get() {
        Phase::Active => children().into_any(),
        Phase::Restoring => {
            view! { <p class="pending" role="status">"Restoring your session…"</p> }.into_any()
        }
        Phase::Anonymous | Phase::Ended(_) => {
            view! { <p class="pending" role="status">"Taking you to log in…"</p> }.into_any()
        }
    }
}

/// Links, and who is logged in. The log-out button's place is kept while it is hidden, so the
/// bar does not jump when it appears.
#[component]
fn Nav() -> impl IntoView {
    let session = Session::get();
    let navigate = use_navigate();
    // Once the server has ended the session, leave the page first: a protected page would
    // otherwise see the session end and send you to log in again to come back to it.
    let log_out = move |_| {
        let navigate = navigate.clone();
        spawn_local(session.log_out(move || navigate("/login", Default::default())));
    };
    view! {
        <nav aria-label="Main">
            <A href="/" attr:class="brand">"JWT tutorial"</A>
            <ul>
                <li><A href="/hello">"Hello"</A></li>
                <li><A href="/notes">"Notes"</A></li>
                <li><A href="/inspector">"Token inspector"</A></li>
                <li><A href="/lab">"Attack lab"</A></li>
                <Show
                    when=move || !session.is_active()
                    fallback=|| view! { <li><A href="/account">"Account"</A></li> }
                >
                    <li><A href="/register">"Register"</A></li>
                    <li><A href="/login">"Log in"</A></li>
                </Show>
            </ul>
            <div class="account" aria-live="polite">
                <span id="nav-user" class="user" hidden=move || !session.is_active()>
                    "Logged in as "
                    <strong>{move || session.username().unwrap_or_else(|| "…".into())}</strong>
                </span>
                <button id="logout-button" type="button" on:click=log_out
                    class:invisible=move || !session.is_active()
                    disabled=move || !session.is_active() || session.log_out_failed().is_some()>
                    "Log out"
                </button>
                <span id="logout-error" class="form-error" role="alert">
                    {move || session.log_out_failed()}
                </span>
            </div>
        </nav>
    }
}

/// Why the session ended, on whatever page you are (the log-in page says it in its own form).
#[component]
fn SessionEnded() -> impl IntoView {
    let session = Session::get();
    let location = use_location();
    move || match session.phase() {
        Phase::Ended(reason)
            if reason != EndReason::LoggedOut && location.pathname.get() != "/login" =>
        {
            Some(view! {
                <div id="session-ended" class="notice" role="alert">
                    <p>{reason.explain()}</p>
                    <p><A href="/login">"Log in again"</A></p>
                </div>
            })
        }
        _ => None,
    }
}

/// What happened to the session without ending it (a password changed, in this tab or
/// another), until it is dismissed.
#[component]
fn SessionNotice() -> impl IntoView {
    let session = Session::get();
    move || {
        session.notice().map(|notice| {
            view! {
                <div id="session-notice" class="notice" role="status">
                    <p>{notice}</p>
                    <button id="session-notice-dismiss" type="button"
                        on:click=move |_| session.dismiss_notice()>"Dismiss"</button>
                </div>
            }
        })
    }
}

/// What a lazy page shows when its module could not be fetched: the connection is down, or the
/// site was updated since this tab loaded it and the module's old file is gone. Opening the
/// page again (a link the router leaves to the browser) loads the site as it is now.
#[component]
fn PageUnavailable() -> impl IntoView {
    page("Page not loaded");
    let here = use_location().pathname.get_untracked();
    view! {
        <h1 tabindex="-1">"This page could not be loaded"</h1>
        <p id="page-unavailable" role="alert">
            "Its code did not arrive: the connection may be down, or the site was updated "
            "since you opened it."
        </p>
        <p><a id="page-reload" href=here rel="external">"Load it again"</a></p>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    page("Page not found");
    view! {
        <h1 tabindex="-1">"Page not found"</h1>
        <p><A href="/">"Back to the start"</A></p>
    }
}
