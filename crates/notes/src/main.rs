//! `notes`: serves the notes API on `NOTES_BIND_ADDR` (default 127.0.0.1:8001).

use std::process::ExitCode;

use notes::settings::Settings;
use notes::startup::Application;

fn main() -> ExitCode {
    // A missing .env is normal.
    let _ = dotenvy::dotenv();
    apikit::log::init();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let jwks_url = settings.jwks_url.clone();
    let host = settings
        .bind_addr
        .rsplit_once(':')
        .map_or("127.0.0.1", |(host, _)| host)
        .to_owned();
    let outcome = actix_web::rt::System::new().block_on(async move {
        let application = Application::build(settings).map_err(|e| e.to_string())?;
        tracing::info!(
            "checking tokens with the keys published at {jwks_url}; serving the notes API at http://{host}:{}",
            application.port()
        );
        application
            .run_until_stopped()
            .await
            .map_err(|e| e.to_string())
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
