//! The output folder: kervan writes only inside the folder it was given, replaces only files it
//! can prove it wrote, and holds a lock on the folder for the whole run.
//!
//! Inside `OUT/` a run keeps three things of its own:
//! - `.kervan-lock`: an advisory lock (`flock`) held for the run, holding the PID and command of
//!   its holder so that a second run into the same folder can say who has it;
//! - `.kervan-partial/`: where this run's files are written; they move up into `OUT/` (renames
//!   within one folder, so each is atomic) only when the whole run succeeded;
//! - `.kervan-output`: the marker, written last, naming the tool and listing every file of the
//!   last run with its size and XXH3-128 hash (SHA-256 in markers of earlier versions, still
//!   honoured). It is the only proof kervan accepts that a file is its own: a later run replaces
//!   (or, if it no longer writes it, removes) a listed file only if its bytes still hash to the
//!   listed value. Anything else in the folder — a user's notes, a file the user edited — is
//!   never touched.
//!
//! The hash tells an edited file from the one kervan wrote; it is no seal against a deliberate
//! forgery, which the marker, a plain file beside them, could never be. So a 128-bit hash made
//! for detecting change does the job, at memory speed: SHA-256 of a year of payments was 4 % of
//! a run (docs/performance.md).
//!
//! A folder without a marker is used only if it is empty, or with `--force`; even then no file
//! of the same name as one kervan writes may exist there. `/`, the home folder, the current
//! folder and its ancestors are refused outright.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::Xxh3Default;

use crate::{Error, Result};

/// The marker file: the tool's proof of which files in the folder it wrote.
pub const MARKER: &str = ".kervan-output";
/// The lock file, present only while a run holds the folder.
pub const LOCK: &str = ".kervan-lock";
/// Where a run writes until it commits.
pub const PARTIAL: &str = ".kervan-partial";

/// The files every run may write, whatever its rails.
const CORE_FILES: &[&str] = &[
    "payments.csv",
    "fx.csv",
    "liquidity.csv",
    "depth.csv",
    "corridors.csv",
    "rails.csv",
    "shocks.csv",
    "summary.csv",
    "g20.csv",
    "compare.csv",
    "sweep.csv",
    "manifest.toml",
];

/// A shard's folder: its manifest, and one `.part` file per output file (plus `metrics.part`)
/// holding its units' parts back to back.
pub const SHARD_MANIFEST: &str = "shard.toml";

/// Subfolder of the partial folder where each unit's parts wait to be joined.
const PARTS: &str = "parts";

/// Whether `name` is a unit's part: `u` + six or more digits + `.` + an output file or
/// `metrics`.
fn is_unit_part(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('u') else {
        return false;
    };
    let Some((digits, file)) = rest.split_once('.') else {
        return false;
    };
    digits.len() >= 6
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (file == super::assemble::METRICS_PART || output_files().any(|f| f == file))
}

/// Every file name a run may write: the core files and each rail kind's report tables
/// (netting.csv). A stale partial folder is cleared of these names only.
pub fn output_files() -> impl Iterator<Item = &'static str> {
    CORE_FILES
        .iter()
        .copied()
        .chain(crate::rails::REPORT_TABLES.iter().map(|t| t.file))
}

fn is_output_file(name: &str) -> bool {
    output_files().any(|f| f == name)
        || name == SHARD_MANIFEST
        || name
            .strip_suffix(".part")
            .is_some_and(|f| f == super::assemble::METRICS_PART || output_files().any(|o| o == f))
}

/// One file of a run, as the marker lists it: its size and its hash, XXH3-128 (as
/// `xxhsum -H2` prints it), or SHA-256 in a marker written by an earlier version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub name: String,
    pub bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xxh3_128: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

impl FileEntry {
    /// Whether the file at `path` still has the size and hash listed (by whichever hash the
    /// entry has; an entry with neither matches nothing).
    fn still_matches(&self, path: &Path) -> bool {
        if !path.is_file() {
            return false;
        }
        match (&self.xxh3_128, &self.sha256) {
            (Some(h), _) => hash_file(path)
                .is_ok_and(|e| e.bytes == self.bytes && e.xxh3_128.as_deref() == Some(h.as_str())),
            (None, Some(h)) => {
                sha256_file(path).is_ok_and(|(bytes, sha)| bytes == self.bytes && sha == *h)
            }
            (None, None) => false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Marker {
    tool: String,
    version: String,
    #[serde(default)]
    file: Vec<FileEntry>,
}

const MARKER_HEADER: &str = "# Written by kervan. The files listed here are the output of its last run into this folder;\n# a later run replaces them only while their size and hash (XXH3-128) still match. Nothing else\n# here is touched.\n";

/// A run's output folder, locked, with a partial folder to write into.
#[derive(Debug)]
pub struct OutputDir {
    /// The folder as the user named it (for messages).
    shown: PathBuf,
    partial: PathBuf,
    /// Files of an earlier run that are provably kervan's: they may be replaced or removed.
    previous: Vec<FileEntry>,
    /// Files this run has created in the partial folder, in order.
    written: Vec<String>,
    /// Size and hash of the written files that were hashed as they were written
    /// ([`OutputDir::create_hashed`]): the commit need not read them again.
    hashed: Vec<FileEntry>,
    /// Whether this run created `OUT/` itself (then a failed run removes it again).
    created: bool,
    lock: Option<Lock>,
    committed: bool,
    /// Whether the parts folder exists (made by [`OutputDir::parts_dir`]).
    parts: bool,
}

impl OutputDir {
    /// Prepares `out` for a run: refuses dangerous or foreign folders, takes the lock, clears
    /// what an interrupted run of kervan left. `force` allows a folder holding files kervan did
    /// not write (they are left alone; none may share a name with kervan's files).
    pub fn create(out: &Path, force: bool) -> Result<Self> {
        let shown = out.to_path_buf();
        let usage = |msg: String| Error::Usage(format!("--out {}: {msg}", shown.display()));
        refuse_dangerous(out).map_err(usage)?;
        // Every existing ancestor must be a folder: "File exists" would say nothing useful.
        for a in out.ancestors().skip(1) {
            if a.as_os_str().is_empty() {
                continue;
            }
            if let Ok(m) = std::fs::metadata(a) {
                if !m.is_dir() {
                    return Err(usage(format!(
                        "{} is a file, not a folder; choose another --out",
                        a.display()
                    )));
                }
                break;
            }
        }
        let created = match std::fs::metadata(out) {
            Ok(m) if m.is_dir() => false,
            Ok(_) => {
                return Err(usage(
                    "is a file, not a folder; choose another --out".into(),
                ));
            }
            Err(_) => {
                std::fs::create_dir_all(out).map_err(|e| {
                    Error::Fault(format!(
                        "--out {}: cannot create the folder: {e}; nothing was written",
                        shown.display()
                    ))
                })?;
                true
            }
        };
        let mut dir = OutputDir {
            shown: shown.clone(),
            partial: out.join(PARTIAL),
            previous: Vec::new(),
            written: Vec::new(),
            hashed: Vec::new(),
            created,
            lock: None,
            committed: false,
            parts: false,
        };
        dir.lock = Some(Lock::take(out, &shown)?);
        dir.previous = dir.inspect(force)?;
        clear_partial(&dir.partial, &shown)?;
        std::fs::create_dir(&dir.partial).map_err(|e| dir.fault_at(PARTIAL, e))?;
        Ok(dir)
    }

    /// Whether this run created the folder (a failed run removes it again).
    pub fn created(&self) -> bool {
        self.created
    }

    /// The folder as the user named it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The path a file will have once the run is committed, for messages.
    pub fn shown_file(&self, name: &str) -> PathBuf {
        self.shown.join(name)
    }

    /// Creates `name` in the partial folder and records it as this run's.
    pub fn create_file(&mut self, name: &str) -> Result<File> {
        debug_assert!(is_output_file(name), "{name} is not a known output");
        let file = File::create(self.partial.join(name)).map_err(|e| self.fault_at(name, e))?;
        if !self.written.iter().any(|w| w == name) {
            self.written.push(name.to_string());
        }
        Ok(file)
    }

    /// Creates `name` like [`OutputDir::create_file`], hashing what is written through it;
    /// [`OutputDir::finish_hashed`] records the hash, so the commit does not read the file
    /// back (a year of payments is tens of megabytes per replication). The hash sits under
    /// the buffer, so it takes the bytes a megabyte at a time, not row by row.
    pub fn create_hashed(&mut self, name: &str) -> Result<std::io::BufWriter<Hashing<File>>> {
        let f = self.create_file(name)?;
        self.hashed.retain(|e| e.name != name);
        Ok(std::io::BufWriter::with_capacity(1 << 20, Hashing::new(f)))
    }

    /// Flushes a file made by [`OutputDir::create_hashed`] and records its size and hash.
    pub fn finish_hashed(
        &mut self,
        name: &str,
        w: std::io::BufWriter<Hashing<File>>,
    ) -> Result<()> {
        let w = w
            .into_inner()
            .map_err(|e| self.fault_at(name, e.into_error()))?;
        let mut entry = w.entry();
        entry.name = name.to_string();
        self.hashed.push(entry);
        Ok(())
    }

    /// The folder units write their parts into (inside the partial folder), created on first
    /// use; its parts are removed with [`OutputDir::remove_parts`] or when the run fails.
    pub fn parts_dir(&mut self) -> Result<PathBuf> {
        let dir = self.partial.join(PARTS);
        if !self.parts {
            std::fs::create_dir(&dir).map_err(|e| self.fault_at(PARTS, e))?;
            self.parts = true;
        }
        Ok(dir)
    }

    /// Removes the parts folder and the unit parts in it (nothing else is there).
    pub fn remove_parts(&mut self) {
        if self.parts {
            clear_parts(&self.partial.join(PARTS));
            self.parts = false;
        }
    }

    /// Whether a name may be written by a run (an output file, a shard's file).
    pub fn is_ours(name: &str) -> bool {
        is_output_file(name)
    }

    /// An I/O error while writing `name`, naming the file as the user will know it.
    pub fn fault_at(&self, name: &str, e: std::io::Error) -> Error {
        Error::io(self.shown_file(name), e)
    }

    /// Lists what is in the folder and decides whether the run may write there. Returns the
    /// files of an earlier kervan run that are provably its own.
    fn inspect(&self, force: bool) -> Result<Vec<FileEntry>> {
        let out = self.partial.parent().unwrap_or(Path::new("."));
        let marker = match std::fs::read_to_string(out.join(MARKER)) {
            Ok(text) => Some(
                toml::from_str::<Marker>(&text)
                    .ok()
                    .filter(|m| m.tool == "kervan")
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "--out {}: {} is not a kervan marker; choose another --out",
                            self.shown.display(),
                            self.shown_file(MARKER).display()
                        ))
                    })?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(self.fault_at(MARKER, e)),
        };
        let mut ours = Vec::new();
        let mut foreign = Vec::new();
        let entries = std::fs::read_dir(out).map_err(|e| Error::io(&self.shown, e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != MARKER && n != LOCK && n != PARTIAL)
            .collect();
        names.sort();
        for name in names {
            let listed = marker
                .as_ref()
                .and_then(|m| m.file.iter().find(|f| f.name == name));
            let path = out.join(&name);
            match listed {
                Some(entry) if entry.still_matches(&path) => ours.push(entry.clone()),
                _ => foreign.push(name),
            }
        }
        if let Some(clash) = foreign.iter().find(|n| is_output_file(n)) {
            return Err(Error::Usage(format!(
                "--out {}: {} is not kervan's (or was changed after kervan wrote it) and a run \
                 would replace it; move it away or choose another --out",
                self.shown.display(),
                self.shown_file(clash).display()
            )));
        }
        if marker.is_none() && !foreign.is_empty() && !force {
            let mut list = foreign
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if foreign.len() > 3 {
                list.push_str(&format!(" and {} more", foreign.len() - 3));
            }
            return Err(Error::Usage(format!(
                "--out {} holds files kervan did not write ({list}); choose another --out, or \
                 pass --force to add kervan's files beside them (nothing there is replaced or \
                 deleted)",
                self.shown.display()
            )));
        }
        Ok(ours)
    }

    /// Moves the finished files into place: the marker first lists old and new files (so an
    /// interruption at any point leaves every kervan file provably kervan's), then old files
    /// this run did not write again are removed, new ones renamed over old ones (the manifest
    /// last), and the marker rewritten to list only this run's files.
    pub fn commit(mut self) -> Result<PathBuf> {
        let out = self
            .partial
            .parent()
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let mut new = Vec::with_capacity(self.written.len());
        for name in &self.written {
            if let Some(e) = self.hashed.iter().find(|e| e.name == *name) {
                new.push(e.clone());
                continue;
            }
            let mut e = hash_file(&self.partial.join(name)).map_err(|e| self.fault_at(name, e))?;
            e.name = name.clone();
            new.push(e);
        }
        let mut both = self.previous.clone();
        both.extend(new.iter().cloned());
        self.write_marker(&out, &both)?;
        for old in &self.previous {
            if !self.written.contains(&old.name) {
                std::fs::remove_file(out.join(&old.name))
                    .map_err(|e| self.fault_at(&old.name, e))?;
            }
        }
        let mut order: Vec<&String> = self
            .written
            .iter()
            .filter(|n| *n != "manifest.toml")
            .collect();
        order.extend(self.written.iter().filter(|n| *n == "manifest.toml"));
        for name in order {
            std::fs::rename(self.partial.join(name), out.join(name))
                .map_err(|e| self.fault_at(name, e))?;
        }
        self.write_marker(&out, &new)?;
        let _ = std::fs::remove_dir(&self.partial);
        self.committed = true;
        Ok(self.shown.clone())
    }

    /// Writes the marker through the partial folder and a rename, so it is never half-written.
    fn write_marker(&self, out: &Path, files: &[FileEntry]) -> Result<()> {
        let marker = Marker {
            tool: "kervan".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            file: files.to_vec(),
        };
        let text =
            toml::to_string(&marker).map_err(|e| Error::Invariant(format!("marker: {e}")))?;
        let tmp = self.partial.join(MARKER);
        std::fs::write(&tmp, format!("{MARKER_HEADER}{text}"))
            .and_then(|()| std::fs::rename(&tmp, out.join(MARKER)))
            .map_err(|e| self.fault_at(MARKER, e))
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if self.committed {
            if let Some(lock) = self.lock.take() {
                lock.release();
            }
            return;
        }
        // Only this run's files, by name: the partial folder holds nothing else of ours.
        if self.parts {
            clear_parts(&self.partial.join(PARTS));
        }
        for name in &self.written {
            let _ = std::fs::remove_file(self.partial.join(name));
        }
        let _ = std::fs::remove_file(self.partial.join(MARKER));
        let _ = std::fs::remove_dir(&self.partial);
        if let Some(lock) = self.lock.take() {
            lock.release();
        }
        if self.created {
            // Fails, harmlessly, if anything else appeared in it meanwhile.
            let _ = std::fs::remove_dir(&self.shown);
        }
    }
}

/// A writer that hashes (XXH3-128) and counts every byte it passes on, in order: the hash of
/// the file it writes, without reading the file again.
pub struct Hashing<W> {
    inner: W,
    hash: Box<Xxh3Default>,
    bytes: u64,
}

impl<W: std::io::Write> Hashing<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Box::default(),
            bytes: 0,
        }
    }

    /// Size and hash of what was written (the name is left empty).
    pub fn entry(self) -> FileEntry {
        FileEntry {
            name: String::new(),
            bytes: self.bytes,
            xxh3_128: Some(format!("{:032x}", self.hash.digest128())),
            sha256: None,
        }
    }
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Size and XXH3-128 of a file, as the marker lists it (the name is left empty).
pub fn hash_file(path: &Path) -> std::io::Result<FileEntry> {
    let mut w = Hashing::new(std::io::sink());
    std::io::copy(&mut File::open(path)?, &mut w)?;
    Ok(w.entry())
}

/// Size and SHA-256 of a file: what a marker of an earlier version lists.
fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        bytes += n as u64;
    }
    Ok((bytes, crate::scenario::load::hex(&h.finalize())))
}

/// Removes what an interrupted run of kervan left in `.kervan-partial/`: only file names kervan
/// writes. Called with the lock held, so no live run is using it.
fn clear_partial(partial: &Path, shown: &Path) -> Result<()> {
    if !partial.exists() {
        return Ok(());
    }
    clear_parts(&partial.join(PARTS));
    if let Ok(entries) = std::fs::read_dir(partial) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if is_output_file(&name) || name == MARKER {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::remove_dir(partial).map_err(|_| {
        Error::Usage(format!(
            "--out {}: {} holds files kervan did not write; remove it by hand",
            shown.display(),
            shown.join(PARTIAL).display()
        ))
    })
}

/// Removes a parts folder's unit parts (by name: nothing else) and the folder if then empty.
fn clear_parts(parts: &Path) {
    if let Ok(entries) = std::fs::read_dir(parts) {
        for e in entries.flatten() {
            if is_unit_part(&e.file_name().to_string_lossy()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(parts);
}

/// Refuses `/`, the home folder, the current folder and its ancestors, wherever `out` leads
/// (through `..` or symbolic links).
fn refuse_dangerous(out: &Path) -> std::result::Result<(), String> {
    let target = absolute(out).ok_or("cannot tell where this folder is")?;
    let cwd = std::env::current_dir()
        .ok()
        .and_then(|c| std::fs::canonicalize(c).ok());
    if target.parent().is_none() {
        return Err("refusing to write into the root folder; choose a new folder".into());
    }
    if let Some(home) = std::env::var_os("HOME").and_then(|h| std::fs::canonicalize(h).ok())
        && home == target
    {
        return Err("refusing to write into your home folder; choose a new folder".into());
    }
    if let Some(cwd) = cwd {
        if cwd == target {
            return Err(
                "refusing to write into the current folder; choose a new folder such as \
                 kervan-out/NAME"
                    .into(),
            );
        }
        if cwd.starts_with(&target) {
            return Err(
                "refusing to write into a folder that holds the current folder; choose a new \
                 folder"
                    .into(),
            );
        }
    }
    Ok(())
}

/// Where `p` leads: the deepest existing ancestor canonicalized (symbolic links and `..`
/// resolved), then the rest of the path applied lexically.
fn absolute(p: &Path) -> Option<PathBuf> {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(p)
    };
    let mut existing = p.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = std::fs::canonicalize(existing) {
            let mut out = c;
            for part in rest.iter().rev() {
                match part {
                    Component::ParentDir => {
                        out.pop();
                    }
                    Component::CurDir => {}
                    other => out.push(other.as_os_str()),
                }
            }
            return Some(out);
        }
        let name = existing.components().next_back()?;
        rest.push(name);
        existing = existing.parent()?;
    }
}

/// The run's hold on `OUT/.kervan-lock`.
#[derive(Debug)]
struct Lock {
    path: PathBuf,
    file: File,
}

impl Lock {
    /// Takes the folder's lock at once, or says who holds it.
    fn take(out: &Path, shown: &Path) -> Result<Lock> {
        let path = out.join(LOCK);
        // A holder removes the lock file as it lets go; a run that opened the old file just
        // before may then hold a lock on a file no longer there. It checks that the path still
        // names the file it locked, and tries again if not.
        for _ in 0..8 {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| {
                    Error::Fault(format!(
                        "--out {}: cannot create {}: {e}; nothing was written",
                        shown.display(),
                        shown.join(LOCK).display()
                    ))
                })?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file.read_to_string(&mut holder);
                    let holder = holder.trim();
                    return Err(Error::Busy(format!(
                        "--out {} is in use by another kervan run{}; wait for it to finish or \
                         choose another --out",
                        shown.display(),
                        if holder.is_empty() {
                            String::new()
                        } else {
                            format!(" ({holder})")
                        }
                    )));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::Fault(format!(
                        "--out {}: cannot lock {}: {e}; nothing was written",
                        shown.display(),
                        shown.join(LOCK).display()
                    )));
                }
            }
            if !same_file(&file, &path) {
                continue;
            }
            let me = format!(
                "pid {}: {}",
                std::process::id(),
                std::env::args().collect::<Vec<_>>().join(" ")
            );
            let _ = file.set_len(0);
            let _ = file.write_all(me.as_bytes());
            return Ok(Lock { path, file });
        }
        Err(Error::Busy(format!(
            "--out {}: could not take the folder's lock; another kervan run is starting there",
            shown.display()
        )))
    }

    /// Removes the lock file while still holding it, then lets go.
    fn release(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hash_to_xxh3_128_as_the_reference_implementation_prints_it() {
        // Digests from the reference C implementation (python-xxhash 3.6,
        // `xxh3_128_hexdigest`): the empty file, a word, and 256 000 bytes, which cross the
        // streaming hasher's internal blocks.
        let long: Vec<u8> = (0..1000).flat_map(|_| 0..=255u8).collect();
        let cases: [(&[u8], &str); 3] = [
            (b"", "99aa06d3014798d86001c324468d497f"),
            (b"kervan", "11f12d597a3a9610670fe0b2b56f1adc"),
            (&long, "548512d98989de2d776474c39d20f9aa"),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (i, (bytes, want)) in cases.iter().enumerate() {
            let path = dir.path().join(format!("f{i}"));
            std::fs::write(&path, bytes).unwrap();
            let e = hash_file(&path).unwrap();
            assert_eq!(e.bytes, bytes.len() as u64);
            assert_eq!(e.xxh3_128.as_deref(), Some(*want), "case {i}");
            assert_eq!(e.sha256, None);
            // Written through the hashing writer in uneven pieces: the same entry.
            let mut w = Hashing::new(Vec::new());
            for piece in bytes.chunks(7_919) {
                w.write_all(piece).unwrap();
            }
            assert_eq!(w.inner, *bytes);
            assert_eq!(w.entry(), e);
        }
    }

    #[test]
    fn an_entry_matches_only_the_bytes_it_lists_by_either_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rails.csv");
        std::fs::write(&path, "rail,cost\nswift,41.9\n").unwrap();
        let mut entry = hash_file(&path).unwrap();
        assert!(entry.still_matches(&path));
        // A marker of an earlier version lists SHA-256 (`sha256sum` of these bytes).
        let legacy = FileEntry {
            name: String::new(),
            bytes: entry.bytes,
            xxh3_128: None,
            sha256: Some("e2d0cf6bfc16b6dbe07530aa15cdd115c9284a07a892d9ca3900cb5b9d2df7c9".into()),
        };
        assert!(legacy.still_matches(&path));
        // The same size, one byte changed: neither matches. Nor does an entry with no hash.
        std::fs::write(&path, "rail,cost\nswift,41.8\n").unwrap();
        assert!(!entry.still_matches(&path));
        assert!(!legacy.still_matches(&path));
        entry.xxh3_128 = None;
        assert!(!entry.still_matches(&path));
    }
}
