//! Real servers the integration tests run on loopback: Debian's `prometheus-alertmanager`, and
//! `jupyterhub` (PyPI) with `configurable-http-proxy` (npm). `.ci/install-test-deps` installs
//! them. A missing binary or a server that does not come up fails the test with the command
//! and its output: these tests never skip.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// A free loopback port (released before the server binds it; collisions are retried).
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct free loopback ports: each listener is held until all are bound, since a port
/// released at once may be handed out again by the next bind (two servers then collide).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("no free loopback port"))
        .collect();
    std::array::from_fn(|i| {
        held[i]
            .local_addr()
            .map(|a| a.port())
            .expect("a bound listener has an address")
    })
}

/// A random token for test services.
fn token() -> String {
    (0..32)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap())
        .collect()
}

/// The program to run: `$VAR` when set, else the first of `names` found on PATH.
fn program(var: &str, names: &[&str]) -> PathBuf {
    if let Some(p) = std::env::var_os(var) {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "none of {names:?} is on PATH (or set {var}); run .ci/install-test-deps to install the \
         real servers these tests need"
    );
}

/// A child process with its log file, killed (with its process group) on drop.
struct Server {
    child: Child,
    command: String,
    log: PathBuf,
}

impl Server {
    fn spawn(mut cmd: Command, log: &Path) -> Self {
        let command = format!("{cmd:?}");
        let out = std::fs::File::create(log).expect("create server log");
        let err = out.try_clone().expect("clone server log");
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Own process group, so that drop also stops what the server started.
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
        Self {
            child,
            command,
            log: log.to_path_buf(),
        }
    }

    /// The server's output so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Fails the test with the command and its output.
    fn fail(&mut self, why: &str) -> ! {
        let status = self.child.try_wait().ok().flatten();
        panic!(
            "{why}\ncommand: {}\nexit status: {status:?}\noutput:\n{}",
            self.command,
            self.output()
        );
    }

    /// Waits until `url` answers 200, failing the test if the process exits or time runs out.
    async fn wait_ok(&mut self, url: &str, timeout: Duration) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                self.fail(&format!("server exited before {url} answered"));
            }
            if let Ok(r) = http.get(url).send().await
                && r.status().is_success()
            {
                return;
            }
            if Instant::now() > deadline {
                self.fail(&format!("{url} did not answer 200 within {timeout:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        // Ask politely (JupyterHub stops its proxy and user servers), then insist.
        let kill = |signal: &str| {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
        };
        kill("-TERM");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !self.exited() {
            std::thread::sleep(Duration::from_millis(50));
        }
        // Whatever the server left behind in its group (the proxy, user servers).
        kill("-KILL");
        let _ = self.child.wait();
    }
}

/// A real Alertmanager on 127.0.0.1, with a config routing everything to a null receiver.
pub struct Alertmanager {
    server: Server,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    _dir: TempDir,
}

impl Alertmanager {
    /// Starts it and waits for `/-/ready`.
    pub async fn start() -> Self {
        let bin = program(
            "HUBDECK_ALERTMANAGER_BIN",
            &["prometheus-alertmanager", "alertmanager"],
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            "route:\n  receiver: \"null\"\nreceivers:\n  - name: \"null\"\n",
        )
        .expect("write alertmanager config");
        for _attempt in 0..3 {
            let port = free_port();
            let mut cmd = Command::new(&bin);
            cmd.arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.path={}",
                    dir.path().join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--cluster.listen-address=");
            let mut server = Server::spawn(cmd, &dir.path().join("alertmanager.log"));
            let url = format!("http://127.0.0.1:{port}");
            tokio::time::sleep(Duration::from_millis(200)).await;
            if server.exited() && server.output().contains("address already in use") {
                continue;
            }
            server
                .wait_ok(&format!("{url}/-/ready"), Duration::from_secs(20))
                .await;
            return Self {
                server,
                url,
                _dir: dir,
            };
        }
        panic!("alertmanager: no free port after 3 attempts");
    }

    /// Sends alerts as Prometheus would (`POST /api/v2/alerts`).
    pub async fn post_alerts(&self, alerts: Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&alerts)
            .send()
            .await
            .expect("post alerts");
        assert!(r.status().is_success(), "post alerts: {:?}", r.text().await);
    }

    /// The server's log, for assertions messages.
    pub fn log(&self) -> String {
        self.server.output()
    }
}

/// A real JupyterHub (with configurable-http-proxy) on 127.0.0.1, configured by
/// `tests/fixtures/jupyterhub_config.py`.
pub struct JupyterHub {
    server: Server,
    /// The hub's own REST API (what a port-forward to the hub pod's port 8081 reaches).
    pub api_url: String,
    /// The same API through the proxy (what `https://<domain>/hub/api` reaches).
    pub proxy_api_url: String,
    /// Token of the `hubdeck` service: list, read, stop.
    pub token: String,
    /// Token of the `harness` service: create users, start servers, set activity.
    admin_token: String,
    http: reqwest::Client,
    _dir: TempDir,
}

impl JupyterHub {
    /// Starts it and waits until its API answers.
    pub async fn start() -> Self {
        let python = program("HUBDECK_PYTHON", &["python3"]);
        let chp = program("HUBDECK_CHP_BIN", &["configurable-http-proxy"]);
        let config =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jupyterhub_config.py");
        let dir = tempfile::tempdir().expect("tempdir");
        let [hub_port, proxy_port, proxy_api_port] = free_ports();
        let (tok, admin) = (token(), token());
        let mut cmd = Command::new(&python);
        cmd.args(["-m", "jupyterhub", "-f"])
            .arg(&config)
            .current_dir(dir.path())
            .env("HUBDECK_TEST_DIR", dir.path())
            .env("HUBDECK_TEST_HUB_PORT", hub_port.to_string())
            .env("HUBDECK_TEST_PROXY_PORT", proxy_port.to_string())
            .env("HUBDECK_TEST_PROXY_API_PORT", proxy_api_port.to_string())
            .env("HUBDECK_TEST_CHP", &chp)
            .env("HUBDECK_TEST_TOKEN", &tok)
            .env("HUBDECK_TEST_ADMIN_TOKEN", &admin);
        let mut server = Server::spawn(cmd, &dir.path().join("jupyterhub.log"));
        let api_url = format!("http://127.0.0.1:{hub_port}/hub/api");
        let proxy_api_url = format!("http://127.0.0.1:{proxy_port}/hub/api");
        server
            .wait_ok(&format!("{api_url}/"), Duration::from_secs(60))
            .await;
        server
            .wait_ok(&format!("{proxy_api_url}/"), Duration::from_secs(30))
            .await;
        Self {
            server,
            api_url,
            proxy_api_url,
            token: tok,
            admin_token: admin,
            http: reqwest::Client::new(),
            _dir: dir,
        }
    }

    /// The hub's log (for failure messages).
    pub fn log(&self) -> String {
        self.server.output()
    }

    /// An admin request to the hub API; panics on transport errors, returns status and JSON.
    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.api_url))
            .header("Authorization", format!("token {}", self.admin_token));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("hub API request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates users.
    pub async fn create_users(&self, names: &[&str]) {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/users",
                Some(json!({ "usernames": names })),
            )
            .await;
        assert_eq!(status, 201, "create users: {body}\n{}", self.log());
    }

    /// Starts a user's server (`""` for the default one) and waits until the hub says ready.
    pub async fn start_server(&self, user: &str, server: &str) {
        let path = if server.is_empty() {
            format!("/users/{}/server", esc(user))
        } else {
            format!("/users/{}/servers/{}", esc(user), esc(server))
        };
        let (status, body) = self
            .admin(reqwest::Method::POST, &path, Some(json!({})))
            .await;
        assert!(
            status == 201 || status == 202,
            "start {user}/{server}: {status} {body}\n{}",
            self.log()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.server_ready(user, server).await {
            assert!(
                Instant::now() < deadline,
                "{user}/{server} not ready after 30s\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The user model (`GET /users/{name}`).
    pub async fn user(&self, name: &str) -> Value {
        let (status, body) = self
            .admin(reqwest::Method::GET, &format!("/users/{}", esc(name)), None)
            .await;
        assert_eq!(status, 200, "get user {name}: {body}");
        body
    }

    async fn server_ready(&self, user: &str, server: &str) -> bool {
        self.user(user).await["servers"][server]["ready"] == json!(true)
    }

    /// Records activity as a user server's activity reporter would.
    pub async fn set_activity(&self, user: &str, server: &str, when: &str) {
        let body =
            json!({ "last_activity": when, "servers": { server: { "last_activity": when } } });
        let (status, reply) = self
            .admin(
                reqwest::Method::POST,
                &format!("/users/{}/activity", esc(user)),
                Some(body),
            )
            .await;
        assert_eq!(status, 200, "activity of {user}: {reply}");
    }
}

/// Escapes a path segment (user names may hold `@`, `.` or `+`).
fn esc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
