//! The real binary in a real terminal (tmux): start on the demo fleet, drill down to a hub's
//! servers, open a log, quit — and the terminal is back to normal afterwards.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(cmd: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let session = format!(
            "hubdeck-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "120",
                "-y",
                "36",
                cmd,
            ])
            .status()
            .expect("tmux is installed (.ci/install-test-deps installs it)");
        assert!(ok.success(), "tmux new-session failed");
        Self { session }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            assert!(ok.success());
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// The pid of the program the pane's shell runs (its one child).
    fn child_pid(&self) -> String {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.session, "#{pane_pid}"])
            .output()
            .unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(Instant::now() < deadline, "waited for {what}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

#[test]
fn console_drills_down_opens_logs_and_restores_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_hubdeck");
    let cmd = format!(
        "env HUBDECK_CONFIG_DIR={0}/config HUBDECK_STATE_DIR={0}/state {bin} --demo; \
         echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '; \
         echo; sleep 60",
        home.path().display()
    );
    let t = Tmux::start(&cmd);
    // The table's title counts hubs as they are listed (18 running and the demo repository's
    // missing one); rows fill in as clusters answer.
    t.wait_for("the fleet-wide hubs table with leap's hubs", |s| {
        s.contains("Hubs (19)") && s.contains("leap")
    });

    // Filter to one cluster's hubs and open the first: its user servers.
    t.keys(&["/", "leap", "Enter", "Enter"]);
    let s = t.wait_for("the servers of a leap hub", |s| {
        s.contains("Servers") && s.contains("Running")
    });
    assert!(s.contains("leap"), "{s}");

    // Logs of the selected server stream in.
    t.keys(&["l"]);
    t.wait_for("log lines", |s| {
        s.contains("› logs") && s.contains("ServerApp")
    });

    t.keys(&["q"]);
    let s = t.wait_for("hubdeck to exit and stty to report", |s| {
        s.contains("EXIT=") && s.contains("icanon")
    });
    assert!(s.contains("EXIT=0"), "{s}");
    let modes: Vec<&str> = s
        .lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert!(
        modes.contains(&"echo") && modes.contains(&"icanon"),
        "terminal left in raw mode: {modes:?}\n{s}"
    );
}

/// The modes `stty -a` printed after the console exited.
fn tty_modes(s: &str) -> Vec<String> {
    s.lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect()
}

#[test]
fn a_terminating_signal_restores_the_terminal_and_exits_128_plus_the_signal() {
    for (signal, code) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let home = tempfile::tempdir().unwrap();
        let bin = env!("CARGO_BIN_EXE_hubdeck");
        let cmd = format!(
            "env HUBDECK_CONFIG_DIR={0}/config HUBDECK_STATE_DIR={0}/state {bin} --demo; \
             echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon | tr '\\n' ' '; \
             echo; sleep 60",
            home.path().display()
        );
        let t = Tmux::start(&cmd);
        t.wait_for("the console", |s| s.contains("Hubs ("));
        let pid = t.child_pid();
        assert!(!pid.is_empty(), "found the console's pid");
        let ok = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .unwrap();
        assert!(ok.success());
        let s = t.wait_for("hubdeck to exit and stty to report", |s| {
            s.contains("EXIT=") && s.contains("icanon")
        });
        assert!(s.contains(&format!("EXIT={code}")), "SIG{signal}: {s}");
        let modes = tty_modes(&s);
        assert!(
            modes.iter().any(|m| m == "echo") && modes.iter().any(|m| m == "icanon"),
            "SIG{signal} left the terminal raw: {modes:?}\n{s}"
        );
    }
}
