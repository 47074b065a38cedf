//! The append-only audit log: one JSON line per attempt, written under an exclusive lock and
//! fsynced, so concurrent hubdeck processes never interleave lines and a crash loses nothing
//! that was reported done.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When.
    pub time: Timestamp,
    /// OS user running hubdeck.
    pub os_user: String,
    /// Kubernetes identity (kubeconfig user of the context).
    pub identity: String,
    /// Cluster.
    pub cluster: String,
    /// kubeconfig context.
    pub context: String,
    /// Action name (`restart-hub`).
    pub action: String,
    /// Target (`leap/prod`).
    pub target: String,
    /// The plan's summary and steps.
    pub plan: Vec<String>,
    /// ok, dry-run, refused, conflict, failed.
    pub outcome: String,
    /// Details of the outcome (error message, silence id).
    pub detail: String,
}

/// The audit log file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    /// A log at `path` (created on first append, with its directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record: lock, write one line, fsync, unlock.
    pub fn append(&self, record: &AuditRecord) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        file.lock_exclusive()?;
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        let unlocked = FileExt::unlock(&file);
        written.and(unlocked)
    }

    /// Every record, oldest first; a damaged line is an error naming its number.
    pub fn read(&self) -> std::io::Result<Vec<AuditRecord>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let record = serde_json::from_str(&line).map_err(|e| {
                std::io::Error::other(format!("{}:{}: {e}", self.path.display(), n + 1))
            })?;
            out.push(record);
        }
        Ok(out)
    }
}

/// The OS user name, for audit records: `$USER`/`$LOGNAME`, else the passwd entry of the
/// process's uid (cron jobs and some SSH setups leave the variables unset).
pub fn os_user() -> String {
    if let Ok(u) = std::env::var("USER").or_else(|_| std::env::var("LOGNAME"))
        && !u.is_empty()
    {
        return u;
    }
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return "unknown".into();
    };
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|l| {
                let mut f = l.split(':');
                let name = f.next()?;
                (f.nth(1)? == uid.to_string()).then(|| name.to_string())
            })
        })
        .unwrap_or_else(|| format!("uid {uid}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> AuditRecord {
        AuditRecord {
            time: Timestamp::UNIX_EPOCH,
            os_user: "oncall".into(),
            identity: "admin".into(),
            cluster: "leap".into(),
            context: "leap".into(),
            action: "restart-hub".into(),
            target: format!("leap/hub{i}"),
            plan: vec!["patch apps/deployments prod/hub".into()],
            outcome: "ok".into(),
            detail: "x".repeat(5000),
        }
    }

    #[test]
    fn concurrent_writers_never_interleave_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("state/audit.jsonl"));
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        log.append(&record(t * 100 + i)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let records = log.read().unwrap();
        assert_eq!(records.len(), 200);
        assert!(records.iter().all(|r| r.detail.len() == 5000));
    }
}
