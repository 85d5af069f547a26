//! What the end-to-end tests stand on: the `server` binary started as `cargo xtask serve`
//! starts it (serving the built `dist/`), headless Chromium driven through chromedriver, and
//! waiting on other processes with a deadline.
//!
//! Tools are found through `CHROMIUM` and `CHROMEDRIVER`, then `PATH`. A missing tool skips
//! the test with a message; with `E2E_REQUIRE=1` (as `.ci/run` sets) it fails it instead.
//!
//! Nothing here reads another process's output without waiting for it: [`wait_until`] polls
//! with a deadline and says what it waited for when it gives up. A helper process that dies
//! at start is started once more; when that fails too, both exit statuses and outputs are in
//! the error.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use thirtyfour::prelude::*;

/// The workspace root (where `dist/` is built).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/server sits two levels below the root")
        .to_path_buf()
}

/// A tool from the environment variable `variable` (unless empty), else the first of `names` on `PATH`
/// (or in `/usr/sbin`, where Debian puts nginx).
pub fn find_tool(variable: &str, names: &[&str]) -> Option<PathBuf> {
    if !variable.is_empty()
        && let Some(path) = std::env::var_os(variable).filter(|p| !p.is_empty())
    {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain([PathBuf::from("/usr/sbin")]);
    dirs.flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Registers `username` on the server at `base` (`http://127.0.0.1:PORT`) and returns the
/// access token `POST /api/token/` gives it.
pub async fn new_user_access_token(base: &str, username: &str, password: &str) -> Result<String> {
    let client = reqwest::Client::new();
    let credentials = serde_json::json!({"username": username, "password": password});
    let created = client
        .post(format!("{base}/api/register/"))
        .json(&credentials)
        .send()
        .await?;
    ensure!(
        created.status() == 201,
        "registering answered {}",
        created.status()
    );
    let pair: serde_json::Value = client
        .post(format!("{base}/api/token/"))
        .json(&credentials)
        .send()
        .await?
        .json()
        .await?;
    pair["access"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no access token in {pair}"))
}

/// Says that a test cannot run for want of `what`: a skip on a user's machine, a failure when
/// `E2E_REQUIRE=1`.
pub fn missing(what: &str) {
    let message = format!("{what} not found");
    if crate::postgres::required() {
        panic!("{message}, and E2E_REQUIRE=1 requires it");
    }
    eprintln!(
        "SKIPPED: {message} (install it or set its variable; E2E_REQUIRE=1 makes this fatal)"
    );
}

/// Polls `check` every 50 ms until it gives a value, for at most `timeout`; the error names
/// `what` was awaited and the last thing `check` saw.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        match check().await {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() > deadline => {
                bail!("waited {timeout:?} for {what}; last seen: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// [`wait_until`] for code that is not async.
pub fn wait_until_blocking<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> std::result::Result<T, String>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(value) => return Ok(value),
            Err(last) if Instant::now() > deadline => {
                bail!("waited {timeout:?} for {what}; last seen: {last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Starts a helper with `start`, and once more if the first one fails; the error then carries
/// both failures (each with the exit status and output `start` put in its error).
pub fn start_twice<T>(what: &str, mut start: impl FnMut() -> Result<T>) -> Result<T> {
    match start() {
        Ok(started) => Ok(started),
        Err(first) => {
            eprintln!("{what} failed to start, starting it once more: {first:#}");
            start().map_err(|second| {
                anyhow::anyhow!(
                    "{what} failed to start twice.\nfirst: {first:#}\nsecond: {second:#}"
                )
            })
        }
    }
}

/// A child's exit status (if it has exited) and what it wrote to the captured stream, for an
/// error message.
pub fn post_mortem(child: &mut Child, output: &Arc<Mutex<String>>) -> String {
    let status = match child.try_wait() {
        Ok(Some(status)) => format!("exited with {status}"),
        Ok(None) => "still running".to_owned(),
        Err(error) => format!("status unknown ({error})"),
    };
    let output = output.lock().map(|o| o.clone()).unwrap_or_default();
    format!("{status}; its output:\n{}", output.trim_end())
}

/// Copies everything the reader of `stream` sees into `into`, on a thread of its own.
pub fn drain(stream: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(|l| l.ok()) {
            if let Ok(mut text) = into.lock() {
                text.push_str(&line);
                text.push('\n');
            }
        }
    });
}

/// The `server` binary, serving `dist/` and the API on a free port (with its own SQLite file
/// unless the settings name a `DATABASE_URL`).
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Everything it has logged so far.
    pub log: Arc<Mutex<String>>,
    /// The settings it was started with, for a restart.
    settings: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl ServerProcess {
    /// Starts it with extra settings; returns once it answers `/healthz`.
    pub fn start(settings: &[(&str, &str)]) -> Result<Self> {
        let dist = workspace_root().join("dist");
        if !dist.join("index.html").is_file() {
            bail!(
                "{} has no index.html: run `cargo xtask frontend` (cargo xtask test does)",
                dist.display()
            );
        }
        start_twice("the server", || Self::start_once(settings))
    }

    fn start_once(settings: &[(&str, &str)]) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let settings: Vec<(String, String)> = settings
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        let log = Arc::new(Mutex::new(String::new()));
        let (child, base) = Self::spawn(dir.path(), &settings, "127.0.0.1:0", &log)?;
        let server = Self {
            child,
            base,
            log,
            settings,
            _dir: dir,
        };
        server.wait_until_healthy()?;
        Ok(server)
    }

    /// Runs `server serve` in `dir`, listening on `bind`; returns it and its base URL once it
    /// says where it listens.
    fn spawn(
        dir: &Path,
        settings: &[(String, String)],
        bind: &str,
        log: &Arc<Mutex<String>>,
    ) -> Result<(Child, String)> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
            .arg("serve")
            .current_dir(dir)
            .env("FRONTEND_DIR", workspace_root().join("dist"))
            .env("DATABASE_URL", "sqlite://db.sqlite3")
            .env("BIND_ADDR", bind)
            .env("BCRYPT_COST", "4")
            .env("RUST_LOG", "info")
            .envs(settings.iter().map(|(name, value)| (name, value)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the server binary")?;
        match read_announced(
            child.stderr.take().expect("piped"),
            "serving the API at ",
            Duration::from_secs(20),
            log.clone(),
        ) {
            Ok(base) => Ok((child, base)),
            Err(error) => {
                let why = post_mortem(&mut child, log);
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not say where it listens ({error}); it {why}");
            }
        }
    }

    /// Starts it again after [`stop`](Self::stop): the same port, directory (database and
    /// key) and settings, as a server that came back.
    pub fn restart(&mut self) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let bind = format!("127.0.0.1:{}", self.port());
        let (child, _) = Self::spawn(self._dir.path(), &self.settings, &bind, &self.log)?;
        self.child = child;
        self.wait_until_healthy()
    }

    /// Waits (up to 10 s) until `GET /healthz` answers 200 (asked with the binary's own
    /// `healthcheck` command): the server is serving, and its signal handlers are in place.
    fn wait_until_healthy(&self) -> Result<()> {
        let what = format!("{} to become healthy", self.base);
        wait_until_blocking(&what, Duration::from_secs(10), || {
            let check = Command::new(env!("CARGO_BIN_EXE_server"))
                .arg("healthcheck")
                .env("BIND_ADDR", format!("127.0.0.1:{}", self.port()))
                .output()
                .map_err(|e| e.to_string())?;
            if check.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&check.stderr).into_owned())
            }
        })
    }

    /// Waits (up to 10 s) until the server has logged `count` lines that contain every one of
    /// `parts`; returns those lines.
    pub async fn wait_for_log_lines(&self, parts: &[&str], count: usize) -> Result<Vec<String>> {
        let what = format!("{count} log lines with {parts:?}");
        wait_until(&what, Duration::from_secs(10), || async {
            let lines = self.log_lines(parts);
            if lines.len() >= count {
                Ok(lines)
            } else {
                Err(format!("{} such lines", lines.len()))
            }
        })
        .await
    }

    /// The lines logged so far that contain every one of `parts`.
    pub fn log_lines(&self, parts: &[&str]) -> Vec<String> {
        let log = self.log.lock().map(|l| l.clone()).unwrap_or_default();
        log.lines()
            .filter(|line| parts.iter().all(|part| line.contains(part)))
            .map(str::to_owned)
            .collect()
    }

    /// The directory it runs in (its SQLite file and development key are there).
    pub fn workdir(&self) -> &Path {
        self._dir.path()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.base
            .rsplit(':')
            .next()
            .and_then(|port| port.parse().ok())
            .expect("the base URL ends with a port")
    }

    /// Sends SIGKILL without waiting: the server is gone (the test goes on without it).
    pub fn stop(&self) {
        // SAFETY: kill(2) on our own child's pid; no memory is involved. Drop reaps it.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::net::TcpStream::connect(("127.0.0.1", self.port())).is_ok()
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGKILL: the process dies at once, mid-request if need be.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits up to `timeout` for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> Result<std::process::ExitStatus> {
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if Instant::now() > deadline {
                bail!("still running {timeout:?} after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Registers `username` and returns the access token `POST /api/token/` gives it.
    pub async fn new_user_access_token(&self, username: &str, password: &str) -> Result<String> {
        new_user_access_token(&self.base, username, password).await
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `notes` binary, built beside `server` (built now when a filtered `cargo test` did not).
fn notes_binary() -> Result<PathBuf> {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_server")).with_file_name("notes");
    if !binary.is_file() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "notes"])
            .status()?;
        ensure!(status.success(), "cargo build -p notes failed ({status})");
    }
    Ok(binary)
}

/// A `notes` process trusting the keys at `jwks_url`, on its own SQLite file.
pub struct NotesProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    _dir: tempfile::TempDir,
}

impl NotesProcess {
    /// Starts it; returns once it says where it listens.
    pub fn start(jwks_url: &str) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut child = Command::new(notes_binary()?)
            .current_dir(dir.path())
            .env("NOTES_BIND_ADDR", "127.0.0.1:0")
            .env("AUTH_JWKS_URL", jwks_url)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting the notes binary")?;
        let log = Arc::new(Mutex::new(String::new()));
        match read_announced(
            child.stderr.take().expect("piped"),
            "serving the notes API at ",
            Duration::from_secs(20),
            log.clone(),
        ) {
            Ok(base) => Ok(Self {
                child,
                base,
                _dir: dir,
            }),
            Err(error) => {
                let why = post_mortem(&mut child, &log);
                let _ = child.kill();
                let _ = child.wait();
                bail!("the notes service did not say where it listens ({error}); it {why}")
            }
        }
    }
}

impl Drop for NotesProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads lines from `stream` into `log` (on a thread that keeps draining it afterwards) until
/// one contains `marker`; returns the rest of that line after the marker.
pub fn read_announced(
    stream: impl std::io::Read + Send + 'static,
    marker: &'static str,
    timeout: Duration,
    log: Arc<Mutex<String>>,
) -> Result<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if let Ok(mut log) = log.lock() {
                log.push_str(&line);
                log.push('\n');
            }
            if !sent && let Some(at) = line.find(marker) {
                let rest = line[at + marker.len()..].trim().to_owned();
                let _ = sender.send(rest);
                sent = true;
            }
        }
    });
    receiver
        .recv_timeout(timeout)
        .with_context(|| format!("no line with {marker:?} within {timeout:?}"))
}

/// Headless Chromium, driven through a chromedriver child in its own process group.
pub struct Browser {
    /// The WebDriver session.
    pub driver: WebDriver,
    chromedriver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a browser session, or `None` (after [`missing`]) without them.
    pub async fn start() -> Result<Option<Self>> {
        let Some(chromium) = find_tool(
            "CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        ) else {
            missing("Chromium (CHROMIUM)");
            return Ok(None);
        };
        let Some(chromedriver) = find_tool("CHROMEDRIVER", &["chromedriver"]) else {
            missing("chromedriver (CHROMEDRIVER)");
            return Ok(None);
        };
        match Self::start_once(&chromium, &chromedriver).await {
            Ok(browser) => Ok(Some(browser)),
            Err(first) => {
                eprintln!("the browser failed to start, starting it once more: {first:#}");
                match Self::start_once(&chromium, &chromedriver).await {
                    Ok(browser) => Ok(Some(browser)),
                    Err(second) => bail!(
                        "the browser failed to start twice.\nfirst: {first:#}\nsecond: {second:#}"
                    ),
                }
            }
        }
    }

    async fn start_once(chromium: &Path, chromedriver_path: &Path) -> Result<Self> {
        let mut chromedriver = Command::new(chromedriver_path)
            .arg("--port=0")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .context("starting chromedriver")?;
        let output = Arc::new(Mutex::new(String::new()));
        drain(chromedriver.stderr.take().expect("piped"), output.clone());
        let announced = read_announced(
            chromedriver.stdout.take().expect("piped"),
            "started successfully on port ",
            Duration::from_secs(20),
            output.clone(),
        );
        let port: Result<u16> = announced.and_then(|announced| {
            announced
                .trim_end_matches('.')
                .parse()
                .with_context(|| format!("chromedriver's port: {announced:?}"))
        });
        let port = match port {
            Ok(port) => port,
            Err(error) => {
                let why = post_mortem(&mut chromedriver, &output);
                kill_group(&mut chromedriver);
                bail!("chromedriver did not announce its port ({error:#}); it {why}");
            }
        };

        let profile = tempfile::tempdir()?;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium.to_string_lossy())?;
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--window-size=1280,900",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
        ] {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        match WebDriver::new(format!("http://127.0.0.1:{port}"), caps).await {
            Ok(driver) => Ok(Self {
                driver,
                chromedriver,
                _profile: profile,
            }),
            Err(error) => {
                let why = post_mortem(&mut chromedriver, &output);
                kill_group(&mut chromedriver);
                bail!("no browser session ({error}); chromedriver {why}");
            }
        }
    }

    /// Makes the page's clock (`Date.now()`) run `seconds` behind the real one, from the next
    /// page load on, as a visitor's badly set clock would.
    pub async fn set_clock_behind(&self, seconds: u64) -> Result<()> {
        let devtools = thirtyfour::extensions::cdp::ChromeDevTools::new(self.driver.handle.clone());
        let script = format!(
            "(() => {{ const now = Date.now.bind(Date); Date.now = () => now() - {}; }})();",
            seconds * 1000
        );
        devtools
            .execute_cdp_with_params(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({ "source": script }),
            )
            .await?;
        Ok(())
    }

    /// Opens `url` and waits for the app to render its navigation.
    pub async fn open(&self, url: &str) -> Result<()> {
        self.driver.goto(url).await?;
        self.element(By::Css("nav[aria-label='Main']")).await?;
        Ok(())
    }

    /// The element, once it exists (up to 10 s).
    pub async fn element(&self, by: By) -> Result<WebElement> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.driver.find(by.clone()).await {
                Ok(element) => return Ok(element),
                Err(error) if Instant::now() > deadline => {
                    return Err(error).with_context(|| format!("waiting for {by:?}"));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The text of the element with `id`, once it exists and `accept` accepts it (up to 10 s).
    pub async fn text_of(&self, id: &str, accept: impl Fn(&str) -> bool) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        loop {
            if let Ok(element) = self.driver.find(By::Id(id)).await
                && let Ok(text) = element.text().await
            {
                if accept(&text) {
                    return Ok(text);
                }
                last = text;
            }
            if Instant::now() > deadline {
                bail!("#{id} never showed the expected text; last seen: {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's path is `path` (up to 10 s).
    pub async fn wait_for_path(&self, path: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = self.driver.current_url().await?;
            if url.path() == path {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("expected to be on {path}, still on {url}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's heading (`main h1`) reads `text` (up to 10 s).
    pub async fn wait_for_heading(&self, text: &str) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let heading = match self.driver.find(By::Css("main h1")).await {
                Ok(heading) => heading.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if heading == text {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("expected the heading {text:?}, still {heading:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Marks the app running in this page, for [`Browser::is_same_app`]; loading the page
    /// again loses the mark.
    pub async fn mark_app(&self) -> Result<()> {
        self.driver
            .execute("window.markedApp = true;", vec![])
            .await?;
        Ok(())
    }

    /// Whether the app [`Browser::mark_app`] marked is still the one running: no page load
    /// since.
    pub async fn is_same_app(&self) -> Result<bool> {
        let marked = self
            .driver
            .execute("return window.markedApp === true;", vec![])
            .await?;
        Ok(marked.json() == &serde_json::Value::Bool(true))
    }

    /// Makes every request of the page's `fetch` whose URL contains `part` wait `millis`
    /// before it goes, for as long as the app stays loaded.
    pub async fn delay_fetches(&self, part: &str, millis: u64) -> Result<()> {
        self.driver
            .execute(
                "const [part, millis] = arguments; \
                 const fetch = window.fetch.bind(window); \
                 window.fetch = (input, init) => \
                     String(input instanceof Request ? input.url : input).includes(part) \
                         ? new Promise(go => setTimeout(go, millis)).then(() => fetch(input, init)) \
                         : fetch(input, init);",
                vec![serde_json::json!(part), serde_json::json!(millis)],
            )
            .await?;
        Ok(())
    }

    /// Waits until the timers the page has queued so far have run (the router draws the next
    /// page in one).
    pub async fn settle(&self) -> Result<()> {
        self.driver
            .execute_async("setTimeout(arguments[arguments.length - 1], 50);", vec![])
            .await?;
        Ok(())
    }

    /// Types `text` into the input with `id`, replacing what was there.
    pub async fn fill(&self, id: &str, text: &str) -> Result<()> {
        let input = self.element(By::Id(id)).await?;
        input.clear().await?;
        input.send_keys(text).await?;
        Ok(())
    }

    /// Clicks the element with `id`.
    pub async fn click(&self, id: &str) -> Result<()> {
        self.element(By::Id(id)).await?.click().await?;
        Ok(())
    }

    /// Clicks the navigation link with this text.
    pub async fn click_link(&self, text: &str) -> Result<()> {
        self.element(By::LinkText(text)).await?.click().await?;
        Ok(())
    }

    /// The browser's session cookie (HttpOnly, so no script of the page can read it; the
    /// DevTools protocol can), if it has one.
    pub async fn session_cookie(&self) -> Result<Option<serde_json::Value>> {
        let devtools = thirtyfour::extensions::cdp::ChromeDevTools::new(self.driver.handle.clone());
        let all = devtools.execute_cdp("Network.getAllCookies").await?;
        let cookies = all["cookies"].as_array().cloned().unwrap_or_default();
        Ok(cookies
            .into_iter()
            .find(|cookie| cookie["name"] == "refresh"))
    }

    /// What the page's own scripts can see of stored state: `document.cookie`, and every entry
    /// of `localStorage` and `sessionStorage`.
    pub async fn script_visible_state(&self) -> Result<String> {
        let value = self
            .driver
            .execute(
                "return JSON.stringify({cookie: document.cookie, \
                 local: Object.entries(localStorage), session: Object.entries(sessionStorage)});",
                vec![],
            )
            .await?;
        Ok(value.json().as_str().unwrap_or_default().to_owned())
    }

    /// The file names of the wasm modules this page has fetched since it was loaded, in the
    /// order they were asked for (the browser's resource timing entries).
    pub async fn fetched_wasm_modules(&self) -> Result<Vec<String>> {
        let value = self
            .driver
            .execute(
                "return performance.getEntriesByType('resource') \
                 .map(entry => new URL(entry.name).pathname.slice(1)) \
                 .filter(name => name.endsWith('.wasm'));",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(value.json().clone())?)
    }

    /// The bytes of wasm and JavaScript this page has downloaded since it was loaded, as they
    /// came over the wire (compressed, when the server compressed them).
    pub async fn fetched_code_bytes(&self) -> Result<u64> {
        let value = self
            .driver
            .execute(
                "return performance.getEntriesByType('resource') \
                 .filter(entry => /\\.(wasm|js)$/.test(new URL(entry.name).pathname)) \
                 .reduce((sum, entry) => sum + entry.encodedBodySize, 0);",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(value.json().clone())?)
    }

    /// Makes every request whose URL matches one of `patterns` (`*` for any text) fail as if
    /// the network refused it; no patterns lifts the block.
    pub async fn block_urls(&self, patterns: &[&str]) -> Result<()> {
        let devtools = thirtyfour::extensions::cdp::ChromeDevTools::new(self.driver.handle.clone());
        devtools.execute_cdp("Network.enable").await?;
        devtools
            .execute_cdp_with_params(
                "Network.setBlockedURLs",
                serde_json::json!({ "urls": patterns }),
            )
            .await?;
        Ok(())
    }

    /// Makes `navigator.clipboard` unavailable from the next page load on, as on a page served
    /// over plain HTTP to another host.
    pub async fn hide_clipboard(&self) -> Result<()> {
        let devtools = thirtyfour::extensions::cdp::ChromeDevTools::new(self.driver.handle.clone());
        devtools
            .execute_cdp_with_params(
                "Page.addScriptToEvaluateOnNewDocument",
                serde_json::json!({
                    "source": "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
                }),
            )
            .await?;
        Ok(())
    }

    /// Saves a PNG of the page.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        self.driver.screenshot(path).await?;
        Ok(())
    }

    /// Ends the session and the chromedriver process group.
    pub async fn close(mut self) {
        let _ = self.driver.clone().quit().await;
        kill_group(&mut self.chromedriver);
    }
}

/// Kills a child started in a process group of its own, with everything it started.
fn kill_group(child: &mut Child) {
    // SAFETY: kill(2) on the process group we created; no memory is involved.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.wait();
}

/// Runs one browser test against a fresh server: skips without the tools, and on failure
/// saves a screenshot under `target/` and prints its path before failing.
pub async fn run<F>(name: &str, settings: &[(&str, &str)], test: F)
where
    F: AsyncFnOnce(&Browser, &ServerProcess) -> Result<()>,
{
    let _turn = exclusive().await;
    let server = ServerProcess::start(settings).expect("the server starts");
    with_browser(name, async |browser| test(browser, &server).await).await;
}

/// Runs `test` with a browser: skips without the tools; on failure saves a screenshot under
/// `target/browser-screenshots/`, prints its path and fails.
pub async fn with_browser<F>(name: &str, test: F)
where
    F: AsyncFnOnce(&Browser) -> Result<()>,
{
    let Some(browser) = Browser::start().await.expect("the browser starts") else {
        return;
    };
    let outcome = test(&browser).await;
    if let Err(error) = &outcome {
        let shot = screenshot_dir().join(format!("{name}.png"));
        match browser.screenshot(&shot).await {
            Ok(()) => eprintln!("screenshot of the failure: {}", shot.display()),
            Err(e) => eprintln!("no screenshot of the failure: {e}"),
        }
        browser.close().await;
        panic!("{name} failed: {error:#}");
    }
    browser.close().await;
}

/// One end-to-end test at a time: two cores do not run several browsers and stacks well.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ONE_AT_A_TIME.lock().await
}

/// Where screenshots go: `target/browser-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .join("browser-screenshots")
}
