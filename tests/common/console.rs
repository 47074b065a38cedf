//! A console (`tui::App`) over a sim fleet through the real kube path: supervisors feed it, the
//! action runner acts through the same clients, keys are pressed and frames rendered off-screen,
//! and `Feeds` applies updates and action answers as the event loop does.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubdeck::action::{AuditLog, AuditRecord, Runner};
use hubdeck::config::keymap::Keymap;
use hubdeck::config::theme::Theme;
use hubdeck::fleet::{ClusterStatus, Fleet, HubId, HubState, Thresholds};
use hubdeck::kube::{self, ClientCache, targets};
use hubdeck::tui::{App, ConsoleOptions, Feeds, Intent, render_offscreen};
use hubdeck_sim::{SimCluster, SimFleet};
use jiff::Timestamp;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// A console wired like `hubdeck` wires it, minus the terminal.
pub struct Console {
    /// The console.
    pub app: App,
    /// Its fleet updates and action answers.
    pub feeds: Feeds,
    /// The runner it acts through.
    pub runner: Arc<Runner>,
    /// The clients every source and the runner share.
    pub clients: Arc<ClientCache>,
    /// Audit log, recovery copies and diffs of this test only.
    pub state: tempfile::TempDir,
    shutdown: CancellationToken,
}

impl Console {
    /// Starts watching every cluster of `sim` and waits until all are read.
    pub async fn start(sim: &SimFleet, readonly: bool) -> Console {
        Self::start_with(sim, sim.kubeconfig_path(), readonly).await
    }

    /// Like `start`, through another kubeconfig of the same fleet (an exec plugin's, a read-only
    /// identity's).
    pub async fn start_with(sim: &SimFleet, kubeconfig: &Path, readonly: bool) -> Console {
        let kc = targets::read_kubeconfig(kubeconfig).expect("kubeconfig");
        let list = targets::from_kubeconfig(kc, &[]).expect("targets");
        let clients = ClientCache::new(&list);
        let shutdown = CancellationToken::new();
        let feeds = Feeds::new(kube::start(&clients, &shutdown));
        let state = tempfile::tempdir().expect("temp dir");
        let runner = Arc::new(hubdeck::kube::executor::runner(
            clients.clone(),
            readonly,
            AuditLog::new(state.path().join("audit.jsonl")),
        ));
        let opts = ConsoleOptions {
            theme: Theme::builtin("default").expect("theme"),
            keymap: Keymap::builtin("default").expect("keymap"),
            readonly,
            state_dir: state.path().to_path_buf(),
        };
        let app = App::new(opts, Fleet::new(Thresholds::default()))
            .with_actions(Some(runner.clone()), feeds.action_sender());
        let mut console = Console {
            app,
            feeds,
            runner,
            clients,
            state,
            shutdown,
        };
        let clusters = sim.clusters().len();
        let read = console
            .wait_until(Duration::from_secs(30), |app| {
                let f = app.fleet();
                f.clusters().count() == clusters
                    && f.clusters().all(|c| c.status == ClusterStatus::Ready)
                    && f.hubs().count() > 0
                    && f.hubs().all(|h| h.summary.hub.is_some())
            })
            .await;
        assert!(read, "the fleet was not read in time");
        console
    }

    /// Applies updates, action answers and ticks until `done` holds or `timeout` passes.
    pub async fn wait_until(&mut self, timeout: Duration, done: impl Fn(&App) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.app) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            let tick = tokio::time::sleep(Duration::from_millis(50));
            tokio::select! {
                _ = self.feeds.apply_next(&mut self.app) => {}
                () = tick => {}
            }
            self.app.tick(Timestamp::now());
        }
    }

    /// Waits until no action task runs (the outcome has been shown).
    pub async fn wait_for_outcome(&mut self) {
        let answered = self
            .wait_until(Duration::from_secs(20), |app| !app.actions_running())
            .await;
        assert!(answered, "the action did not answer:\n{}", self.screen());
    }

    /// Presses keys written like `R`, `:hub leap/prod<enter>`, `<space>`, `<ctrl-s>`; mutation
    /// intents go to the action flow, as the event loop does.
    pub fn press(&mut self, keys: &str) {
        let mut rest = keys;
        while !rest.is_empty() {
            let (code, mods, len) = match rest.strip_prefix('<').and_then(|r| r.find('>')) {
                Some(end) => {
                    let name = &rest[1..=end];
                    let (mods, base) = match name.strip_prefix("ctrl-") {
                        Some(b) => (KeyModifiers::CONTROL, b),
                        None => (KeyModifiers::NONE, name),
                    };
                    let code = match base {
                        "enter" => KeyCode::Enter,
                        "esc" => KeyCode::Esc,
                        "down" => KeyCode::Down,
                        "up" => KeyCode::Up,
                        "space" => KeyCode::Char(' '),
                        "backspace" => KeyCode::Backspace,
                        c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap()),
                        other => panic!("unknown key {other}"),
                    };
                    (code, mods, end + 2)
                }
                None => {
                    let c = rest.chars().next().unwrap();
                    let mods = if c.is_ascii_uppercase() {
                        KeyModifiers::SHIFT
                    } else {
                        KeyModifiers::NONE
                    };
                    (KeyCode::Char(c), mods, c.len_utf8())
                }
            };
            if let Intent::Mutation { command, target } =
                self.app.handle_key(KeyEvent::new(code, mods))
            {
                self.app.begin_action(command, target);
            }
            rest = &rest[len..];
        }
    }

    /// What a person sees on a 160x50 terminal.
    pub fn screen(&mut self) -> String {
        let buf = render_offscreen(&mut self.app, 160, 50).expect("render");
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// Shows `hub` in the Hubs pane, selected (through the palette, as a person would).
    pub fn select_hub(&mut self, hub: &HubId) {
        self.press(&format!(":hub {hub}<enter><esc>"));
    }

    /// The audit log so far.
    pub fn audit(&self) -> Vec<AuditRecord> {
        self.runner.audit_log().outcomes().expect("audit log")
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The hub of the model with at least `servers` running servers, and its sim cluster.
pub fn hub_with_servers<'a>(
    app: &'a App,
    sim: &'a SimFleet,
    servers: u32,
) -> (&'a HubState, &'a SimCluster) {
    let hub = app
        .fleet()
        .hubs()
        .filter(|h| h.summary.servers_ready >= servers)
        .min_by_key(|h| h.id.to_string())
        .expect("a hub with servers");
    let cluster = sim.cluster(hub.id.cluster.as_str()).expect("its cluster");
    (hub, cluster)
}

/// Requests that change something: not reads, not access reviews.
pub fn mutating(cluster: &SimCluster) -> Vec<(String, String)> {
    cluster
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET" && !r.path.ends_with("/selfsubjectaccessreviews"))
        .map(|r| (r.method, r.path))
        .collect()
}
