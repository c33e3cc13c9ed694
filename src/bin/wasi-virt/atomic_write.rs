//! Writing an output file so that it appears only complete: the file it
//! replaces stays as it was until then, and a failed run leaves no partial
//! file (nor, on Linux, a killed one; [`write_atomically`] tells how).

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;

/// The directory `path` will be written in, once `path` is checked to be
/// writable there (before any work is done).
pub fn check_output(path: &Path) -> Result<&Path> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if dir.exists() && !dir.is_dir() {
        bail!(
            "failed to write `{}`: `{}` is not a directory",
            path.display(),
            dir.display()
        );
    }
    if !dir.is_dir() {
        bail!(
            "failed to write `{}`: the directory `{}` does not exist",
            path.display(),
            dir.display()
        );
    }
    if path.is_dir() {
        bail!(
            "failed to write `{}`: it is a directory; `-o` takes the path of a file",
            path.display()
        );
    }
    Ok(dir)
}

/// Has `write` write the output for `path`, which appears only complete:
/// the previous file at `path` stays as it was until then, and a failed or
/// killed run leaves no partial file. On Linux the output is written as an
/// unnamed file in `path`'s directory (`O_TMPFILE`; a killed run's file
/// vanishes with the process) and linked in when complete; elsewhere, or
/// where the filesystem has no unnamed files, as a named temporary file
/// beside `path`, renamed into place (a killed run leaves that behind).
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    let dir = check_output(path)?;
    let failed = || format!("failed to write `{}`", path.display());
    #[cfg(target_os = "linux")]
    if let Some(file) = unnamed::create_in(dir).with_context(failed)? {
        let (file, value) = write_to(file, write, failed)?;
        unnamed::link_as(&file, path).with_context(failed)?;
        return Ok(value);
    }
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| std::io::Error::new(e.kind(), e.to_string()))
        .with_context(|| format!("failed to create a file in `{}`", dir.display()))?;
    let (file, value) = write_to(tmp.reopen().with_context(failed)?, write, failed)?;
    drop(file);
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(failed)?;
    Ok(value)
}

/// Runs `write` on `file` through a buffer, flushes it, and makes it an
/// ordinary file (0644; a temporary file is created private).
fn write_to<T>(
    mut file: std::fs::File,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
    failed: impl Fn() -> String,
) -> Result<(std::fs::File, T)> {
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, &mut file);
    let value = write(&mut buffered)?;
    buffered.flush().with_context(&failed)?;
    drop(buffered);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(&failed)?;
    }
    Ok((file, value))
}

/// Unnamed files (`O_TMPFILE`), linked into place once complete.
#[cfg(target_os = "linux")]
mod unnamed {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    use std::os::unix::io::AsRawFd;
    use std::path::Path;

    /// An unnamed file in `dir`, or `None` where the filesystem (or the
    /// kernel) has none.
    pub fn create_in(dir: &Path) -> std::io::Result<Option<std::fs::File>> {
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_TMPFILE)
            .open(dir);
        match opened {
            Ok(file) => Ok(Some(file)),
            // EOPNOTSUPP: the filesystem has no unnamed files; EISDIR: the
            // kernel predates them (it takes O_TMPFILE for O_DIRECTORY).
            Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Gives `file` the name `path`, replacing what is there: linked under
    /// a fresh name beside `path` (a link cannot replace a file), then
    /// renamed over it.
    pub fn link_as(file: &std::fs::File, path: &Path) -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let fd = format!("/proc/self/fd/{}", file.as_raw_fd());
        for attempt in 0..100u32 {
            let name = dir.join(format!(".wasi-virt-{}-{attempt}.tmp", std::process::id()));
            let (from, to) = (c_path(Path::new(&fd))?, c_path(&name)?);
            // SAFETY: both are NUL-terminated paths that live across the call.
            let linked = unsafe {
                libc::linkat(
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    libc::AT_SYMLINK_FOLLOW,
                )
            };
            if linked != 0 {
                let e = std::io::Error::last_os_error();
                match e.kind() {
                    std::io::ErrorKind::AlreadyExists => continue,
                    _ => return Err(e),
                }
            }
            return std::fs::rename(&name, path).inspect_err(|_| {
                std::fs::remove_file(&name).ok();
            });
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            "no free temporary name beside the output",
        ))
    }

    fn c_path(path: &Path) -> std::io::Result<CString> {
        CString::new(path.as_os_str().as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))
    }
}
