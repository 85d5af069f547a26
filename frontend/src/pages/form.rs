//! The username and password form that the register and log-in pages share: the busy state,
//! the server's field errors next to their fields (cleared as soon as the field is edited),
//! and the message that belongs to no field.

use std::future::Future;

use claims::Credentials;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;

/// The form. `on_submit` gets the credentials typed in; an error it returns is shown.
#[component]
pub fn CredentialsForm<F, Fut>(
    /// `login` or `register`: the submit button is `#{id}-submit`.
    id: &'static str,
    /// The submit button's text.
    submit_label: &'static str,
    /// `current-password` or `new-password`, for password managers.
    password_autocomplete: &'static str,
    /// The username to start with.
    #[prop(into)]
    username: String,
    /// What to do with the credentials.
    on_submit: F,
    /// Called when the user starts typing again (the page clears its stale notices).
    #[prop(optional)]
    on_edit: Option<Callback<()>>,
) -> impl IntoView
where
    F: Fn(Credentials) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ApiError>> + 'static,
{
    let username = RwSignal::new(username);
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    // The fields edited since the last answer: their old errors no longer apply.
    let edited = RwSignal::new(Vec::<&'static str>::new());
    let busy = RwSignal::new(false);
    let edit = move |name: &'static str| {
        edited.update(|fields| fields.push(name));
        if let Some(on_edit) = on_edit {
            on_edit.run(());
        }
    };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let on_submit = on_submit.clone();
        let credentials = Credentials {
            username: username.get_untracked().trim().to_owned(),
            password: password.get_untracked(),
        };
        busy.set(true);
        spawn_local(async move {
            let outcome = on_submit(credentials).await;
            edited.set(Vec::new());
            error.set(outcome.err());
            busy.set(false);
        });
    };
    let form_error = move || {
        let typed_since = !edited.get().is_empty();
        error
            .get()
            .and_then(|e| e.general())
            .filter(|_| !typed_since)
    };
    view! {
        <form on:submit=submit novalidate=true>
            <Field name="username" label="Username" kind="text" autocomplete="username"
                value=username error=error edited=edited on_edit=edit/>
            <Field name="password" label="Password" kind="password" autocomplete=password_autocomplete
                value=password error=error edited=edited on_edit=edit/>
            <p id="form-error" class="form-error" role="alert">{form_error}</p>
            <button id=format!("{id}-submit") type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Please wait…" } else { submit_label }}
            </button>
        </form>
    }
}

/// A labelled field with the server's messages for it underneath: `name` is the field's id
/// and the name the server gives its errors under.
#[component]
pub fn Field(
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: RwSignal<String>,
    error: RwSignal<Option<ApiError>>,
    edited: RwSignal<Vec<&'static str>>,
    on_edit: impl Fn(&'static str) + Copy + 'static,
) -> impl IntoView {
    let message = move || {
        let stale = edited.get().contains(&name);
        error.get().and_then(|e| e.field(name)).filter(|_| !stale)
    };
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
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    on_edit(name);
                }
            />
            <p id=described class="field-error" role="alert">{message}</p>
        </div>
    }
}
