//! Writing files that hold secrets: atomically (temp file in the same directory, fsync,
//! rename), mode 0600 whatever the umask, never through a symlink.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Refuse a destination that is a symlink or not a regular file: following a planted
/// link would write a secret wherever it points.
pub(crate) fn check_destination(path: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => bail!(
            "refusing to write {}: it is a symbolic link; remove it or choose another path",
            path.display()
        ),
        Ok(meta) if !meta.is_file() => bail!(
            "refusing to write {}: it exists and is not a regular file",
            path.display()
        ),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    }
}

/// Replace `path` with `contents` in one step: readers see the old file or the new
/// one, never a part. The file ends with mode 0600.
fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    replace_atomic(path, 0o600, |file| file.write_all(contents))
}

/// Replace `path` with a copy of `source` with mode 0755 (`install`: our own executable
/// into an emptyDir), atomically like `write_atomic`: a reader (relay's container
/// starting) sees no file or the whole program, never a part.
pub(crate) fn install_executable(
    path: &Path,
    source: &mut impl std::io::Read,
) -> anyhow::Result<()> {
    replace_atomic(path, 0o755, |file| std::io::copy(source, file).map(|_| ()))
}

/// The temp-file-then-rename step behind both: `fill` writes the temp file (mode 0600
/// while it is being filled), it ends with `mode`, is synced, then renamed over `path`.
fn replace_atomic(
    path: &Path,
    mode: u32,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    check_destination(path)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let (tmp_path, mut file) =
        create_private(&dir, &format!(".{}.tmp", name.to_string_lossy()), "")?;
    let written = (|| -> std::io::Result<()> {
        fill(&mut file)?;
        if mode != 0o600 {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.sync_all()?;
        fs::rename(&tmp_path, path)?;
        // Make the rename itself durable before reporting success.
        File::open(&dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp_path);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// Create a new file `dir/{prefix}{random}{suffix}` with mode 0600 that did not exist
/// before (O_CREAT|O_EXCL never follows a symlink, so a planted link fails the open).
pub(crate) fn create_private(
    dir: &Path,
    prefix: &str,
    suffix: &str,
) -> anyhow::Result<(PathBuf, File)> {
    for _ in 0..16 {
        let tag = crate::keys::hex(&crate::keys::random_bytes::<6>());
        let path = dir.join(format!("{prefix}{tag}{suffix}"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => {
                // The umask can only remove bits from 0600; set it explicitly anyway.
                file.set_permissions(fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("cannot set mode 0600 on {}", path.display()))?;
                return Ok((path, file));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create a file in {}", dir.display()))
            }
        }
    }
    bail!("cannot create a unique temporary file in {}", dir.display())
}

/// Read a small input file (API key, CA bundle, config template) whole, refusing what
/// is not a regular file (a FIFO would block, /dev/zero never ends) or is larger than
/// `max` bytes. `what` names the file in errors, e.g. "the CA bundle (SSL_CERT_FILE)".
pub(crate) fn read_input(path: &Path, max: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let meta =
        fs::metadata(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    if !meta.is_file() {
        bail!("{what} {} is not a regular file", path.display());
    }
    let mut data = Vec::new();
    File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut data))
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if data.len() as u64 > max {
        bail!(
            "{what} {} is larger than {} KiB",
            path.display(),
            max / 1024
        );
    }
    Ok(data)
}

/// Remove a stale file (or a planted symlink itself, never its target).
pub(crate) fn remove_if_present(path: &Path) -> anyhow::Result<bool> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => bail!(
            "{} is a directory; remove it so a stale credentials file cannot linger",
            path.display()
        ),
        Ok(_) => fs::remove_file(path)
            .map(|_| true)
            .with_context(|| format!("cannot remove stale {}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    }
}

/// One change of a set written by [`write_set`]: new contents, or removal.
pub struct Change<'a> {
    pub name: &'a std::ffi::OsStr,
    pub contents: Option<&'a [u8]>,
}

/// How long a run waits for another run writing the same directory.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Apply `changes` to files in `dir`, in the given order (the caller's order is the
/// one that keeps every intermediate state usable), each one atomic.
///
/// The whole set is written under an exclusive lock on the directory, so runs writing
/// the same directory take turns. That makes stale temp files provable: a temp file of
/// ours that exists while we hold the lock has no live writer (the kernel drops a
/// killed writer's lock, even after SIGKILL), so every one is removed first. A signal
/// meanwhile waits until the set is written ([`crate::interrupt`]).
pub fn write_set(dir: &Path, changes: &[Change]) -> anyhow::Result<()> {
    ensure_private_dir(dir)?;
    // Refuse a bad destination before writing anything, so a failure leaves no new
    // file next to an old one.
    for c in changes {
        // One rule for writes and removals: a symlink or non-regular file is refused
        // (the front ends refused it before the request; this catches one planted since).
        check_destination(&dir.join(c.name))?;
    }
    let lock = lock_dir(dir)?;
    let _no_signal_now = crate::interrupt::hold();
    for c in changes {
        remove_stale_temps(&dir.join(c.name), lock.is_some())?;
    }
    for c in changes {
        let path = dir.join(c.name);
        match c.contents {
            Some(bytes) => write_atomic(&path, bytes)?,
            None => {
                if remove_if_present(&path)? {
                    log::info!("removed stale {}", path.display());
                }
            }
        }
    }
    Ok(())
}

/// An exclusive lock on the directory itself (no lock file to leave behind). `None`
/// where the file system cannot lock directories: then stale temps fall back to age.
fn lock_dir(dir: &Path) -> anyhow::Result<Option<File>> {
    let handle = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let started = std::time::Instant::now();
    loop {
        match handle.try_lock() {
            Ok(()) => return Ok(Some(handle)),
            Err(fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(std::time::Duration::from_millis(5))
            }
            Err(fs::TryLockError::WouldBlock) => bail!(
                "another run has been writing {} for over {} s; stop it or choose another destination",
                dir.display(),
                LOCK_WAIT.as_secs()
            ),
            Err(fs::TryLockError::Error(e)) => {
                log::debug!(
                    "cannot lock {}: {e}; stale temps are judged by age",
                    dir.display()
                );
                return Ok(None);
            }
        }
    }
}

/// Without a directory lock, a temp file untouched this long is taken to be a dead
/// writer's (a live write takes milliseconds).
const STALE_TEMP_AGE: std::time::Duration = std::time::Duration::from_secs(60);

/// Remove temp files a killed writer of `path` left behind (`.NAME.tmp…`, made by
/// `write_atomic`). With `locked` (the caller holds the directory lock every writer
/// of the set takes) all of them are stale; otherwise only those older than a minute.
pub fn remove_stale_temps(path: &Path, locked: bool) -> anyhow::Result<usize> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Ok(0);
    };
    let prefix = format!(".{}.tmp", name.to_string_lossy());
    let mut removed = 0;
    let entries = fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.metadata().is_ok_and(|m| {
                !m.is_dir()
                    && (locked
                        || m.modified()
                            .ok()
                            .and_then(|t| t.elapsed().ok())
                            .is_some_and(|age| age > STALE_TEMP_AGE))
            });
        if stale && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        log::info!(
            "removed {removed} temp file(s) a killed run left for {}",
            path.display()
        );
    }
    Ok(removed)
}

/// The one check of a destination, made before any request: `names` will be written
/// (or removed) in `dir`. Each must be absent or a regular file (never a symlink, even
/// one that would only be removed: a link there is refused whatever the vault holds,
/// so the answer cannot decide whether the run fails), `dir` must be a directory or
/// creatable, and this process must be able to create files in it (or in the nearest
/// existing ancestor that it would create `dir` in). Creates nothing. `named_by` is
/// the flag or variable the path came from, for the message.
pub fn check_set_destination(
    dir: &Path,
    names: &[&std::ffi::OsStr],
    named_by: &str,
) -> anyhow::Result<()> {
    let existing = match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => dir,
        Ok(_) => bail!(
            "{} is not a directory; point {named_by} at a directory",
            dir.display()
        ),
        // ENOTDIR: a file on the way, which the walk up names.
        Err(e) if is_absent(&e) => nearest_existing_dir(dir, named_by)?,
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", dir.display())),
    };
    for name in names {
        check_destination(&dir.join(name))?;
    }
    let what = match existing == dir {
        true => named_by.to_string(),
        false => format!("{named_by}, to create {} in it", dir.display()),
    };
    check_writable_dir(existing, &what)
}

fn is_absent(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ENOTDIR)
}

/// The ancestor of a missing `dir` that exists; it must be a directory.
fn nearest_existing_dir<'a>(dir: &'a Path, named_by: &str) -> anyhow::Result<&'a Path> {
    let mut cur = dir;
    loop {
        cur = match cur.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => return Ok(Path::new(".")),
        };
        match fs::metadata(cur) {
            Ok(meta) if meta.is_dir() => return Ok(cur),
            Ok(_) => bail!(
                "cannot create {} ({named_by}): {} is not a directory",
                dir.display(),
                cur.display()
            ),
            Err(e) if is_absent(&e) => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", cur.display())),
        }
    }
}

/// Refuse a directory this process cannot create files in, naming the directory, its
/// owner and mode, our uid and the usual fix (a non-root container writing a volume that
/// starts owned by root, as a Fargate bind mount does). `named_by` says which flag
/// led here.
fn check_writable_dir(dir: &Path, named_by: &str) -> anyhow::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        bail!(
            "{} is not a usable path (it holds a NUL byte)",
            dir.display()
        );
    };
    // access(2) answers for this process's real ids (we are never setuid), and also
    // says EROFS for a read-only file system, which uid and mode would not show.
    if unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) } == 0 {
        return Ok(());
    }
    let err = std::io::Error::last_os_error();
    let uid = unsafe { libc::getuid() };
    let gid = unsafe { libc::getgid() };
    let owner = fs::metadata(dir)
        .map(|m| {
            format!(
                "owned by uid {} gid {}, mode {:04o}",
                m.uid(),
                m.gid(),
                m.mode() & 0o7777
            )
        })
        .unwrap_or_else(|_| "owner unknown".into());
    if err.raw_os_error() == Some(libc::EROFS) {
        bail!(
            "cannot write into {} ({named_by}): it is on a read-only file system; mount a writable volume there (Kubernetes: an emptyDir; ECS: a task volume)",
            dir.display()
        );
    }
    bail!(
        "cannot write into {} ({named_by}; {owner}): this process runs as uid {uid} gid {gid}; make it writable for uid {uid} (Kubernetes: mount an emptyDir there, or set the pod's fsGroup; ECS: mount the task volume at the path the image declares as a VOLUME, which it owns for uid 65532)",
        dir.display()
    )
}

/// Create `dir` (and parents) with mode 0700 when missing; it must be a directory.
pub(crate) fn ensure_private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    if !dir.is_dir() {
        bail!(
            "{} is not a directory; point --dir / VAULT_FETCH_CREDENTIALS_DIR at a directory",
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_with_mode_0600() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f.json");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let leftovers: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp files left behind");
    }

    #[test]
    fn the_old_file_is_replaced_by_rename_never_rewritten_in_place() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("credentials.json");
        fs::write(&p, "old complete file").unwrap();
        // A hard link keeps the old inode reachable: an in-place rewrite would change
        // what it holds, a rename leaves it alone.
        let witness = d.path().join("witness");
        fs::hard_link(&p, &witness).unwrap();
        let before = fs::metadata(&p).unwrap().ino();
        write_atomic(&p, b"new complete file").unwrap();
        assert_ne!(fs::metadata(&p).unwrap().ino(), before);
        assert_eq!(fs::read_to_string(&witness).unwrap(), "old complete file");
        assert_eq!(fs::read_to_string(&p).unwrap(), "new complete file");
    }

    #[test]
    fn symlinks_and_directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        fs::write(&target, "keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = write_atomic(&link, b"secret").unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
        let e = write_atomic(d.path(), b"x").unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn stale_files_and_links_are_removed_without_touching_targets() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("target");
        fs::write(&target, "keep").unwrap();
        let link = d.path().join("credentials.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(remove_if_present(&link).unwrap());
        assert!(target.exists());
        assert!(!remove_if_present(&link).unwrap());
    }

    #[test]
    fn only_old_temps_of_one_file_are_removed() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("credentials.json");
        let old = d.path().join(".credentials.json.tmp0a1b2c");
        let live = d.path().join(".credentials.json.tmp3d4e5f");
        let other = d.path().join(".config.yml.tmp0a1b2c");
        for f in [&old, &live, &other] {
            fs::write(f, "half").unwrap();
        }
        let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for f in [&old, &other] {
            File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(long_ago)
                .unwrap();
        }
        fs::write(&p, "{}").unwrap();
        assert_eq!(remove_stale_temps(&p, false).unwrap(), 1);
        assert!(!old.exists(), "a dead writer's temp file is removed");
        assert!(live.exists(), "a possibly live writer's temp file is kept");
        assert!(other.exists() && p.exists());
        // Under the directory lock every writer takes, none of them is live.
        assert_eq!(remove_stale_temps(&p, true).unwrap(), 1);
        assert!(!live.exists() && other.exists());
    }

    #[test]
    fn sets_are_applied_in_order_under_the_directory_lock() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("gone"), "old").unwrap();
        fs::write(d.path().join(".a.tmp123abc"), "killed writer").unwrap();
        let changes = [
            Change {
                name: "a".as_ref(),
                contents: Some(b"1"),
            },
            Change {
                name: "gone".as_ref(),
                contents: None,
            },
        ];
        write_set(d.path(), &changes).unwrap();
        let mut names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["a"]);
        // Another holder of the lock makes a second writer wait (here: give up).
        let held = File::open(d.path()).unwrap();
        held.lock().unwrap();
        let other = File::open(d.path()).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(fs::TryLockError::WouldBlock)
        ));
        drop(held);
        assert!(other.try_lock().is_ok());
    }

    #[test]
    fn inputs_must_be_small_regular_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("key");
        fs::write(&p, "sk_test_x\n").unwrap();
        assert_eq!(read_input(&p, 16, "the key file").unwrap(), b"sk_test_x\n");
        let e = read_input(&p, 4, "the key file").unwrap_err().to_string();
        assert!(e.contains("larger than"), "{e}");
        let e = read_input(Path::new("/dev/zero"), 1024, "the key file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
        assert!(read_input(d.path(), 1024, "the key file").is_err());
    }

    #[test]
    fn set_destinations_are_checked_whole_before_anything_is_made() {
        let d = tempfile::tempdir().unwrap();
        let names: [&std::ffi::OsStr; 2] = ["config.yml".as_ref(), "credentials.json".as_ref()];
        // A missing directory (and its missing parents) in a writable one: fine, not made.
        let missing = d.path().join("a/b");
        check_set_destination(&missing, &names, "--dir").unwrap();
        assert!(!d.path().join("a").exists());
        // A symlink at a name that might only be removed is refused all the same.
        let relay = d.path().join("relay");
        fs::create_dir(&relay).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", relay.join("credentials.json")).unwrap();
        let e = check_set_destination(&relay, &names, "--dir")
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link"), "{e}");
        // A file where a directory goes, itself or as an ancestor, names the flag.
        let file = d.path().join("file");
        fs::write(&file, "").unwrap();
        let e = check_set_destination(&file, &names, "--dir")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a directory") && e.contains("--dir"), "{e}");
        let e = check_set_destination(&file.join("x"), &names, "-o")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a directory") && e.contains("-o"), "{e}");
    }

    #[test]
    fn private_dirs_are_0700() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b");
        ensure_private_dir(&p).unwrap();
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let f = d.path().join("file");
        fs::write(&f, "").unwrap();
        assert!(ensure_private_dir(&f).is_err());
    }
}
