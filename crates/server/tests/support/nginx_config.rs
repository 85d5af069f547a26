//! The project's `nginx/nginx.conf.template` filled in for loopback and plain HTTP, for what
//! runs nginx natively: the stack tests and `cargo xtask faults` (which includes this file).
//! The `web` image fills in the same template with `nginx/render.sh`.

use std::path::Path;

/// `template` with nginx listening on `127.0.0.1:port` (its redirect server on the port after),
/// its files in `dir` (the frontend in `dir/dist`), the API proxied to `upstreams` and the
/// notes service to `notes_upstream` (each `server ...;` lines, on one line). Plain HTTP: the
/// Docker stack serves HTTPS, and `cargo xtask stack` checks it.
pub fn render_for_loopback(
    template: &str,
    dir: &Path,
    port: u16,
    upstreams: &str,
    notes_upstream: &str,
) -> Result<String, String> {
    let rendered = template
        .replace("${NGINX_LISTEN}", &format!("127.0.0.1:{port}"))
        .replace("${NGINX_RUNTIME_DIR}", &dir.to_string_lossy())
        .replace("${NGINX_DIST_DIR}", &dir.join("dist").to_string_lossy())
        .replace("${NGINX_RESOLVER}", "")
        .replace("${NGINX_UPSTREAMS}", upstreams)
        .replace("${NGINX_NOTES_UPSTREAMS}", notes_upstream)
        .replace("${NGINX_TLS}", "")
        .replace(
            "${NGINX_REDIRECT_LISTEN}",
            &format!("127.0.0.1:{}", port + 1),
        )
        .replace("${NGINX_HTTPS_PORT}", &port.to_string())
        .replace("${NGINX_SERVER_NAME}", "127.0.0.1");
    if rendered.contains("${NGINX_") {
        return Err("a placeholder of nginx.conf.template was left unfilled".into());
    }
    Ok(rendered)
}
