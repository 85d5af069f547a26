//! What this is, and a JWT in one picture.

use leptos::prelude::*;

use crate::app::page;

/// The start page.
#[component]
pub fn Home() -> impl IntoView {
    page("JSON Web Tokens, hands on");
    view! {
        <h1 tabindex="-1">"JSON Web Tokens, hands on"</h1>
        <p class="lead">
            "This app logs you in the way the Django REST Framework + simplejwt tutorial does: "
            "the server checks your password once and hands you two signed tokens. "
            "The short-lived " <strong>"access"</strong> " token opens protected endpoints; the "
            "long-lived " <strong>"refresh"</strong> " token buys new access tokens."
        </p>
        <figure class="anatomy" aria-labelledby="anatomy-caption">
            <div class="jwt-parts">
                <span class="part header">"header"</span>
                <span class="dot">"."</span>
                <span class="part payload">"payload"</span>
                <span class="dot">"."</span>
                <span class="part signature">"signature"</span>
            </div>
            <figcaption id="anatomy-caption">
                "A JWT is three base64url parts joined by dots: the "
                <span class="header-text">"header"</span> " names the algorithm, the "
                <span class="payload-text">"payload"</span> " carries the claims (who, until when), "
                "and the " <span class="signature-text">"signature"</span>
                " proves the server wrote both. Anyone can read the first two; only the server "
                "can make the third."
            </figcaption>
        </figure>
        <h2>"Try it"</h2>
        <ol class="steps">
            <li><a href="/register">"Register"</a> " an account."</li>
            <li><a href="/login">"Log in"</a> " to obtain a token pair."</li>
            <li>"Call the protected " <a href="/hello">"Hello"</a> " endpoint, and copy the curl command."</li>
            <li>"Take your token apart in the " <a href="/inspector">"token inspector"</a> "."</li>
            <li>"Log out: the server revokes your session, and your access token with it."</li>
        </ol>
    }
}
