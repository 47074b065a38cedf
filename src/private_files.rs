//! Files hubdeck leaves in the state directory (audit log, recovery copies of edits, diffs,
//! logs): readable by their owner only, in directories only the owner can list, and never
//! replacing one another.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Creates `dir` (and its parents) as 0700 if missing, and makes it 0700 if it is ours.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    let meta = std::fs::metadata(dir)?;
    if meta.permissions().mode() & 0o077 != 0 {
        // Tightened only when it is ours; a shared directory named by the user stays as is.
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// Opens `path` for appending, creating it as 0600 in a 0700 directory.
pub fn append(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
}

/// Creates (or empties) `path` as 0600 in a 0700 directory of the state directory.
pub fn create(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    create_at(path)
}

/// Creates (or empties) `path` as 0600 where a person named it, leaving its directory as is.
pub fn create_at(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// Writes `contents` to a new 0600 file in `dir` named `{stem}.{ext}`, or `{stem}-2.{ext}`,
/// `{stem}-3.{ext}`, … when taken: created exclusively, so two edits saved in the same second
/// keep two files and nothing is ever overwritten.
pub fn write_new(dir: &Path, stem: &str, ext: &str, contents: &[u8]) -> io::Result<PathBuf> {
    use std::io::Write;
    private_dir(dir)?;
    for n in 1..10_000u32 {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        let path = dir.join(name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(mut f) => {
                f.write_all(contents)?;
                f.sync_all()?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{}: no free name for {stem}.{ext}", dir.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_never_replace_each_other_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("state/recovery");
        let a = write_new(&sub, "leap_prod-20261201T000000Z", "yaml", b"a").unwrap();
        let b = write_new(&sub, "leap_prod-20261201T000000Z", "yaml", b"b").unwrap();
        assert_ne!(a, b);
        assert_eq!(std::fs::read(&a).unwrap(), b"a");
        assert_eq!(std::fs::read(&b).unwrap(), b"b");
        assert_eq!(mode(&a), 0o600);
        assert_eq!(mode(&sub), 0o700);
    }

    #[test]
    fn appended_files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s/audit.jsonl");
        drop(append(&p).unwrap());
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(p.parent().unwrap()), 0o700);
    }
}
