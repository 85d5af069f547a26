//! The shell: the session, the navigation bar, the routes (every page but the home page is a
//! wasm module of its own, fetched when first opened: `lazy_page!`), and what every page
//! shares (its title, focus on its heading, the guard of protected pages).

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{SplitLoaderError, wasm_split};
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;

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
                    <Route path=path!("/register") view=|| view! { <LazyPage load=register_page/> }/>
                    <Route path=path!("/login") view=|| view! { <LazyPage load=login_page/> }/>
                    <Route path=path!("/hello") view=|| view! {
                        <Protected><LazyPage load=hello_page/></Protected>
                    }/>
                    <Route path=path!("/notes") view=|| view! {
                        <Protected><LazyPage load=notes_page/></Protected>
                    }/>
                    <Route path=path!("/account") view=|| view! {
                        <Protected><LazyPage load=account_page/></Protected>
                    }/>
                    <Route path=path!("/inspector") view=|| view! { <LazyPage load=inspector_page/> }/>
                    <Route path=path!("/lab") view=|| view! {
                        <Protected><LazyPage load=lab_page/></Protected>
                    }/>
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

/// Declares `$load`, which gives a page whose code is a wasm module of its own, fetched the
/// first time it is called (and kept): the first load carries only the shell and the home
/// page. The build cuts each module out and names its file after `$module` (wasm-split:
/// `crates/xtask/src/frontend/split.rs`). A module that does not arrive is an error, not the
/// panic of Leptos' own `#[lazy]`, which would stop the whole app.
macro_rules! lazy_page {
    ($load:ident, $module:ident => $page:expr) => {
        #[wasm_split($module, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $load() -> Result<AnyView, SplitLoaderError> {
            Ok($page.into_any())
        }
    };
}

lazy_page!(register_page, register => view! { <Register/> });
lazy_page!(login_page, login => view! { <Login/> });
lazy_page!(hello_page, hello => view! { <Hello/> });
lazy_page!(notes_page, notes => view! { <Notes/> });
lazy_page!(account_page, account => view! { <Account/> });
lazy_page!(inspector_page, inspector => view! { <Inspector/> });
lazy_page!(lab_page, lab => view! { <Lab/> });

/// A page from `lazy_page!`: "Loading the page…" until its module has arrived, then the
/// page, or [`PageUnavailable`] if the module does not arrive. Inside [`Protected`], the
/// module is fetched only once there is a session to show the page to.
#[component]
fn LazyPage<Load, Fut>(load: Load) -> impl IntoView
where
    Load: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
{
    view! {
        <Suspense fallback=|| {
            // Not the previous page's title while this one loads; its own sets the focus.
            set_title("Loading the page");
            view! { <p id="page-loading" class="pending" role="status">"Loading the page…"</p> }
        }>
            {Suspend::new(async move {
                load().await.unwrap_or_else(|_| view! { <PageUnavailable/> }.into_any())
            })}
        </Suspense>
    }
}

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
    set_title(title);
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

/// The tab's title for a page called `title`.
fn set_title(title: &str) {
    document().set_title(&format!("{title} · JWT tutorial"));
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
    let location = window().location();
    let here = format!(
        "{}{}",
        location.pathname().unwrap_or_default(),
        location.search().unwrap_or_default()
    );
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
