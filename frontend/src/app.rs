//! The shell: the session, the navigation bar, the routes (every page but the home page is a
//! wasm module of its own, fetched when first opened: `lazy_page!`), and what every page
//! shares (its title, focus on its heading, the guard of protected pages).

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::wasm_split::{SplitLoaderError, wasm_split};

use crate::pages::{
    account::Account, hello::Hello, home::Home, inspector::Inspector, lab::Lab, login::Login,
    notes::Notes, register::Register,
};
use crate::router::Location;
use crate::session::{EndReason, Phase, Session};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_context(Session::start());
    let location = Location::start();
    // Only a change of path draws another page, not one of the query alone.
    let path = Memo::new(move |_| location.path());
    view! {
        <a class="skip-link" id="skip-link" href="#main" on:click=skip_to_content>
            "Skip to content"
        </a>
        <header>
            <Nav/>
        </header>
        <main id="main" tabindex="-1">
            <SessionEnded/>
            <SessionNotice/>
            {move || route(&path.get())}
        </main>
        <footer>
            <p>
                "The API behind this page behaves like djangorestframework-simplejwt. "
                "Try it with curl too: see the "
                <a id="readme-link" href="/README.txt" rel="external help">"README"</a>
                "'s walkthrough."
            </p>
        </footer>
    }
}

/// The page at `path`.
fn route(path: &str) -> AnyView {
    match path {
        "/" => view! { <Home/> }.into_any(),
        "/register" => view! { <LazyPage load=register_page/> }.into_any(),
        "/login" => view! { <LazyPage load=login_page/> }.into_any(),
        "/hello" => view! { <Protected><LazyPage load=hello_page/></Protected> }.into_any(),
        "/notes" => view! { <Protected><LazyPage load=notes_page/></Protected> }.into_any(),
        "/account" => view! { <Protected><LazyPage load=account_page/></Protected> }.into_any(),
        "/inspector" => view! { <LazyPage load=inspector_page/> }.into_any(),
        "/lab" => view! { <Protected><LazyPage load=lab_page/></Protected> }.into_any(),
        _ => view! { <NotFound/> }.into_any(),
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

/// How long a page's module may take before the page says it is slow to arrive.
const SLOW_PAGE: Duration = Duration::from_secs(5);

/// A page from `lazy_page!`: "Loading the page…" until its module has arrived, then the
/// page, or [`PageUnavailable`] if the module does not arrive. A module that takes longer
/// than [`SLOW_PAGE`] is still awaited, and the page offers a link that loads this address
/// again, as a full page load. Inside
/// [`Protected`], the module is fetched only once there is a session to show the page to.
#[component]
fn LazyPage<Load, Fut>(load: Load) -> impl IntoView
where
    Load: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
{
    view! {
        <Suspense fallback=|| {
            // Not the previous page's title while this one loads; once drawn, the page sets its
            // own title and the focus (`page`).
            set_title("Loading the page");
            let slow = RwSignal::new(false);
            // Once the page has arrived, the signal is gone and the timer finds nothing to set.
            set_timeout(
                move || {
                    slow.try_set(true);
                },
                SLOW_PAGE,
            );
            view! {
                <p id="page-loading" class="pending" role="status">"Loading the page…"</p>
                <p id="page-slow" role="status" hidden=move || !slow.get()>
                    "This is taking long: the connection may be slow or down. "
                    <a href=Location::get().here() rel="external">"Load it again"</a>
                </p>
            }
        }>
            {Suspend::new(async move {
                load().await.unwrap_or_else(|_| view! { <PageUnavailable/> }.into_any())
            })}
        </Suspense>
    }
}

/// Moves the keyboard focus to the page's content (following `#main` would only scroll, and
/// add `#main` to the address and the history).
fn skip_to_content(ev: leptos::ev::MouseEvent) {
    ev.prevent_default();
    if let Ok(Some(main)) = document().query_selector("main")
        && let Ok(main) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(main)
    {
        let _ = main.focus();
    }
}

/// Sets the page's title and, after a navigation (not on the first page load), moves the
/// keyboard focus to its heading, so a screen reader announces the new page; without
/// scrolling to it, so Back leaves the page where it was.
pub fn page(title: &str) {
    set_title(title);
    let first = FIRST_PAGE.with(|first| first.replace(false));
    if !first {
        request_animation_frame(|| {
            if let Ok(Some(heading)) = document().query_selector("main h1")
                && let Ok(heading) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(heading)
            {
                let options = web_sys::FocusOptions::new();
                options.set_prevent_scroll(true);
                let _ = heading.focus_with_options(&options);
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
    let location = Location::get();
    // Only a change of phase redraws the page, not a refresh that stays active.
    let phase = Memo::new(move |_| session.phase());
    // `mounted` is None on the effect's first run, when the page opens.
    Effect::new(move |mounted: Option<()>| {
        let target = match phase.get() {
            // Logging out from this page: the log-in page, not a way back here.
            Phase::Ended(EndReason::LoggedOut) if mounted.is_some() => "/login".to_owned(),
            Phase::Anonymous | Phase::Ended(_) => {
                format!(
                    "/login?next={}",
                    js_sys::encode_uri_component(&location.here())
                )
            }
            Phase::Restoring | Phase::Active => return,
        };
        location.navigate(&target, true);
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
    let location = Location::get();
    // Once the server has ended the session, go to the log-in page (a new entry). On a
    // protected page, its guard, seeing the session end, goes there too, replacing that
    // same entry; Back then returns to the protected page, which sends you to log in.
    let log_out = move |_| spawn_local(session.log_out(move || location.navigate("/login", false)));
    view! {
        <nav aria-label="Main">
            <a href="/" class="brand" aria-current=location.current("/")>"JWT tutorial"</a>
            <ul>
                <li><a href="/hello" aria-current=location.current("/hello")>"Hello"</a></li>
                <li><a href="/notes" aria-current=location.current("/notes")>"Notes"</a></li>
                <li>
                    <a href="/inspector" aria-current=location.current("/inspector")>
                        "Token inspector"
                    </a>
                </li>
                <li><a href="/lab" aria-current=location.current("/lab")>"Attack lab"</a></li>
                <Show
                    when=move || !session.is_active()
                    fallback=move || view! {
                        <li>
                            <a href="/account" aria-current=location.current("/account")>"Account"</a>
                        </li>
                    }
                >
                    <li>
                        <a href="/register" aria-current=location.current("/register")>"Register"</a>
                    </li>
                    <li><a href="/login" aria-current=location.current("/login")>"Log in"</a></li>
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
    let location = Location::get();
    move || match session.phase() {
        Phase::Ended(reason) if reason != EndReason::LoggedOut && location.path() != "/login" => {
            Some(view! {
                <div id="session-ended" class="notice" role="alert">
                    <p>{reason.explain()}</p>
                    <p><a href="/login">"Log in again"</a></p>
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
    let here = Location::get().here();
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
        <p><a href="/">"Back to the start"</a></p>
    }
}
