//! `settings.toml`: the user's preferences, over embedded documented defaults.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::fleet_file::FleetFileError;
use crate::fleet::Thresholds;

/// The embedded, commented default settings file.
pub const DEFAULT_SETTINGS: &str = include_str!("default-settings.toml");

/// All settings (see `default-settings.toml` for what each means).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Theme name or file.
    pub theme: String,
    /// Keymap preset.
    pub keymap: String,
    /// Refuse every mutation.
    pub readonly: bool,
    /// Seconds before a pending user server counts as stuck.
    pub pending_after_secs: u64,
    /// Restarts before a not-ready pod counts as crash-looping.
    pub crashloop_restarts: u32,
    /// Seconds headless commands wait for first lists.
    pub connect_timeout_secs: u64,
    /// Seconds between Alertmanager polls.
    pub poll_secs: u64,
    /// Seconds between hub API (server activity) polls.
    pub activity_poll_secs: u64,
    /// Seconds between metrics.k8s.io polls (0: not polled).
    pub metrics_interval_secs: u64,
    /// Seconds a watch may go without an event or a bookmark before it counts as stalled.
    pub watch_idle_secs: u64,
    /// Seconds between two checks of a hub's health endpoint from outside (0: not checked).
    pub outside_check_secs: u64,
    /// How many hubs are checked from outside at the same time.
    pub outside_checks_at_once: u64,
    /// Seconds one check from outside may take.
    pub outside_timeout_secs: u64,
    /// Whether the console records the fleet to the state directory.
    pub record: bool,
    /// Most megabytes all recordings together may take.
    pub record_max_mb: u64,
    /// Days a recording is kept.
    pub record_max_days: u64,
    /// Minutes between two snapshots of the whole fleet in a recording.
    pub record_snapshot_mins: u64,
}

/// The same fields, all optional, as a user file gives them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Partial {
    theme: Option<String>,
    keymap: Option<String>,
    readonly: Option<bool>,
    pending_after_secs: Option<u64>,
    crashloop_restarts: Option<u32>,
    connect_timeout_secs: Option<u64>,
    poll_secs: Option<u64>,
    activity_poll_secs: Option<u64>,
    metrics_interval_secs: Option<u64>,
    watch_idle_secs: Option<u64>,
    outside_check_secs: Option<u64>,
    outside_checks_at_once: Option<u64>,
    outside_timeout_secs: Option<u64>,
    record: Option<bool>,
    record_max_mb: Option<u64>,
    record_max_days: Option<u64>,
    record_snapshot_mins: Option<u64>,
}

impl Settings {
    /// The embedded defaults.
    pub fn defaults() -> Self {
        toml::from_str(DEFAULT_SETTINGS)
            .unwrap_or_else(|e| unreachable!("embedded settings are checked by a test: {e}"))
    }

    /// Defaults with the user's file merged over them, if it exists.
    pub fn load(path: &Path) -> Result<Self, FleetFileError> {
        let mut s = Self::defaults();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(s),
            Err(source) => {
                return Err(FleetFileError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let p: Partial = toml::from_str(&text).map_err(|e| {
            let (line, message) = super::toml_error(&text, &e);
            FleetFileError::Invalid {
                path: path.to_path_buf(),
                line,
                message,
            }
        })?;
        macro_rules! merge {
            ($($f:ident),*) => { $( if let Some(v) = p.$f { s.$f = v; } )* };
        }
        merge!(
            theme,
            keymap,
            readonly,
            pending_after_secs,
            crashloop_restarts,
            connect_timeout_secs,
            poll_secs,
            activity_poll_secs,
            metrics_interval_secs,
            watch_idle_secs,
            outside_check_secs,
            outside_checks_at_once,
            outside_timeout_secs,
            record,
            record_max_mb,
            record_max_days,
            record_snapshot_mins
        );
        s.check(&text)
            .map_err(|(line, message)| FleetFileError::Invalid {
                path: path.to_path_buf(),
                line,
                message,
            })?;
        Ok(s)
    }

    /// Every number within the range it makes sense in, so no duration overflows a clock and
    /// none is zero by mistake; an error names the key's line in `text`.
    fn check(&self, text: &str) -> Result<(), (usize, String)> {
        const DAY: u64 = 86_400;
        let limits: [(&str, u64, u64, u64); 13] = [
            ("record_max_mb", self.record_max_mb, 1, 1 << 20),
            ("record_max_days", self.record_max_days, 1, 3650),
            (
                "record_snapshot_mins",
                self.record_snapshot_mins,
                1,
                24 * 60,
            ),
            ("connect_timeout_secs", self.connect_timeout_secs, 1, 3600),
            ("poll_secs", self.poll_secs, 1, DAY),
            ("activity_poll_secs", self.activity_poll_secs, 1, DAY),
            // 0 turns the metrics polls off.
            ("metrics_interval_secs", self.metrics_interval_secs, 0, DAY),
            ("watch_idle_secs", self.watch_idle_secs, 1, DAY),
            // 0 turns the checks from outside off.
            ("outside_check_secs", self.outside_check_secs, 0, DAY),
            (
                "outside_checks_at_once",
                self.outside_checks_at_once,
                1,
                256,
            ),
            ("outside_timeout_secs", self.outside_timeout_secs, 1, 300),
            ("pending_after_secs", self.pending_after_secs, 1, 7 * DAY),
            (
                "crashloop_restarts",
                u64::from(self.crashloop_restarts),
                1,
                10_000,
            ),
        ];
        for (key, value, lo, hi) in limits {
            if !(lo..=hi).contains(&value) {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(key))
                    .map_or(1, |i| i + 1);
                return Err((line, format!("{key} = {value}: must be from {lo} to {hi}")));
            }
        }
        Ok(())
    }

    /// Every watch's idle deadline.
    pub fn watch_idle(&self) -> Duration {
        Duration::from_secs(self.watch_idle_secs)
    }

    /// The recordings directory's limits.
    pub fn record_budget(&self) -> crate::recorder::Budget {
        crate::recorder::Budget {
            max_bytes: self.record_max_mb.saturating_mul(1 << 20),
            max_age: Duration::from_secs(self.record_max_days * 86_400),
            roll_every: Duration::from_secs(3600),
        }
    }

    /// Thresholds for derived health.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            pending_after: Duration::from_secs(self.pending_after_secs),
            crashloop_restarts: self.crashloop_restarts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_settings_parse() {
        let s = Settings::defaults();
        assert_eq!(s.theme, "default");
        assert_eq!(s.pending_after_secs, 300);
    }

    #[test]
    fn user_file_overrides_single_keys_and_rejects_unknown_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "readonly = true\n").unwrap();
        let s = Settings::load(&path).unwrap();
        assert!(s.readonly);
        assert_eq!(s.keymap, "default");
        std::fs::write(&path, "theme = \"mono\"\nthme = 1\n").unwrap();
        let err = Settings::load(&path).unwrap_err().to_string();
        // The list of keys is long enough to be clipped; its start names the file, line and key.
        assert!(
            err.contains(
                "settings.toml:2: unknown field `thme`, expected one of `theme`, `keymap`"
            ),
            "{err}"
        );
    }

    #[test]
    fn watch_idle_deadline_defaults_to_twice_the_apiservers_bookmark_minute_and_is_checked() {
        assert_eq!(Settings::defaults().watch_idle(), Duration::from_secs(120));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.toml");
        std::fs::write(&path, "watch_idle_secs = 4\n").unwrap();
        assert_eq!(
            Settings::load(&path).unwrap().watch_idle(),
            Duration::from_secs(4)
        );
        std::fs::write(&path, "theme = \"mono\"\nwatch_idle_secs = 0\n").unwrap();
        let err = Settings::load(&path).unwrap_err().to_string();
        assert!(
            err.ends_with("settings.toml:2: watch_idle_secs = 0: must be from 1 to 86400"),
            "{err}"
        );
    }
}
