//! The recordings directory's budget: a size and an age limit, kept by deleting the oldest
//! files first whenever a new file starts. The file being written is never deleted.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use jiff::Timestamp;

/// Extension of recording files.
pub const EXT: &str = "hdrec";

/// Limits of the recordings directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most bytes all recordings together may take.
    pub max_bytes: u64,
    /// Recordings older than this are deleted.
    pub max_age: Duration,
    /// A new file is started this often (each starts with a snapshot), so that rotation
    /// frees space in steps, not all at once.
    pub roll_every: Duration,
}

impl Budget {
    /// A file is also rolled at a tenth of the budget, so that one long session cannot hold
    /// the whole budget in a file rotation may not delete.
    pub fn roll_bytes(&self) -> u64 {
        (self.max_bytes / 10).max(1 << 20)
    }
}

/// A new file's path in `dir`, named by its start time (UTC) so names sort by time.
pub fn new_file_name(dir: &Path, time: Timestamp) -> PathBuf {
    let stamp = time.strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut path = dir.join(format!("{stamp}.{EXT}"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stamp}-{n}.{EXT}"));
        n += 1;
    }
    path
}

/// Recording files of `dir`, oldest first.
pub fn recordings(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == EXT))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    out.sort();
    Ok(out)
}

/// Deletes the oldest recordings (never `keep`) until the rest are younger than the age limit
/// and fit the size limit; returns what it deleted.
pub fn enforce(
    dir: &Path,
    budget: &Budget,
    keep: &Path,
    now: Timestamp,
) -> io::Result<Vec<PathBuf>> {
    let now = SystemTime::from(now);
    let mut files: Vec<(PathBuf, u64, SystemTime)> = Vec::new();
    for p in recordings(dir)? {
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        files.push((p, meta.len(), meta.modified().unwrap_or(now)));
    }
    let mut total: u64 = files.iter().map(|f| f.1).sum();
    let mut deleted = Vec::new();
    for (path, len, modified) in files {
        if path == keep {
            continue;
        }
        let too_old = now.duration_since(modified).unwrap_or_default() > budget.max_age;
        if !(too_old || total > budget.max_bytes) {
            continue;
        }
        match std::fs::remove_file(&path) {
            Ok(()) => {
                total -= len;
                deleted.push(path);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1 << 20;

    fn budget(max_bytes: u64) -> Budget {
        Budget {
            max_bytes,
            max_age: Duration::from_secs(14 * 86_400),
            roll_every: Duration::from_secs(3600),
        }
    }

    fn file(dir: &Path, name: &str, len: u64) -> PathBuf {
        let p = dir.join(format!("{name}.{EXT}"));
        std::fs::write(&p, vec![0u8; len as usize]).unwrap();
        p
    }

    #[test]
    fn the_oldest_recordings_go_first_until_the_rest_fit_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let names = [
            "20261201T000000Z",
            "20261201T010000Z",
            "20261201T020000Z",
            "20261201T030000Z",
        ];
        let paths: Vec<PathBuf> = names.iter().map(|n| file(dir.path(), n, 2 * MB)).collect();
        std::fs::write(dir.path().join("notes.txt"), "not a recording").unwrap();
        let deleted = enforce(dir.path(), &budget(5 * MB), &paths[3], Timestamp::now()).unwrap();
        assert_eq!(deleted, paths[..2].to_vec());
        let left = recordings(dir.path()).unwrap();
        assert_eq!(left, paths[2..].to_vec());
        let total: u64 = left
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .sum();
        assert!(total <= 5 * MB);
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn the_file_being_written_is_kept_even_over_budget_and_old_files_expire() {
        let dir = tempfile::tempdir().unwrap();
        let old = file(dir.path(), "20261101T000000Z", MB);
        let current = file(dir.path(), "20261201T000000Z", 8 * MB);
        let later = Timestamp::now() + jiff::SignedDuration::from_hours(15 * 24);
        let deleted = enforce(dir.path(), &budget(4 * MB), &current, later).unwrap();
        assert_eq!(deleted, vec![old]);
        assert!(current.exists());
    }

    #[test]
    fn new_files_are_named_by_time_and_never_clash() {
        let dir = tempfile::tempdir().unwrap();
        let t = Timestamp::from_second(1_796_094_600).unwrap();
        let a = new_file_name(dir.path(), t);
        std::fs::write(&a, b"x").unwrap();
        let b = new_file_name(dir.path(), t);
        assert_ne!(a, b);
        assert!(a.to_string_lossy().ends_with(".hdrec"), "{a:?}");
    }
}
