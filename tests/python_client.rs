//! The sim against a client nobody here wrote: the official Kubernetes Python client (Debian's
//! `python3-kubernetes`, installed by `.ci/install-test-deps`). It lists, watches from the list's
//! resourceVersion (sending `watch=True`), gets 410 from a forgotten version, and reads and
//! patches a Deployment's scale, all through its own models, which check required fields.
//! `tests/fixtures/kube_python_client.py` says the line protocol.
//!
//! Never skips: without the package the test fails and says how to install it. Everything the
//! client or the interpreter might write goes to a temp dir (HOME, no bytecode).

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::fleet::TestFleet;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The whole conversation; a hang anywhere fails the test instead of stalling CI.
const DEADLINE: Duration = Duration::from_secs(90);

/// The interpreter with `kubernetes` importable: `$HUBDECK_KUBE_PYTHON`, else Debian's
/// `/usr/bin/python3` (where the Debian package installs), else `python3` on PATH.
fn python() -> PathBuf {
    let candidates: Vec<PathBuf> = std::env::var_os("HUBDECK_KUBE_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/python3"), PathBuf::from("python3")])
        .collect();
    for p in &candidates {
        let ok = std::process::Command::new(p)
            .args(["-c", "import kubernetes"])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return p.clone();
        }
    }
    panic!(
        "no python3 of {candidates:?} can import kubernetes; run .ci/install-test-deps \
         (apt-get install python3-kubernetes) or set HUBDECK_KUBE_PYTHON"
    );
}

struct Script {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    said: Vec<String>,
}

impl Script {
    fn start(home: &Path, kubeconfig: &Path, context: &str, ns: &str, deployment: &str) -> Self {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kube_python_client.py");
        let mut child = Command::new(python())
            .arg(script)
            .args([
                kubeconfig.as_os_str(),
                context.as_ref(),
                ns.as_ref(),
                deployment.as_ref(),
            ])
            .env("HOME", home)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Script {
            child,
            stdin,
            stdout,
            said: Vec::new(),
        }
    }

    /// The next line, split into words, which must start with `word`.
    async fn expect(&mut self, word: &str) -> Vec<String> {
        let line = match self.stdout.next_line().await {
            Ok(Some(l)) => l,
            _ => self.died(&format!("before saying {word}")).await,
        };
        self.said.push(line.clone());
        let words: Vec<String> = line.split_whitespace().map(String::from).collect();
        assert_eq!(
            words.first().map(String::as_str),
            Some(word),
            "{:?}",
            self.said
        );
        words
    }

    async fn tell(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write to the script");
        self.stdin.flush().await.expect("flush to the script");
    }

    async fn died(&mut self, when: &str) -> ! {
        let status = self.child.wait().await.ok();
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut e, &mut err).await;
        }
        panic!(
            "the Python client ended {when} ({status:?}); it said {:?}; stderr: {err}",
            self.said
        );
    }
}

#[tokio::test]
async fn the_official_python_client_lists_watches_expires_and_scales() {
    let fleet = TestFleet::small().await;
    let c = fleet.cluster(0).clone();
    let ns = c.hub_namespaces()[0].clone();
    let deployment = c
        .deployments()
        .into_iter()
        .filter(|d| d.metadata.namespace.as_deref() == Some(ns.as_str()))
        .filter_map(|d| d.metadata.name)
        .find(|n| n.ends_with("hub"))
        .expect("the hub Deployment");
    let pods_now = c
        .pods()
        .iter()
        .filter(|p| p.metadata.namespace.as_deref() == Some(ns.as_str()))
        .count();
    let started = Instant::now();
    let mut py = Script::start(
        fleet.home.path(),
        fleet.sim.kubeconfig_path(),
        c.name(),
        &ns,
        &deployment,
    );
    tokio::time::timeout(DEADLINE, async {
        // (a) The list and its resourceVersion.
        let list = py.expect("LIST").await;
        let rv: u64 = list[1].parse().expect("a numeric resourceVersion");
        assert!(rv <= c.resource_version());
        assert_eq!(list[2], pods_now.to_string());

        // (b) A pod made and removed through the sim after the list; the watch replays both.
        let pod = c.start_server(&ns, "pyclient", "");
        assert!(c.stop_server(&ns, "pyclient", ""));
        py.tell(&pod).await;
        let w = py.expect("WATCH").await;
        assert_eq!(w[1], pod);
        let events: Vec<&str> = w[2].split(',').collect();
        assert_eq!(events.first(), Some(&"ADDED"), "{events:?}");
        assert_eq!(events.last(), Some(&"DELETED"), "{events:?}");

        // (c) The sim forgets its history, as a restarted API server does.
        c.restart_expiring();
        py.tell("expired").await;
        let e = py.expect("EXPIRED").await;
        assert_eq!((e[1].as_str(), e[2].as_str()), ("410", "Expired"));

        // (d) The scale subresource moved the Deployment.
        let s = py.expect("SCALE").await;
        let before: i32 = s[1].parse().unwrap();
        assert_eq!(s[2], (before + 1).to_string());
        assert_eq!(s[3], s[2]);
        let replicas = c
            .deployments()
            .into_iter()
            .find(|d| {
                d.metadata.namespace.as_deref() == Some(ns.as_str())
                    && d.metadata.name.as_deref() == Some(deployment.as_str())
            })
            .and_then(|d| d.spec.replicas);
        assert_eq!(replicas, Some(before + 1));
        py.expect("OK").await;
        let status = py.child.wait().await.expect("the script ends");
        assert!(status.success(), "{status:?}, said {:?}", py.said);
    })
    .await
    .unwrap_or_else(|_| panic!("the Python client hung past {DEADLINE:?}"));
    eprintln!("python client conversation: {:?}", started.elapsed());
    // What the client saw on the wire: watch=True, and the 410 from a forgotten version.
    let watches: Vec<_> = c
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("watch=True"))
        .collect();
    assert_eq!(watches.len(), 2, "{watches:?}");
    fleet.sim.shutdown().await;
}
