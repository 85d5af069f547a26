//! The app's own router: the address as a signal, links that change it without loading the
//! page again, and the browser's Back and Forward.
//!
//! A single-page app draws every page itself, so it takes over three things the browser did:
//! following a link to a page of this app (the click is caught, `history.pushState` writes the
//! new address, the page is drawn), going back and forward (the browser changes the address and
//! fires `popstate`; the page is drawn, and scrolled where it was), and telling which page is
//! open ([`Location`], read by the routes in `app.rs`). `leptos_router` does this and much
//! more (nested routes, path parameters, forms); this app's routes are eight fixed paths, and
//! these lines cost a small part of what `leptos_router` added to the first download (the
//! book's "The frontend's size").
//!
//! Every link to this origin is taken for a page of the app; a link to a file the server
//! serves (the README) says `rel="external"`, and the browser follows it.

use std::time::Duration;

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

/// Where the app is: the address's path and query, kept in step with the browser's history.
/// Provided as context by [`Location::start`].
#[derive(Clone, Copy)]
pub struct Location {
    path: RwSignal<String>,
    search: RwSignal<String>,
}

impl Location {
    /// Reads the address, follows it from now on (links and Back), and provides the location
    /// as context.
    pub fn start() -> Self {
        let location = Self {
            path: RwSignal::new(String::new()),
            search: RwSignal::new(String::new()),
        };
        location.read_address();
        // The browser would put the scroll position back before the page is drawn again;
        // the app does it after (`navigate` keeps it in the entry it leaves).
        if let Ok(history) = window().history() {
            let _ = history.set_scroll_restoration(web_sys::ScrollRestoration::Manual);
        }
        // The page lives as long as these listeners: their handles are never removed.
        window_event_listener(ev::popstate, move |event| {
            location.read_address();
            let scrolled = event.state().as_f64().unwrap_or(0.0);
            set_timeout(
                move || window().scroll_to_with_x_and_y(0.0, scrolled),
                Duration::ZERO,
            );
        });
        window_event_listener(ev::click, move |event| {
            if let Some(to) = link_to_follow(&event) {
                event.prevent_default();
                location.navigate(&to, false);
            }
        });
        provide_context(location);
        location
    }

    /// The location from context.
    pub fn get() -> Self {
        expect_context::<Self>()
    }

    /// The path: `/login` for `/login?next=%2Fhello`.
    pub fn path(&self) -> String {
        self.path.get()
    }

    /// The address open now, its path and query (`/notes?tab=2`), as the browser has it;
    /// reading it does not make the caller redraw when it changes.
    pub fn here(&self) -> String {
        let address = window().location();
        format!(
            "{}{}",
            address.pathname().unwrap_or_default(),
            address.search().unwrap_or_default()
        )
    }

    /// The query parameter `name`, decoded: `/hello` for `next` in `/login?next=%2Fhello`.
    pub fn query(&self, name: &str) -> Option<String> {
        web_sys::UrlSearchParams::new_with_str(&self.search.get())
            .ok()?
            .get(name)
    }

    /// Goes to `to`, a path of this app with or without a query, as a link would; with
    /// `replace`, in place of the current entry of the history, so Back skips it. Going to the
    /// address that is open replaces its entry too, as the browser does.
    pub fn navigate(&self, to: &str, replace: bool) {
        let Ok(history) = window().history() else {
            return;
        };
        let written = if replace || to == self.here() {
            history.replace_state_with_url(&JsValue::NULL, "", Some(to))
        } else {
            // How far the page being left is scrolled, for Back to put it there again.
            let scrolled = window().scroll_y().unwrap_or(0.0);
            let _ = history.replace_state(&scrolled.into(), "");
            history.push_state_with_url(&JsValue::NULL, "", Some(to))
        };
        if written.is_err() {
            return;
        }
        // The next page is drawn in a zero-delay timer, which runs after the task that asked
        // has ended. Drawing a page drops the old page's reactive owner, and with it the
        // signals it made; a form that navigates when its request succeeds still sets its
        // own signals right after, in the same task (`pages/form.rs`), and Leptos panics on
        // a signal that was dropped.
        let location = *self;
        set_timeout(
            move || {
                location.read_address();
                window().scroll_to_with_x_and_y(0.0, 0.0);
            },
            Duration::ZERO,
        );
    }

    /// Goes to `to` as [`Location::navigate`] does, if the open page is still `from`: a form
    /// whose answer arrives after the user followed a link elsewhere leaves them there. The
    /// browser's address says which page is open: the signals catch up a timer later.
    pub fn leave(&self, from: &str, to: &str, replace: bool) {
        if window()
            .location()
            .pathname()
            .is_ok_and(|open| open == from)
        {
            self.navigate(to, replace);
        }
    }

    /// `"page"` while `href` is the open page, for a link's `aria-current`.
    pub fn current(&self, href: &'static str) -> impl Fn() -> Option<&'static str> + use<> {
        let path = self.path;
        move || (path.get() == href).then_some("page")
    }

    fn read_address(self) {
        let address = window().location();
        let path = address.pathname().unwrap_or_default();
        let search = address.search().unwrap_or_default();
        // Setting a signal to the value it holds would still redraw what reads it.
        if self.path.get_untracked() != path {
            self.path.set(path);
        }
        if self.search.get_untracked() != search {
            self.search.set(search);
        }
    }
}

/// Where a click goes, when it is one the app follows itself:
/// - not one a handler of the page already took (the skip link's, in `app.rs`);
/// - a plain left click: with Ctrl, Shift or Cmd held the browser opens a new tab or window,
///   with Alt it downloads;
/// - on a link, or inside one (the click may land on a `<strong>` in it);
/// - not left to the browser by the link: `rel="external"`, `download`, or a `target` other
///   than `_self`;
/// - to this origin ([`own_path`]);
/// - not to a fragment of the page open now, which the browser scrolls to. A fragment of
///   another page is followed like the page, from its top.
fn link_to_follow(event: &web_sys::MouseEvent) -> Option<String> {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.ctrl_key()
        || event.shift_key()
        || event.alt_key()
    {
        return None;
    }
    let link = event
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("a[href]")
        .ok()??;
    let external = link
        .get_attribute("rel")
        .is_some_and(|rel| rel.split_ascii_whitespace().any(|kind| kind == "external"));
    let elsewhere = link.get_attribute("target").is_some_and(|t| t != "_self");
    if external || elsewhere || link.has_attribute("download") {
        return None;
    }
    let to = own_path(&link.get_attribute("href")?)?;
    let here = window().location();
    // The open page's address and a `#`: the same address without a fragment is followed
    // (and replaces its entry).
    let open = format!("{}{}#", here.pathname().ok()?, here.search().ok()?);
    (!to.starts_with(&open)).then_some(to)
}

/// `to` as a path of this app (its path, query and fragment), when it is one: read as a
/// link's `href` is, against the open page's address, and of this origin. Not for
/// `//elsewhere.example`, `/\elsewhere.example` (a backslash reads as a slash),
/// `https://elsewhere.example/` or `javascript:` ones.
pub fn own_path(to: &str) -> Option<String> {
    let here = window().location();
    let url = web_sys::Url::new_with_base(to, &here.href().ok()?).ok()?;
    (url.origin() == here.origin().ok()?)
        .then(|| format!("{}{}{}", url.pathname(), url.search(), url.hash()))
}
