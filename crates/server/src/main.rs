//! `server`: serves the API, or runs one of the management commands (`server --help`).

use std::process::ExitCode;

use clap::Parser;
use server::cli::{self, Cli, Command};
use server::configuration::Settings;

fn main() -> ExitCode {
    // A missing .env is normal; settings then come from the environment alone.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    apikit::log::init();
    let outcome = Settings::from_env()
        .map_err(cli::Failure::from)
        .and_then(|settings| cli::execute(cli.command.unwrap_or(Command::Serve), settings));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            ExitCode::from(failure.exit_code)
        }
    }
}
