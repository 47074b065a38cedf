//! Where hubdeck keeps its files, found through `directories` (XDG on Linux), overridable by
//! environment for tests and unusual hosts.

use std::path::PathBuf;

use directories::ProjectDirs;

/// hubdeck's directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// settings.toml, fleet.toml, keymap.toml, themes/.
    pub config: PathBuf,
    /// The audit log and recovery files of failed config edits.
    pub state: PathBuf,
}

impl Paths {
    /// The platform's directories, or `HUBDECK_CONFIG_DIR` / `HUBDECK_STATE_DIR` when set.
    pub fn discover() -> Self {
        let dirs = ProjectDirs::from("", "", "hubdeck");
        let fallback = || std::env::temp_dir().join("hubdeck");
        let config = std::env::var_os("HUBDECK_CONFIG_DIR")
            .map(PathBuf::from)
            .or_else(|| dirs.as_ref().map(|d| d.config_dir().to_path_buf()))
            .unwrap_or_else(fallback);
        let state = std::env::var_os("HUBDECK_STATE_DIR")
            .map(PathBuf::from)
            .or_else(|| {
                dirs.as_ref().map(|d| {
                    d.state_dir()
                        .unwrap_or_else(|| d.data_local_dir())
                        .to_path_buf()
                })
            })
            .unwrap_or_else(fallback);
        Self { config, state }
    }

    /// The settings file.
    pub fn settings(&self) -> PathBuf {
        self.config.join("settings.toml")
    }

    /// The fleet file.
    pub fn fleet(&self) -> PathBuf {
        self.config.join("fleet.toml")
    }

    /// The audit log (JSON lines).
    pub fn audit_log(&self) -> PathBuf {
        self.state.join("audit.jsonl")
    }
}
