//! The real binary in a real terminal: a tmux session to type into and read, and the shell
//! line around the console that reports how it exited and the terminal's modes afterwards.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux session running one command, killed when dropped.
pub struct Tmux {
    session: String,
}

impl Tmux {
    pub fn start(cmd: &str) -> Self {
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

    pub fn keys(&self, keys: &[&str]) {
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
    pub fn child_pid(&self) -> String {
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

    /// Resizes the window (the program in it gets SIGWINCH).
    pub fn resize(&self, width: u16, height: u16) {
        let ok = Command::new("tmux")
            .args([
                "resize-window",
                "-t",
                &self.session,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Whether the pane shows the alternate screen (a full-screen program's), as tmux knows it.
    pub fn alternate_on(&self) -> bool {
        let out = Command::new("tmux")
            .args([
                "display-message",
                "-p",
                "-t",
                &self.session,
                "#{alternate_on}",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
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

/// A shell line for a pane: the console (`hubdeck ARGS` with `env` set and its own config and
/// state under `home`), then its exit status and the terminal's echo/icanon modes as `stty`
/// reports them, then `after` (the pane stays open while it runs).
pub fn console_command(home: &std::path::Path, env: &str, args: &str, after: &str) -> String {
    format!(
        "env HUBDECK_CONFIG_DIR={home}/config HUBDECK_STATE_DIR={home}/state {env} {bin} {args}; \
         echo EXIT=$?; stty -a | tr ' ' '\\n' | grep -x -e echo -e -echo -e icanon -e -icanon \
         | tr '\\n' ' '; echo; {after}",
        home = home.display(),
        bin = env!("CARGO_BIN_EXE_hubdeck"),
    )
}

impl Tmux {
    /// Waits for the line of [`console_command`] to report; returns the screen, the console's
    /// exit status and the terminal's modes (`echo`, `-icanon`, ...).
    pub fn console_exit(&self) -> (String, Option<i32>, Vec<String>) {
        let s = self.wait_for("the console to exit and stty to report", |s| {
            s.contains("EXIT=") && s.contains("icanon")
        });
        let code = s.split("EXIT=").nth(1).and_then(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        });
        let modes = s
            .lines()
            .find(|l| l.contains("icanon"))
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        (s, code, modes)
    }
}

/// Whether `stty` found the terminal cooked again: echo and canonical input on.
pub fn cooked(modes: &[String]) -> bool {
    modes.iter().any(|m| m == "echo") && modes.iter().any(|m| m == "icanon")
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}
