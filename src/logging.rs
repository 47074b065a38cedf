//! Diagnostics for hubdeck's own developers and for bug reports: a `tracing` subscriber that
//! writes to a file, never to the terminal (the console owns it, and headless output is for
//! scripts). Off unless `RUST_LOG` or `--log-file` asks for it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

/// What is logged when only `--log-file` is given: hubdeck's own events, not the HTTP and
/// TLS libraries' (whose debug output would show request headers).
const DEFAULT_FILTER: &str = "hubdeck=info";

/// Where the log goes when `RUST_LOG` is set and no `--log-file` is given.
pub fn default_path(state_dir: &Path) -> PathBuf {
    state_dir.join("hubdeck.log")
}

/// Starts logging to `file` (or the state directory's `hubdeck.log` when only `RUST_LOG` is
/// set); does nothing when neither asks. Returns the file logged to.
pub fn init(file: Option<&Path>, state_dir: &Path) -> io::Result<Option<PathBuf>> {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let path = match (file, &filter) {
        (Some(f), _) => f.to_path_buf(),
        (None, Some(_)) => default_path(state_dir),
        (None, None) => return Ok(None),
    };
    let filter = EnvFilter::try_new(filter.as_deref().unwrap_or(DEFAULT_FILTER))
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("RUST_LOG: {e}")))?;
    // 0600: a log of a fleet names its clusters, users and hubs.
    let out = crate::private_files::append(&path)
        .map_err(|e| io::Error::new(e.kind(), format!("log file {}: {e}", path.display())))?;
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(out))
        .try_init();
    if installed.is_err() {
        // A subscriber is already set (tests start several sessions in one process).
        return Ok(None);
    }
    Ok(Some(path))
}
