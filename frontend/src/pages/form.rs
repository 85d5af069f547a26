//! The username and password form that the register and log-in pages share.

use claims::Credentials;
use leptos::prelude::*;

use crate::api::ApiError;

/// A labelled field with the server's messages for it underneath.
#[component]
pub fn Field(
    /// The input's id and the API field name.
    name: &'static str,
    /// The visible label.
    label: &'static str,
    /// `text` or `password`.
    kind: &'static str,
    /// `autocomplete` hint for password managers.
    autocomplete: &'static str,
    /// The value.
    value: RwSignal<String>,
    /// The last error, whose messages for `name` are shown.
    error: RwSignal<Option<ApiError>>,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.field(name));
    let described = format!("{name}-error");
    view! {
        <div class="field">
            <label for=name>{label}</label>
            <input
                id=name
                name=name
                type=kind
                autocomplete=autocomplete
                required=true
                aria-invalid=move || if message().is_some() { "true" } else { "false" }
                aria-describedby=described.clone()
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <p id=described class="field-error" role="alert">{message}</p>
        </div>
    }
}

/// The credentials typed into `username` and `password`.
pub fn credentials(username: RwSignal<String>, password: RwSignal<String>) -> Credentials {
    Credentials {
        username: username.get_untracked().trim().to_owned(),
        password: password.get_untracked(),
    }
}

/// The message that belongs to no field (a 401's detail, `non_field_errors`, a network error).
#[component]
pub fn FormError(error: RwSignal<Option<ApiError>>) -> impl IntoView {
    view! {
        <p id="form-error" class="form-error" role="alert">
            {move || error.get().and_then(|e| e.general())}
        </p>
    }
}
