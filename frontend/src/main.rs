//! The tutorial's frontend: a Leptos single-page app, compiled to WebAssembly, that registers,
//! logs in, calls the protected endpoint, inspects tokens, refreshes them and logs out.
//!
//! Read it in this order: [`api`] (one function per endpoint), [`session`] (the session's
//! state, where the tokens live and how they are refreshed across tabs), [`jwt`] (taking a
//! token apart), [`router`] (following links without loading the page again), then [`app`]
//! (routes, the guard of protected pages) and `pages/`.

mod api;
mod app;
mod attacks;
mod clock;
mod jwt;
mod pages;
mod router;
mod session;
mod webcrypto;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
