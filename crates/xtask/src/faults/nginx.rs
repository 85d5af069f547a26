//! nginx in front of the two servers, from the project's own `nginx/nginx.conf.template` (the
//! file the `web` image renders), filled in for loopback and plain HTTP.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../../../server/tests/support/nginx_config.rs"]
mod nginx_config;

use nginx_config::render_for_loopback;

/// A running nginx; stopped when dropped.
pub(super) struct Nginx {
    child: Child,
    pub(super) base: String,
}

impl Nginx {
    /// Starts nginx on `port` (and its redirect server on `port + 1`) in `dir`, proxying the
    /// API to `upstreams` (`host:port` each); `proxy_next_upstream` as the template has it, or
    /// off.
    pub(super) fn start(
        root: &Path,
        dir: &Path,
        port: u16,
        upstreams: &[String],
        next_upstream: bool,
    ) -> Result<Self, String> {
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| Path::new(path).is_file())
            .ok_or("nginx is not installed (apt install nginx)")?;
        std::fs::create_dir_all(dir.join("dist")).map_err(|e| e.to_string())?;
        let template = std::fs::read_to_string(root.join("nginx/nginx.conf.template"))
            .map_err(|e| format!("reading nginx.conf.template: {e}"))?;
        let servers: String = upstreams
            .iter()
            .map(|upstream| format!("server {upstream} max_fails=1 fail_timeout=2s; "))
            .collect();
        // No notes service runs here: its upstream is a port nothing listens on.
        let rendered = render_for_loopback(&template, dir, port, &servers, "server 127.0.0.1:9;")?;
        std::fs::write(dir.join("nginx.conf"), rendered).map_err(|e| e.to_string())?;
        let mut params = std::fs::read_to_string(root.join("nginx/proxy_params.conf"))
            .map_err(|e| format!("reading proxy_params.conf: {e}"))?;
        if !next_upstream {
            params = params
                .lines()
                .map(|line| {
                    if line.starts_with("proxy_next_upstream ") {
                        "proxy_next_upstream off;"
                    } else {
                        line
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
        }
        std::fs::write(dir.join("proxy_params.conf"), params).map_err(|e| e.to_string())?;
        let child = Command::new(nginx)
            .arg("-p")
            .arg(dir)
            .arg("-c")
            .arg(dir.join("nginx.conf"))
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting nginx: {e}"))?;
        let nginx = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                return Err(format!("nginx did not start:\n{log}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(nginx)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: nginx's graceful stop, for the master and its workers.
        // SAFETY: kill(2) on the child we started.
        unsafe {
            crate::bench::stacks::libc_kill(self.child.id() as i32, 3);
        }
        let _ = self.child.wait();
    }
}
