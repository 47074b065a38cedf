//! The append-only, write-ahead audit log: for every attempt an *intent* line before the first
//! request leaves, then an *outcome* line per target as each finishes, each written under an
//! exclusive lock and fsynced, so concurrent hubdeck processes never interleave lines and a
//! crash between the two leaves an intent without an outcome that `hubdeck audit` shows as
//! "unknown outcome".

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// Which half of an attempt a record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Written before anything is sent: what is about to be tried.
    Intent,
    /// What happened (to one target of a multi-target action).
    #[default]
    Outcome,
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When.
    pub time: Timestamp,
    /// The attempt this record belongs to: an intent and its outcomes share it.
    #[serde(default)]
    pub id: String,
    /// Intent or outcome (records of older logs are outcomes).
    #[serde(default)]
    pub phase: Phase,
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
    /// ok, dry-run, refused, conflict, failed; `pending` on an intent.
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
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        let mut file = crate::private_files::append(&self.path)?;
        file.lock_exclusive()?;
        let written = file.write_all(&line).and_then(|()| file.sync_data());
        let unlocked = FileExt::unlock(&file);
        written.and(unlocked)
    }

    /// The outcome records, oldest first (what happened, without the intents).
    pub fn outcomes(&self) -> std::io::Result<Vec<AuditRecord>> {
        Ok(self
            .read()?
            .into_iter()
            .filter(|r| r.phase == Phase::Outcome)
            .collect())
    }

    /// Every attempt, oldest first: its intent (if the log has one) and its outcomes, which
    /// are empty when hubdeck stopped between sending and recording.
    pub fn attempts(&self) -> std::io::Result<Vec<Attempt>> {
        let mut out: Vec<Attempt> = Vec::new();
        let mut open: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for r in self.read()? {
            match r.phase {
                Phase::Intent => {
                    open.insert(r.id.clone(), out.len());
                    out.push(Attempt {
                        intent: Some(r),
                        outcomes: Vec::new(),
                    });
                }
                Phase::Outcome => match open.get(&r.id).filter(|_| !r.id.is_empty()) {
                    Some(&i) => out[i].outcomes.push(r),
                    None => out.push(Attempt {
                        intent: None,
                        outcomes: vec![r],
                    }),
                },
            }
        }
        Ok(out)
    }

    /// Every record, oldest first; a damaged line is an error naming its number. A torn last
    /// line (a crash mid-write) is skipped: what it would have said is unknown, not corrupt.
    pub fn read(&self) -> std::io::Result<Vec<AuditRecord>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        let lines: Vec<String> = std::io::BufReader::new(file)
            .lines()
            .collect::<Result<_, _>>()?;
        let last = lines.len().saturating_sub(1);
        for (n, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str(line) {
                Ok(record) => out.push(record),
                Err(e) if n == last && e.is_eof() => {}
                Err(e) => {
                    return Err(std::io::Error::other(format!(
                        "{}:{}: {e}",
                        self.path.display(),
                        n + 1
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// One attempt: its intent and what became of each target.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// The intent line (absent in logs written before intents existed).
    pub intent: Option<AuditRecord>,
    /// Outcome lines; none when the outcome is unknown.
    pub outcomes: Vec<AuditRecord>,
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
            id: format!("a{i}"),
            phase: Phase::Outcome,
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

    #[test]
    fn an_intent_without_outcome_is_an_attempt_of_unknown_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"));
        let mut intent = record(1);
        intent.phase = Phase::Intent;
        intent.outcome = "pending".into();
        log.append(&intent).unwrap();
        log.append(&record(1)).unwrap();
        let mut crashed = record(2);
        crashed.phase = Phase::Intent;
        log.append(&crashed).unwrap();
        let attempts = log.attempts().unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].outcomes.len(), 1);
        assert!(attempts[1].outcomes.is_empty());
        assert_eq!(log.outcomes().unwrap().len(), 1);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_a_torn_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::new(&path);
        log.append(&record(1)).unwrap();
        let whole = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, format!("{whole}{}", &whole[..whole.len() / 2])).unwrap();
        assert_eq!(log.read().unwrap().len(), 1);
        std::fs::write(&path, format!("{}\n{whole}", &whole[..whole.len() / 2])).unwrap();
        assert!(
            log.read()
                .unwrap_err()
                .to_string()
                .contains("audit.jsonl:1")
        );
    }
}
