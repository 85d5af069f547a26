//! The attack lab: the JWT attacks of PortSwigger's labs and jwt_tool, forged here from your
//! real access token and sent to the real server, which refuses each and says so; each card
//! names the check that did. The attacks themselves are in [`crate::attacks`].

use claims::{Credentials, TokenPair};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::page;
use crate::attacks::{self, ATTACKS, Attack, Forged, Ground, Judgement, Verdict};
use crate::session::Session;

/// The lab page.
#[component]
pub fn Lab() -> impl IntoView {
    page("Attack lab");
    let session = Session::get();
    let pair = RwSignal::new(None::<TokenPair>);
    let password = RwSignal::new(String::new());
    let pair_status = RwSignal::new(None::<Result<String, String>>);
    let verdicts: StoredValue<Vec<RwSignal<Option<Verdict>>>> =
        StoredValue::new(ATTACKS.iter().map(|_| RwSignal::new(None)).collect());
    let running = RwSignal::new(false);

    let get_pair = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let credentials = Credentials {
            username: session.username().unwrap_or_default(),
            password: password.get_untracked(),
        };
        spawn_local(async move {
            match api::obtain_pair(&credentials).await {
                Ok(obtained) => {
                    pair.set(Some(obtained));
                    password.set(String::new());
                    pair_status.set(Some(Ok(
                        "The lab has a pair of its own, a token family apart from this page's session.".into(),
                    )));
                }
                Err(error) => pair_status.set(Some(Err(error.message()))),
            }
        });
    };

    // The lab's pair lives for one run: revoked when it is over, so no refresh token outlives
    // the run in this page's memory.
    let run = move |indices: Vec<usize>| {
        running.set(true);
        spawn_local(async move {
            let used = pair.get_untracked();
            match ground(session, used.clone()).await {
                Ok(ground) => {
                    for index in indices {
                        let verdict = attacks::run(&ATTACKS[index], &ground).await;
                        verdicts.with_value(|all| all[index].set(Some(verdict)));
                    }
                }
                Err(error) => verdicts.with_value(|all| {
                    for index in indices {
                        all[index].set(Some(Verdict::CouldNotRun(error.clone())));
                    }
                }),
            }
            if let Some(used) = used {
                api::blacklist_answer(&used.refresh).await;
                pair.set(None);
                pair_status.set(Some(Ok(
                    "The run is over, and the lab's pair is revoked: enter your password again for another run with it."
                        .into(),
                )));
            }
            running.set(false);
        });
    };
    on_cleanup(move || {
        if let Some(left) = pair.get_untracked() {
            spawn_local(async move {
                api::blacklist_answer(&left.refresh).await;
            });
        }
    });

    let summary = move || {
        let shown: Vec<Option<Verdict>> =
            verdicts.with_value(|all| all.iter().map(|v| v.get()).collect());
        if shown.iter().any(Option::is_none) {
            return None;
        }
        let judged = |wanted: fn(Judgement) -> bool| {
            shown
                .iter()
                .flatten()
                .filter(|v| matches!(v, Verdict::Sent { judgement, .. } if wanted(*judgement)))
                .count()
        };
        let sent = judged(|_| true);
        let refused = judged(|judgement| judgement == Judgement::AsClaimed);
        let count =
            |wanted: fn(&Verdict) -> bool| shown.iter().flatten().filter(|v| wanted(v)).count();
        let not_applicable = count(|v| matches!(v, Verdict::NotApplicable(_)));
        let could_not = count(|v| matches!(v, Verdict::CouldNotRun(_)));
        let mut line =
            format!("{refused} of {sent} refused ({not_applicable} not applicable here)");
        if could_not > 0 {
            line.push_str(&format!("; {could_not} could not run"));
        }
        Some((line, refused == sent && could_not == 0))
    };

    view! {
        <h1 tabindex="-1">"Attack lab"</h1>
        <p>
            "Each card below is an attack on JSON Web Tokens that has worked against real servers. "
            "The lab forges its token here, in your browser, from your own access token, sends it "
            "to this server, and shows what came back, with the check that refused it. A token's "
            "parts are shown as " <code>"header.payload.signature"</code> "; the parts the attack "
            "changed are marked."
        </p>
        <section aria-labelledby="pair-heading">
            <h2 id="pair-heading">"The lab's own pair"</h2>
            <p>
                "The app keeps your session's refresh token only in a cookie no script can read. "
                "Three attacks need one: enter your password, and the lab logs in once more with "
                <code>"POST /api/token/"</code> " for a pair of its own, a family apart, kept in "
                "this page's memory for one run and revoked (" <code>"POST /api/token/blacklist/"</code>
                ") when the run is over or you leave the page."
            </p>
            <form on:submit=get_pair>
                <input type="text" name="username" autocomplete="username" hidden
                    prop:value=move || session.username().unwrap_or_default()/>
                <label for="lab-password">"Password"</label>
                <input id="lab-password" type="password" autocomplete="current-password"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))/>
                <button id="lab-pair-button" type="submit">"Get the lab's pair"</button>
            </form>
            {move || pair_status.get().map(|status| match status {
                Ok(message) => view! { <p id="lab-pair-status" class="notice">{message}</p> }.into_any(),
                Err(message) => view! { <p id="lab-pair-status" class="form-error" role="alert">{message}</p> }.into_any(),
            })}
        </section>
        <section aria-labelledby="attacks-heading">
            <h2 id="attacks-heading">"The attacks"</h2>
            <button id="run-all" type="button" disabled=move || running.get()
                on:click=move |_| run((0..ATTACKS.len()).collect())>
                "Run all attacks"
            </button>
            <p id="lab-summary" role="status"
                class=move || match summary() {
                    Some((_, false)) => "form-error",
                    _ => "message",
                }>
                {move || summary().map(|(line, _)| line)}
            </p>
            {ATTACKS.iter().enumerate().map(|(index, attack)| {
                let verdict = verdicts.with_value(|all| all[index]);
                view! { <Card attack=attack verdict=verdict running=running on_send=move || run(vec![index])/> }
            }).collect_view()}
        </section>
    }
}

/// What the attacks start from: an access token the server accepts now (refreshed if needed),
/// the lab's pair, the server's published key.
async fn ground(session: Session, pair: Option<TokenPair>) -> Result<Ground, String> {
    let access = session
        .authorized(|access| async move { api::hello(access.clone()).await.map(|_| access) })
        .await
        .map_err(|error| error.message())?;
    Ok(Ground {
        access,
        pair,
        public_key: api::public_key().await,
    })
}

/// One attack: what it tries, the token it sent, what the server answered, what stopped it.
#[component]
fn Card(
    attack: &'static Attack,
    verdict: RwSignal<Option<Verdict>>,
    running: RwSignal<bool>,
    on_send: impl Fn() + 'static,
) -> impl IntoView {
    let id = attack.id;
    view! {
        <article class="attack-card" id=format!("card-{id}")>
            <h3>{attack.name}</h3>
            <p>{attack.tries}</p>
            <p class="hint">"Source: " {attack.source}</p>
            <button id=format!("send-{id}") type="button" disabled=move || running.get()
                on:click=move |_| on_send()>"Send it"</button>
            {move || verdict.get().map(|verdict| shown(id, verdict))}
            <p class="hint">"Stopped by: " {attack.stopped_by}</p>
        </article>
    }
}

fn shown(id: &'static str, verdict: Verdict) -> AnyView {
    match verdict {
        Verdict::Sent {
            forged,
            request,
            answer,
            note,
            judgement,
        } => {
            let (class, word) = match judgement {
                Judgement::AsClaimed => ("refused", "Refused"),
                Judgement::OtherReason => ("other-reason", "Refused, but not by the check named below"),
                Judgement::NotRefused => ("accepted", "NOT refused"),
            };
            view! {
                {forged.map(token_view)}
                <p class="hint">{request}</p>
                <p id=format!("result-{id}") class=format!("verdict {class}") data-verdict=class
                    data-status=answer.status>
                    <strong>{format!("{word}: {}", answer.status)}</strong>
                    " " <code>{answer.body}</code>
                </p>
                {note.map(|note| view! { <p class="hint note">{note}</p> })}
            }
            .into_any()
        }
        Verdict::NotApplicable(why) => view! {
            <p id=format!("result-{id}") class="verdict not-applicable" data-verdict="not-applicable">
                <strong>"Not applicable here: "</strong>{why}
            </p>
        }
        .into_any(),
        Verdict::CouldNotRun(why) => view! {
            <p id=format!("result-{id}") class="verdict form-error" data-verdict="could-not-run" role="alert">
                <strong>"Could not run: "</strong>{why}
            </p>
        }
        .into_any(),
    }
}

/// The forged token, its changed parts marked.
fn token_view(forged: Forged) -> impl IntoView {
    let part = |index: usize| {
        let class = if forged.changed[index] {
            "part changed"
        } else {
            "part"
        };
        view! { <span class=class>{forged.parts[index].clone()}</span> }
    };
    view! {
        <p class="forged-token"><code>{part(0)} "." {part(1)} "." {part(2)}</code></p>
    }
}
